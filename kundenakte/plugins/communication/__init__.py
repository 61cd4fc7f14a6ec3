"""Kommunikation: e-mails, letters, reports, templates (Vorlagen) and the outbox."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from kundenakte import hookimpl
from kundenakte.core.acl import Viewer
from kundenakte.core.contributions import Category, MenuItem, OverviewFilter, OverviewSection
from kundenakte.core.doctypes import DocumentType
from kundenakte.core.models import Company, Contact, Document
from kundenakte.core.validation import N_
from kundenakte.plugins.communication.inbound import hooks as inbound_hooks
from kundenakte.plugins.communication.types import COMM_KEYS, COMM_TYPES, EMAIL

if TYPE_CHECKING:
    import click
    from flask import Blueprint

    from kundenakte.core.runtime import Kundenakte


@hookimpl
def add_hookspecs(pm: Any) -> None:
    from kundenakte.plugins.communication import hookspecs

    pm.add_hookspecs(hookspecs)


@hookimpl
def register_document_types() -> list[DocumentType]:
    return list(COMM_TYPES)

@hookimpl
def register_categories() -> list[Category]:
    return [Category("communication", "Kommunikation", "Communication", order=10)]


@hookimpl
def register_settings() -> list[Any]:
    from kundenakte.plugins.communication.settings import SETTINGS

    return list(SETTINGS)


@hookimpl
def blob_references(session: Any, sha256s: list[str]) -> list[str]:
    from kundenakte.plugins.communication.templates_service import template_blob_references

    return template_blob_references(session, sha256s)


@hookimpl
def register_migrations() -> list[str]:
    return [str(Path(__file__).resolve().parent / "migrations")]


@hookimpl
def contact_actions(contact: Contact, viewer: Viewer) -> list[MenuItem]:
    items = [MenuItem(t.label, type_key=t.key, group="communication", order=t.menu_order, label_en=t.label_en)
             for t in COMM_TYPES if t.key != EMAIL.key]
    # A new e-mail is addressed to the contact from the start (the form validates it on save).
    prefill = {"data.to_email": contact.email or "", "data.to_name": contact.full_name or ""}
    items.append(MenuItem(EMAIL.label, type_key=EMAIL.key, endpoint="documents.new", group="communication",
                          order=EMAIL.menu_order, label_en=EMAIL.label_en,
                          values={"type_key": EMAIL.key, "contact_id": contact.id, "company_id": contact.company_id,
                                  **{k: v for k, v in prefill.items() if v}}))
    items.append(_choose_template_item({"contact_id": contact.id}))
    items.append(inbound_hooks.upload_item(contact_id=contact.id))
    return items


# First entry of the Kommunikation group (the types come at 100+): the most used way to write.
CHOOSE_TEMPLATE_ORDER = 1


def _choose_template_item(values: dict[str, int]) -> MenuItem:
    return MenuItem("Vorlage auswählen …", endpoint="communication.choose_template", values=values,
                    group="communication", order=CHOOSE_TEMPLATE_ORDER, label_en="Choose template …", dialog=True)


@hookimpl
def company_actions(company: Company, viewer: Viewer) -> list[MenuItem]:
    # The document types come from the core (in_contact_menu); the template chooser and the mail
    # upload are ours.
    return [_choose_template_item({"company_id": company.id}), inbound_hooks.upload_item(company_id=company.id)]


@hookimpl
def navigation_links(viewer: Viewer) -> list[MenuItem]:
    return inbound_hooks.navigation_links(viewer)


@hookimpl
def document_actions(document: Document, viewer: Viewer, can_edit: bool) -> list[MenuItem]:
    if document.type_key == "email" and can_edit and document.status in ("draft", "failed"):
        # In the toolbar; it opens the confirmation (recipient, attachments), which sends.
        return [MenuItem("Senden", endpoint="communication.confirm_send", values={"document_id": document.id},
                         group="communication", order=10, label_en="Send", toolbar=True)]
    return inbound_hooks.document_actions(document)


@hookimpl
def prepare_document(ka: Kundenakte, session: Any, document: Document, created: bool) -> None:
    if document.type_key != EMAIL.key:
        return
    from kundenakte.core.doctypes import ValidationError
    from kundenakte.plugins.communication.addresses import is_valid_email

    address = str((document.data or {}).get("to_email") or "").strip()
    if address and not is_valid_email(address):
        raise ValidationError({"data.to_email": f"„{address}“ ist keine gültige E-Mail-Adresse."})


NOT_SENDING = N_("Es ist kein Mailserver (SMTP) eingerichtet: E-Mails werden nicht versendet, sondern nur als "
                 "Datei im Ausgangsordner der Instanz abgelegt (Status „als Datei abgelegt“). Die Verwaltung richtet "
                 "den Versand mit KUNDENAKTE_COMMUNICATION_SMTP_HOST ein.")


@hookimpl
def page_notices(ka: Kundenakte, viewer: Viewer, page: str, document: Document | None) -> list[str]:
    from kundenakte.plugins.communication.outbox import sending_configured

    if sending_configured(ka):
        return []
    if page == "settings" or (document is not None and document.type_key == EMAIL.key):
        return [NOT_SENDING]
    return []


@hookimpl
def settings_links(viewer: Viewer) -> list[MenuItem]:
    return [MenuItem("Kommunikation – Vorlagen", endpoint="communication.template_list", group="communication",
                     order=30, label_en="Communication – templates"), *inbound_hooks.settings_links(viewer)]


@hookimpl
def register_overview_sections() -> list[OverviewSection]:
    return [
        OverviewSection(
            key="communication",
            label="Kommunikation",
            label_en="Communication",
            type_keys=COMM_KEYS,
            filters=(
                OverviewFilter("all", "alle", None, "all"),
                OverviewFilter("drafts", "Entwürfe", ("draft",), "drafts"),
                OverviewFilter("sent", "versendet", ("sent",), "sent"),
                OverviewFilter("filed", "als Datei abgelegt", ("filed",), "filed as a file"),
            ),
            columns=("subject",),
            order=10,
        )
    ]


@hookimpl
def register_blueprints() -> list[Blueprint]:
    # Registering the blueprint also starts the outbox retry loop (see views.py): only the web
    # app registers blueprints, so CLI commands never send in the background.
    from kundenakte.plugins.communication.inbound.views import bp as inbound_bp
    from kundenakte.plugins.communication.views import bp

    return [bp, inbound_bp]


@hookimpl
def register_api_operations() -> list[Any]:
    from kundenakte.plugins.communication.api import OPERATIONS

    return list(OPERATIONS)


@hookimpl
def shutdown(ka: Kundenakte) -> None:
    from kundenakte.plugins.communication import retry
    from kundenakte.plugins.communication.inbound import loop as inbound_loop

    retry.stop(ka)
    inbound_loop.stop(ka)


@hookimpl
def register_commands(cli: click.Group) -> None:
    import click

    @cli.group("mail")
    def mail_group() -> None:
        """E-Mail-Versand."""

    @mail_group.command("send-queued")
    @click.option("--limit", default=50, show_default=True)
    def send_queued(limit: int) -> None:
        """Deliver every due e-mail of the outbox (never resends uncertain ones)."""
        from kundenakte.cli import Context
        from kundenakte.plugins.communication.outbox import deliver_queued

        ka = click.get_current_context().ensure_object(Context).ka
        summary = deliver_queued(ka, limit=limit)
        click.echo(str(summary))

    def current_ka() -> Kundenakte:
        from kundenakte.cli import Context

        return click.get_current_context().ensure_object(Context).ka

    from kundenakte.plugins.communication.inbound.cli import add_commands

    add_commands(mail_group, current_ka)
