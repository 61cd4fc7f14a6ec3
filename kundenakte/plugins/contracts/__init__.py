"""Verträge: contracts with terms, notice periods, renewal and a computed notice deadline."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from kundenakte import hookimpl
from kundenakte.core.acl import Viewer
from kundenakte.core.contributions import Category, MenuItem, OverviewFilter, OverviewSection
from kundenakte.core.doctypes import DocumentType, ValidationError
from kundenakte.core.models import Contact, Document
from kundenakte.plugins.contracts.deadlines import Contract, notice_deadline, validate_contract
from kundenakte.plugins.contracts.types import CONTRACT

if TYPE_CHECKING:
    import click


@hookimpl
def register_document_types() -> list[DocumentType]:
    return [CONTRACT]

@hookimpl
def register_categories() -> list[Category]:
    return [Category("contracts", "Verträge", "Contracts", order=40)]



@hookimpl
def contact_actions(contact: Contact, viewer: Viewer) -> list[MenuItem]:
    return [MenuItem("Vertrag", type_key=CONTRACT.key, group="contracts", order=400, label_en="Contract")]


def contract_terms(data: dict[str, Any]) -> Contract | None:
    """The pure contract terms from a document's data, or None when the dates are missing."""
    if not data.get("start"):
        return None
    renewal = None
    if data.get("renewal_amount") and data.get("renewal_unit"):
        renewal = (int(data["renewal_amount"]), data["renewal_unit"])
    return Contract(
        start=dt.date.fromisoformat(data["start"]),
        end=dt.date.fromisoformat(data["end"]) if data.get("end") else None,
        notice_period=(int(data.get("notice_amount") or 0), data.get("notice_unit") or "months"),
        notice_to=data.get("notice_to") or "end_of_term",
        auto_renewal=renewal,
    )


@hookimpl
def prepare_document(ka: Any, session: Session, document: Document, created: bool) -> None:
    if document.type_key != CONTRACT.key:
        return
    data = dict(document.data or {})
    terms = contract_terms(data)
    deadline = None
    if terms is not None:
        problems = validate_contract(terms)
        if problems:
            raise ValidationError({"data.notice_to": " ".join(problems)})
        # Once notice was given or the contract ended there is no deadline left to watch.
        if document.status == "active":
            deadline = notice_deadline(terms, ka.clock.today())
    data["notice_deadline"] = deadline.isoformat() if deadline else None
    document.data = data
    document.due_date = deadline


@hookimpl
def register_overview_sections() -> list[OverviewSection]:
    return [
        OverviewSection(
            key="contracts",
            label="Verträge",
            label_en="Contracts",
            type_keys=(CONTRACT.key,),
            filters=(
                OverviewFilter("all", "alle", None, "all"),
                OverviewFilter("active", "aktiv", ("active",), "active"),
                OverviewFilter("cancelled", "gekündigt", ("cancelled",), "cancelled"),
                OverviewFilter("ended", "beendet", ("ended",), "ended"),
            ),
            columns=("number", "end", "notice_deadline", "value"),
            show_sum=True,
            order=30,
        )
    ]


@hookimpl
def register_commands(cli: click.Group) -> None:
    import click

    @cli.group("contracts")
    def contracts_group() -> None:
        """Verträge."""

    @contracts_group.command("remind")
    @click.option("--within-days", default=60, show_default=True)
    def remind(within_days: int) -> None:
        """Create a task for every active contract whose notice deadline is near (idempotent)."""
        from kundenakte.cli import Context
        from kundenakte.plugins.contracts.reminders import create_deadline_tasks

        ka = click.get_current_context().ensure_object(Context).ka
        created = create_deadline_tasks(ka, within_days=within_days)
        click.echo(f"{len(created)} Erinnerung(en) angelegt.")
