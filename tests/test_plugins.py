"""Plugin manager: documented hooks, enable/disable without data loss, broken plugins."""

import types

import pytest
from sqlalchemy import select

from kundenakte import hookimpl, hookspecs
from kundenakte.core.documents import DocumentInput, create_document, get_readable
from kundenakte.core.doctypes import ValidationError
from kundenakte.core.models import Document
from kundenakte.core.users import set_plugin_enabled
from tests import testplugin
from tests.conftest import make_ka


def test_every_hookspec_is_documented_and_typed():
    names = hookspecs.hook_names()
    assert len(names) >= 15
    for name in names:
        info = hookspecs.describe(name)
        assert len(info["doc"]) > 40, f"hookspec {name} lacks a docstring"
        assert "->" in info["signature"], f"hookspec {name} lacks a return type"


def test_builtin_plugins_load_as_entry_points(ka):
    for name in ("communication", "tasks", "sales", "contracts", "projects"):
        report = ka.plugins.reports[name]
        assert report.loaded and report.builtin, (name, report.error)
    assert {"task", "invoice", "contract", "project"} <= {t.key for t in ka.types.all()}


def test_disable_hides_types_and_menus_but_keeps_data(ka, people):
    with ka.db.write() as s:
        doc_id = create_document(ka, s, people.viewer("owner"), "task", DocumentInput(title="Rückruf", readers=["*"])).id
    with ka.db.write() as s:
        set_plugin_enabled(s, "tasks", False, user_id=None)
    with ka.db.read() as s:
        assert "task" not in {t.key for t in ka.enabled_types(s)}
        labels = [item.label for _p, item in ka.collect("contact_actions", s, contact=None, viewer=people.viewer("owner"))]
        assert "Aufgabe" not in labels and "Angebot" in labels
        assert get_readable(s, people.viewer("owner"), doc_id).title == "Rückruf"  # data stays
    with ka.db.write() as s, pytest.raises(ValidationError):
        create_document(ka, s, people.viewer("owner"), "task", DocumentInput(title="neu"))
    with ka.db.write() as s:
        set_plugin_enabled(s, "tasks", True, user_id=None)
    with ka.db.read() as s:
        assert "task" in {t.key for t in ka.enabled_types(s)}
        assert s.scalar(select(Document.title).where(Document.id == doc_id)) == "Rückruf"


def test_broken_plugins_are_reported_and_left_out(tmp_path, database):
    bad_signature = types.ModuleType("bad_signature")

    def register_document_types(unknown_argument):  # not a parameter of the hookspec
        return []

    register_document_types.kundenakte_impl = {}  # what @hookimpl sets
    hookimpl(register_document_types)
    bad_signature.register_document_types = register_document_types

    raising = types.ModuleType("raising")

    @hookimpl
    def contact_actions(contact, viewer):
        raise RuntimeError("boom")

    raising.contact_actions = contact_actions

    ka = make_ka(tmp_path, database, extra_plugins=[
        ("testtypes", testplugin), ("missing", "kundenakte_no_such_module"),
        ("bad_signature", bad_signature), ("raising", raising),
    ])
    try:
        assert "import failed" in ka.plugins.reports["missing"].error
        assert "registration failed" in ka.plugins.reports["bad_signature"].error
        assert not ka.plugins.reports["missing"].loaded
        # the raising hook is skipped, the others still answer
        items = ka.collect("contact_actions", contact=None, viewer=None)
        assert items and all(plugin != "raising" for plugin, _ in items)
        assert "hook contact_actions failed" in ka.plugins.reports["raising"].error
        assert ka.types.get("testnote") is not None
    finally:
        ka.close()


def test_plugins_cli_round_trip(ka, monkeypatch):
    from click.testing import CliRunner

    from kundenakte import cli as cli_module

    monkeypatch.setattr(cli_module.Context, "ka", property(lambda self: ka))
    runner = CliRunner()
    assert runner.invoke(cli_module.cli, ["plugins", "disable", "sales"]).exit_code == 0
    out = runner.invoke(cli_module.cli, ["plugins", "list"]).output
    assert "sales" in out and "deaktiviert" in out
    assert "sales" in ka.disabled_plugins()
    assert runner.invoke(cli_module.cli, ["plugins", "enable", "sales"]).exit_code == 0
    assert "sales" not in ka.disabled_plugins()
    result = runner.invoke(cli_module.cli, ["plugins", "disable", "nonsense"])
    assert result.exit_code != 0 and "Unbekanntes Plugin" in result.output


def test_defaults_plugin_is_loaded_like_any_other_also_under_an_allow_list(tmp_path, database):
    from kundenakte.core.categories import categories

    plain = make_ka(tmp_path, database, plugins_allowed=[])
    try:
        report = plain.plugins.reports["defaults"]
        assert report.loaded and report.builtin and report.module == "kundenakte.plugins.defaults"
        assert set(plain.plugins.loaded_names) == {"defaults", "testtypes"}
        assert {key: c.plugin for key, c in categories(plain).items()} == {"more": "defaults"}
    finally:
        plain.close()


def test_categories_come_from_the_area_plugins_in_order(ka):
    from kundenakte.core.categories import categories

    known = categories(ka)
    builtin = [key for key in known if known[key].plugin in {"communication", "tasks", "sales", "contracts", "projects"}]
    assert builtin == ["communication", "tasks", "sales", "contracts", "projects"]
    assert known["sales"].label_for("en") == "Sales" and known["communication"].label == "Kommunikation"
    with ka.db.write() as s:
        set_plugin_enabled(s, "sales", False, user_id=None)
    assert "sales" not in categories(ka)  # a disabled plugin's category goes with it
