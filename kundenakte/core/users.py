"""Users, groups and plugin switches: the admin operations shared by CLI, web and API."""

from __future__ import annotations

from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from kundenakte.core import audit
from kundenakte.core.models import Group, PluginState, User, utcnow


class UserError(ValueError):
    pass


MIN_PASSWORD = 8
# Fields of a user an administrator may change (the login name never changes).
EDITABLE = ("display_name", "email", "phone", "signature", "language", "is_admin", "active")


def create_user(
    session: Session,
    login: str,
    password: str,
    *,
    display_name: str = "",
    email: str = "",
    is_admin: bool = False,
    phone: str = "",
    signature: str = "",
    language: str = "de",
    password_hash: str | None = None,
) -> User:
    """Create an active user; ``password_hash`` takes an already hashed password (imports, tests)."""
    from kundenakte.web.passwords import hash_password

    login = login.strip()
    if not login or len(login) > 80:
        raise UserError("Bitte einen Anmeldenamen mit höchstens 80 Zeichen angeben.")
    if password_hash is None and len(password) < MIN_PASSWORD:
        raise UserError(f"Das Passwort muss mindestens {MIN_PASSWORD} Zeichen lang sein.")
    if session.scalar(select(User.id).where(User.login == login)) is not None:
        raise UserError(f"Den Anmeldenamen {login} gibt es schon.")
    user = User(
        login=login,
        display_name=display_name or login,
        email=email,
        phone=phone,
        signature=signature,
        is_admin=is_admin,
        language=language,
        password_hash=password_hash or hash_password(password),
        active=True,
    )
    session.add(user)
    session.flush()
    audit.record(session, None, "created", "user", user.id, login=login)
    return user


def end_sessions(session: Session, user: User, *, by: int | None, reason: str = "admin") -> None:
    """End every login session and remember-me cookie of the user, from their next request on.

    Sessions and remember-me cookies carry the user's ``session_generation``; the web layer's user
    loader refuses any other value. The increment is done in SQL, so two concurrent ends never
    collapse into one. API tokens are not affected (they are revoked one by one).
    """
    user.session_generation = User.session_generation + 1  # type: ignore[assignment]
    session.flush()
    audit.record(session, by, "sessions_ended", "user", user.id, reason=reason)


def set_password(session: Session, user: User, password: str, *, by: int | None) -> None:
    """Set a new password and end every session of the user (a stolen cookie dies with the old password)."""
    from kundenakte.web.passwords import hash_password

    if len(password) < MIN_PASSWORD:
        raise UserError(f"Das Passwort muss mindestens {MIN_PASSWORD} Zeichen lang sein.")
    user.password_hash = hash_password(password)
    audit.record(session, by, "password_changed" if by == user.id else "password_reset", "user", user.id)
    end_sessions(session, user, by=by, reason="password")


def update_user(session: Session, user: User, *, by: int | None, **values: object) -> None:
    """An administrator's change of a user's profile, role or status; deactivating ends their sessions."""
    unknown = set(values) - set(EDITABLE)
    if unknown:
        raise UserError(f"Unbekannte Felder: {', '.join(sorted(unknown))}")
    deactivated = user.active and values.get("active") is False
    for key, value in values.items():
        setattr(user, key, value)
    audit.record(session, by, "changed", "user", user.id, admin=user.is_admin, active=user.active)
    if deactivated:
        end_sessions(session, user, by=by, reason="deactivated")


def create_group(session: Session, name: str, *, parent: str | None = None) -> Group:
    name = name.strip()
    if not name:
        raise UserError("Bitte einen Gruppennamen angeben.")
    if session.scalar(select(Group.id).where(Group.name == name)) is not None:
        raise UserError(f"Die Gruppe {name} gibt es schon.")
    parent_group = None
    if parent:
        parent_group = session.scalar(select(Group).where(Group.name == parent))
        if parent_group is None:
            raise UserError(f"Unbekannte Gruppe: {parent}")
    group = Group(name=name, parent=parent_group)
    session.add(group)
    session.flush()
    audit.record(session, None, "created", "group", group.id, name=name)
    return group


def _group_and_users(session: Session, name: str, logins: Iterable[str]) -> tuple[Group, list[User]]:
    group = session.scalar(select(Group).where(Group.name == name))
    if group is None:
        raise UserError(f"Unbekannte Gruppe: {name}")
    wanted = list(logins)
    users = list(session.scalars(select(User).where(User.login.in_(wanted))))
    missing = set(wanted) - {u.login for u in users}
    if missing:
        raise UserError(f"Unbekannte Benutzer: {', '.join(sorted(missing))}")
    return group, users


def add_members(session: Session, name: str, logins: Iterable[str]) -> None:
    group, users = _group_and_users(session, name, logins)
    for u in users:
        if u not in group.members:
            group.members.append(u)
    audit.record(session, None, "changed", "group", group.id, added=[u.login for u in users])


def remove_members(session: Session, name: str, logins: Iterable[str]) -> None:
    group, users = _group_and_users(session, name, logins)
    for u in users:
        if u in group.members:
            group.members.remove(u)
    audit.record(session, None, "changed", "group", group.id, removed=[u.login for u in users])


def set_plugin_enabled(session: Session, name: str, enabled: bool, *, user_id: int | None) -> None:
    """Store an admin's choice; a disabled plugin's data stays, its types and menus disappear."""
    state = session.get(PluginState, name)
    if state is None:
        state = PluginState(name=name)
        session.add(state)
    state.enabled = enabled
    state.changed_at = utcnow()
    audit.record(session, user_id, "enabled" if enabled else "disabled", "plugin", None, name=name)
