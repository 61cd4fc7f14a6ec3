""""Per E-Mail senden" for a finalised voucher: a prefilled mail draft with the voucher's PDF (and XML).

The sales plugin does not know which plugin sends mail: it asks the core for the enabled type that
declares ``DocumentType.mail`` (``TypeRegistry.mail_type``) and opens the core's new-document form
for it, prefilled through the form's public query parameters — recipient and subject fields named by
that declaration, the contact and company, the voucher as parent (the mail is filed beside it and
shows in its thread), and the finalised files through ``anhang_aus`` (taken over from the voucher
on save, each with its audit entry; only files the user may read). Nothing is sent before the user
presses Senden in the draft, so the text can still be written.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import object_session

from kundenakte.core.contributions import MenuItem
from kundenakte.core.models import Company, Contact, Document
from kundenakte.plugins.sales.finalise import is_finalised
from kundenakte.plugins.sales.numbering import VOUCHER_TYPES


def send_by_mail_item(document: Document) -> MenuItem | None:
    """The menu entry, or None (not finalised, no mail-sending type enabled)."""
    from kundenakte.web.context import current_ka, disabled_plugins

    if not is_finalised(document):
        return None
    mail_type = current_ka().types.mail_type(disabled_plugins())
    if mail_type is None or mail_type.mail is None:
        return None
    data = document.data or {}
    files = [int(i) for i in (data.get("finalised_pdf"), data.get("finalised_xml")) if isinstance(i, int)]
    session = object_session(document)
    contact = session.get(Contact, document.contact_id) if session is not None and document.contact_id else None
    company = session.get(Company, document.company_id) if session is not None and document.company_id else None
    # The contact's preferred address first (the one every mail path uses), else the company's.
    address = (contact.email if contact is not None else "") or (company.email if company is not None else "")
    name = contact.full_name if contact is not None else (company.name if company is not None else "")
    label = VOUCHER_TYPES.get(document.type_key, document.title)
    number = str(data.get("number") or "")
    fields = mail_type.mail
    values: dict[str, Any] = {"type_key": mail_type.key, "parent_id": document.id, "anhang_aus": files}
    if document.contact_id:
        values["contact_id"] = document.contact_id
    if document.company_id:
        values["company_id"] = document.company_id
    if address:
        values[f"data.{fields.to_email}"] = address
    if fields.to_name and name:
        values[f"data.{fields.to_name}"] = name
    if fields.subject:
        values[f"data.{fields.subject}"] = f"{label} {number}".strip()
    return MenuItem("Per E-Mail senden …", endpoint="documents.new", values=values, group="sales", order=6,
                    label_en="Send by e-mail …")
