"""Sales plugin through the core: numbers, lines, totals, follow-ups, concurrency."""

import threading
from decimal import Decimal

import pytest
from sqlalchemy import select

from kundenakte.core.documents import DocumentInput, create_document
from kundenakte.core.doctypes import ValidationError
from kundenakte.core.models import Document
from kundenakte.plugins.sales.models import LineItemRow
from kundenakte.plugins.sales.service import create_followup, load_lines, save_lines
from kundenakte.plugins.sales.totals import LineItem


def _item(pos, qty, price, vat, discount="0"):
    return LineItem(position=pos, article=f"A{pos}", description="Beratung", quantity=Decimal(qty), unit="Stk",
                    unit_price=Decimal(price), discount_percent=Decimal(discount), vat_rate=Decimal(vat))


def _quote(ka, people, title="Angebot Archiv"):
    with ka.db.write() as s:
        return create_document(ka, s, people.viewer("owner"), "quote",
                               DocumentInput(title=title, document_date="2026-03-01", readers=["*"])).id


def test_numbers_follow_the_pattern_per_type_and_year(ka, people):
    ids = [_quote(ka, people, f"A{i}") for i in range(3)]
    with ka.db.write() as s:
        inv = create_document(ka, s, people.viewer("owner"), "invoice", DocumentInput(title="R", document_date="2027-01-05"))
        inv_id = inv.id
    with ka.db.read() as s:
        numbers = [s.get(Document, i).data["number"] for i in ids]
        assert numbers == ["AN-2026-00001", "AN-2026-00002", "AN-2026-00003"]
        assert s.get(Document, inv_id).data["number"] == "RE-2027-00001"


def test_rolled_back_creation_leaves_no_gap(ka, people):
    with pytest.raises(RuntimeError):
        with ka.db.write() as s:
            create_document(ka, s, people.viewer("owner"), "quote", DocumentInput(title="x", document_date="2026-01-01"))
            raise RuntimeError("abort")
    doc_id = _quote(ka, people)
    with ka.db.read() as s:
        assert s.get(Document, doc_id).data["number"] == "AN-2026-00001"


def test_totals_on_awkward_amounts_are_stored(ka, people):
    doc_id = _quote(ka, people)
    with ka.db.write() as s:
        save_lines(ka, s, people.viewer("owner"), doc_id,
                   [_item(1, "3", "0.10", "19"), _item(2, "3", "0.10", "7"), _item(3, "1", "99.99", "19", discount="10")],
                   expected_version=None)
    with ka.db.read() as s:
        doc = s.get(Document, doc_id)
        # 19 %: 0.30 + 89.99 (99.99 - 10 %, rounded per line) -> 17.16; 7 %: 0.30 -> 0.02
        assert doc.data["net"] == "90.59"
        assert doc.data["vat"] == str(Decimal("17.16") + Decimal("0.02"))
        assert doc.data["gross"] == "107.77"
        assert doc.amount == Decimal("107.77")


def test_followup_chain_copies_lines_and_links(ka, people):
    quote_id = _quote(ka, people)
    with ka.db.write() as s:
        save_lines(ka, s, people.viewer("owner"), quote_id, [_item(1, "2", "50", "19")], expected_version=None)
    with ka.db.write() as s:
        ab = create_followup(ka, s, people.viewer("owner"), quote_id, "order_confirmation")
        ab_id = ab.id
    with ka.db.write() as s:
        inv_id = create_followup(ka, s, people.viewer("owner"), ab_id, "invoice").id
    with ka.db.write() as s:
        gs_id = create_followup(ka, s, people.viewer("owner"), inv_id, "credit_note").id
    with ka.db.read() as s:
        inv, gs = s.get(Document, inv_id), s.get(Document, gs_id)
        assert inv.parent_id == ab_id and s.get(Document, ab_id).parent_id == quote_id
        assert inv.data["gross"] == "119.00" and inv.data["number"].startswith("RE-")
        assert gs.data["gross"] == "-119.00"
        assert [i.quantity for i in load_lines(s, gs_id)] == [Decimal("-2")]
        assert {e.principal for e in inv.acl} == {"*"}
    with ka.db.write() as s, pytest.raises(ValidationError):
        create_followup(ka, s, people.viewer("owner"), quote_id, "credit_note")


def test_lines_need_edit_rights(ka, people):
    doc_id = _quote(ka, people)
    from kundenakte.core.documents import Forbidden

    with ka.db.write() as s, pytest.raises(Forbidden):
        save_lines(ka, s, people.viewer("reader"), doc_id, [_item(1, "1", "1", "19")], expected_version=None)
    with ka.db.read() as s:
        assert s.scalars(select(LineItemRow)).all() == []


def test_concurrent_writers_get_unique_gapless_numbers(ka, people):
    per_thread = 8
    errors: list[BaseException] = []

    def worker():
        try:
            for _ in range(per_thread):
                with ka.db.write() as s:
                    create_document(ka, s, people.viewer("owner"), "invoice", DocumentInput(title="R", document_date="2026-06-01"))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with ka.db.read() as s:
        numbers = sorted(d.data["number"] for d in s.scalars(select(Document).where(Document.type_key == "invoice")))
    assert numbers == [f"RE-2026-{i:05d}" for i in range(1, 2 * per_thread + 1)]
