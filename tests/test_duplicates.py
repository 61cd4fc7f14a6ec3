"""Duplicate finder and merge (core/services/duplicates.py, merge.py), on SQLite and PostgreSQL.

The merge's promise is checked against core/acl.py itself: for every user, the set of documents
readable (and editable) before a merge equals the set after it and after its undo.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from kundenakte.core import acl, services
from kundenakte.core.documents import DocumentInput, create_document
from kundenakte.core.models import AuditEntry, Contact, ContactPoint, Document, IndexQueue, PostalAddress, User
from kundenakte.core.services import duplicates
from kundenakte.core.services.duplicates import find_duplicates, find_matches, person
from kundenakte.core.services.points import points_of
from kundenakte.core.services.merge import (
    MergeError,
    merge_contacts,
    merge_entry,
    merges_of,
    row_snapshot,
    undo_merge,
)

# -- the rule, without a database ----------------------------------------------------------------------


@pytest.mark.parametrize(("a", "b"), [("Meier", "Meyer"), ("Meier", "Maier"), ("Mayer", "Meyer"), ("Müller", "Mueller"),
                                      ("Müller", "MÜLLER"), ("Strauß", "Strauss"), ("Schmidt", "Schmitt"),
                                      ("Weiß", "Weiss")])
def test_names_that_sound_alike_have_one_code(a: str, b: str) -> None:
    assert duplicates.phonetic(a) == duplicates.phonetic(b) != ""


@pytest.mark.parametrize(("a", "b"), [("Meier", "Müller"), ("Schmidt", "Schneider"), ("Wagner", "Weber")])
def test_names_that_sound_different_have_different_codes(a: str, b: str) -> None:
    assert duplicates.phonetic(a) != duplicates.phonetic(b)


def test_first_names_must_be_compatible() -> None:
    def score(first_a: str, first_b: str) -> int:
        return duplicates.compare(person(1, first_a, "Meier", company_ids=[1]), person(2, first_b, "Meyer", company_ids=[1]))[0]

    assert score("Hans", "Hans") > score("Hans", "H.") > 0
    assert score("Philipp", "Filip") > 0 and score("Hans", "Hans-Peter") > 0 and score("", "Anna") > 0
    assert score("Hans", "Anna") == 0 and score("A.", "Hans") == 0

    def mail_score(a: tuple[str, str], b: tuple[str, str]) -> int:
        return duplicates.compare(person(1, *a, emails=["info@firma.example"]), person(2, *b, emails=["INFO@firma.example"]))[0]

    # One address for two people of other names is more likely a shared mailbox than a duplicate.
    assert mail_score(("Eva", "Meier"), ("Eva", "Meyer")) > mail_score(("Eva", "Meier"), ("Eva", "Schulz")) > mail_score(
        ("Eva", "Meier"), ("Otto", "Schulz")) > 0


def test_blocks_split_when_large_without_losing_pairs() -> None:
    """A block above SPLIT_BLOCK is split by first name; every compatible pair is still found."""
    people = [person(i, f"Vorname{i}", "Müller", company_ids=[7]) for i in range(1, 200)]
    people += [person(500, "Hans", "Mueller", company_ids=[7]), person(501, "Hans", "Müller", company_ids=[7]),
               person(502, "", "Müller", company_ids=[7])]
    pairs = {(p.a, p.b) for p in duplicates.scored_pairs(people)}
    assert (500, 501) in pairs
    assert all((i, 502) in pairs for i in range(1, 200))  # a missing first name meets everyone
    brute = {(x.id, y.id) for i, x in enumerate(people) for y in people[i + 1:] if duplicates.compare(x, y)[0] > 0}
    assert pairs == {(min(a, b), max(a, b)) for a, b in brute}


# -- the finder on the databases -----------------------------------------------------------------------


def _contact(s: Any, by: int, **values: Any) -> int:
    return services.create_contact(s, values, by=by).id


def test_finder_groups_with_reasons(ka: Any, people: Any) -> None:
    owner = people.users["owner"]
    with ka.db.write() as s:
        acme = services.create_company(s, {"name": "Acme GmbH", "postal_code": "50667", "city": "Köln"}, by=owner).id
        other = services.create_company(s, {"name": "Other AG"}, by=owner).id
        ids = {
            "meier": _contact(s, owner, first_name="Hans", last_name="Meier", company_id=acme),
            "meyer": _contact(s, owner, first_name="Hans", last_name="Meyer", company_id=acme),
            "maier": _contact(s, owner, first_name="H.", last_name="Maier", company_id=acme),
            "mueller": _contact(s, owner, first_name="Jörg", last_name="Müller", postal_code="10115",
                                street="Hauptstraße 1"),
            "mueller2": _contact(s, owner, first_name="Joerg", last_name="Mueller", postal_code="10115",
                                 street="Hauptstrasse 1"),
            "mail1": _contact(s, owner, first_name="Eva", last_name="Schulz", email="Eva.Schulz@Example.org"),
            "mail2": _contact(s, owner, first_name="Eva", last_name="Schultz-Berg", email="eva.schulz@example.org"),
            "namesake": _contact(s, owner, first_name="Hans", last_name="Meier", company_id=other),
            "anna": _contact(s, owner, first_name="Anna", last_name="Meier", company_id=acme),
        }
    with ka.db.read() as s:
        groups = find_duplicates(s)
    by_members = {tuple(g.contact_ids): g for g in groups}
    meier = by_members[tuple(sorted((ids["meier"], ids["meyer"], ids["maier"])))]
    assert meier.reasons == ["ähnlicher Name, gleiches Unternehmen"]
    mueller = by_members[tuple(sorted((ids["mueller"], ids["mueller2"])))]
    assert mueller.reasons == ["gleicher Name, gleiche PLZ"]  # ü/ue and ß/ss folded
    mail = by_members[tuple(sorted((ids["mail1"], ids["mail2"])))]
    assert mail.reasons == ["gleiche E-Mail"]  # case does not matter
    grouped = {i for g in groups for i in g.contact_ids}
    assert ids["namesake"] not in grouped and ids["anna"] not in grouped  # other company / other first name
    assert len(groups) == 3
    assert [g.score for g in groups] == sorted((g.score for g in groups), reverse=True)


def test_find_matches_for_a_record(ka: Any, people: Any) -> None:
    owner = people.users["owner"]
    with ka.db.write() as s:
        acme = services.create_company(s, {"name": "Müller Bau"}, by=owner).id
        meier = _contact(s, owner, first_name="Hans", last_name="Meier", company_id=acme)
        mail = _contact(s, owner, first_name="Eva", last_name="Schulz", email="eva@example.org")
        _contact(s, owner, first_name="Hans", last_name="Meier")  # no company, no postcode: no candidate
    with ka.db.read() as s:
        found = find_matches(s, {"first_name": "Hans", "last_name": "Meyer", "company_name": "MUELLER BAU"})
        assert [(m.contact_id, m.reasons) for m in found] == [(meier, ("ähnlicher Name, gleiches Unternehmen",))]
        found = find_matches(s, {"last_name": "Anders", "email": "EVA@example.org"})
        assert [m.contact_id for m in found] == [mail]
        assert find_matches(s, {"last_name": "Niemand", "email": "x@example.org"}) == []
        assert find_matches(s, s.get(Contact, meier)) == []  # a contact is no duplicate of itself
        index = duplicates.ContactIndex(s)  # the same answers from memory (an import's many records)
        for record in ({"first_name": "Hans", "last_name": "Meyer", "company_name": "MUELLER BAU"},
                       {"last_name": "Anders", "email": "EVA@example.org"}, {"last_name": "Niemand", "email": "x@example.org"},
                       s.get(Contact, meier)):
            assert index.match(record) == find_matches(s, record)


# -- merge -------------------------------------------------------------------------------------------


def _access(ka: Any, people: Any) -> dict[str, tuple[set[int], set[int]]]:
    """Per user: (readable, editable) document ids, straight from core/acl.py."""
    out = {}
    with ka.db.read() as s:
        for login, uid in people.users.items():
            viewer = acl.viewer_for(s, s.get(User, uid))
            out[login] = (set(s.scalars(select(Document.id).where(acl.readable_clause(viewer)))),
                          set(s.scalars(select(Document.id).where(acl.editable_clause(viewer)))))
    return out


def _world(ka: Any, people: Any) -> dict[str, Any]:
    """Two duplicates with documents of different ACLs (and a third document naming one in a field)."""
    u, g = people.users, people.groups
    with ka.db.write() as s:
        acme = services.create_company(s, {"name": "Acme GmbH", "street": "Ring 1", "postal_code": "50667", "city": "Köln"},
                                       by=u["owner"]).id
        keep = _contact(s, u["owner"], first_name="Hans", last_name="Meier", company_id=acme, email="hans@acme.example",
                        position="Einkauf")
        remove = _contact(s, u["owner"], first_name="Hans", last_name="Meyer", company_id=acme, phone="+49 221 123",
                          title="Dr.", use_company_address=False, street="Weg 2", postal_code="50668", city="Köln",
                          gender="male")
    docs = {}
    specs = {
        "keep_private": (keep, u["owner"], [], []),
        "remove_private": (remove, u["editor"], [], []),  # only its author (and admins)
        "remove_group": (remove, u["owner"], [f"g:{g['Vertrieb']}"], []),
        "remove_reader": (remove, u["owner"], ["u:%d" % u["reader"]], ["u:%d" % u["editor"]]),
        "remove_everyone": (remove, u["owner"], ["*"], []),
    }
    for key, (contact, author, readers, editors) in specs.items():
        login = next(name for name, ident in u.items() if ident == author)
        with ka.db.write() as s:
            doc = create_document(ka, s, people.viewer(login), "testnote",
                                  DocumentInput(title=key, contact_id=contact, data={"subject": key},
                                                readers=readers, editors=editors))
            docs[key] = doc.id
    with ka.db.write() as s:  # a document of nobody's contact naming the duplicate in its contact field
        doc = create_document(ka, s, people.viewer("owner"), "testnote",
                              DocumentInput(title="Gespräch", data={"subject": "x", "person": remove}, readers=["*"]))
        docs["talk"] = doc.id
    return {"keep": keep, "remove": remove, "company": acme, "docs": docs}


def _state(ka: Any, w: dict[str, Any]) -> dict[str, Any]:
    with ka.db.read() as s:
        docs = {d.id: (d.contact_id, d.company_id, d.author_id, d.responsible_id,
                       sorted((a.principal, a.role) for a in d.acl), (d.data or {}).get("person"))
                for d in s.scalars(select(Document))}
        contacts = {c.id: {k: v for k, v in row_snapshot(c).items() if k != "updated_at"} | points_of(c)
                    for c in s.scalars(select(Contact))}
    return {"docs": docs, "contacts": contacts}


def test_merge_moves_everything_keeps_access_and_undo_restores(ka: Any, people: Any) -> None:
    w = _world(ka, people)
    access_before = _access(ka, people)
    state_before = _state(ka, w)
    assert access_before["reader"][0] != access_before["outsider"][0]  # the ACLs really differ

    with ka.db.write() as s:
        s.execute(IndexQueue.__table__.delete())  # type: ignore[attr-defined]
        result = merge_contacts(ka, s, w["keep"], w["remove"], {"title": "remove", "phone": "remove", "address": "remove"},
                                viewer=people.viewer("admin"))
    with ka.db.read() as s:
        assert s.get(Contact, w["remove"]) is None
        keep = s.get(Contact, w["keep"])
        assert (keep.title, keep.first_name, keep.last_name, keep.email, keep.phone, keep.position) == (
            "Dr.", "Hans", "Meier", "hans@acme.example", "+49 221 123", "Einkauf")
        assert (keep.use_company_address, keep.street, keep.postal_code) == (False, "Weg 2", "50668")
        assert keep.gender == "male"  # "unknown" is filled from the other by default
        moved = {k: s.get(Document, i) for k, i in w["docs"].items()}
        assert all(moved[k].contact_id == w["keep"] for k in w["docs"] if k != "talk")
        assert moved["talk"].contact_id is None and moved["talk"].data["person"] == w["keep"]
        assert sorted(result.documents) == sorted(i for k, i in w["docs"].items() if k != "keep_private")
        queued = set(s.scalars(select(IndexQueue.object_key)))
        assert {f"contact:{w['remove']}", f"contact:{w['keep']}"} | {f"doc:{i}" for i in result.documents} <= queued
        entry = merge_entry(s, result.audit_id)
        assert entry.details["removed"]["last_name"] == "Meyer" and entry.details["removed"]["id"] == w["remove"]
        assert entry.details["removed"]["street"] == "Weg 2" and entry.details["removed"]["title"] == "Dr."
        assert entry.details["before"]["phones"] == []
        assert entry.details["after"]["phones"] == [{"value": "+49 221 123", "kind": "work", "preferred": True}]
        assert sorted(entry.details["documents"]) == sorted(i for k, i in w["docs"].items() if k not in ("keep_private", "talk"))
        assert entry.details["data_fields"] == [[w["docs"]["talk"], "person"]]
        assert entry.details["choices"]["title"] == "remove" and entry.details["choices"]["last_name"] == "keep"
        assert [e.id for e in merges_of(s, w["keep"])] == [result.audit_id]
    assert _access(ka, people) == access_before  # nobody gains or loses access

    with ka.db.write() as s:
        s.execute(IndexQueue.__table__.delete())  # type: ignore[attr-defined]
        undone = undo_merge(ka, s, result.audit_id, viewer=people.viewer("admin"))
    assert undone.conflicts == [] and undone.contact_id == w["remove"]
    assert _state(ka, w) == state_before  # every contact column and every document reference as before
    assert _access(ka, people) == access_before
    with ka.db.read() as s:
        queued = set(s.scalars(select(IndexQueue.object_key)))
        assert {f"contact:{w['remove']}", f"contact:{w['keep']}"} <= queued
        assert merges_of(s, w["keep"]) == []
        actions = [e.action for e in s.scalars(select(AuditEntry).where(AuditEntry.object_type == "contact",
                                                                         AuditEntry.object_id == w["remove"]))]
        assert actions[-2:] == ["merged_away", "restored"]
    with ka.db.write() as s, pytest.raises(MergeError):
        undo_merge(ka, s, result.audit_id, viewer=people.viewer("admin"))


def test_undo_leaves_later_changes_alone(ka: Any, people: Any) -> None:
    w = _world(ka, people)
    with ka.db.write() as s:
        result = merge_contacts(ka, s, w["keep"], w["remove"], {"phone": "remove"}, viewer=people.viewer("admin"))
    with ka.db.write() as s:
        services.update_contact(s, s.get(Contact, w["keep"]), {"phone": "0221 999"}, by=people.users["owner"])
        services.update_document(ka, s, people.viewer("admin"), w["docs"]["remove_everyone"],
                                 DocumentInput(contact_id=None, given={"contact_id"}), expected_version=None)
    with ka.db.write() as s:
        undone = undo_merge(ka, s, result.audit_id, viewer=people.viewer("admin"))
    assert undone.conflicts == ["Seit der Zusammenführung am verbleibenden Kontakt geändert und daher belassen: Telefonnummern.",
                                "1 Dokument(e) wurden seitdem gelöscht oder einem anderen Kontakt zugeordnet und bleiben dort."]
    with ka.db.read() as s:
        assert s.get(Contact, w["keep"]).phone == "0221 999"
        assert s.get(Contact, w["remove"]).phone == "+49 221 123"
        assert s.get(Document, w["docs"]["remove_everyone"]).contact_id is None
        assert s.get(Document, w["docs"]["remove_group"]).contact_id == w["remove"]


def test_who_may_merge(ka: Any, people: Any) -> None:
    w = _world(ka, people)
    for login in ("owner", "reader", "outsider", "nobody"):  # owner cannot edit the editor's private document
        with ka.db.write() as s, pytest.raises(services.Forbidden):
            merge_contacts(ka, s, w["keep"], w["remove"], viewer=people.viewer(login))
    with ka.db.read() as s:
        assert s.get(Contact, w["remove"]) is not None
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "merged")) == 0
    with ka.db.write() as s:  # without documents that are not theirs, any active user may merge
        a = _contact(s, people.users["owner"], last_name="Kurz")
        b = _contact(s, people.users["owner"], last_name="Kurtz")
    with ka.db.write() as s:
        merge_contacts(ka, s, a, b, viewer=people.viewer("outsider"))
    with ka.db.write() as s:
        with pytest.raises(MergeError):
            merge_contacts(ka, s, a, a, viewer=people.viewer("admin"))
        with pytest.raises(services.NotFound):
            merge_contacts(ka, s, a, b, viewer=people.viewer("admin"))
        with pytest.raises(services.ValidationError) as info:
            merge_contacts(ka, s, w["keep"], w["remove"], {"fax": "keep", "title": "beide"}, viewer=people.viewer("admin"))
        assert info.value.errors == {"fax": "Unbekanntes Feld."}


# -- several e-mails, phones and addresses (contact_points, postal_addresses) -----------------------------


def test_every_email_phone_and_address_is_matched_and_merged_without_duplicates(ka: Any, people: Any) -> None:
    owner = people.users["owner"]
    with ka.db.write() as s:
        keep = _contact(s, owner, first_name="Lea", last_name="Schäfer", use_company_address=False,
                        emails=[{"value": "lea@work.example", "kind": "work", "preferred": True},
                                {"value": "lea@home.example", "kind": "home"}],
                        phones=[{"value": "+49 30 1234567", "kind": "work"}],
                        addresses=[{"kind": "home", "street": "Gartenweg 3", "postal_code": "10115", "city": "Berlin"}])
        remove = _contact(s, owner, first_name="Lea", last_name="Schaefer", use_company_address=False,
                          emails=[{"value": "LEA@HOME.example", "kind": "home", "preferred": True},
                                  {"value": "lea@other.example", "kind": "other"}],
                          phones=[{"value": "030 1234567", "kind": "work"}, {"value": "0171 7654321", "kind": "mobile"}],
                          addresses=[{"kind": "work", "street": "Allee 9", "postal_code": "20095", "city": "Hamburg"}])
        phone_only = _contact(s, owner, first_name="L.", last_name="Schaefer", phones=[{"value": "0171/7654321"}])
        switchboard = _contact(s, owner, first_name="Max", last_name="Weber", phones=[{"value": "030 1234567"}])
        removed_points = sorted(p.id for p in s.get(Contact, remove).points)
    with ka.db.read() as s:
        (group,) = find_duplicates(s)
        assert group.contact_ids == sorted((keep, remove, phone_only))  # the shared office number alone: no duplicate
        assert switchboard not in group.contact_ids
        reasons = {(p.a, p.b): p.reasons for p in group.pairs}
        assert reasons[(keep, remove)][0] == "gleiche E-Mail"  # the second address of one, the preferred of the other
        assert "ähnlicher Name, gleiche Telefonnummer" in reasons[(keep, remove)]
        assert reasons[(remove, phone_only)] == ("ähnlicher Name, gleiche Telefonnummer",)
        found = find_matches(s, {"last_name": "Schäfer", "emails": [{"value": "lea@OTHER.example"}]})
        assert [m.contact_id for m in found] == [remove]
        by_address = {"first_name": "Lea", "last_name": "Schaefer", "addresses": [{"postal_code": "20095"}]}
        found = find_matches(s, by_address)
        assert [m.contact_id for m in found] == [remove]
        by_phone = {"first_name": "Lea", "last_name": "Schäfer", "phones": ["+49 171 7654321"]}
        assert {m.contact_id for m in find_matches(s, by_phone)} == {remove, phone_only}
        index = duplicates.ContactIndex(s)
        assert index.match(by_address) == found and index.match(by_phone) == find_matches(s, by_phone)
        state_before = {i: points_of(s.get(Contact, i)) for i in (keep, remove)}
        columns_before = {i: row_snapshot(s.get(Contact, i)) for i in (keep, remove)}

    with ka.db.write() as s:
        result = merge_contacts(ka, s, keep, remove, {"email": "remove", "address": "remove"}, viewer=people.viewer("admin"))
    with ka.db.read() as s:
        merged = s.get(Contact, keep)
        lists = points_of(merged)
        assert [(e["value"], e["preferred"]) for e in lists["emails"]] == [
            ("lea@work.example", False), ("lea@home.example", True), ("lea@other.example", False)]
        assert [(e["value"], e["preferred"]) for e in lists["phones"]] == [("+49 30 1234567", True), ("0171 7654321", False)]
        assert [(a["city"], a["preferred"]) for a in lists["addresses"]] == [("Berlin", False), ("Hamburg", True)]
        assert (merged.email, merged.phone, merged.city) == ("lea@home.example", "+49 30 1234567", "Hamburg")
        assert s.scalar(select(func.count()).select_from(ContactPoint).where(ContactPoint.contact_id == remove)) == 0
        children = merge_entry(s, result.audit_id).details["removed_children"]
        assert sorted(p["id"] for p in children["points"]) == removed_points and len(children["addresses"]) == 1

    with ka.db.write() as s:
        assert undo_merge(ka, s, result.audit_id, viewer=people.viewer("admin")).conflicts == []
    with ka.db.read() as s:
        assert {i: points_of(s.get(Contact, i)) for i in (keep, remove)} == state_before
        assert sorted(p.id for p in s.get(Contact, remove).points) == removed_points  # under their old ids
        assert s.scalar(select(func.count()).select_from(PostalAddress).where(PostalAddress.contact_id == remove)) == 1
        columns_after = {i: row_snapshot(s.get(Contact, i)) for i in (keep, remove)}
        for i in (keep, remove):
            columns_after[i].pop("updated_at"), columns_before[i].pop("updated_at")
        assert columns_after == columns_before


def test_the_search_index_follows_merge_and_undo(ka: Any, people: Any) -> None:
    owner = people.users["owner"]
    with ka.db.write() as s:
        keep = _contact(s, owner, first_name="Greta", last_name="Zwetschgenbaum", postal_code="79098")
        remove = _contact(s, owner, first_name="Greta", last_name="Zwetschgenbaumm", postal_code="79098")
        doc = create_document(ka, s, people.viewer("owner"), "testnote",
                              DocumentInput(title="Protokoll Kirschblüte", contact_id=remove, data={"subject": "x"}))
        doc_id = doc.id

    def contacts_found() -> set[int]:
        hits = ka.search.backend.search("zwetschgenbaum*", principals=None, kinds=("contact",), limit=10).hits
        return {int(h.id.partition(":")[2]) for h in hits}

    def document_contact() -> str:
        """The contact name the document's index entry carries (it is found by it)."""
        with ka.db.read() as s:
            found = {name for name in ("Zwetschgenbaum", "Zwetschgenbaumm")
                     if [h.document.id for h in ka.search.search(s, people.viewer("owner"), f"Kirschblüte {name}").hits] == [doc_id]}
        assert len(found) == 1, found
        return found.pop()

    ka.search.flush()
    assert contacts_found() == {keep, remove} and document_contact() == "Zwetschgenbaumm"
    with ka.db.write() as s:
        result = merge_contacts(ka, s, keep, remove, viewer=people.viewer("admin"))
    ka.search.flush()
    assert contacts_found() == {keep} and document_contact() == "Zwetschgenbaum"
    with ka.db.write() as s:
        undo_merge(ka, s, result.audit_id, viewer=people.viewer("admin"))
    ka.search.flush()
    assert contacts_found() == {keep, remove} and document_contact() == "Zwetschgenbaumm"
    with ka.db.read() as s:
        assert s.get(Document, doc_id).contact_id == remove
