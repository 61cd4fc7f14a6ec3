"""Which of the contact's e-mail addresses an e-mail goes to, said beside the recipient field.

A new e-mail from a contact's menu is addressed to the contact's preferred address (the copy in
``Contact.email``). The mail form (``DocumentType.form_template``) names that choice, "bevorzugt,
geschäftlich", and offers the contact's other addresses: as a datalist of the recipient field and
as buttons (``static/recipients.js``); without script the addresses are listed to copy.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from kundenakte.core.models import Contact
from kundenakte.core.services.points import kind_label


def _contact_id(raw: Any) -> int | None:
    text = str(raw or "").strip()
    return int(text) if text.isdigit() and len(text) < 12 else None


def describe(preferred: bool, kind: str) -> str:
    """ "bevorzugt, geschäftlich" or "privat": how the form names one address."""
    label = str(_(kind_label(kind).msgid))
    return str(_("bevorzugt, %(kind)s", kind=label)) if preferred else label


def recipient_choices(session: Any, values: dict[str, Any]) -> dict[str, Any] | None:
    """The form's contact's addresses, each described, and the one the recipient field holds.

    None when the form has no contact or the contact has no e-mail address.
    """
    ident = _contact_id(values.get("contact_id"))
    contact = session.get(Contact, ident) if ident is not None else None
    if contact is None:
        return None
    entries = [{"value": p.value, "kind": p.kind, "preferred": bool(p.preferred), "description": describe(bool(p.preferred), p.kind)}
               for p in contact.emails]
    if not entries and contact.email:  # written before the lists: the single column is the preferred one
        entries = [{"value": contact.email, "kind": "work", "preferred": True, "description": describe(True, "work")}]
    if not entries:
        return None
    typed = str((values.get("data") or {}).get("to_email") or "").strip().casefold()
    current = next((e for e in entries if e["value"].casefold() == typed), None)
    which = ""
    if current is not None:
        kind = _(kind_label(current["kind"]).msgid)
        which = _("bevorzugte Adresse (%(kind)s)", kind=kind) if current["preferred"] else _("Adresse (%(kind)s)", kind=kind)
    return {"name": contact.full_name, "entries": entries, "current": current, "which": which, "typed": typed}
