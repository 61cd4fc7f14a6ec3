"""The mail form names which of the contact's addresses the e-mail goes to and offers the others."""

from __future__ import annotations

import html
import re
from typing import Any

from kundenakte.core import services
from tests.web.conftest import app, login  # noqa: F401 - fixtures


def test_mail_from_the_contact_menu_goes_to_the_preferred_address_and_says_so(ka: Any, people: Any, client: Any) -> None:
    with ka.db.write() as s:
        contact = services.create_contact(s, {"last_name": "Vogel", "first_name": "Anna", "emails": [
            {"value": "anna@privat.example", "kind": "home"},
            {"value": "anna.vogel@dochouse.example", "kind": "work", "preferred": True},
            {"value": "av@other.example", "kind": "other"}]}, by=None)
        ident = contact.id
    login(client, "owner")
    page = client.get(f"/kontakte/{ident}").get_data(as_text=True)
    link = html.unescape(re.search(r'href="(/dokumente/neu/email\?[^"]+)"', page).group(1))
    assert "data.to_email=anna.vogel@dochouse.example" in link
    form = client.get(link).get_data(as_text=True)
    assert re.search(r'id="f-data-to-email"[^>]*value="anna.vogel@dochouse.example"', form)
    assert "An: anna.vogel@dochouse.example – bevorzugte Adresse (geschäftlich) von Anna Vogel" in form
    options = re.findall(r'<option value="([^"]+)" label="([^"]+)">', form[form.index('id="to-email-choices"'):])
    assert options == [("anna@privat.example", "privat"), ("anna.vogel@dochouse.example", "bevorzugt, geschäftlich"),
                       ("av@other.example", "andere")]
    # another stored address typed in: named as such; an address the contact does not have: said too
    other = client.get(f"/dokumente/neu/email?contact_id={ident}&data.to_email=ANNA@privat.example").get_data(as_text=True)
    assert "An: anna@privat.example – Adresse (privat) von Anna Vogel" in other
    foreign = client.get(f"/dokumente/neu/email?contact_id={ident}&data.to_email=x@y.example").get_data(as_text=True)
    assert "An: eine Adresse, die bei Anna Vogel nicht gespeichert ist." in foreign
    # no contact, no box
    assert 'id="to-email-choices"' not in client.get("/dokumente/neu/email").get_data(as_text=True)
