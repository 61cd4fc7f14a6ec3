"""The inbound part of the communication plugin's menu hooks (called from its ``__init__``)."""

from __future__ import annotations

from kundenakte.core.acl import Viewer
from kundenakte.core.contributions import MenuItem
from kundenakte.core.models import Document


def upload_item(*, contact_id: int | None = None, company_id: int | None = None) -> MenuItem:
    values = {"contact_id": contact_id} if contact_id is not None else {"company_id": company_id}
    return MenuItem("E-Mail ablegen (.eml/.msg) …", endpoint="communication_inbound.upload", values=values,
                    group="communication", order=95, label_en="File e-mail (.eml/.msg) …")


def navigation_links(viewer: Viewer) -> list[MenuItem]:
    return [MenuItem("Posteingang", endpoint="communication_inbound.inbox", order=15, label_en="Inbox")]


def settings_links(viewer: Viewer | None) -> list[MenuItem]:
    if viewer is None or not viewer.sees_all:
        return []
    return [MenuItem("Kommunikation – Postfächer", endpoint="communication_inbound.account_list", group="communication",
                     order=31, label_en="Communication – mailboxes")]


def document_actions(document: Document) -> list[MenuItem]:
    # Only mails that can be part of a thread: a reply, or a sent/received mail with a Message-ID.
    data = getattr(document, "data", None) or {}
    if document.type_key != "email" or not (getattr(document, "parent_id", None) or data.get("message_id")):
        return []
    return [MenuItem("Verlauf", endpoint="communication_inbound.thread", values={"document_id": document.id},
                     group="communication", order=20, label_en="Thread")]
