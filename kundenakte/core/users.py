"""Users, groups and plugin switches: the admin operations shared by CLI, web and API."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kundenakte.core import audit
from kundenakte.core.models import Group, PluginState, User, utcnow
from kundenakte.core.passwords import hash_password
from kundenakte.core.text import name_key
from kundenakte.core.validation import N_, ValidationError, column_limits

MAX_DISPLAY_NAME = 200


class UserError(ValueError):
    """A refused user change; ``field`` names the form field the German message belongs to.

    ``taken_by`` is the colleague's display name when a name is refused as theirs (the web
    layer words that message in the interface's language).
    """

    def __init__(self, message: str, *, field: str = "login", taken_by: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.taken_by = taken_by


NAME_TAKEN = ("Dieser Anzeigename wird bereits verwendet (von „%(name)s“; Groß-/Kleinschreibung, ü/ue/u und "
              "Satzzeichen zählen nicht als Unterschied). Bitte einen unterscheidbaren Namen wählen, z. B. mit "
              "zweitem Vornamen oder Abteilung.")


def _name_taken(other: str) -> UserError:
    return UserError(NAME_TAKEN % {"name": other}, field="display_name", taken_by=other)


def check_display_name(session: Session, name: str, *, user_id: int | None = None) -> str:
    """The cleaned display name if no other user has it in any spelling; else UserError (German).

    Every writer of a display name (settings pages, CLI, demo data) goes through here, so one
    person cannot appear as another in histories, reader pickers or e-mail From lines. The rule
    is :func:`kundenakte.core.text.name_key`; the unique ``users.display_name_key`` column backs
    it up in the database.
    """
    name = " ".join(str(name or "").split())
    if not name or len(name) > MAX_DISPLAY_NAME:
        raise UserError(f"Bitte einen Anzeigenamen mit höchstens {MAX_DISPLAY_NAME} Zeichen angeben.",
                        field="display_name")
    key = name_key(name)
    if not key:
        raise UserError("Der Anzeigename braucht mindestens einen Buchstaben oder eine Ziffer.", field="display_name")
    query = select(User.display_name).where(User.display_name_key == key)
    if user_id is not None:
        query = query.where(User.id != user_id)
    other = session.scalar(query.limit(1))
    if other is not None:
        raise _name_taken(other)
    return name


def _write_named(session: Session, user: User, name: str, change: Callable[[], None]) -> None:
    """Apply ``change`` (which gives ``user`` the display name ``name``) and flush it in a savepoint.

    Two writers may pass the check at once (PostgreSQL): the unique column refuses the second once
    the first has committed, and the second still gets the German message instead of an error page.
    The change happens inside the savepoint, since ``begin_nested`` flushes what is pending first.
    """
    if session.get_bind().dialect.name == "sqlite":
        # SQLite serialises writers (BEGIN IMMEDIATE; a web request's lazy lock re-runs the view if
        # anything changed since it read), so the check above cannot race; no savepoint needed.
        change()
        session.flush()
        return
    try:
        with session.begin_nested():
            change()
            session.flush()
    except IntegrityError:
        with session.no_autoflush:
            check_display_name(session, name, user_id=user.id)
            if session.scalar(select(User.id).where(User.login == user.login, User.id != user.id)) is not None:
                raise UserError(f"Den Anmeldenamen {user.login} gibt es schon.") from None
        raise


def set_display_name(session: Session, user: User, name: str, *, by_user_id: int | None) -> bool:
    """Rename a user under the uniqueness rule; True when the name changed (and was audited)."""
    cleaned = check_display_name(session, name, user_id=user.id)
    before = user.display_name
    if cleaned == before:
        return False
    _write_named(session, user, cleaned, lambda: setattr(user, "display_name", cleaned))
    audit.record(session, by_user_id, "changed", "user", user.id, display_name=[before, cleaned])
    return True


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
    login = login.strip()
    if not login or len(login) > 80:
        raise UserError("Bitte einen Anmeldenamen mit höchstens 80 Zeichen angeben.")
    if password_hash is None and len(password) < MIN_PASSWORD:
        raise UserError(f"Das Passwort muss mindestens {MIN_PASSWORD} Zeichen lang sein.")
    if session.scalar(select(User.id).where(User.login == login)) is not None:
        raise UserError(f"Den Anmeldenamen {login} gibt es schon.")
    display_name = check_display_name(session, display_name or login)
    user = User(
        login=login,
        display_name=display_name,
        email=email,
        phone=phone,
        signature=signature,
        is_admin=is_admin,
        language=language,
        password_hash=password_hash or hash_password(password),
        active=True,
    )
    _write_named(session, user, display_name, lambda: session.add(user))
    audit.record(session, None, "created", "user", user.id, login=login)
    return user


def end_sessions(session: Session, user: User, *, by: int | None, reason: str = "admin") -> None:
    """End every login session and remember-me cookie of the user, from their next request on.

    Sessions and remember-me cookies carry the user's ``session_generation``; the web layer's user
    loader refuses any other value. The increment is done in SQL, so two concurrent ends never
    collapse into one. API tokens are not affected (they are revoked one by one).
    """
    user.session_generation = User.session_generation + 1
    session.flush()
    audit.record(session, by, "sessions_ended", "user", user.id, reason=reason)


def set_password(session: Session, user: User, password: str, *, by: int | None) -> None:
    """Set a new password and end every session of the user (a stolen cookie dies with the old password)."""
    from kundenakte.core.passwords import hash_password

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


def group_descendants(session: Session, group_id: int) -> set[int]:
    """Ids of every group inside ``group_id``, at any depth (not the group itself)."""
    children: dict[int | None, list[int]] = {}
    for gid, parent in session.execute(select(Group.id, Group.parent_id)):
        children.setdefault(parent, []).append(gid)
    found: set[int] = set()
    stack = [group_id]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def allowed_parents(session: Session, group: Group | None) -> list[Group]:
    """The groups ``group`` may be moved into: every group except itself and its descendants."""
    excluded = ({group.id} | group_descendants(session, group.id)) if group is not None else set()
    return [g for g in session.scalars(select(Group).order_by(Group.name)) if g.id not in excluded]


def group_errors(session: Session, group: Group | None, name: str, parent_id: int | None) -> dict[str, str]:
    """Every problem of a group's name and parent at once; a group can never be its own ancestor."""
    errors: dict[str, str] = {}
    limit = column_limits(Group)["name"]
    if not name or len(name) > limit:
        errors["name"] = N_("Bitte einen Gruppennamen mit höchstens %(n)s Zeichen angeben.", n=limit)
    else:
        clash = session.scalar(select(Group.id).where(Group.name == name))
        if clash is not None and (group is None or clash != group.id):
            errors["name"] = N_("Diese Gruppe gibt es schon.")
    if parent_id is not None:
        if session.get(Group, parent_id) is None:
            errors["parent_id"] = N_("Unbekannte Gruppe.")
        elif group is not None and parent_id in ({group.id} | group_descendants(session, group.id)):
            errors["parent_id"] = N_("Eine Gruppe kann nicht in sich selbst oder ihren Untergruppen liegen.")
    return errors


def save_group(session: Session, group: Group | None, *, name: str, parent_id: int | None,
               member_ids: Iterable[int] | None = None, by: int | None) -> Group:
    """Create (``group`` None) or change a group: name, parent, and members when given.

    Raises ValidationError with every field error at once, before anything changes.
    """
    name = name.strip()
    errors = group_errors(session, group, name, parent_id)
    if errors:
        raise ValidationError(errors)
    created = group is None
    if group is None:
        group = Group(name=name)
        session.add(group)
    group.name = name
    group.parent_id = parent_id
    members: list[int] | None = None
    if member_ids is not None:
        members = sorted(set(member_ids))
        group.members = list(session.scalars(select(User).where(User.id.in_(members)))) if members else []
    session.flush()
    if created:
        audit.record(session, by, "created", "group", group.id, name=group.name)
    else:
        audit.record(session, by, "changed", "group", group.id, name=group.name,
                     **({"members": members} if members is not None else {}))
    return group


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


def set_group_parent(session: Session, name: str, parent: str | None, *, by: int | None = None) -> Group:
    """Move the group ``name`` into ``parent`` (None: to the top); refused when that makes a cycle."""
    group = session.scalar(select(Group).where(Group.name == name))
    if group is None:
        raise UserError(f"Unbekannte Gruppe: {name}")
    parent_id = None
    if parent:
        parent_id = session.scalar(select(Group.id).where(Group.name == parent))
        if parent_id is None:
            raise UserError(f"Unbekannte Gruppe: {parent}")
    return save_group(session, group, name=group.name, parent_id=parent_id, by=by)


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
