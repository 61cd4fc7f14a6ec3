"""The sales plugin's own tables: voucher lines, payments, number sequences and number formats."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kundenakte.core.models import Base


class LineItemRow(Base):
    __tablename__ = "sales_line_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    article: Mapped[str] = mapped_column(String(120), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    quantity: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    unit: Mapped[str] = mapped_column(String(20), default="Stk")
    unit_price: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    discount_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal(0))
    vat_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2))


class NumberSequence(Base):
    """The last number handed out per voucher type and year (0 for patterns without a year)."""

    __tablename__ = "sales_number_sequences"

    type_key: Mapped[str] = mapped_column(String(60), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


class NumberFormat(Base):
    __tablename__ = "sales_number_formats"

    type_key: Mapped[str] = mapped_column(String(60), primary_key=True)
    prefix: Mapped[str] = mapped_column(String(10))
    pattern: Mapped[str] = mapped_column(String(60))


class PaymentRow(Base):
    """A payment received for an invoice: a booking of its own, so a finalised invoice stays unchanged."""

    __tablename__ = "sales_payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    paid_on: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class ReceivedInvoiceRow(Base):
    """The key fields of a received e-invoice attachment, read once after it was attached (for the index)."""

    __tablename__ = "sales_received_invoices"

    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachments.id", ondelete="CASCADE"), primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # xrechnung, zugferd, cii, ubl, none
    valid: Mapped[bool] = mapped_column(Boolean, default=False)
    number: Mapped[str] = mapped_column(String(120), default="")
    supplier: Mapped[str] = mapped_column(String(300), default="")
    amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2), nullable=True)
