"""Tests of the external example plugin ``examples/kundenakte-reklamation`` (Reklamationen).

The plugin is tested the way a third-party plugin runs: installed as a distribution
(``pip install -e examples/kundenakte-reklamation``, done by ``make test``) and found through its
entry point in the group ``kundenakte.plugins`` -- not handed to ``make_ka`` as an extra plugin.
Without the installation the tests are skipped with the command to run, except in CI
(``CI=true``), where a missing installation fails them: CI has to exercise the example.
"""

from __future__ import annotations

import importlib
import os
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

import pytest

PLUGIN = "reklamation"
MODULE = "kundenakte_reklamation"
INSTALL = "pip install -e examples/kundenakte-reklamation"

# Test data: words and numbers that occur nowhere else in the test database.
ARTICLE = "Kreiselpumpe KP-200"
SERIAL = "SN-4711-X"
DEFECT = "Gleitringdichtung undicht, Wasser tritt am Gehäuse aus"
OTHER_ARTICLE = "Absperrventil DN50"
OTHER_SERIAL = "SN-0815-B"


def plugin_installed() -> bool:
    return any(ep.name == PLUGIN for ep in entry_points(group="kundenakte.plugins"))


def require_plugin() -> ModuleType:
    """The plugin module if its entry point is installed; else skip (fail when CI=true)."""
    if not plugin_installed():
        reason = (f"example plugin not installed: no entry point {PLUGIN!r} in group 'kundenakte.plugins' "
                  f"(run `.venv/bin/python -m {INSTALL}`)")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason + " -- CI must exercise the example plugin", pytrace=False)
        pytest.skip(reason)
    return importlib.import_module(MODULE)


@pytest.fixture
def reklamation() -> ModuleType:
    return require_plugin()


class Complaints:
    """A company with two contacts and complaints with different readers.

    * ``pump``  -- owner's, contact Lea, open, readable by ``reader``
    * ``valve`` -- owner's, contact Lea, in Bearbeitung, private
    * ``done``  -- editor's, filed to the company only, erledigt, readable by everyone (``*``)
    ``outsider`` may read none of them except ``done``; ``nobody`` (inactive) none at all.
    """

    def __init__(self, ka: Any, people: Any) -> None:
        from kundenakte.core.documents import DocumentInput, create_document
        from kundenakte.core.models import Company, Contact

        users = people.users
        with ka.db.write() as s:
            company = Company(name="Rauch Pumpenbau GmbH", street="Mühlweg 3", postal_code="88250", city="Weingarten",
                              account_manager_id=users["owner"])
            s.add(company)
            s.flush()
            lea = Contact(first_name="Lea", last_name="Brenner", company_id=company.id, email="lea@rauch.example",
                          account_manager_id=users["owner"])
            tom = Contact(first_name="Tom", last_name="Kessler", company_id=company.id)
            s.add_all([lea, tom])
            s.flush()
            self.company, self.lea, self.tom = company.id, lea.id, tom.id

            def complaint(login: str, title: str, data: dict[str, Any], **kw: Any) -> int:
                inp = DocumentInput(title=title, data=data, **kw)
                return create_document(ka, s, people.viewer(login), "complaint", inp).id

            self.pump = complaint("owner", "Pumpe verliert Wasser",
                                  {"article": ARTICLE, "serial_number": SERIAL, "defect": DEFECT},
                                  contact_id=lea.id, status="open", readers=[f"u:{users['reader']}"])
            self.valve = complaint("owner", "Ventil schließt nicht",
                                   {"article": OTHER_ARTICLE, "serial_number": OTHER_SERIAL, "defect": "klemmt"},
                                   contact_id=lea.id, status="in_progress")
            self.done = complaint("editor", "Lieferung beschädigt", {"article": "Flanschdichtung"},
                                  company_id=company.id, status="done", readers=["*"],
                                  content="<p>Ersatz geliefert.</p>")
        self.ka = ka
        self.people = people


@pytest.fixture
def complaints(ka: Any, people: Any, reklamation: ModuleType) -> Complaints:
    return Complaints(ka, people)
