"""The overview service (core.overview): sections, counts, sums, paging and the ACL, on both databases."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from kundenakte import hookimpl
from kundenakte.core.contributions import Category, OverviewFilter, OverviewSection
from kundenakte.core.documents import DocumentInput, create_document
from kundenakte.core.models import Company, Contact, Document
from kundenakte.core.overview import FALLBACK_PREFIX, build_overview, build_section, sections_for
from tests import testplugin
from tests.conftest import People, make_ka

NOTES = OverviewSection(
    key="notes",
    label="Notizen",
    type_keys=("testnote", "no_such_type"),
    filters=(
        OverviewFilter("all", "alle", None),
        OverviewFilter("open", "offen", ("open",)),
        OverviewFilter("done", "erledigt", ("done",)),
    ),
    default_filter="open",
    columns=("subject",),
    show_sum=True,
    order=5,
)


class SectionPlugin:
    """Declares one section over the test type (a plugin is any object with hook implementations)."""

    @hookimpl
    def register_overview_sections(self) -> list[OverviewSection]:
        return [NOTES, OverviewSection(key="ghost", label="Nur Unbekanntes", type_keys=("no_such_type",))]


@pytest.fixture
def ka(tmp_path, database):  # type: ignore[no-untyped-def]
    instance = make_ka(tmp_path, database, extra_plugins=[("testtypes", testplugin), ("testsections", SectionPlugin())])
    yield instance
    instance.close()


def note(ka: Any, s: Any, people: People, login: str, *, status: str = "open", price: str | None = None,
         readers: list[str] | None = None, **where: Any) -> Document:
    data = {"subject": "Betreff"}
    if price is not None:
        data["price"] = price
    inp = DocumentInput(title=f"Notiz {login} {status}", status=status, data=data, readers=readers or [], **where)
    return create_document(ka, s, people.viewer(login), "testnote", inp)


@pytest.fixture
def scene(ka, people):  # type: ignore[no-untyped-def]
    with ka.db.write() as s:
        company = Company(name="DOCHOUSE GmbH")
        other = Company(name="Andere AG")
        s.add_all([company, other])
        s.flush()
        lea = Contact(first_name="Lea", last_name="Müller", company_id=company.id)
        jonas = Contact(first_name="Jonas", last_name="Öztürk", company_id=company.id)
        s.add_all([lea, jonas])
        s.flush()
        ids = {"company": company.id, "other": other.id, "lea": lea.id, "jonas": jonas.id}
        # owner's documents: 2 open (10 + 5.50), 1 done (100) on Lea; 1 open on Jonas, one on the other company
        note(ka, s, people, "owner", price="10.00", contact_id=lea.id)
        note(ka, s, people, "owner", price="5.50", contact_id=lea.id, readers=["u:%d" % people.users["reader"]])
        note(ka, s, people, "owner", status="done", price="100", contact_id=lea.id)
        note(ka, s, people, "owner", contact_id=jonas.id)
        note(ka, s, people, "owner", company_id=other.id)
        # the editor's document on the company, readable by the Vertrieb group (and its sub group)
        note(ka, s, people, "editor", price="1", company_id=company.id, readers=["g:%d" % people.groups["Vertrieb"]])
        archived = note(ka, s, people, "owner", price="999", contact_id=lea.id)
        s.flush()
        archived.archived_at = archived.created_at
    return ids


def section(views: list[Any], key: str) -> Any:
    return next(v for v in views if v.key == key)


def test_sections_declared_and_fallback(ka, people):  # type: ignore[no-untyped-def]
    with ka.db.read() as s:
        sections = sections_for(ka, s)
    keys = [x.key for x in sections]
    assert "notes" in keys and "ghost" not in keys  # a section without an enabled type is left out
    notes = next(x for x in sections if x.key == "notes")
    assert notes.type_keys == ("testnote",) and notes.plugin == "testsections"
    # testnote is covered, so no fallback section lists it
    assert all("testnote" not in x.type_keys for x in sections if x.key.startswith(FALLBACK_PREFIX))


class _CategoryOnly:
    """Declares the category of the test type and nothing else (no section)."""

    @staticmethod
    @hookimpl
    def register_categories() -> list[Category]:
        return [Category("communication", "Kommunikation", "Communication", order=10)]


def test_fallback_section_without_declared_sections(tmp_path, database, people):  # type: ignore[no-untyped-def]
    plain = make_ka(tmp_path, database, extra_plugins=[("testtypes", testplugin), ("testcategory", _CategoryOnly)],
                    plugins_allowed=[])
    try:
        with plain.db.read() as s:
            sections = sections_for(plain, s)
        assert [x.key for x in sections] == [FALLBACK_PREFIX + "communication"]
        fallback = sections[0]
        # the label comes from the category a plugin declared, not from the core
        assert fallback.label == "Kommunikation" and fallback.label_en == "Communication"
        assert fallback.type_keys == ("testnote",)
        assert [f.value for f in fallback.filters] == ["all", "open", "closed"]
        assert fallback.show_sum
    finally:
        plain.close()


def test_fallback_section_of_an_undeclared_category_is_named_after_its_key(tmp_path, database):  # type: ignore[no-untyped-def]
    plain = make_ka(tmp_path, database, extra_plugins=[("testtypes", testplugin)], plugins_allowed=[])
    try:
        with plain.db.read() as s:
            sections = sections_for(plain, s)
        assert [(x.key, x.label) for x in sections] == [(FALLBACK_PREFIX + "communication", "Communication")]
    finally:
        plain.close()


def test_counts_sums_and_rows_for_company_and_contact(ka, people, scene):  # type: ignore[no-untyped-def]
    with ka.db.read() as s:
        owner = people.viewer("owner")
        company = section(build_overview(ka, s, owner, company_id=scene["company"]), "notes")
        # the owner reads their own 4 (archived excluded), not the editor's
        assert company.counts == {"all": 4, "open": 3, "done": 1}
        assert company.overall == 4
        assert company.active == "open" and company.total == 3
        assert company.sums["all"] == Decimal("115.50") and company.sums["open"] == Decimal("15.50")
        assert {d.title for d in company.rows} == {"Notiz owner open"}
        contact = section(build_overview(ka, s, owner, contact_id=scene["lea"], filters={"notes": "done"}), "notes")
        assert contact.counts == {"all": 3, "open": 2, "done": 1}
        assert contact.active == "done" and [d.status for d in contact.rows] == ["done"]
        admin = section(build_overview(ka, s, people.viewer("admin"), company_id=scene["company"],
                                       filters={"notes": "all"}), "notes")
        assert admin.counts["all"] == 5 and admin.sums["all"] == Decimal("116.50")


def test_acl_hides_rows_and_counts(ka, people, scene):  # type: ignore[no-untyped-def]
    with ka.db.read() as s:
        outsider = section(build_overview(ka, s, people.viewer("outsider"), company_id=scene["company"],
                                          filters={"notes": "all"}), "notes")
        assert outsider.counts == {"all": 0, "open": 0, "done": 0} and outsider.rows == []
        assert outsider.sums["all"] == 0
        reader = section(build_overview(ka, s, people.viewer("reader"), company_id=scene["company"],
                                        filters={"notes": "all"}), "notes")
        assert reader.counts["all"] == 1 and reader.sums["all"] == Decimal("5.50")
        nested = section(build_overview(ka, s, people.viewer("nested"), company_id=scene["company"],
                                        filters={"notes": "all"}), "notes")
        assert nested.counts["all"] == 1 and [d.title for d in nested.rows] == ["Notiz editor open"]
        nobody = section(build_overview(ka, s, people.viewer("nobody"), company_id=scene["company"],
                                        filters={"notes": "all"}), "notes")
        assert nobody.counts["all"] == 0


def test_mine_means_author_or_responsible(ka, people, scene):  # type: ignore[no-untyped-def]
    with ka.db.write() as s:
        doc = s.query(Document).filter_by(title="Notiz editor open").one()
        doc.responsible_id = people.users["grouped"]
    with ka.db.read() as s:
        grouped = people.viewer("grouped")
        everything = section(build_overview(ka, s, grouped, company_id=scene["company"], filters={"notes": "all"}), "notes")
        mine = section(build_overview(ka, s, grouped, company_id=scene["company"], mine=True, filters={"notes": "all"}), "notes")
        assert everything.counts["all"] == 1 and mine.counts["all"] == 1
        admin = people.viewer("admin")
        all_docs = section(build_overview(ka, s, admin, company_id=scene["company"], filters={"notes": "all"}), "notes")
        admin_mine = section(build_overview(ka, s, admin, company_id=scene["company"], mine=True, filters={"notes": "all"}), "notes")
        assert all_docs.counts["all"] == 5 and admin_mine.counts["all"] == 0


def test_paging_and_bad_input(ka, people, scene):  # type: ignore[no-untyped-def]
    with ka.db.write() as s:
        for _ in range(23):
            note(ka, s, people, "owner", contact_id=scene["jonas"])
    with ka.db.read() as s:
        owner = people.viewer("owner")
        notes = next(x for x in sections_for(ka, s) if x.key == "notes")
        first = build_section(ka, s, owner, notes, contact_id=scene["jonas"])
        assert first.total == 24 and first.pages == 2 and len(first.rows) == 20
        second = build_section(ka, s, owner, notes, contact_id=scene["jonas"], page=2)
        assert len(second.rows) == 4
        assert not {d.id for d in first.rows} & {d.id for d in second.rows}
        for bad_page in ("x", -3, 10**9, None):
            view = build_section(ka, s, owner, notes, contact_id=scene["jonas"], page=bad_page)
            assert 1 <= view.page <= 2
        unknown = build_section(ka, s, owner, notes, contact_id=scene["jonas"], filter_value="<script>")
        assert unknown.active == "open"
