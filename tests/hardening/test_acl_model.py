"""The permission rules as a state machine, checked against a plain-Python reference model.

Random sequences of grant / revoke / move a user between groups / re-parent a group / (de)activate /
make admin / change the responsible user / archive / index flush run against a real instance
(SQLite); after every step, for every user: ``acl.readable_clause`` (as SQL), ``acl.can_read``,
``acl.can_edit``, ``acl.readable_ids`` and the search service agree with the model.

Sizes: ``KUNDENAKTE_ACL_EXAMPLES`` × ``KUNDENAKTE_ACL_STEPS`` (CI 15 × 20; the full battery,
``KUNDENAKTE_HARDENING_FULL=1``, 200 × 50).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from sqlalchemy import delete, insert, select

from kundenakte.core import acl
from kundenakte.core.documents import DocumentInput, create_document, queue_index, update_document
from kundenakte.core.models import Document, Group, User, group_members
from kundenakte.core.users import create_group, create_user
from tests.conftest import PASSWORD, make_ka, password_hash
from tests.hardening import FIGURES, PROBLEMS, env_int

pytestmark = [pytest.mark.sqlite_only, pytest.mark.timeout(600)]

N_USERS = 5
N_GROUPS = 3
N_DOCS = 5
WORD = "modellwort"
PRINCIPALS = ["*"] + [f"u{i}" for i in range(N_USERS)] + [f"g{i}" for i in range(N_GROUPS)]

EXAMPLES = env_int("KUNDENAKTE_ACL_EXAMPLES", 15, 200)
STEPS = env_int("KUNDENAKTE_ACL_STEPS", 20, 50)


class Model:
    """The rules of docs/architecture.md, nothing else."""

    def __init__(self) -> None:
        self.active = [True] * N_USERS
        self.admin = [False] * N_USERS
        self.parent: list[int | None] = [None] * N_GROUPS
        self.members: set[tuple[int, int]] = set()  # (user, group)
        self.author = [0] * N_DOCS
        self.responsible: list[int | None] = [None] * N_DOCS
        self.acl: list[dict[str, str]] = [{} for _ in range(N_DOCS)]  # symbolic principal -> role
        self.archived = [False] * N_DOCS

    def groups_of(self, user: int) -> set[int]:
        result: set[int] = set()
        stack = [g for (u, g) in self.members if u == user]
        while stack:
            g = stack.pop()
            if g in result:
                continue
            result.add(g)
            if self.parent[g] is not None:
                stack.append(self.parent[g])  # type: ignore[arg-type]
        return result

    def principals(self, user: int) -> set[str]:
        return {"*", f"u{user}"} | {f"g{g}" for g in self.groups_of(user)}

    def can_read(self, user: int, doc: int) -> bool:
        if not self.active[user]:
            return False
        if self.admin[user] or user in (self.author[doc], self.responsible[doc]):
            return True
        return bool(self.principals(user) & set(self.acl[doc]))

    def can_edit(self, user: int, doc: int) -> bool:
        if not self.active[user]:
            return False
        if self.admin[user] or user in (self.author[doc], self.responsible[doc]):
            return True
        mine = self.principals(user)
        return any(p in mine and role == "edit" for p, role in self.acl[doc].items())


class AclMachine(RuleBasedStateMachine):
    template: Path

    def __init__(self) -> None:
        super().__init__()
        self.model = Model()
        self.folder = Path(tempfile.mkdtemp(prefix="acl-model-"))
        shutil.copy(self.template, self.folder / "kundenakte.sqlite3")
        self.ka = make_ka(self.folder, "sqlite")
        self.indexed = True  # nothing pending in the index queue
        FIGURES["acl.examples"] += 1

    def teardown(self) -> None:
        self.ka.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    # -- ids ---------------------------------------------------------------------------------------

    def real(self, symbolic: str) -> str:
        if symbolic == "*":
            return "*"
        kind, index = symbolic[0], int(symbolic[1:])
        return f"u:{self.user_ids[index]}" if kind == "u" else f"g:{self.group_ids[index]}"

    def viewer(self, session: Any, user: int) -> acl.Viewer:
        return acl.viewer_for(session, session.get(User, self.user_ids[user]))

    @initialize(authors=st.lists(st.integers(0, N_USERS - 1), min_size=N_DOCS, max_size=N_DOCS))
    def setup(self, authors: list[int]) -> None:
        with self.ka.db.write() as s:
            self.user_ids = [create_user(s, f"m{i}", PASSWORD, display_name=f"M{i}", email=f"m{i}@example.org",
                                         password_hash=password_hash()).id for i in range(N_USERS)]
            self.group_ids = [create_group(s, f"Gruppe {i}").id for i in range(N_GROUPS)]
        self.doc_ids = []
        with self.ka.db.write() as s:
            for d, author in enumerate(authors):
                viewer = self.viewer(s, author)
                doc = create_document(self.ka, s, viewer, "testnote", DocumentInput(
                    title=f"Akte {d}", content=f"<p>{WORD}</p>", data={"subject": "x"}, readers=[], editors=[]))
                self.doc_ids.append(doc.id)
                self.model.author[d] = author
                self.model.responsible[d] = author  # create_document: the creator is responsible by default
        self.ka.search.flush()

    # -- rules ---------------------------------------------------------------------------------------

    def _admin_viewer(self, session: Any) -> acl.Viewer:
        return acl.Viewer(user_id=None, is_admin=True, active=True, principals=frozenset({"*"}))

    def _save_acl(self, doc: int) -> None:
        readers = [self.real(p) for p, r in self.model.acl[doc].items() if r == "read"]
        editors = [self.real(p) for p, r in self.model.acl[doc].items() if r == "edit"]
        with self.ka.db.write() as s:
            author = self.viewer(s, self.model.author[doc])
            # through the document service, as the UI does (the author is always allowed, even when inactive -
            # so write with an admin's view then)
            writer = author if not author.sees_nothing else acl.Viewer(self.user_ids[0], True, True, frozenset({"*"}))
            update_document(self.ka, s, writer, self.doc_ids[doc],
                            DocumentInput.from_mapping({"readers": readers, "editors": editors}), expected_version=None)
        self.indexed = False

    @rule(doc=st.integers(0, N_DOCS - 1), principal=st.sampled_from(PRINCIPALS), role=st.sampled_from(["read", "edit"]))
    def grant(self, doc: int, principal: str, role: str) -> None:
        if self.model.archived[doc]:
            return
        self.model.acl[doc][principal] = role
        self._save_acl(doc)

    @rule(doc=st.integers(0, N_DOCS - 1), principal=st.sampled_from(PRINCIPALS))
    def revoke(self, doc: int, principal: str) -> None:
        if self.model.archived[doc]:
            return
        self.model.acl[doc].pop(principal, None)
        self._save_acl(doc)

    @rule(user=st.integers(0, N_USERS - 1), source=st.none() | st.integers(0, N_GROUPS - 1),
          dest=st.none() | st.integers(0, N_GROUPS - 1))
    def move_user(self, user: int, source: int | None, dest: int | None) -> None:
        """Take the user out of ``source`` and put it into ``dest`` (either may be none)."""
        with self.ka.db.write() as s:
            if source is not None:
                s.execute(delete(group_members).where(group_members.c.user_id == self.user_ids[user],
                                                      group_members.c.group_id == self.group_ids[source]))
                self.model.members.discard((user, source))
            if dest is not None and (user, dest) not in self.model.members:
                s.execute(insert(group_members).values(user_id=self.user_ids[user], group_id=self.group_ids[dest]))
                self.model.members.add((user, dest))

    @rule(group=st.integers(0, N_GROUPS - 1), parent=st.none() | st.integers(0, N_GROUPS - 1))
    def reparent(self, group: int, parent: int | None) -> None:
        if parent == group:
            return
        with self.ka.db.write() as s:
            s.get(Group, self.group_ids[group]).parent_id = None if parent is None else self.group_ids[parent]
        self.model.parent[group] = parent  # cycles (g0 -> g1 -> g0) are allowed: acl tolerates them

    @rule(user=st.integers(0, N_USERS - 1), active=st.booleans())
    def set_active(self, user: int, active: bool) -> None:
        with self.ka.db.write() as s:
            s.get(User, self.user_ids[user]).active = active
        self.model.active[user] = active

    @rule(user=st.integers(0, N_USERS - 1), admin=st.booleans())
    def set_admin(self, user: int, admin: bool) -> None:
        with self.ka.db.write() as s:
            s.get(User, self.user_ids[user]).is_admin = admin
        self.model.admin[user] = admin

    @rule(doc=st.integers(0, N_DOCS - 1), user=st.none() | st.integers(0, N_USERS - 1))
    def set_responsible(self, doc: int, user: int | None) -> None:
        with self.ka.db.write() as s:
            s.get(Document, self.doc_ids[doc]).responsible_id = None if user is None else self.user_ids[user]
            queue_index(s, f"doc:{self.doc_ids[doc]}")
        self.model.responsible[doc] = user
        self.indexed = False

    @rule(doc=st.integers(0, N_DOCS - 1))
    def archive(self, doc: int) -> None:
        with self.ka.db.write() as s:
            row = s.get(Document, self.doc_ids[doc])
            row.archived_at = self.ka.clock.now()
            queue_index(s, f"doc:{self.doc_ids[doc]}")
        self.model.archived[doc] = True
        self.indexed = False

    @rule()
    def flush_index(self) -> None:
        self.ka.search.flush()
        self.indexed = True

    # -- the check -------------------------------------------------------------------------------------

    @invariant()
    def agrees_with_model(self) -> None:
        if not hasattr(self, "doc_ids"):
            return
        FIGURES["acl.steps"] += 1
        m = self.model
        with self.ka.db.read() as s:
            for user in range(N_USERS):
                viewer = self.viewer(s, user)
                want_read = {self.doc_ids[d] for d in range(N_DOCS) if m.can_read(user, d)}
                want_edit = {self.doc_ids[d] for d in range(N_DOCS) if m.can_edit(user, d)}
                got = set(s.scalars(select(Document.id).where(acl.readable_clause(viewer))))
                got_edit = set(s.scalars(select(Document.id).where(acl.editable_clause(viewer))))
                one_by_one = {i for i in self.doc_ids if acl.can_read(s, viewer, i)}
                edit_one = {i for i in self.doc_ids if acl.can_edit(s, viewer, i)}
                ids = acl.readable_ids(s, viewer, self.doc_ids)
                hits = {h.document.id for h in self.ka.search.search(s, viewer, WORD, include_archived=True, per_page=50).hits}
                FIGURES["acl.checks"] += 6
                problems = []
                if not (got == one_by_one == ids == want_read):
                    problems.append(f"read: model {sorted(want_read)} clause {sorted(got)} can_read {sorted(one_by_one)} ids {sorted(ids)}")
                if not (got_edit == edit_one == want_edit):
                    problems.append(f"edit: model {sorted(want_edit)} clause {sorted(got_edit)} can_edit {sorted(edit_one)}")
                # Search never shows more than the model allows; once the index has caught up, exactly that.
                if not hits <= want_read or (self.indexed and hits != want_read):
                    problems.append(f"search: model {sorted(want_read)} hits {sorted(hits)} (indexed={self.indexed})")
                if problems:
                    FIGURES["acl.mismatches"] += 1
                    PROBLEMS.append(f"acl model: user m{user}: " + "; ".join(problems))
                    raise AssertionError(f"user m{user}: " + "; ".join(problems))


def test_acl_state_machine(_sqlite_template: Path) -> None:
    AclMachine.template = _sqlite_template
    run_state_machine_as_test(AclMachine, settings=settings(
        max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None, database=None,
        suppress_health_check=list(HealthCheck), derandomize=False))
