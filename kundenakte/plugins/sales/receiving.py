"""Received e-invoices: an attached XRechnung (CII XML) or ZUGFeRD/Factur-X PDF read as an invoice.

``read_received`` recognises the file by its content (a CII ``CrossIndustryInvoice`` root, or a
PDF carrying one as embedded file), validates it against the EN 16931 XSD bundled with
``factur-x`` and returns the key fields for the readable view. UBL XRechnung is recognised but not
read yet (the view says so). Once attached, the key fields are kept in ``sales_received_invoices``
(``record_received``, on ``document_saved``) and indexed as ``rechnungsnummer:``, ``betrag:`` and
``lieferant:`` (``index_fields``, on ``extra_index_fields``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from kundenakte.core.formatting import round_money
from kundenakte.plugins.sales import einvoice

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from kundenakte.core.models import Document
    from kundenakte.core.runtime import Kundenakte

MAX_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class Received:
    kind: str  # "xrechnung" | "zugferd" | "ubl" | "none"
    invoice: einvoice.ParsedInvoice | None
    valid: bool
    problem: str = ""
    embedded_name: str = ""


def looks_like_einvoice(filename: str, mime_type: str) -> bool:
    name = filename.lower()
    return name.endswith((".xml", ".pdf")) or mime_type in ("application/xml", "text/xml", "application/pdf")


def read_received(data: bytes) -> Received:
    if len(data) > MAX_BYTES:
        return Received("none", None, False, "Die Datei ist zu groß für eine E-Rechnung.")
    embedded = ""
    xml = data
    kind = "xrechnung"
    if data[:5] == b"%PDF-":
        found = einvoice.xml_from_pdf(data)
        if found is None:
            return Received("none", None, False, "Das PDF enthält keine E-Rechnung (ZUGFeRD/Factur-X).")
        embedded, xml = found
        kind = "zugferd"
    head = xml[:2000]
    if b"urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" in head or b"CreditNote-2" in head:
        return Received("ubl", None, False, "UBL-Rechnungen werden erkannt, aber noch nicht angezeigt.")
    try:
        parsed = einvoice.parse_cii(xml)
    except (ValueError, IndexError) as exc:
        return Received("none", None, False, f"Keine lesbare E-Rechnung: {exc}")
    if kind == "xrechnung" and "xrechnung" not in parsed.guideline:
        kind = "cii"
    try:
        einvoice.validate(xml)
        return Received(kind, parsed, True, embedded_name=embedded)
    except einvoice.EInvoiceError as exc:
        return Received(kind, parsed, False, "; ".join(exc.errors.values())[:500], embedded)


def record_received(ka: Kundenakte, document_id: int) -> int:
    """After a save: read new e-invoice attachments of the document once and queue its index entry.

    Runs in its own transaction (``document_saved``); writes only this plugin's rows and the index
    queue, so it fires no further events. Returns how many attachments were read.
    """
    from sqlalchemy import select

    from kundenakte.core.documents import queue_index
    from kundenakte.core.models import Document
    from kundenakte.plugins.sales.models import ReceivedInvoiceRow

    def pending(s: Session) -> list[int]:
        doc = s.get(Document, document_id)
        if doc is None:
            return []
        known = set(s.scalars(select(ReceivedInvoiceRow.attachment_id).where(ReceivedInvoiceRow.document_id == document_id)))
        return [a.id for a in doc.attachments
                if not a.inline and a.id not in known and looks_like_einvoice(a.filename, a.mime_type)]

    # Most saves attach nothing new: decide that in a read, take the write lock only for real work.
    with ka.db.read() as s:
        if not pending(s):
            return 0
    read = 0
    with ka.db.write() as s:
        doc = s.get(Document, document_id)
        if doc is None:
            return 0
        known = set(s.scalars(select(ReceivedInvoiceRow.attachment_id).where(ReceivedInvoiceRow.document_id == document_id)))
        for att in doc.attachments:
            if att.inline or att.id in known or not looks_like_einvoice(att.filename, att.mime_type):
                continue
            try:
                with ka.storage.open(att.sha256) as fh:
                    result = read_received(fh.read(MAX_BYTES + 1))
            except FileNotFoundError:
                continue
            inv = result.invoice
            s.add(ReceivedInvoiceRow(attachment_id=att.id, document_id=document_id, kind=result.kind, valid=result.valid,
                                     number=(inv.number if inv else "")[:120], supplier=(inv.seller_name if inv else "")[:300],
                                     amount=inv.gross if inv else None))
            read += 1
        if read:
            queue_index(s, f"doc:{document_id}")
    if read:
        ka.search.notify()
    return read


def index_fields(document: Document) -> dict[str, str]:
    """``rechnungsnummer``, ``betrag`` and ``lieferant`` of the document's received e-invoices."""
    from sqlalchemy import select
    from sqlalchemy.orm import object_session

    from kundenakte.plugins.sales.models import ReceivedInvoiceRow

    session = object_session(document)
    if session is None or document.id is None:
        return {}
    rows = list(session.scalars(select(ReceivedInvoiceRow).where(ReceivedInvoiceRow.document_id == document.id,
                                                                  ReceivedInvoiceRow.number != "")))
    if not rows:
        return {}
    return {
        "rechnungsnummer": " ".join(r.number for r in rows),
        "lieferant": " ".join(r.supplier for r in rows),
        # machine format (betrag:739.71), like the number a user copies from the XML
        "betrag": " ".join(str(round_money(Decimal(r.amount))) for r in rows if r.amount is not None),
    }


def notices(document: Document) -> list[str]:
    """What the document's page says about the e-invoices among its attachments (``page_notices``).

    Sentences are ``N_`` messages: the page shows them in the reader's language, the amount
    formatted for it.
    """
    from sqlalchemy import select
    from sqlalchemy.orm import object_session

    from kundenakte.core.formatting import format_money
    from kundenakte.core.validation import N_
    from kundenakte.plugins.sales.models import ReceivedInvoiceRow
    from kundenakte.web.formats import current_locale

    session = object_session(document)
    if session is None or document.id is None:
        return []
    rows = list(session.scalars(select(ReceivedInvoiceRow).where(ReceivedInvoiceRow.document_id == document.id,
                                                                  ReceivedInvoiceRow.kind != "none")
                                .order_by(ReceivedInvoiceRow.attachment_id)))
    names = {a.id: a.filename for a in document.attachments}
    data = document.data or {}
    own = {data.get("finalised_pdf"), data.get("finalised_xml")}  # a voucher's own e-invoice is not a received one
    out: list[str] = []
    for row in rows:
        if row.attachment_id in own:
            continue
        name = names.get(row.attachment_id, "")
        if row.kind == "ubl":
            out.append(N_("„%(name)s“ ist eine E-Rechnung im UBL-Format; sie wird erkannt, aber noch nicht lesbar angezeigt.",
                          name=name))
            continue
        params = {"number": row.number or "–", "supplier": row.supplier or "–", "name": name,
                  "amount": format_money(row.amount, current_locale()) if row.amount is not None else "–"}
        if document.type_key == "email":
            text = N_("Diese E-Mail enthält eine E-Rechnung: Nr. %(number)s von %(supplier)s über %(amount)s "
                      "(„%(name)s“, „…“ → E-Rechnung lesen).", **params)
        else:
            text = N_("Dieses Dokument enthält eine E-Rechnung: Nr. %(number)s von %(supplier)s über %(amount)s "
                      "(„%(name)s“, „…“ → E-Rechnung lesen).", **params)
        out.append(text)
        if not row.valid:
            out.append(N_("„%(name)s“ erfüllt das Schema der E-Rechnung nicht; die Abweichungen zeigt „E-Rechnung lesen“.",
                          name=name))
    return out
