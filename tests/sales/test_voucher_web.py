"""The voucher form without JavaScript, payments, and the read-only rule through the form and the API."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from kundenakte.core.models import Document
from kundenakte.plugins.sales.finalise import finalise_voucher
from kundenakte.plugins.sales.payments import compute_state, payment_state, record_payment
from kundenakte.plugins.sales.service import load_lines
from tests.api import api_app, api_as  # noqa: F401 - fixtures
from tests.sales.helpers import customer, voucher
from tests.web.conftest import app, csrf_token, login  # noqa: F401 - fixtures


def _form(client, doc_id):
    page = client.get(f"/dokumente/{doc_id}/bearbeiten").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    return page, version


def _lines_payload(rows, **extra):
    data = {"sales_lines": "1", "title": "Angebot Kundenakte", "document_date": "2026-11-20", "status": "open"}
    for name in ("position", "article", "description", "quantity", "unit", "unit_price", "discount_percent", "vat_rate"):
        data[name] = [r.get(name, "") for r in rows]
    data.update(extra)
    return data


def test_lines_are_saved_with_the_form_and_bad_input_keeps_what_was_typed(ka, people, client):
    owner = people.viewer("owner")
    doc_id = voucher(ka, owner, "quote", lines=[])
    login(client, "owner")
    page, version = _form(client, doc_id)
    assert 'id="positionen"' in page and 'name="sales_lines"' in page
    rows = [{"position": "2", "description": "Schulung", "quantity": "2", "unit": "Std", "unit_price": "1.234,50", "vat_rate": "19"},
            {"position": "1", "description": "Lizenz", "quantity": "1", "unit": "Stk", "unit_price": "99", "vat_rate": "7",
             "discount_percent": "10"},
            {"position": "3", "description": "", "quantity": "", "unit": "", "unit_price": "", "vat_rate": "19"}]  # the spare row
    response = client.post(f"/dokumente/{doc_id}/bearbeiten",
                           data=_lines_payload(rows, version=version, csrf_token=csrf_token(client, "/")))
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    with ka.db.read() as s:
        lines = load_lines(s, doc_id)
        assert [(i.position, i.description) for i in lines] == [(1, "Lizenz"), (2, "Schulung")]  # ordered by the typed positions
        doc = s.get(Document, doc_id)
        # 89,10 € net at 7 % (tax 6,24 €) + 2.469,00 € net at 19 % (tax 469,11 €)
        assert (doc.data["net"], doc.data["vat"], doc.data["gross"]) == ("2558.10", "475.35", "3033.45")
        version = str(doc.version)
    # a typo: nothing saved, the typed row comes back with the error beside it
    bad = [{"position": "1", "description": "Lizenz", "quantity": "zwei", "unit": "Stk", "unit_price": "99", "vat_rate": "7"}]
    response = client.post(f"/dokumente/{doc_id}/bearbeiten", data=_lines_payload(bad, version=version,
                                                                                 csrf_token=csrf_token(client, "/")))
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'value="zwei"' in body and "Menge muss eine Zahl sein" in body
    with ka.db.read() as s:
        assert len(load_lines(s, doc_id)) == 2
    # removing a row without JavaScript: its checkbox
    page, version = _form(client, doc_id)
    keep = [{"position": "1", "description": "Lizenz", "quantity": "1", "unit": "Stk", "unit_price": "99", "vat_rate": "7"},
            {"position": "2", "description": "Schulung", "quantity": "2", "unit": "Std", "unit_price": "1.234,50", "vat_rate": "19"}]
    response = client.post(f"/dokumente/{doc_id}/bearbeiten", data=_lines_payload(keep, version=version, line_remove=["0"],
                                                                                  csrf_token=csrf_token(client, "/")))
    assert response.status_code == 302
    with ka.db.read() as s:
        assert [i.description for i in load_lines(s, doc_id)] == ["Schulung"]


def test_finalised_invoice_is_read_only_in_the_form_and_the_api(ka, people, client, api_as):  # noqa: F811
    owner = people.viewer("owner")
    company_id, contact_id = customer(ka)
    doc_id = voucher(ka, owner, "invoice", company_id=company_id, contact_id=contact_id)
    with ka.db.write() as s:
        finalise_voucher(ka, s, owner, doc_id)
        version = s.get(Document, doc_id).version
    login(client, "owner")
    view = client.get(f"/dokumente/{doc_id}").get_data(as_text=True)
    assert "abgeschlossen" in view and "Bearbeiten</a>" not in view
    assert client.get(f"/dokumente/{doc_id}/bearbeiten").status_code in (403, 409)
    response = client.post(f"/dokumente/{doc_id}/bearbeiten", data=_lines_payload(
        [{"description": "neu", "quantity": "1", "unit_price": "1", "vat_rate": "19"}], version=str(version),
        csrf_token=csrf_token(client, "/")))
    assert response.status_code in (403, 409)
    assert client.post(f"/vertrieb/{doc_id}/abschliessen", data={"csrf_token": csrf_token(client, "/")}).status_code == 409
    api = api_as("owner")
    response = api.patch(f"/documents/{doc_id}", json={"version": version, "title": "geändert"})
    assert response.status_code == 409 and response.get_json()["error"] == "read_only"
    with ka.db.read() as s:
        doc = s.get(Document, doc_id)
        assert doc.title == "Kundenakte Einführung" and doc.version == version and len(load_lines(s, doc_id)) == 3


@pytest.mark.parametrize(("gross", "paid", "due", "today", "status"), [
    ("100.00", "0", "2026-12-01", "2026-11-30", "open"),
    ("100.00", "40.00", "2026-12-01", "2026-11-30", "partial"),
    ("100.00", "100.00", "2026-12-01", "2026-12-05", "paid"),
    ("100.00", "40.00", "2026-12-01", "2026-12-02", "overdue"),
    ("100.00", "0", "2026-12-01", "2026-12-01", "open"),  # due today is not overdue yet
    ("-50.00", "50.00", None, "2026-12-02", "paid"),  # a settled credit note
])
def test_payment_status(gross, paid, due, today, status):
    state = compute_state(Decimal(gross), Decimal(paid), dt.date.fromisoformat(due) if due else None, dt.date.fromisoformat(today))
    assert state.status == status


def test_paid_on_is_booked_on_a_finalised_invoice_through_the_page(ka, people, client):
    owner = people.viewer("owner")
    company_id, contact_id = customer(ka)
    doc_id = voucher(ka, owner, "invoice", company_id=company_id, contact_id=contact_id)
    with ka.db.write() as s:
        finalise_voucher(ka, s, owner, doc_id)
    login(client, "owner")
    today = ka.clock.today().isoformat()
    response = client.post(f"/vertrieb/{doc_id}/zahlung", data={"paid_on": today, "amount": "9.999,00",
                                                               "csrf_token": csrf_token(client, "/")})
    assert response.status_code == 422 and "höher als der offene Betrag" in response.get_data(as_text=True)
    assert 'value="9.999,00"' in response.get_data(as_text=True)
    response = client.post(f"/vertrieb/{doc_id}/zahlung", data={"paid_on": today, "amount": "100,00",
                                                               "csrf_token": csrf_token(client, "/")})
    assert response.status_code == 302
    with ka.db.write() as s:
        doc = s.get(Document, doc_id)
        assert payment_state(s, doc, ka.clock.today()).status == "partial"
        record_payment(ka, s, owner, doc_id, paid_on=ka.clock.today())  # the rest
    with ka.db.read() as s:
        state = payment_state(s, s.get(Document, doc_id), ka.clock.today())
        assert state.status == "paid" and state.open == 0
    assert "bezahlt" in client.get(f"/dokumente/{doc_id}").get_data(as_text=True)
