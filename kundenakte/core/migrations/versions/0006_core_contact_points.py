"""Several e-mail addresses, phone numbers, websites and postal addresses per contact and company.

``contact_points`` and ``postal_addresses`` hold the entries; the single columns stay as copies of
the preferred entry (core/services/points.py). Existing single values become each owner's first,
preferred entry, so nothing is lost: a contact's e-mail and phone; its own address when it does
not use its company's (otherwise the columns are only a copy of the company's); a company's e-mail,
phone, web address and address. New columns: contacts' birthday, nickname, department, notes;
companies' USt-IdNr., register court and number, notes.

Revision ID: 0006_core
Revises: 0005_core
Create Date: 2026-12-01
"""
from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0006_core"
down_revision = "0005_core"
branch_labels = None
depends_on = None

ONE_OWNER = "(contact_id IS NULL) <> (company_id IS NULL)"
BATCH = 2000


def _owner_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("company_id", sa.Integer(), nullable=True),
    ]


def _owner_constraints(table: str) -> list[sa.Constraint]:
    return [
        sa.CheckConstraint(ONE_OWNER, name=op.f(f"ck_{table}_one_owner")),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"], name=op.f(f"fk_{table}_company_id_companies"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], name=op.f(f"fk_{table}_contact_id_contacts"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def _phone_key(number: str) -> str:
    # Same rule as core.services.points.phone_key, frozen here as of this revision.
    text = number.strip().replace("(0)", "")
    digits = re.sub(r"\D", "", text)
    if text.startswith("+"):
        digits = "00" + digits
    if digits.startswith("0049"):
        digits = "0" + digits[4:]
    return digits


def _key(channel: str, value: str) -> str:
    if channel == "phone":
        return _phone_key(value)
    text = value.strip().casefold()
    if channel == "web":
        text = re.sub(r"^https?://", "", text).removeprefix("www.").rstrip("/")
    return text


def upgrade() -> None:
    op.create_table(
        "contact_points", *_owner_columns(),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=254), nullable=False),
        sa.Column("value_key", sa.String(length=254), nullable=False),
        sa.Column("preferred", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        *_owner_constraints("contact_points"),
        sqlite_autoincrement=True,
    )
    for column in ("contact_id", "company_id", "value_key"):
        op.create_index(op.f(f"ix_contact_points_{column}"), "contact_points", [column])
    op.create_table(
        "postal_addresses", *_owner_columns(),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("street", sa.String(length=200), nullable=False),
        sa.Column("extra", sa.String(length=200), nullable=False),
        sa.Column("postal_code", sa.String(length=20), nullable=False),
        sa.Column("city", sa.String(length=120), nullable=False),
        sa.Column("country", sa.String(length=80), nullable=False),
        sa.Column("preferred", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        *_owner_constraints("postal_addresses"),
        sqlite_autoincrement=True,
    )
    for column in ("contact_id", "company_id"):
        op.create_index(op.f(f"ix_postal_addresses_{column}"), "postal_addresses", [column])
    # ADD COLUMN in place (SQLite too): the tables are not rebuilt, their triggers stay.
    op.add_column("contacts", sa.Column("birthday", sa.Date(), nullable=True))
    for name, length in (("nickname", 120), ("department", 120)):
        op.add_column("contacts", sa.Column(name, sa.String(length=length), nullable=False, server_default=""))
    op.add_column("contacts", sa.Column("notes", sa.String(length=20000), nullable=False, server_default=""))
    for name, length in (("vat_id", 20), ("register_court", 120), ("register_number", 40)):
        op.add_column("companies", sa.Column(name, sa.String(length=length), nullable=False, server_default=""))
    op.add_column("companies", sa.Column("notes", sa.String(length=20000), nullable=False, server_default=""))
    _copy_single_values()


def _copy_single_values() -> None:
    bind = op.get_bind()
    points = sa.table("contact_points", *(sa.column(c) for c in (
        "contact_id", "company_id", "channel", "kind", "value", "value_key", "preferred", "position")))
    addresses = sa.table("postal_addresses", *(sa.column(c) for c in (
        "contact_id", "company_id", "kind", "street", "extra", "postal_code", "city", "country", "preferred", "position")))
    contacts = sa.table("contacts", *(sa.column(c) for c in (
        "id", "email", "phone", "use_company_address", "company_id", "street", "postal_code", "city", "country")))
    companies = sa.table("companies", *(sa.column(c) for c in (
        "id", "email", "phone", "web", "street", "postal_code", "city", "country")))
    point_rows: list[dict[str, object]] = []
    address_rows: list[dict[str, object]] = []

    def flush() -> None:
        if point_rows:
            bind.execute(sa.insert(points), point_rows)
            point_rows.clear()
        if address_rows:
            bind.execute(sa.insert(addresses), address_rows)
            address_rows.clear()

    def add_points(owner: str, ident: int, values: list[tuple[str, str | None]]) -> None:
        position = 0
        for channel, value in values:
            if value and value.strip():
                point_rows.append({"contact_id": None, "company_id": None, owner: ident, "channel": channel,
                                   "kind": "work", "value": value.strip(), "value_key": _key(channel, value),
                                   "preferred": True, "position": position})
                position += 1

    def add_address(owner: str, ident: int, kind: str, row: sa.Row) -> None:  # type: ignore[type-arg]
        if any((row.street, row.postal_code, row.city)):
            address_rows.append({"contact_id": None, "company_id": None, owner: ident, "kind": kind,
                                 "street": row.street or "", "extra": "", "postal_code": row.postal_code or "",
                                 "city": row.city or "", "country": row.country or "", "preferred": True, "position": 0})

    for row in bind.execute(sa.select(contacts).order_by(contacts.c.id)).all():
        add_points("contact_id", row.id, [("email", row.email), ("phone", row.phone)])
        if not (row.use_company_address and row.company_id is not None):
            add_address("contact_id", row.id, "work" if row.company_id else "home", row)
        if len(point_rows) + len(address_rows) >= BATCH:
            flush()
    for row in bind.execute(sa.select(companies).order_by(companies.c.id)).all():
        add_points("company_id", row.id, [("email", row.email), ("phone", row.phone), ("web", row.web)])
        add_address("company_id", row.id, "work", row)
        if len(point_rows) + len(address_rows) >= BATCH:
            flush()
    flush()


def downgrade() -> None:
    for name in ("notes", "register_number", "register_court", "vat_id"):
        op.drop_column("companies", name)
    for name in ("notes", "department", "nickname", "birthday"):
        op.drop_column("contacts", name)
    op.drop_table("postal_addresses")
    op.drop_table("contact_points")
