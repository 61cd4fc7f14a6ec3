"""Aufgaben: tasks linked to a company or contact, a "Meine Aufgaben" list and an overview section."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kundenakte import hookimpl
from kundenakte.core.acl import Viewer
from kundenakte.core.contributions import Category, MenuItem, OverviewFilter, OverviewSection
from kundenakte.core.doctypes import DocumentType
from kundenakte.core.models import Contact, Document
from kundenakte.plugins.tasks.types import TASK

if TYPE_CHECKING:
    from flask import Blueprint


@hookimpl
def register_document_types() -> list[DocumentType]:
    return [TASK]

@hookimpl
def register_categories() -> list[Category]:
    return [Category("tasks", "Aufgaben", "Tasks", order=20)]



@hookimpl
def contact_actions(contact: Contact, viewer: Viewer) -> list[MenuItem]:
    return [MenuItem("Aufgabe", type_key=TASK.key, group="tasks", order=200, label_en="Task")]


@hookimpl
def document_actions(document: Document, viewer: Viewer, can_edit: bool) -> list[MenuItem]:
    values = {"type_key": TASK.key, "parent_id": document.id, "contact_id": document.contact_id or "",
              "company_id": document.company_id or ""}
    items = [MenuItem("Aufgabe zu diesem Dokument", endpoint="documents.new", values=values,
                      group="tasks", order=200, label_en="Task for this document")]
    if document.type_key == TASK.key and can_edit and document.status == "open":
        items.append(MenuItem("Erledigt", endpoint="tasks.done", values={"document_id": document.id}, method="post", group="tasks",
                              order=10, label_en="Done"))
    return items


@hookimpl
def navigation_links(viewer: Viewer) -> list[MenuItem]:
    return [MenuItem("Aufgaben", endpoint="tasks.mine", order=40, label_en="Tasks")]


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
def register_blueprints() -> list[Blueprint]:
    from kundenakte.plugins.tasks.views import bp

    return [bp]
