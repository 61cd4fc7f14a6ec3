"""Sales tests: an instance with the organisation's company details set (the vouchers print them)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kundenakte.testing import make_ka

COMPANY = {
    "sales_company_name": "Muster Software GmbH",
    "sales_company_street": "Hauptstraße 12",
    "sales_company_postcode": "80331",
    "sales_company_city": "München",
    "sales_company_phone": "089 1234567",
    "sales_company_email": "rechnung@muster-software.de",
    "sales_company_website": "www.muster-software.de",
    "sales_register_court": "Amtsgericht München",
    "sales_register_number": "HRB 654321",
    "sales_managing_directors": "Erika Mustermann",
    "sales_vat_id": "DE123456789",
    "sales_bank_name": "Stadtsparkasse München",
    "sales_iban": "DE02 7015 0000 0000 1234 56",
    "sales_bic": "SSKMDEMMXXX",
}


@pytest.fixture
def ka(tmp_path: Path, database: str, kundenakte_extra_plugins: list[tuple[str, object]]) -> Iterator[Any]:
    instance = make_ka(tmp_path, database, extra_plugins=kundenakte_extra_plugins, **COMPANY)
    yield instance
    instance.close()
