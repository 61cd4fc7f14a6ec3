"""Dubletten in the real Chromium: find, choose per field, preview, merge, undo; axe on each page."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from kundenakte.core import services
from kundenakte.core.models import Contact
from tests.browser.axe import blocking, describe, run_axe
from tests.browser.conftest import login, shot

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only, pytest.mark.timeout(300)]


def _no_blocking_axe(page: Any, name: str) -> None:
    bad = blocking(run_axe(page))
    assert not bad, f"[{name}]\n{describe(bad)}"


def test_merge_and_undo_in_the_browser(ka: Any, people: Any, live_server: str, browser_page: Any) -> None:
    owner = people.users["owner"]
    with ka.db.write() as s:
        company = services.create_company(s, {"name": "Bäckerei Weiß", "postal_code": "79098", "city": "Freiburg"}, by=owner).id
        keep = services.create_contact(s, {"first_name": "Anna", "last_name": "Meier", "company_id": company,
                                           "email": "anna@weiss.example"}, by=owner).id
        remove = services.create_contact(s, {"first_name": "Anna", "last_name": "Meyer", "company_id": company,
                                             "phone": "0761 123456", "position": "Inhaberin"}, by=owner).id
    page, base = browser_page, live_server
    login(page, base, "admin")
    page.goto(f"{base}/kontakte")
    page.get_by_role("link", name="Dubletten").click()
    expect(page.get_by_text("ähnlicher Name, gleiches Unternehmen")).to_be_visible()
    _no_blocking_axe(page, "dubletten")
    shot(page, "duplicates-list")
    page.get_by_role("link", name="Zusammenführen").first.click()
    expect(page.get_by_role("heading", name="Kontakte zusammenführen")).to_be_visible()
    page.get_by_label("Meyer").check()  # the other contact's last name
    _no_blocking_axe(page, "zusammenfuehren")
    page.get_by_role("button", name="Vorschau").click()
    expect(page.get_by_role("button", name="Zusammenführen")).to_be_visible()
    shot(page, "duplicates-preview")
    page.get_by_role("button", name="Zusammenführen").click()
    expect(page.get_by_text("Die Kontakte wurden zusammengeführt.")).to_be_visible()
    _no_blocking_axe(page, "zusammenfuehrung")
    with ka.db.read() as s:
        survivor = s.get(Contact, keep)
        assert s.get(Contact, remove) is None
        assert (survivor.last_name, survivor.phone, survivor.position) == ("Meyer", "0761 123456", "Inhaberin")
    page.get_by_role("button", name="Rückgängig machen").click()
    expect(page.get_by_text("Die Zusammenführung wurde rückgängig gemacht.")).to_be_visible()
    with ka.db.read() as s:
        assert s.get(Contact, keep).last_name == "Meier" and s.get(Contact, remove).phone == "0761 123456"
    assert not page.problems  # type: ignore[attr-defined]
