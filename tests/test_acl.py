"""The permission rules, at query level and for single documents, on both databases."""

import pytest
from sqlalchemy import func, select

from kundenakte.core import acl
from kundenakte.core.documents import DocumentInput, create_document
from kundenakte.core.models import Document, User
from kundenakte.core.users import remove_members


def _make(ka, people, title, readers=(), editors=(), author="owner"):
    with ka.db.write() as s:
        doc = create_document(ka, s, people.viewer(author), "testnote",
                              DocumentInput(title=title, data={"subject": title}, readers=list(readers), editors=list(editors)))
        return doc.id


@pytest.fixture
def docs(ka, people):
    g = people.groups
    u = people.users
    return {
        "private": _make(ka, people, "private"),
        "everyone": _make(ka, people, "everyone", readers=["*"]),
        "direct": _make(ka, people, "direct", readers=[f"u:{u['reader']}"]),
        "group": _make(ka, people, "group", readers=[f"g:{g['Vertrieb']}"]),
        "nested": _make(ka, people, "nested", readers=[f"g:{g['Vertrieb Nord']}"]),
        "edit": _make(ka, people, "edit", editors=[f"u:{u['editor']}"]),
    }


EXPECTED_READ = {
    "owner": {"private", "everyone", "direct", "group", "nested", "edit"},
    "reader": {"everyone", "direct"},
    "grouped": {"everyone", "group"},
    "nested": {"everyone", "group", "nested"},  # a member of a child group holds the parent's rights
    "editor": {"everyone", "edit"},
    "outsider": {"everyone"},
    "admin": {"private", "everyone", "direct", "group", "nested", "edit"},
    "nobody": set(),  # inactive
}
EXPECTED_EDIT = {
    "owner": EXPECTED_READ["owner"],
    "reader": set(), "grouped": set(), "nested": set(), "outsider": set(), "nobody": set(),
    "editor": {"edit"},
    "admin": EXPECTED_READ["admin"],
}


@pytest.mark.parametrize("login", sorted(EXPECTED_READ))
def test_query_level_and_single_document_agree(ka, people, docs, login):
    viewer = people.viewer(login)
    names = {v: k for k, v in docs.items()}
    with ka.db.read() as s:
        listed = {names[i] for i in s.scalars(select(Document.id).where(acl.readable_clause(viewer)))}
        count = s.scalar(select(func.count()).select_from(Document).where(acl.readable_clause(viewer)))
        editable = {names[i] for i in s.scalars(select(Document.id).where(acl.editable_clause(viewer)))}
        single_read = {n for n, i in docs.items() if acl.can_read(s, viewer, i)}
        single_edit = {n for n, i in docs.items() if acl.can_edit(s, viewer, i)}
        verified = {names[i] for i in acl.readable_ids(s, viewer, docs.values())}
    assert listed == single_read == verified == EXPECTED_READ[login]
    assert count == len(EXPECTED_READ[login])
    assert editable == single_edit == EXPECTED_EDIT[login]
    assert editable <= listed  # editors can read


def test_group_change_is_effective_at_once(ka, people, docs):
    assert people.viewer("nested").principals >= {f"g:{people.groups['Vertrieb']}"}
    with ka.db.write() as s:
        remove_members(s, "Vertrieb Nord", ["nested"])
    viewer = people.viewer("nested")
    with ka.db.read() as s:
        assert not acl.can_read(s, viewer, docs["group"])
        assert acl.can_read(s, viewer, docs["everyone"])


def test_deactivated_user_loses_everything(ka, people, docs):
    with ka.db.write() as s:
        s.get(User, people.users["owner"]).active = False
    viewer = people.viewer("owner")
    assert viewer.sees_nothing
    with ka.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Document).where(acl.readable_clause(viewer))) == 0


def test_principals_are_validated():
    assert acl.parse_principal(" u:05 ") == "u:5"
    assert acl.parse_principal("*") == "*"
    for bad in ("x:1", "u:", "g:abc", "", "u:1;drop"):
        with pytest.raises(ValueError):
            acl.parse_principal(bad)
