""""Abschließen": the voucher's PDF (and e-invoice) stored as attachments, then the voucher locked.

One transaction: validate the e-invoice data (German errors field by field, nothing stored on a
failure), render the PDF, for an invoice or credit note embed the CII XML (ZUGFeRD/Factur-X) and,
with a Leitweg-ID, add the XRechnung XML; attach through the core attachments service, then lock
the document through the core (``lock_document``), so the read-only rule holds on every write
path: the document form, the API, ``save_lines`` and the attachments service.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from kundenakte.core import acl
from kundenakte.core.attachments import add_attachment
from kundenakte.core.doctypes import ValidationError
from kundenakte.core.documents import load_for_write, lock_document
from kundenakte.core.models import Attachment, Document
from kundenakte.plugins.sales import einvoice, pdf
from kundenakte.plugins.sales.printdata import VoucherPrint, voucher_print
from kundenakte.plugins.sales.types import INVOICE_TYPES, PRINTABLE_TYPES

if TYPE_CHECKING:
    from kundenakte.core.runtime import Kundenakte

LOCK_REASON = "finalised"


@dataclass(frozen=True)
class Finalised:
    document: Document
    pdf: Attachment
    xrechnung: Attachment | None


def is_finalised(document: Document) -> bool:
    return (document.data or {}).get("_locked") == LOCK_REASON


def _filename(v: VoucherPrint, suffix: str) -> str:
    stem = v.number or f"{v.type_label}"
    return f"{v.type_label} {stem}{suffix}"


def make_files(ka: Kundenakte, v: VoucherPrint) -> tuple[bytes, bytes | None, bytes | None]:
    """(PDF, embedded CII XML or None, XRechnung XML or None) for a voucher; EInvoiceError on gaps."""
    if v.is_invoice:
        problems = einvoice.check(v, xrechnung=bool(v.leitweg_id))
        if problems:
            raise einvoice.EInvoiceError(problems)
    rendered = pdf.render_pdf(ka, v)
    if not v.is_invoice:
        return rendered, None, None
    cii = einvoice.build_cii(v)
    combined = einvoice.embed_in_pdf(rendered, cii, title=f"{v.type_label} {v.number}", author=v.seller.name)
    xrechnung = einvoice.build_cii(v, xrechnung=True) if v.leitweg_id else None
    return combined, cii, xrechnung


def finalise_voucher(ka: Kundenakte, session: Session, viewer: acl.Viewer, document_id: int) -> Finalised:
    """Render, attach and lock; the caller commits. ValidationError (German, by field) if not possible."""
    doc = load_for_write(session, viewer, document_id)  # NotFound, Forbidden, ReadOnly (already finalised)
    if doc.type_key not in PRINTABLE_TYPES:
        raise ValidationError({"type_key": "Nur Angebote, Auftragsbestätigungen, Lieferscheine, Rechnungen und Gutschriften "
                                           "werden abgeschlossen."})
    v = voucher_print(ka, session, doc)
    if not v.lines:
        raise ValidationError({"lines": "Der Beleg hat keine Positionen."})
    try:
        pdf_bytes, _cii, xrechnung = make_files(ka, v)
    except einvoice.EInvoiceError as exc:
        raise ValidationError(exc.errors) from None
    pdf_att = add_attachment(ka, session, viewer, doc, io.BytesIO(pdf_bytes), _filename(v, ".pdf"))
    xml_att = None
    if xrechnung is not None:
        xml_att = add_attachment(ka, session, viewer, doc, io.BytesIO(xrechnung), _filename(v, " XRechnung.xml"))
    lock_document(ka, session, viewer, doc.id, reason=LOCK_REASON, finalised_at=ka.clock.now().isoformat(timespec="seconds"),
                  finalised_pdf=pdf_att.id, finalised_xml=xml_att.id if xml_att else None)
    session.flush()
    return Finalised(doc, pdf_att, xml_att)


__all__ = ["INVOICE_TYPES", "Finalised", "finalise_voucher", "is_finalised", "make_files"]
