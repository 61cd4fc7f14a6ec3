"""The sales voucher chain (quote → order confirmation → delivery note → invoice → credit note)
and the status machine of a voucher.

Follow-up vouchers
------------------

Allowed follow-ups::

    opportunity        → quote
    price_info         → quote
    quote              → order_confirmation, invoice
    order_confirmation → delivery_note, invoice
    delivery_note      → invoice
    invoice            → credit_note
    purchase_order     → (none; a purchase order goes to a supplier and starts no customer chain)
    credit_note        → (none)

Lines are copied as follows (:func:`copy_lines_for_followup`):

* credit note: quantities are negated, prices kept, so the credit note's totals are exactly the
  negated invoice totals (HALF_UP rounds ties away from zero symmetrically, see ``totals``);
* delivery note: quantities *and* prices are kept unchanged. A delivery note does not print
  prices, but keeping them lets the invoice made from it carry the agreed prices on;
* every other target: an unchanged copy.

Positions are kept so that a follow-up can be matched line by line with its source.

Status machine
--------------

Statuses: ``open`` (offen), ``won`` (gewonnen), ``lost`` (verloren), ``discontinued``
(eingestellt).

* ``open`` → ``won`` | ``lost`` | ``discontinued``
* ``lost`` → ``open`` and ``discontinued`` → ``open``: reopening is allowed for everyone, a lost
  deal that comes back is normal business;
* ``won`` is final for normal users, because a won voucher has usually started follow-ups
  (order confirmation, invoice) and revenue reports count it. Admins may reopen it
  (``won`` → ``open``) to correct a mistake; they too go through ``open`` rather than jumping to
  ``lost`` directly, so every change is one visible, audited step.
* Keeping the current status is not a transition; :func:`check_status_transition` accepts it so
  that saving an unchanged form never fails.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from kundenakte.plugins.sales.numbering import VOUCHER_TYPES
from kundenakte.plugins.sales.totals import LineItem

__all__ = [
    "FOLLOWUPS",
    "STATUS_LABELS",
    "STATUSES",
    "allowed_followups",
    "allowed_status_transitions",
    "can_transition",
    "check_followup",
    "check_status_transition",
    "copy_lines_for_followup",
]

FOLLOWUPS: dict[str, tuple[str, ...]] = {
    "opportunity": ("quote",),
    "price_info": ("quote",),
    "quote": ("order_confirmation", "invoice"),
    "order_confirmation": ("delivery_note", "invoice"),
    "delivery_note": ("invoice",),
    "invoice": ("credit_note",),
    "purchase_order": (),
    "credit_note": (),
}

STATUSES: tuple[str, ...] = ("open", "won", "lost", "discontinued")

STATUS_LABELS: dict[str, str] = {
    "open": "offen",
    "won": "gewonnen",
    "lost": "verloren",
    "discontinued": "eingestellt",
}

_STATUS_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "open": ("won", "lost", "discontinued"),
    "lost": ("open",),
    "discontinued": ("open",),
    "won": (),
}

_ADMIN_EXTRA_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "won": ("open",),
}


def _require_type(type_key: str) -> None:
    # A typo in a type key must fail loudly instead of silently offering no follow-ups.
    if type_key not in VOUCHER_TYPES:
        raise ValueError(f"unknown voucher type {type_key!r}")


def _require_status(status: str) -> None:
    if status not in STATUS_LABELS:
        raise ValueError(f"unknown status {status!r}")


def allowed_followups(type_key: str) -> list[str]:
    """Voucher types that may be created from a voucher of ``type_key``, in menu order."""
    _require_type(type_key)
    return list(FOLLOWUPS[type_key])


def check_followup(source_type: str, target_type: str) -> str | None:
    """German error message when ``target_type`` may not follow ``source_type``, else ``None``."""
    _require_type(source_type)
    _require_type(target_type)
    if target_type in FOLLOWUPS[source_type]:
        return None
    return (
        f"Aus einem Beleg vom Typ „{VOUCHER_TYPES[source_type]}“ kann kein Beleg vom Typ "
        f"„{VOUCHER_TYPES[target_type]}“ erstellt werden."
    )


def copy_lines_for_followup(
    items: Iterable[LineItem],
    target_type: str,
    *,
    source_type: str | None = None,
) -> list[LineItem]:
    """Lines for a new follow-up voucher of ``target_type`` (see module docstring for the rules).

    With ``source_type`` the transition itself is checked too (``ValueError`` if not allowed).
    ``LineItem`` is immutable, so the copies share nothing mutable with the source.
    """
    _require_type(target_type)
    if source_type is not None:
        problem = check_followup(source_type, target_type)
        if problem:
            raise ValueError(problem)
    copies: list[LineItem] = []
    for item in items:
        if target_type == "credit_note":
            # Keep 0 as 0: Decimal("-0") would print as "-0".
            quantity = -item.quantity if item.quantity else item.quantity
            copies.append(replace(item, quantity=quantity))
        else:
            copies.append(replace(item))
    return copies


def allowed_status_transitions(current: str, *, is_admin: bool = False) -> list[str]:
    """Statuses reachable from ``current`` in one step (excluding ``current`` itself)."""
    _require_status(current)
    targets = list(_STATUS_TRANSITIONS[current])
    if is_admin:
        targets += [t for t in _ADMIN_EXTRA_TRANSITIONS.get(current, ()) if t not in targets]
    return targets


def can_transition(current: str, target: str, *, is_admin: bool = False) -> bool:
    """Whether ``current`` → ``target`` is a permitted status change (same status: ``False``)."""
    _require_status(target)
    return target in allowed_status_transitions(current, is_admin=is_admin)


def check_status_transition(current: str, target: str, *, is_admin: bool = False) -> str | None:
    """German error message for a forbidden status change, ``None`` if it is fine or unchanged."""
    _require_status(current)
    _require_status(target)
    if current == target or can_transition(current, target, is_admin=is_admin):
        return None
    if current == "won" and not is_admin:
        return "Ein gewonnener Beleg kann nur von einem Administrator wieder geöffnet werden."
    return (
        f"Der Status kann nicht von „{STATUS_LABELS[current]}“ auf „{STATUS_LABELS[target]}“ "
        "geändert werden."
    )
