"""The sales plugin's settings: the company details every printed voucher and e-invoice carries.

Read from ``KUNDENAKTE_SALES_<NAME>`` (or the ``KUNDENAKTE_CONFIG`` file, key ``sales_<name>``).
§ 14 UStG and § 35a GmbHG / § 37a HGB ask for name, address, VAT id or tax number, register court
and number and the managing directors on business letters and invoices; the e-invoice (EN 16931)
needs the seller's name, address, VAT id and, for a bank transfer, the IBAN.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kundenakte.core.plugin_settings import Setting

if TYPE_CHECKING:
    from kundenakte.core.runtime import Kundenakte

PLUGIN = "sales"

SETTINGS = (
    Setting("company_name", help="legal name of the organisation, printed on vouchers and in e-invoices (seller)"),
    Setting("company_street", help="street and number of the organisation's address"),
    Setting("company_postcode", help="postcode of the organisation's address"),
    Setting("company_city", help="city of the organisation's address"),
    Setting("company_country", default="DE", help="ISO 3166 country code of the organisation's address"),
    Setting("company_phone", help="phone number printed in the letterhead"),
    Setting("company_email", help="e-mail address printed in the letterhead and used as seller contact in e-invoices"),
    Setting("company_website", help="web address printed in the footer"),
    Setting("register_court", help='register court, e.g. "Amtsgericht München"'),
    Setting("register_number", help='commercial register number, e.g. "HRB 123456"'),
    Setting("managing_directors", help="managing directors (Geschäftsführer), comma separated"),
    Setting("vat_id", help='VAT identification number (USt-IdNr.), e.g. "DE123456789"; required for e-invoices'),
    Setting("tax_number", help="tax number (Steuernummer), printed when there is no VAT id"),
    Setting("bank_name", help="name of the bank printed in the footer"),
    Setting("iban", help="IBAN for bank transfers, printed on invoices and put into e-invoices"),
    Setting("bic", help="BIC of the bank"),
    Setting("default_payment_days", "integer", 14, minimum=0, help="payment term in days a new invoice proposes"),
    Setting("template_dir", help="folder with templates overriding `sales/pdf/*.html` and `sales/pdf/voucher.css` "
                                 "for the printed vouchers; empty: the built-in layout"),
)


@dataclass(frozen=True)
class CompanyDetails:
    """The organisation as printed: every value a plain string, empty when not configured."""

    name: str
    street: str
    postcode: str
    city: str
    country: str
    phone: str
    email: str
    website: str
    register_court: str
    register_number: str
    managing_directors: str
    vat_id: str
    tax_number: str
    bank_name: str
    iban: str
    bic: str

    @property
    def address_line(self) -> str:
        """The one-line sender line above the window address (DIN 5008 "Rücksendeangabe")."""
        return " · ".join(p for p in (self.name, self.street, f"{self.postcode} {self.city}".strip()) if p)


def company_details(ka: Kundenakte) -> CompanyDetails:
    s = ka.plugin_settings(PLUGIN)

    def get(name: str) -> str:
        return str(getattr(s, name, "") or "").strip()

    return CompanyDetails(
        name=get("company_name"), street=get("company_street"), postcode=get("company_postcode"), city=get("company_city"),
        country=get("company_country") or "DE", phone=get("company_phone"), email=get("company_email"),
        website=get("company_website"), register_court=get("register_court"), register_number=get("register_number"),
        managing_directors=get("managing_directors"), vat_id=get("vat_id"), tax_number=get("tax_number"),
        bank_name=get("bank_name"), iban=get("iban").replace(" ", "").upper(), bic=get("bic").replace(" ", "").upper(),
    )


def default_payment_days(ka: Kundenakte) -> int:
    return int(getattr(ka.plugin_settings(PLUGIN), "default_payment_days", 14) or 0)


def template_dir(ka: Kundenakte) -> Path | None:
    raw = str(getattr(ka.plugin_settings(PLUGIN), "template_dir", "") or "").strip()
    return Path(raw) if raw else None
