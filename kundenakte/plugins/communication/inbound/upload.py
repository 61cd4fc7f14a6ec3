"""Filing an uploaded .eml or Outlook .msg file at a contact or company."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from kundenakte.core import acl
from kundenakte.core.doctypes import ValidationError
from kundenakte.core.models import Company, Contact
from kundenakte.plugins.communication.inbound import filing
from kundenakte.plugins.communication.inbound.parse import BrokenMessage, msg_to_eml

if TYPE_CHECKING:
    from kundenakte.core.runtime import Kundenakte

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class UploadError(ValueError):
    """The file cannot be filed; German message for the form."""


def file_upload(ka: Kundenakte, session: Session, viewer: acl.Viewer, data: bytes, filename: str, *,
                contact: Contact | None, company: Company | None) -> int:
    """File one uploaded file; the id of the (first) document, or of the one filed before."""
    name = filename.lower()
    original: tuple[bytes, str] | None = None
    if data.startswith(OLE_MAGIC) or name.endswith(".msg"):
        try:
            raw = msg_to_eml(data)
        except BrokenMessage as exc:
            raise UploadError(str(exc)) from exc
        original = (data, filename)
    elif name.endswith((".eml", ".txt")) or b":" in data[:1000]:
        raw = data
    else:
        raise UploadError("Nur E-Mails als .eml- oder Outlook-.msg-Datei können abgelegt werden.")
    target = filing.Target(contact.id if contact else None,
                           company.id if company else (contact.company_id if contact else None), "upload")
    try:
        filed = filing.file_message(ka, session, viewer, raw, target=target, original=original,
                                    source={"upload": filename[:255]})
    except BrokenMessage as exc:
        raise UploadError(str(exc)) from exc
    except ValidationError as exc:
        raise UploadError("; ".join(exc.errors.values())) from exc
    filing.record(session, filed, account_id=None, size=len(data), source="upload")
    first = filed.first_id
    if first is None:
        raise UploadError("Die E-Mail konnte nicht abgelegt werden.")
    return first
