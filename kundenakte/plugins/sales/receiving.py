"""Received e-invoices: an attached XRechnung (CII XML) or ZUGFeRD/Factur-X PDF read as an invoice.

``read_received`` recognises the file by its content (a CII ``CrossIndustryInvoice`` root, or a
PDF carrying one as embedded file), validates it against the EN 16931 XSD bundled with
``factur-x`` and returns the key fields for the readable view. UBL XRechnung is recognised but not
read yet (the view says so).
"""

from __future__ import annotations

from dataclasses import dataclass

from kundenakte.plugins.sales import einvoice

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
