"""E-Rechnung (EN 16931) for invoices and credit notes: ZUGFeRD/Factur-X and XRechnung, both CII.

* The CII XML is built with ``drafthorse`` from a ``VoucherPrint`` — the same data the PDF prints,
  so printed and XML totals are one computation.
* ZUGFeRD/Factur-X: profile EN 16931 (guideline ``urn:cen.eu:en16931:2017``), embedded by the
  ``factur-x`` library into the PDF/A-3 as ``factur-x.xml``.
* XRechnung: the same CII with the XRechnung 3.0 guideline id and the Leitweg-ID as buyer reference
  (BT-10); made for invoices that carry a Leitweg-ID (public customers).
* Before anything is stored, ``check`` lists what EN 16931 requires and the voucher lacks, field
  by field in German; then the XML is validated against the Factur-X EN 16931 XSD bundled with
  ``factur-x`` (a subset of the full CII D16B schema, so a file valid here is valid CII). A failure
  raises ``EInvoiceError`` and nothing is stored.
* A credit note is type code 381 with positive amounts (its stored lines have negated quantities;
  ``sign`` turns them back), as EN 16931 expects.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from lxml import etree

from kundenakte.core.formatting import format_date
from kundenakte.plugins.sales.printdata import VoucherPrint

FACTURX_GUIDELINE = "urn:cen.eu:en16931:2017"
XRECHNUNG_GUIDELINE = "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0"
FACTURX_FILENAME = "factur-x.xml"

# UN/ECE Recommendation 20 unit codes for the units the line editor suggests.
UNIT_CODES = {"stk": "H87", "stück": "H87", "std": "HUR", "h": "HUR", "tag": "DAY", "tage": "DAY", "kg": "KGM",
              "m": "MTR", "m²": "MTK", "m2": "MTK", "l": "LTR", "pauschal": "LS", "psch": "LS", "monat": "MON"}

NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}


class EInvoiceError(Exception):
    """The voucher cannot become a valid e-invoice; ``errors`` maps a field to a German message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def unit_code(unit: str) -> str:
    return UNIT_CODES.get(unit.strip().lower(), "C62")


def check(v: VoucherPrint, *, xrechnung: bool = False) -> dict[str, str]:
    """What the voucher lacks for EN 16931 (and XRechnung), by field, in German; empty when complete."""
    errors: dict[str, str] = {}
    s, b = v.seller, v.buyer
    settings = "(Einstellung der Organisation: Vertrieb)"
    if not s.name:
        errors["seller.name"] = f"Der Name des Verkäufers fehlt {settings}."
    if not (s.street and s.postcode and s.city):
        errors["seller.address"] = f"Die Anschrift des Verkäufers ist unvollständig (Straße, PLZ, Ort) {settings}."
    if not s.vat_id:
        errors["seller.vat_id"] = f"Die USt-IdNr. des Verkäufers fehlt {settings}."
    if not s.iban:
        errors["seller.iban"] = f"Die IBAN für die Überweisung fehlt {settings}."
    if not b.name:
        errors["buyer.name"] = "Der Beleg hat keinen Empfänger: bitte ein Unternehmen oder einen Kontakt wählen."
    if not (b.street and b.postcode and b.city):
        errors["buyer.address"] = "Die Anschrift des Käufers ist unvollständig (Straße, PLZ, Ort)."
    if b.country_code is None:
        errors["buyer.country"] = f"Das Land des Käufers ist unbekannt („{b.country}“): bitte z. B. Deutschland oder DE angeben."
    if not v.number:
        errors["number"] = "Der Beleg hat keine Belegnummer."
    if not v.lines:
        errors["lines"] = "Eine Rechnung braucht mindestens eine Position."
    for i, line in enumerate(v.lines, start=1):
        if not (line.description or line.article).strip():
            errors[f"lines.{i}.description"] = f"Position {i}: Die Bezeichnung fehlt."
    if v.type_key == "invoice" and v.due_date is None:
        errors["due_date"] = "Das Fälligkeitsdatum fehlt: bitte ein Zahlungsziel in Tagen angeben."
    if xrechnung:
        if not v.leitweg_id:
            errors["leitweg_id"] = "Für eine XRechnung ist die Leitweg-ID des öffentlichen Auftraggebers nötig."
        if not (s.email and s.phone):
            errors["seller.contact"] = f"Für eine XRechnung sind Telefon und E-Mail des Verkäufers nötig {settings}."
        if not b.email:
            errors["buyer.email"] = "Für eine XRechnung ist die E-Mail-Adresse des Käufers nötig."
    return errors


def _party(party: object, *, name: str, street: str, postcode: str, city: str, country: str) -> None:
    party.name = name  # type: ignore[attr-defined]
    address = party.address  # type: ignore[attr-defined]
    address.line_one = street
    address.postcode = postcode
    address.city_name = city
    address.country_id = country


def build_cii(v: VoucherPrint, *, xrechnung: bool = False) -> bytes:
    """The CII XML (UTF-8), validated by drafthorse against the EN 16931 schema; raises EInvoiceError."""
    from drafthorse.models.accounting import ApplicableTradeTax
    from drafthorse.models.document import Document
    from drafthorse.models.note import IncludedNote
    from drafthorse.models.party import TaxRegistration
    from drafthorse.models.payment import PaymentMeans, PaymentTerms
    from drafthorse.models.tradelines import LineItem as CiiLine

    errors = check(v, xrechnung=xrechnung)
    if errors:
        raise EInvoiceError(errors)
    sign = Decimal(-1) if v.type_key == "credit_note" else Decimal(1)
    t = v.totals
    doc = Document()
    doc.context.guideline_parameter.id = XRECHNUNG_GUIDELINE if xrechnung else FACTURX_GUIDELINE
    doc.header.id = v.number
    doc.header.type_code = "381" if v.type_key == "credit_note" else "380"
    doc.header.issue_date_time = v.date
    if v.invoice_number:
        note = IncludedNote()
        note.content = f"Gutschrift zu Rechnung {v.invoice_number}"
        doc.header.notes.add(note)

    agreement = doc.trade.agreement
    if xrechnung or v.leitweg_id:
        agreement.buyer_reference = v.leitweg_id
    elif v.reference:
        agreement.buyer_reference = v.reference
    s, b = v.seller, v.buyer
    _party(agreement.seller, name=s.name, street=s.street, postcode=s.postcode, city=s.city, country=s.country or "DE")
    agreement.seller.tax_registrations.add(TaxRegistration(id=("VA", s.vat_id)))
    if xrechnung:
        agreement.seller.electronic_address.uri_ID = ("EM", s.email)
        agreement.seller.contact.person_name = v.contact_person or s.name
        agreement.seller.contact.telephone.number = s.phone
        agreement.seller.contact.email.address = s.email
        agreement.buyer.electronic_address.uri_ID = ("EM", b.email)
    _party(agreement.buyer, name=b.name, street=b.street, postcode=b.postcode, city=b.city, country=b.country_code or "DE")
    if b.vat_id:  # BT-48, the buyer's VAT identifier (the company's USt-IdNr.)
        agreement.buyer.tax_registrations.add(TaxRegistration(id=("VA", b.vat_id)))

    if v.service_date is not None:
        doc.trade.delivery.event.occurrence = v.service_date
    else:
        doc.trade.delivery.event.occurrence = v.date

    for index, (line, net) in enumerate(zip(v.lines, t.line_nets, strict=True), start=1):
        li = CiiLine()
        li.document.line_id = str(index)
        li.product.name = (line.description or line.article).strip()[:200]
        if line.article:
            li.product.seller_assigned_id = line.article
        code = unit_code(line.unit)
        net_price = (line.unit_price * (Decimal(1) - line.discount_percent / Decimal(100))).quantize(Decimal("0.0001"))
        li.agreement.gross.amount = line.unit_price.quantize(Decimal("0.0001"))
        li.agreement.net.amount = net_price
        li.delivery.billed_quantity = ((sign * line.quantity).quantize(Decimal("0.0001")), code)
        li.settlement.trade_tax.type_code = "VAT"
        li.settlement.trade_tax.category_code = "S" if line.vat_rate > 0 else "Z"
        li.settlement.trade_tax.rate_applicable_percent = line.vat_rate.quantize(Decimal("0.01"))
        li.settlement.monetary_summation.total_amount = sign * net
        doc.trade.items.add(li)

    settlement = doc.trade.settlement
    settlement.currency_code = "EUR"
    settlement.payment_reference = v.number
    means = PaymentMeans()
    means.type_code = "58"  # SEPA credit transfer
    means.payee_account.iban = s.iban
    if s.bic:
        means.payee_institution.bic = s.bic
    settlement.payment_means.add(means)
    for rate, (base, tax) in t.vat_by_rate.items():
        trade_tax = ApplicableTradeTax()
        trade_tax.calculated_amount = sign * tax
        trade_tax.basis_amount = sign * base
        trade_tax.type_code = "VAT"
        trade_tax.category_code = "S" if rate > 0 else "Z"
        trade_tax.rate_applicable_percent = rate.quantize(Decimal("0.01"))
        settlement.trade_tax.add(trade_tax)
    if v.service_date is not None and v.service_end is not None:
        settlement.period.start = v.service_date
        settlement.period.end = v.service_end
    terms = PaymentTerms()
    if v.due_date is not None:
        terms.description = f"Zahlbar bis {format_date(v.due_date, 'de')} ohne Abzug."
        terms.due = v.due_date
    else:
        terms.description = "Der Betrag wird gutgeschrieben."
    settlement.terms.add(terms)
    if v.invoice_number:
        settlement.invoice_referenced_document.issuer_assigned_id = v.invoice_number
        if v.invoice_date is not None:
            settlement.invoice_referenced_document.issue_date_time = v.invoice_date
    summation = settlement.monetary_summation
    summation.line_total = sign * t.net
    summation.charge_total = Decimal("0.00")
    summation.allowance_total = Decimal("0.00")
    summation.tax_basis_total = sign * t.net
    summation.tax_total = (sign * t.vat_total, "EUR")
    summation.grand_total = sign * t.gross
    summation.due_amount = sign * t.gross
    try:
        xml: bytes = doc.serialize(schema="FACTUR-X_EN16931")
    except Exception as exc:  # drafthorse raises lxml's errors for schema violations
        raise EInvoiceError({"xml": f"Die E-Rechnung entspricht nicht dem Schema EN 16931: {exc}"}) from exc
    validate(xml)
    return xml


def validate(xml: bytes) -> None:
    """XSD validation with the schema bundled in ``factur-x`` (EN 16931 profile); EInvoiceError if invalid."""
    import facturx

    try:
        facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    except Exception as exc:
        raise EInvoiceError({"xml": f"Die E-Rechnung entspricht nicht dem Schema EN 16931: {exc}"}) from exc


def embed_in_pdf(pdf: bytes, xml: bytes, *, title: str, author: str) -> bytes:
    """The PDF/A-3 with the XML attached as ``factur-x.xml`` (Factur-X 1.0 / ZUGFeRD 2.x, EN 16931)."""
    import facturx

    result: bytes = facturx.generate_from_binary(
        pdf, xml, flavor="factur-x", level="en16931", check_xsd=True, lang="de-DE",
        pdf_metadata={"author": author, "keywords": "Factur-X, ZUGFeRD, Rechnung", "title": title, "subject": title},
    )
    return result


def xml_from_pdf(pdf: bytes) -> tuple[str, bytes] | None:
    """The embedded e-invoice (file name, XML) of a Factur-X/ZUGFeRD PDF, or None."""
    # An embedded file is a stream with /Type /EmbeddedFile; streams never sit inside compressed
    # object streams, so a PDF without these bytes has no embedded file and needs no parsing.
    if b"/EmbeddedFile" not in pdf:
        return None
    import facturx

    try:
        name, xml = facturx.get_xml_from_pdf(pdf, check_xsd=False)
    except Exception:
        return None
    if not xml:
        return None
    return str(name), bytes(xml)


@dataclass(frozen=True)
class ParsedLine:
    line_id: str
    name: str
    quantity: Decimal
    unit_code: str
    net_price: Decimal
    vat_rate: Decimal
    total: Decimal


@dataclass(frozen=True)
class ParsedInvoice:
    """The key fields of a CII e-invoice, read back (round trip, received invoices)."""

    number: str
    type_code: str
    guideline: str
    issue_date: dt.date | None
    seller_name: str
    seller_vat_id: str
    seller_address: str
    buyer_name: str
    buyer_vat_id: str
    buyer_address: str
    buyer_reference: str
    currency: str
    lines: tuple[ParsedLine, ...]
    vat: tuple[tuple[Decimal, Decimal, Decimal], ...]  # (rate, base, tax)
    net: Decimal
    vat_total: Decimal
    gross: Decimal
    due_amount: Decimal
    due_date: dt.date | None
    iban: str


def _text(node: etree._Element, path: str) -> str:
    found = node.xpath(path, namespaces=NS)
    if not found:
        return ""
    first = found[0]
    return str(first.text or "").strip() if isinstance(first, etree._Element) else str(first).strip()


def _dec(node: etree._Element, path: str) -> Decimal:
    text = _text(node, path)
    return Decimal(text) if text else Decimal(0)


def _cii_date(text: str) -> dt.date | None:
    return dt.datetime.strptime(text, "%Y%m%d").date() if len(text) == 8 and text.isdigit() else None


def _address(party: etree._Element) -> str:
    a = "ram:PostalTradeAddress/"
    parts = [_text(party, a + "ram:LineOne"), f"{_text(party, a + 'ram:PostcodeCode')} {_text(party, a + 'ram:CityName')}".strip(),
             _text(party, a + "ram:CountryID")]
    return ", ".join(p for p in parts if p)


def parse_cii(xml: bytes) -> ParsedInvoice:
    """Read a CII invoice (ZUGFeRD 2.x / Factur-X / XRechnung CII); ValueError if it is no CII invoice."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"kein gültiges XML: {exc}") from None
    if root.tag != f"{{{NS['rsm']}}}CrossIndustryInvoice":
        raise ValueError("keine CII-Rechnung (CrossIndustryInvoice)")
    tx = root.xpath("rsm:SupplyChainTradeTransaction", namespaces=NS)[0]
    seller = tx.xpath("ram:ApplicableHeaderTradeAgreement/ram:SellerTradeParty", namespaces=NS)
    buyer = tx.xpath("ram:ApplicableHeaderTradeAgreement/ram:BuyerTradeParty", namespaces=NS)
    settlement = tx.xpath("ram:ApplicableHeaderTradeSettlement", namespaces=NS)[0]
    lines = []
    for item in tx.xpath("ram:IncludedSupplyChainTradeLineItem", namespaces=NS):
        qty = item.xpath("ram:SpecifiedLineTradeDelivery/ram:BilledQuantity", namespaces=NS)
        lines.append(ParsedLine(
            line_id=_text(item, "ram:AssociatedDocumentLineDocument/ram:LineID"),
            name=_text(item, "ram:SpecifiedTradeProduct/ram:Name"),
            quantity=Decimal(qty[0].text) if qty else Decimal(0),
            unit_code=str(qty[0].get("unitCode", "")) if qty else "",
            net_price=_dec(item, "ram:SpecifiedLineTradeAgreement/ram:NetPriceProductTradePrice/ram:ChargeAmount"),
            vat_rate=_dec(item, "ram:SpecifiedLineTradeSettlement/ram:ApplicableTradeTax/ram:RateApplicablePercent"),
            total=_dec(item, "ram:SpecifiedLineTradeSettlement/ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount"),
        ))
    vat = tuple(
        (_dec(t, "ram:RateApplicablePercent"), _dec(t, "ram:BasisAmount"), _dec(t, "ram:CalculatedAmount"))
        for t in settlement.xpath("ram:ApplicableTradeTax", namespaces=NS)
    )
    ms = "ram:SpecifiedTradeSettlementHeaderMonetarySummation/"
    return ParsedInvoice(
        number=_text(root, "rsm:ExchangedDocument/ram:ID"),
        type_code=_text(root, "rsm:ExchangedDocument/ram:TypeCode"),
        guideline=_text(root, "rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID"),
        issue_date=_cii_date(_text(root, "rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString")),
        seller_name=_text(seller[0], "ram:Name") if seller else "",
        seller_vat_id=_text(seller[0], "ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']") if seller else "",
        seller_address=_address(seller[0]) if seller else "",
        buyer_name=_text(buyer[0], "ram:Name") if buyer else "",
        buyer_vat_id=_text(buyer[0], "ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']") if buyer else "",
        buyer_address=_address(buyer[0]) if buyer else "",
        buyer_reference=_text(tx, "ram:ApplicableHeaderTradeAgreement/ram:BuyerReference"),
        currency=_text(settlement, "ram:InvoiceCurrencyCode"),
        lines=tuple(lines),
        vat=vat,
        net=_dec(settlement, ms + "ram:TaxBasisTotalAmount"),
        vat_total=_dec(settlement, ms + "ram:TaxTotalAmount"),
        gross=_dec(settlement, ms + "ram:GrandTotalAmount"),
        due_amount=_dec(settlement, ms + "ram:DuePayableAmount"),
        due_date=_cii_date(_text(settlement, "ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString")),
        iban=_text(settlement, "ram:SpecifiedTradeSettlementPaymentMeans/ram:PayeePartyCreditorFinancialAccount/ram:IBANID"),
    )
