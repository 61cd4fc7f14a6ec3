"""Aufgaben: tasks linked to a company or contact, a "Meine Aufgaben" list and an overview section."""

from __future__ import annotations

from kundenakte import hookimpl
from kundenakte.core.acl import Viewer
from kundenakte.core.contributions import MenuItem, OverviewFilter, OverviewSection
from kundenakte.core.doctypes import DocumentType
from kundenakte.core.models import Contact, Document
from kundenakte.plugins.tasks.types import TASK


@hookimpl
def register_document_types() -> list[DocumentType]:
    return [TASK]


@hookimpl
def contact_actions(contact: Contact, viewer: Viewer) -> list[MenuItem]:
    return [MenuItem("Aufgabe", type_key=TASK.key, group="Aufgaben", order=200, label_en="Task")]


@hookimpl
def document_actions(document: Document, viewer: Viewer, can_edit: bool) -> list[MenuItem]:
    items = [MenuItem("Aufgabe zu diesem Dokument", url=f"/dokumente/neu/task?parent_id={document.id}"
                      f"&contact_id={document.contact_id or ''}&company_id={document.company_id or ''}",
                      group="Aufgaben", order=200, label_en="Task for this document")]
    if document.type_key == TASK.key and can_edit and document.status == "open":
        items.append(MenuItem("Erledigt", url=f"/aufgaben/{document.id}/erledigt", method="post", group="Aufgaben",
                              order=10, label_en="Done"))
    return items


@hookimpl
def navigation_links(viewer: Viewer) -> list[MenuItem]:
    return [MenuItem("Aufgaben", url="/aufgaben", order=40, label_en="Tasks")]


@hookimpl
def register_overview_sections() -> list[OverviewSection]:
    return [
        OverviewSection(
            key="tasks",
            label="Aufgaben",
            label_en="Tasks",
            type_keys=(TASK.key,),
            filters=(
                OverviewFilter("all", "alle", None, "all"),
                OverviewFilter("open", "offen", ("open",), "open"),
                OverviewFilter("done", "erledigt", ("done",), "done"),
            ),
            columns=("due", "priority"),
            order=20,
        )
    ]


@hookimpl
def register_blueprints():  # type: ignore[no-untyped-def]
    from kundenakte.plugins.tasks.views import bp

    return [bp]
