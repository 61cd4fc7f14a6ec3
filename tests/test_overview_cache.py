"""Overview reuse (core.overview_cache): versions kept by triggers, hits equal fresh results, no stale rights."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from kundenakte.core.models import Document
from kundenakte.core.overview import OverviewRow, build_overview
from kundenakte.core.overview_cache import OverviewCache, scope_version
from kundenakte.core.users import add_members
from tests.conftest import make_ka
from tests.test_overview import SectionPlugin, ka, note, scene, section  # noqa: F401 - fixtures
from tests import testplugin


def fake_row(doc_id: int) -> OverviewRow:
    return OverviewRow(doc_id, "testnote", "Fremd", None, "open", None, {}, None, "", "")


def versions(ka: Any, *scopes: str) -> list[int]:
    with ka.db.read() as s:
        return [scope_version(s, scope) for scope in scopes]


def snapshot(views: list[Any]) -> dict[str, Any]:
    return {v.key: (v.counts, {k: str(a) for k, a in v.sums.items()}, v.total, v.overall, [d.id for d in v.rows])
            for v in views}


def test_every_kind_of_write_bumps_the_versions(ka, people, scene):  # type: ignore[no-untyped-def]
    company, other, lea = f"c:{scene['company']}", f"c:{scene['other']}", f"p:{scene['lea']}"
    before = versions(ka, company, other, lea)
    assert min(before) > 0  # the scene's documents were written through the core
    with ka.db.write() as s:
        doc = note(ka, s, people, "owner", contact_id=scene["lea"], company_id=scene["company"])
        doc_id = doc.id
    after_insert = versions(ka, company, other, lea)
    assert after_insert[0] > before[0] and after_insert[2] > before[2] and after_insert[1] == before[1]
    # plain SQL counts too: a plugin or an import that bypasses the ORM cannot leave a stale overview
    steps = [
        ("UPDATE documents SET status = 'done' WHERE id = :id", (company, lea)),
        ("INSERT INTO document_acl (document_id, principal, role) VALUES (:id, '*', 'read')", (company, lea)),
        ("UPDATE document_acl SET role = 'edit' WHERE document_id = :id AND principal = '*'", (company, lea)),
        ("DELETE FROM document_acl WHERE document_id = :id AND principal = '*'", (company, lea)),
        (f"UPDATE documents SET company_id = {scene['other']} WHERE id = :id", (company, other, lea)),
        ("DELETE FROM documents WHERE id = :id", (other, lea)),
    ]
    for sql, bumped in steps:
        old = dict(zip((company, other, lea), versions(ka, company, other, lea)))
        with ka.db.write() as s:
            s.execute(text(sql), {"id": doc_id})
        new = dict(zip((company, other, lea), versions(ka, company, other, lea)))
        for scope in (company, other, lea):
            assert (new[scope] > old[scope]) == (scope in bumped), (sql, scope)


def test_a_rolled_back_write_leaves_the_version(ka, people, scene):  # type: ignore[no-untyped-def]
    company = f"c:{scene['company']}"
    before = versions(ka, company)
    with pytest.raises(RuntimeError):
        with ka.db.write() as s:
            s.execute(text("UPDATE documents SET status = 'done' WHERE company_id = :c"), {"c": scene["company"]})
            raise RuntimeError("abort")
    assert versions(ka, company) == before


def test_hits_equal_fresh_results(ka, people, scene):  # type: ignore[no-untyped-def]
    cache = OverviewCache()
    for login in ("owner", "reader", "nested", "admin", "outsider", "nobody"):
        viewer = people.viewer(login)
        for mine in (False, True):
            for scope in ({"company_id": scene["company"]}, {"contact_id": scene["lea"]}):
                with ka.db.read() as s:
                    fresh = snapshot(build_overview(ka, s, viewer, mine=mine, filters={"notes": "all"}, **scope))
                for _ in range(2):
                    with ka.db.read() as s:
                        cached = snapshot(build_overview(ka, s, viewer, mine=mine, filters={"notes": "all"},
                                                         cache=cache, **scope))
                    assert cached == fresh, (login, mine, scope)
    assert cache.hits > 0 and cache.misses > 0


def test_changes_from_another_process_are_seen(tmp_path, database, people, ka, scene):  # type: ignore[no-untyped-def]
    cache = OverviewCache()
    owner = people.viewer("owner")

    def notes() -> Any:
        with ka.db.read() as s:
            return section(build_overview(ka, s, owner, company_id=scene["company"], filters={"notes": "all"},
                                          cache=cache), "notes")

    assert notes().counts == {"all": 4, "open": 3, "done": 1}
    hits = cache.hits
    assert notes().counts["all"] == 4 and cache.hits > hits
    # a second instance on the same database stands for the other gunicorn worker
    other = make_ka(tmp_path, database, extra_plugins=[("testtypes", testplugin), ("testsections", SectionPlugin())])
    try:
        with other.db.write() as s:
            s.execute(text("UPDATE documents SET status = 'done' WHERE title = 'Notiz owner open'"))
    finally:
        other.close()
    view = notes()
    assert view.counts == {"all": 4, "open": 0, "done": 4}
    assert all(d.status == "done" for d in view.rows)


def test_rights_are_never_served_from_the_cache(ka, people, scene):  # type: ignore[no-untyped-def]
    cache = OverviewCache()

    def count(login: str) -> int:
        with ka.db.read() as s:
            views = build_overview(ka, s, people.viewer(login), company_id=scene["company"], filters={"notes": "all"},
                                   cache=cache)
        return int(section(views, "notes").counts["all"])

    assert count("reader") == 1 and count("outsider") == 0
    # revoked by plain SQL: the reader's next overview no longer counts it
    with ka.db.write() as s:
        s.execute(text("DELETE FROM document_acl WHERE principal = :p"), {"p": f"u:{people.users['reader']}"})
    assert count("reader") == 0
    # group membership is part of the viewer, so joining Vertrieb shows the group's document at once
    with ka.db.write() as s:
        add_members(s, "Vertrieb", ["outsider"])
    assert count("outsider") == 1
    with ka.db.write() as s:
        s.execute(text("DELETE FROM group_members WHERE user_id = :u"), {"u": people.users["outsider"]})
    assert count("outsider") == 0


def test_remembered_ids_are_checked_not_trusted(ka, people, scene):  # type: ignore[no-untyped-def]
    cache = OverviewCache()
    owner = people.viewer("owner")
    with ka.db.read() as s:
        first = snapshot(build_overview(ka, s, owner, company_id=scene["company"], cache=cache))
    # tamper with every remembered page: ids of a document the owner may not read and of none at all
    with ka.db.read() as s:
        foreign = s.query(Document).filter_by(title="Notiz editor open").one().id
    tampered = 0
    for key in list(cache._data):
        if key[0] == "pages":
            cache._data[key] = {section: (fake_row(foreign), fake_row(10**9)) for section in cache._data[key]}
            tampered += 1
    assert tampered == 1
    with ka.db.read() as s:
        again = build_overview(ka, s, owner, company_id=scene["company"], cache=cache)
    assert snapshot(again) == first
    assert all(d.id != foreign for v in again for d in v.rows)


def test_single_section_reuse_is_checked_too(ka, people, scene):  # type: ignore[no-untyped-def]
    """The htmx path (one section) remembers its own page ids; a tampered entry is recomputed."""
    from kundenakte.core.overview import build_section, sections_for

    cache = OverviewCache()
    owner = people.viewer("owner")
    with ka.db.read() as s:
        notes = next(x for x in sections_for(ka, s) if x.key == "notes")
        first = build_section(ka, s, owner, notes, company_id=scene["company"], filter_value="all", cache=cache)
        foreign = s.query(Document).filter_by(title="Notiz editor open").one().id
    rows_keys = [k for k in cache._data if k[0] == "rows"]
    assert len(rows_keys) == 1
    cache._data[rows_keys[0]] = (fake_row(foreign),)
    with ka.db.read() as s:
        again = build_section(ka, s, owner, notes, company_id=scene["company"], filter_value="all", cache=cache)
    assert [d.id for d in again.rows] == [d.id for d in first.rows] and foreign not in [d.id for d in again.rows]
    assert again.counts == first.counts


def test_renamed_contacts_and_users_show_at_once(ka, people, scene):  # type: ignore[no-untyped-def]
    cache = OverviewCache()
    owner = people.viewer("owner")

    def names() -> set[tuple[str, str]]:
        with ka.db.read() as s:
            views = build_overview(ka, s, owner, company_id=scene["company"], filters={"notes": "all"}, cache=cache)
        return {(r.contact_name, r.responsible_name) for r in section(views, "notes").rows}

    assert ("Lea Müller", "Owner") in names()
    with ka.db.write() as s:
        s.execute(text("UPDATE contacts SET last_name = 'Schmidt' WHERE id = :id"), {"id": scene["lea"]})
    assert any(c == "Lea Schmidt" for c, _r in names()) and not any(c == "Lea Müller" for c, _r in names())
    with ka.db.write() as s:
        s.execute(text("UPDATE users SET display_name = 'Neu Benannt' WHERE id = :id"), {"id": people.users["owner"]})
    assert any(r == "Neu Benannt" for _c, r in names())
