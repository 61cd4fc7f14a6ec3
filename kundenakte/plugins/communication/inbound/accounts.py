"""Creating and changing mailboxes (Postfächer): validation, encrypted password, audit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kundenakte.core import acl, audit
from kundenakte.core.models import Group, User
from kundenakte.plugins.communication.inbound.crypto import encrypt_password
from kundenakte.plugins.communication.inbound.fetch import is_loopback
from kundenakte.plugins.communication.inbound.models import MailAccount

if TYPE_CHECKING:
    from kundenakte.core.runtime import Kundenakte

SECURITIES = ("tls", "starttls", "plain")
AFTER_IMPORT = ("flag", "move", "leave")
KINDS = ("shared", "personal")
DEFAULT_PORTS = {"tls": 993, "starttls": 143, "plain": 143}


class AccountError(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def principal_choices(session: Session) -> list[tuple[str, str]]:
    """Everyone, the groups and the active users, for ACL selects (labels in the request's language)."""
    from flask_babel import gettext as _

    choices = [("*", _("Alle Benutzer"))]
    choices += [(f"g:{g.id}", _("Gruppe %(name)s", name=g.name)) for g in session.scalars(select(Group).order_by(Group.name))]
    choices += [(f"u:{u.id}", u.display_name)
                for u in session.scalars(select(User).where(User.active.is_(True)).order_by(User.display_name))]
    return choices


def form_values(account: MailAccount | None) -> dict[str, Any]:
    if account is None:
        return {"name": "", "kind": "shared", "owner_id": "", "address": "", "host": "", "port": "993",
                "security": "tls", "username": "", "folder": "INBOX", "after_import": "flag", "move_folder": "",
                "poll_minutes": "5", "max_size_mb": "20", "readers": [], "editors": [], "active": True}
    return {"name": account.name, "kind": account.kind, "owner_id": str(account.owner_id or ""),
            "address": account.address, "host": account.host, "port": str(account.port),
            "security": account.security, "username": account.username, "folder": account.folder,
            "after_import": account.after_import, "move_folder": account.move_folder,
            "poll_minutes": str(account.poll_minutes), "max_size_mb": str(account.max_size_mb),
            "readers": list(account.readers or []), "editors": list(account.editors or []),
            "active": account.active}


def values_from_form(form: Any) -> dict[str, Any]:
    values: dict[str, Any] = {k: v for k, v in form.items() if k not in ("csrf_token", "readers", "editors")}
    values["readers"] = [v for v in form.getlist("readers") if v.strip()]
    values["editors"] = [v for v in form.getlist("editors") if v.strip()]
    values["active"] = bool(form.get("active"))
    return values


def _int(values: Mapping[str, Any], key: str, low: int, high: int, errors: dict[str, str], message: str) -> int:
    try:
        number = int(str(values.get(key, "")).strip())
        if not low <= number <= high:
            raise ValueError
        return number
    except ValueError:
        errors[key] = message
        return low


def save_account(ka: Kundenakte, session: Session, viewer: acl.Viewer, values: Mapping[str, Any], *,
                 account: MailAccount | None = None) -> MailAccount:
    """Validate everything, then create or change the mailbox; AccountError with every error."""
    if not viewer.sees_all:
        raise AccountError({"name": "Nur Administratoren verwalten Postfächer."})
    errors: dict[str, str] = {}
    name = str(values.get("name", "")).strip()
    if not name or len(name) > 200:
        errors["name"] = "Bitte eine Bezeichnung (höchstens 200 Zeichen) angeben."
    kind = str(values.get("kind", "shared"))
    if kind not in KINDS:
        errors["kind"] = "Bitte „Ablage“ oder „persönlich“ wählen."
    owner_id: int | None = None
    raw_owner = str(values.get("owner_id", "") or "").strip()
    if raw_owner:
        owner = session.get(User, int(raw_owner)) if raw_owner.isdigit() else None
        if owner is None:
            errors["owner_id"] = "Unbekannter Benutzer."
        else:
            owner_id = owner.id
    if kind == "personal" and owner_id is None:
        errors["owner_id"] = "Ein persönliches Postfach braucht seinen Benutzer."
    host = str(values.get("host", "")).strip()
    if not host or len(host) > 255 or any(c.isspace() for c in host):
        errors["host"] = "Bitte den IMAP-Server angeben (z. B. imap.example.org)."
    security = str(values.get("security", "tls"))
    if security not in SECURITIES:
        errors["security"] = "Bitte TLS, STARTTLS oder unverschlüsselt wählen."
    elif security == "plain" and host and not is_loopback(host):
        errors["security"] = "Unverschlüsselt nur zu 127.0.0.1/localhost; sonst TLS oder STARTTLS."
    port = _int(values, "port", 1, 65535, errors, "Bitte einen Port zwischen 1 und 65535 angeben.")
    username = str(values.get("username", "")).strip()
    if not username or len(username) > 255:
        errors["username"] = "Bitte den Benutzernamen des Postfachs angeben."
    password = str(values.get("password", "") or "")
    if account is None and not password:
        errors["password"] = "Bitte das Passwort des Postfachs angeben."
    address = str(values.get("address", "")).strip().lower()
    if address and ("@" not in address or len(address) > 254):
        errors["address"] = "Bitte eine gültige E-Mail-Adresse angeben."
    folder = str(values.get("folder", "")).strip() or "INBOX"
    after = str(values.get("after_import", "flag"))
    if after not in AFTER_IMPORT:
        errors["after_import"] = "Bitte markieren, verschieben oder belassen wählen."
    move_folder = str(values.get("move_folder", "")).strip()
    if after == "move" and not move_folder:
        errors["move_folder"] = "Bitte den Ordner angeben, in den verschoben wird."
    poll = _int(values, "poll_minutes", 0, 1440, errors, "Bitte 0 (nur per Befehl) bis 1440 Minuten angeben.")
    max_size = _int(values, "max_size_mb", 1, 200, errors, "Bitte 1 bis 200 MB angeben.")
    readers: list[str] = []
    editors: list[str] = []
    try:
        readers = [acl.parse_principal(str(p)) for p in values.get("readers", []) or []]
        editors = [acl.parse_principal(str(p)) for p in values.get("editors", []) or []]
    except ValueError as exc:
        errors["readers"] = str(exc)
    if errors:
        raise AccountError(errors)
    creating = account is None
    if account is None:
        account = MailAccount(created_by=viewer.user_id, created_at=ka.clock.now())
        session.add(account)
    account.name, account.kind, account.owner_id, account.address = name, kind, owner_id, address
    account.host, account.port, account.security, account.username = host, port, security, username
    if password:
        account.password_encrypted = encrypt_password(ka, password)
    account.folder, account.after_import, account.move_folder = folder, after, move_folder
    account.poll_minutes, account.max_size_mb = poll, max_size
    account.readers, account.editors = readers, editors
    account.active = bool(values.get("active", True))
    session.flush()
    audit.record(session, viewer.user_id, "created" if creating else "changed", "mail_account", account.id,
                 name=name, host=host, password_changed=bool(password))
    return account


def delete_account(session: Session, viewer: acl.Viewer, account: MailAccount) -> None:
    audit.record(session, viewer.user_id, "deleted", "mail_account", account.id, name=account.name)
    session.delete(account)
