import datetime as dt

from sqlalchemy import select

from kundenakte.core.documents import DocumentInput, create_document, update_document
from kundenakte.core.models import Document
from kundenakte.plugins.contracts.reminders import create_deadline_tasks
from kundenakte.plugins.tasks.queries import my_tasks


def _contract(ka, people, **data):
    base = {"subject": "Wartung", "start": "2026-01-01", "end": "2026-12-31", "notice_amount": 3,
            "notice_unit": "months", "renewal_amount": 1, "renewal_unit": "years"}
    base.update(data)
    with ka.db.write() as s:
        return create_document(ka, s, people.viewer("owner"), "contract",
                               DocumentInput(title="Wartungsvertrag", data=base, readers=["*"])).id


def test_contract_deadline_is_computed_and_mirrored(ka, people):
    ka.clock.set(dt.date(2026, 9, 1))
    doc_id = _contract(ka, people)
    with ka.db.read() as s:
        doc = s.get(Document, doc_id)
        assert doc.data["notice_deadline"] == "2026-09-30"
        assert doc.due_date == dt.date(2026, 9, 30)
    ka.clock.set(dt.date(2026, 10, 15))  # too late for this term: the next one counts
    with ka.db.write() as s:
        update_document(ka, s, people.viewer("owner"), doc_id, DocumentInput.from_mapping({"title": "Wartung neu"}), expected_version=None)
    with ka.db.read() as s:
        assert s.get(Document, doc_id).data["notice_deadline"] == "2027-09-30"


def test_cancelled_contract_has_no_deadline(ka, people):
    ka.clock.set(dt.date(2026, 9, 1))
    doc_id = _contract(ka, people)
    with ka.db.write() as s:
        update_document(ka, s, people.viewer("owner"), doc_id, DocumentInput.from_mapping({"status": "cancelled"}), expected_version=None)
    with ka.db.read() as s:
        doc = s.get(Document, doc_id)
        assert doc.data["notice_deadline"] is None and doc.due_date is None


def test_near_deadline_creates_one_task(ka, people):
    ka.clock.set(dt.date(2026, 9, 1))
    contract_id = _contract(ka, people)
    first = create_deadline_tasks(ka, within_days=60)
    again = create_deadline_tasks(ka, within_days=60)
    assert len(first) == 1 and again == []
    with ka.db.read() as s:
        task = s.get(Document, first[0])
        assert task.type_key == "task" and task.parent_id == contract_id
        assert task.due_date == dt.date(2026, 9, 30)
        owner_tasks = my_tasks(s, people.viewer("owner"), ka.clock.today())
        assert [t.id for t in owner_tasks] == [task.id]


def test_my_tasks_lists_overdue_first(ka, people):
    ka.clock.set(dt.date(2026, 5, 10))
    ids = {}
    with ka.db.write() as s:
        for name, due in (("later", "2026-06-01"), ("overdue", "2026-05-01"), ("none", None)):
            ids[name] = create_document(ka, s, people.viewer("owner"), "task",
                                        DocumentInput(title=name, data={"due": due, "priority": "normal"})).id
    with ka.db.write() as s:
        update_document(ka, s, people.viewer("owner"), ids["later"], DocumentInput.from_mapping({"status": "done"}), expected_version=None)
    with ka.db.read() as s:
        titles = [t.title for t in my_tasks(s, people.viewer("owner"), ka.clock.today())]
        all_titles = [t.title for t in my_tasks(s, people.viewer("owner"), ka.clock.today(), include_done=True)]
        assert my_tasks(s, people.viewer("outsider"), ka.clock.today()) == []
    assert titles == ["overdue", "none"]
    assert all_titles == ["overdue", "none", "later"]


def test_project_documents_are_linked(ka, people):
    with ka.db.write() as s:
        project = create_document(ka, s, people.viewer("owner"), "project",
                                  DocumentInput(title="Einführung", data={"budget": "12.000,00"}, readers=["*"],
                                                locale="de"))
        child = create_document(ka, s, people.viewer("owner"), "task", DocumentInput(title="Kickoff", parent_id=project.id))
        pid, cid = project.id, child.id
    with ka.db.read() as s:
        assert s.get(Document, pid).amount == 12000
        assert s.scalars(select(Document.id).where(Document.parent_id == pid)).all() == [cid]
