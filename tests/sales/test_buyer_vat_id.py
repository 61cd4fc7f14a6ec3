"""The buyer's USt-IdNr. (the company's, issue 17's model) goes into the e-invoice as BT-48 and back."""

from __future__ import annotations

from kundenakte.core import services
from kundenakte.core.models import Document
from kundenakte.plugins.sales import einvoice
from kundenakte.plugins.sales.printdata import voucher_print
from tests.sales.helpers import voucher


def test_buyer_vat_id_in_the_cii_and_parsed_back(ka, people):
    owner = people.viewer("owner")
    with ka.db.write() as s:
        company = services.create_company(s, {
            "name": "DOCHOUSE GmbH", "street": "Lindenstraße 17", "postal_code": "88212", "city": "Ravensburg",
            "vat_id": "DE 987 654 321", "emails": [{"value": "einkauf@dochouse.de"}]}, by=None)
        company_id = company.id
    doc_id = voucher(ka, owner, "invoice", company_id=company_id)
    with ka.db.read() as s:
        v = voucher_print(ka, s, s.get(Document, doc_id))
    assert v.buyer.vat_id == "DE987654321"
    xml = einvoice.build_cii(v)
    einvoice.validate(xml)
    assert einvoice.parse_cii(xml).buyer_vat_id == "DE987654321"
    with ka.db.write() as s:
        services.update_company(s, s.get(type(company), company_id), {"vat_id": ""}, by=None)
    with ka.db.read() as s:
        v = voucher_print(ka, s, s.get(Document, doc_id))
    assert einvoice.parse_cii(einvoice.build_cii(v)).buyer_vat_id == ""
