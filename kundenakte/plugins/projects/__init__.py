"""Projekte: projects for a customer, with the documents filed to them and an overview section."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kundenakte import hookimpl
from kundenakte.core.acl import Viewer
from kundenakte.core.contributions import Category, MenuItem, OverviewFilter, OverviewSection
from kundenakte.core.doctypes import Choice, DocumentType, Field, Status
from kundenakte.core.models import Contact, Document

if TYPE_CHECKING:
    from flask import Blueprint

PROJECT = DocumentType(
    key="project",
    label="Projekt",
    label_en="Project",
    category="projects",
    fields=(
        Field("start", "date", "Beginn", "Start", in_list=True),
        Field("end", "date", "Ende", "End", in_list=True),
        Field("budget", "money", "Budget", "Budget", in_list=True),
        Field("goal", "longtext", "Ziel", "Goal", searchable=True),
        Field("kind", "choice", "Art", "Kind", choices=(
            Choice("customer", "Kundenprojekt", "customer project"),
            Choice("internal", "internes Projekt", "internal project"),
        ), default="customer"),
    ),
    statuses=(
        Status("open", "offen", "open"),
        Status("planned", "geplant", "planned"),
        Status("in_progress", "in Arbeit", "in progress"),
        Status("done", "erledigt", "done", closed=True),
    ),
    default_folders=("Projekte",),
    retention_days=3650,
    amount_field="budget",
    due_field="end",
    icon="folder",
    menu_order=500,
)


@hookimpl
def register_document_types() -> list[DocumentType]:
    return [PROJECT]

@hookimpl
def register_categories() -> list[Category]:
    return [Category("projects", "Projekte", "Projects", order=50)]



@hookimpl
def contact_actions(contact: Contact, viewer: Viewer) -> list[MenuItem]:
    return [MenuItem("Projekt", type_key=PROJECT.key, group="projects", order=500, label_en="Project")]


@hookimpl
def document_actions(document: Document, viewer: Viewer, can_edit: bool) -> list[MenuItem]:
    if document.type_key != PROJECT.key:
        return []
    return [MenuItem("Dokumente des Projekts", endpoint="projects.documents", values={"document_id": document.id},
                     group="projects", order=10,
                     label_en="Project documents")]


@hookimpl
def register_overview_sections() -> list[OverviewSection]:
    return [
        OverviewSection(
            key="projects",
            label="Projekte",
            label_en="Projects",
            type_keys=(PROJECT.key,),
            filters=(
                OverviewFilter("all", "alle", None, "all"),
                OverviewFilter("open", "offen", ("open",), "open"),
                OverviewFilter("planned", "geplant", ("planned",), "planned"),
                OverviewFilter("in_progress", "in Arbeit", ("in_progress",), "in progress"),
                OverviewFilter("done", "erledigt", ("done",), "done"),
            ),
            columns=("start", "end", "budget"),
            show_sum=True,
            order=50,
        )
    ]


@hookimpl
def register_blueprints() -> list[Blueprint]:
    from kundenakte.plugins.projects.views import bp

    return [bp]
