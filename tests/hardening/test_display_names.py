"""Display names are unique in every spelling (core.text.name_key), at every writer: the profile page,
the admin's user form (new and edit), ``kundenakte user create``, the demo data, the core service and
the database itself. Users are not written by the import or the API (asserted below).
"""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kundenakte.core.models import User
from kundenakte.core.text import name_key
from kundenakte.core.users import UserError, check_display_name, create_user
from tests.conftest import PASSWORD
from tests.hardening import FIGURES
from tests.web.conftest import csrf_token, login

TAKEN = "Lea Müller"
SPELLINGS = ["Lea Müller", "lea mueller", "LEA MULLER", "LEA MÜLLER", " Léa  Müller. ", "Lea-Müller", "lea_mueller",
             "Lea Mu\u0308ller", "Lea Mü\u00adller", "Lea\u00a0Müller", "ＬＥＡ ＭＵＬＬＥＲ"]
DIFFERENT = ["Lea Müller-Schmidt", "Müller, Lea", "Leo Müller", "Lea Möller (Vertrieb)"]
MESSAGE = "Dieser Anzeigename wird bereits verwendet"


def _app(ka: Any) -> Any:
    from kundenakte.web.app import create_app

    app = create_app(ka=ka)
    app.config.update(TESTING=True, WTF_CSRF_ENABLED=True)
    return app


@pytest.fixture
def lea(ka: Any, people: Any) -> int:
    with ka.db.write() as s:
        return create_user(s, "lea", PASSWORD, display_name=TAKEN, email="lea@example.org").id


def _names(ka: Any) -> dict[str, str]:
    with ka.db.read() as s:
        return {u.login: u.display_name for u in s.scalars(select(User))}


def test_the_folding_rule() -> None:
    assert {name_key(n) for n in SPELLINGS} == {"lea muller"}
    assert len({name_key(n) for n in DIFFERENT} | {"lea muller"}) == len(DIFFERENT) + 1
    assert name_key("Quelle") == "quelle" and name_key("Jürgen Weiß") == name_key("JUERGEN WEISS")


def test_core_service_and_database(ka: Any, people: Any, lea: int) -> None:
    with ka.db.write() as s:
        for spelling in SPELLINGS:
            with pytest.raises(UserError) as info:
                create_user(s, f"x{len(spelling)}", PASSWORD, display_name=spelling)
            assert info.value.field == "display_name" and MESSAGE in str(info.value) and TAKEN in str(info.value)
            FIGURES["names.refused"] += 1
        for name in DIFFERENT:
            assert check_display_name(s, name) == " ".join(name.split())
        assert check_display_name(s, "LEA MUELLER", user_id=lea) == "LEA MUELLER"  # one's own name in a new spelling
    # Written around the service (plain ORM, as a plugin might): the database refuses it.
    with pytest.raises(IntegrityError), ka.db.write() as s:
        s.add(User(login="around", display_name="LEA MUELLER", email="", password_hash=""))
        s.flush()
    FIGURES["names.writer:service"] = FIGURES["names.writer:database"] = 1


def test_profile_page(ka: Any, people: Any, lea: int) -> None:
    client = _app(ka).test_client()
    token = login(client, "reader")
    for spelling in SPELLINGS:
        response = client.post("/einstellungen/profil", data={"csrf_token": token, "action": "profile", "language": "de",
                                                              "display_name": spelling, "phone": "0751 1", "signature": ""})
        page = response.get_data(as_text=True)
        assert response.status_code == 422, spelling
        assert MESSAGE in html.unescape(page)
        assert f'value="{html.escape(" ".join(spelling.split()))}"' in page or html.escape(spelling.strip()) in page
        assert 'value="0751 1"' in page  # the rest of what was typed stays too
        FIGURES["names.refused"] += 1
    assert _names(ka)["reader"] == "Reader"
    ok = client.post("/einstellungen/profil", data={"csrf_token": token, "action": "profile", "language": "de",
                                                    "display_name": "Lea Müller-Schmidt", "phone": "", "signature": ""})
    assert ok.status_code == 302 and _names(ka)["reader"] == "Lea Müller-Schmidt"
    FIGURES["names.writer:profile"] = 1


def test_admin_user_forms(ka: Any, people: Any, lea: int) -> None:
    client = _app(ka).test_client()
    token = login(client, "admin")
    for spelling in SPELLINGS[:4]:
        response = client.post("/einstellungen/benutzer/neu", data={
            "csrf_token": token, "login": "lea.neu", "display_name": spelling, "email": "neu@example.org",
            "password": "sehr-geheim", "password2": "sehr-geheim", "language": "de", "active": "1"})
        page = html.unescape(response.get_data(as_text=True))
        assert response.status_code == 422 and MESSAGE in page, spelling
        assert 'value="lea.neu"' in page and 'value="neu@example.org"' in page
        FIGURES["names.refused"] += 1
    outsider = people.users["outsider"]
    for spelling in SPELLINGS[4:8]:
        response = client.post(f"/einstellungen/benutzer/{outsider}", data={
            "csrf_token": token, "display_name": spelling, "email": "outsider@example.org", "language": "de",
            "active": "1"})
        page = html.unescape(response.get_data(as_text=True))
        assert response.status_code == 422 and MESSAGE in page, spelling
        FIGURES["names.refused"] += 1
    names = _names(ka)
    assert "lea.neu" not in names and names["outsider"] == "Outsider"
    assert client.post(f"/einstellungen/benutzer/{outsider}", data={
        "csrf_token": token, "display_name": "Leo Müller", "email": "outsider@example.org", "language": "de",
        "active": "1"}).status_code == 302
    assert _names(ka)["outsider"] == "Leo Müller"
    FIGURES["names.writer:admin new"] = FIGURES["names.writer:admin edit"] = 1


def test_english_interface_says_it_in_english(ka: Any, people: Any, lea: int) -> None:
    with ka.db.write() as s:
        s.get(User, people.users["reader"]).language = "en"
    client = _app(ka).test_client()
    token = login(client, "reader")
    response = client.post("/einstellungen/profil", data={"csrf_token": token, "action": "profile", "language": "en",
                                                          "display_name": "LEA MUELLER", "phone": "", "signature": ""})
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422 and "This display name is already used" in page, page[-3000:]


def test_cli_user_create(ka: Any, people: Any, lea: int) -> None:
    from kundenakte import cli as cli_module

    def context() -> Any:
        obj = cli_module.Context()
        obj._ka = ka  # the test's instance (both databases)
        return obj

    runner = CliRunner()
    for spelling in SPELLINGS[:3]:
        result = runner.invoke(cli_module.cli, ["user", "create", "lea2", "--name", spelling, "--password", "sehr-geheim"],
                               obj=context())
        assert result.exit_code != 0 and MESSAGE in result.output, result.output
        FIGURES["names.refused"] += 1
    # Without --name the login is the display name, under the same rule.
    result = runner.invoke(cli_module.cli, ["user", "create", "LEA-MUELLER", "--password", "sehr-geheim"],
                           obj=context())
    assert result.exit_code != 0 and MESSAGE in result.output
    ok = runner.invoke(cli_module.cli, ["user", "create", "lea2", "--name", "Lea Möller", "--password", "sehr-geheim"],
                       obj=context())
    assert ok.exit_code == 0, ok.output
    assert _names(ka)["lea2"] == "Lea Möller"
    FIGURES["names.writer:cli"] = 1


def test_demo_data_respects_existing_names(ka: Any) -> None:
    from kundenakte.core.demo import load_demo

    with ka.db.write() as s:
        create_user(s, "lmueller", PASSWORD, display_name="LEA MUELLER")
    load_demo(ka, companies=2)
    names = _names(ka)
    assert names["lmueller"] == "LEA MUELLER" and names["lea.mueller"] == "Lea Müller (Demo)"
    assert len({name_key(n) for n in names.values()}) == len(names)
    FIGURES["names.writer:demo"] = 1


def test_import_and_api_write_no_users(ka: Any, people: Any) -> None:
    """The two other writers the issue names do not exist for users: keep it that way, or add the rule there."""
    from pathlib import Path

    _app(ka)  # registers the API's operations
    from kundenakte.web.api.openapi import build_document

    paths = build_document([])["paths"]
    assert "/companies" in paths
    writes = [(p, m) for p, ops in paths.items() for m in ops if m in ("post", "put", "patch", "delete")]
    assert not [w for w in writes if "user" in w[0] or w[0] == "/me"], writes
    root = Path(__file__).resolve().parents[2] / "kundenakte"
    for folder in ("core/exchange", "web/api"):
        for source in (root / folder).rglob("*.py"):
            text = source.read_text()
            assert not re.search(r"\bUser\(|create_user|display_name\s*=", text), source


def test_two_writers_at_once_get_the_message_not_an_error(ka: Any, people: Any) -> None:
    """PostgreSQL: both check before either commits; the unique column stops the second, which still
    gets the German message (SQLite writers are serialised by BEGIN IMMEDIATE, nothing to race)."""
    import threading

    if ka.db.is_sqlite:
        pytest.skip("SQLite serialises writers")
    first = ka.db.session(write=True)
    create_user(first, "erste", PASSWORD, display_name="Lea Müller")  # flushed, not committed
    outcome: dict[str, Any] = {}

    def second() -> None:
        with ka.db.session(write=True) as s:
            try:
                create_user(s, "zweite", PASSWORD, display_name="LEA MUELLER")  # passes the check, waits on the index
                s.commit()
                outcome["result"] = "saved"
            except UserError as exc:
                s.rollback()
                outcome["result"] = exc

    thread = threading.Thread(target=second)
    thread.start()
    thread.join(1.0)
    assert thread.is_alive(), "the second writer should wait for the first one's unique key"
    first.commit()
    first.close()
    thread.join(10)
    assert isinstance(outcome.get("result"), UserError), outcome
    assert outcome["result"].field == "display_name" and MESSAGE in str(outcome["result"])
    assert "zweite" not in _names(ka)
    FIGURES["names.refused"] += 1
