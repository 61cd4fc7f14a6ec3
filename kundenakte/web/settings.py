"""Einstellungen: every user's own settings; users, groups, folders and plugins for admins."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from kundenakte.core import audit
from kundenakte.core.models import Document, Folder, Group, PluginState, User, document_folders
from kundenakte.core.passwords import verify_password
from kundenakte.core.services.folders import create_folder, rename_folder
from kundenakte.core.users import (
    UserError,
    allowed_parents,
    create_user,
    end_sessions,
    save_group,
    set_display_name,
    set_password,
    set_plugin_enabled,
    update_user,
)
from kundenakte.core.validation import N_, ValidationError, email_error
from kundenakte.web.context import current_ka, db, language, login_required, viewer
from kundenakte.web.errors import field_messages, message_text
from kundenakte.web.menus import for_display

bp = Blueprint("settings", __name__, url_prefix="/einstellungen")

LANGUAGES = (("de", N_("Deutsch")), ("en", N_("Englisch")))


def _languages() -> list[tuple[str, str]]:
    return [(key, _(label)) for key, label in LANGUAGES]
MIN_PASSWORD = 8


def require_admin() -> None:
    if not viewer().sees_all:
        abort(403)


def _int(raw: Any) -> int | None:
    text = str(raw or "").strip()
    return int(text) if text.isdigit() and len(text) < 12 else None


@bp.route("")
@login_required
def index() -> ResponseReturnValue:
    links = [item for _p, item in current_ka().collect("settings_links", db(), viewer=viewer())]
    grouped: dict[str, list[Any]] = {}
    for item in for_display(links, language()):
        grouped.setdefault(item.group, []).append(item)
    ka = current_ka()
    notices = [message_text(n) for _p, n in ka.collect("page_notices", db(), ka=ka, viewer=viewer(), page="settings", document=None)
               if n]
    return render_template("settings/index.html", plugin_links=list(grouped.items()), is_admin=viewer().sees_all,
                           notices=notices)


# -- own settings ----------------------------------------------------------------------------------


def _me() -> User:
    user = db().get(User, viewer().user_id) if viewer().user_id else None
    if user is None:
        abort(404)
    return user


def _name_error(exc: UserError) -> str:
    if exc.taken_by is not None:
        # Same text as core.users.NAME_TAKEN, here through the catalogue.
        taken: str = _("Dieser Anzeigename wird bereits verwendet (von „%(name)s“; Groß-/Kleinschreibung, ü/ue/u "
                       "und Satzzeichen zählen nicht als Unterschied). Bitte einen unterscheidbaren Namen wählen, "
                       "z. B. mit zweitem Vornamen oder Abteilung.", name=exc.taken_by)
        return taken
    return str(exc)


def _keep_this_session(user: User) -> None:
    from kundenakte.web.auth import keep_this_session

    keep_this_session(user)


def check_new_password(new: str, repeat: str) -> str | None:
    problem: str | None = None
    if len(new) < MIN_PASSWORD:
        problem = _("Das Passwort muss mindestens %(n)s Zeichen lang sein.", n=MIN_PASSWORD)
    elif new != repeat:
        problem = _("Die beiden Eingaben stimmen nicht überein.")
    return problem


@bp.route("/profil", methods=["GET", "POST"])
@login_required
def profile() -> ResponseReturnValue:
    user = _me()
    errors: dict[str, str] = {}
    values = {"language": user.language, "signature": user.signature, "display_name": user.display_name,
              "phone": user.phone}
    if request.method == "POST":
        action = request.form.get("action", "profile")
        if action == "password":
            if not verify_password(user.password_hash, request.form.get("current_password", "")):
                errors["current_password"] = _("Das bisherige Passwort ist falsch.")
            problem = check_new_password(request.form.get("new_password", ""), request.form.get("new_password2", ""))
            if problem:
                errors["new_password"] = problem
            if not errors:
                set_password(db(), user, request.form["new_password"], by=user.id)
                db().commit()
                _keep_this_session(user)
                flash(_("Ihr Passwort wurde geändert. Andere Geräte und Browser wurden abgemeldet."), "success")
                return redirect(url_for("settings.profile"))
        elif action == "end_sessions":
            end_sessions(db(), user, by=user.id, reason="self")
            db().commit()
            _keep_this_session(user)
            flash(_("Sie wurden auf allen anderen Geräten und Browsern abgemeldet."), "success")
            return redirect(url_for("settings.profile"))
        else:
            values = {"language": request.form.get("language", ""), "signature": request.form.get("signature", ""),
                      "display_name": request.form.get("display_name", "").strip(),
                      "phone": request.form.get("phone", "").strip()}
            if values["language"] not in ("de", "en"):
                errors["language"] = _("Bitte eine Sprache wählen.")
            if not values["display_name"] or len(values["display_name"]) > 200:
                errors["display_name"] = _("Bitte einen Namen mit höchstens 200 Zeichen angeben.")
            if len(values["signature"]) > 5000:
                errors["signature"] = _("Höchstens %(n)s Zeichen.", n=5000)
            if len(values["phone"]) > 60:
                errors["phone"] = _("Höchstens %(n)s Zeichen.", n=60)
            if not errors:
                try:
                    set_display_name(db(), user, values["display_name"], by_user_id=user.id)
                except UserError as exc:
                    db().rollback()
                    user = _me()
                    errors[exc.field] = _name_error(exc)
            if not errors:
                user.language = values["language"]
                user.signature = values["signature"]
                user.phone = values["phone"]
                audit.record(db(), user.id, "changed", "user", user.id, fields=["profile"])
                db().commit()
                flash(_("Ihre Einstellungen wurden gespeichert."), "success")
                return redirect(url_for("settings.profile"))
    return render_template("settings/profile.html", user=user, values=values, errors=errors,
                           languages=_languages()), (422 if errors else 200)


# -- users -----------------------------------------------------------------------------------------


@bp.route("/benutzer")
@login_required
def users() -> ResponseReturnValue:
    require_admin()
    rows = list(db().scalars(select(User).options(selectinload(User.groups)).order_by(User.display_name)))
    return render_template("settings/users.html", users=rows)


USER_TEXT = {"login": 80, "display_name": 200, "email": 254, "phone": 60, "signature": 5000}


def _user_form(form: Mapping[str, str], *, creating: bool) -> tuple[dict[str, Any], dict[str, str]]:
    values: dict[str, Any] = {k: (form.get(k) or "").strip() for k in USER_TEXT}
    values["signature"] = form.get("signature") or ""
    values["language"] = form.get("language") if form.get("language") in ("de", "en") else "de"
    values["is_admin"] = bool(form.get("is_admin"))
    values["active"] = bool(form.get("active"))
    errors: dict[str, str] = {}
    for key, limit in USER_TEXT.items():
        if len(values[key]) > limit:
            errors[key] = _("Höchstens %(n)s Zeichen.", n=limit)
    if creating and not values["login"]:
        errors["login"] = _("Bitte einen Anmeldenamen angeben.")
    if not values["display_name"]:
        errors["display_name"] = _("Bitte einen Namen angeben.")
    email_problem = email_error(values["email"])
    if email_problem:
        errors["email"] = _(email_problem.msgid)
    if creating:
        problem = check_new_password(form.get("password", ""), form.get("password2", ""))
        if problem:
            errors["password"] = problem
    return values, errors


def _user_page(user: User | None, values: dict[str, Any], errors: dict[str, str]) -> ResponseReturnValue:
    groups = list(db().scalars(select(Group).order_by(Group.name)))
    return render_template("settings/user_form.html", user=user, values=values, errors=errors, languages=_languages(),
                           groups=groups), (422 if errors else 200)


@bp.route("/benutzer/neu", methods=["GET", "POST"])
@login_required
def user_new() -> ResponseReturnValue:
    require_admin()
    if request.method == "GET":
        return _user_page(None, {"language": "de", "active": True, "is_admin": False} | {k: "" for k in USER_TEXT}, {})
    values, errors = _user_form(request.form, creating=True)
    if errors:
        return _user_page(None, values, errors)
    try:
        user = create_user(db(), values["login"], request.form.get("password", ""), display_name=values["display_name"],
                           email=values["email"], is_admin=values["is_admin"], phone=values["phone"],
                           signature=values["signature"], language=values["language"])
    except UserError as exc:
        db().rollback()
        return _user_page(None, values, {exc.field: _name_error(exc)})
    user.active = values["active"]
    db().commit()
    flash(_("Benutzer %(name)s angelegt.", name=user.display_name), "success")
    return redirect(url_for("settings.users"))


@bp.route("/benutzer/<int:user_id>", methods=["GET", "POST"])
@login_required
def user_edit(user_id: int) -> ResponseReturnValue:
    require_admin()
    user = db().get(User, user_id)
    if user is None:
        abort(404)
    if request.method == "GET":
        values = {k: getattr(user, k) for k in USER_TEXT} | {"language": user.language, "is_admin": user.is_admin,
                                                              "active": user.active}
        return _user_page(user, values, {})
    values, errors = _user_form(request.form, creating=False)
    values["login"] = user.login
    if user.id == viewer().user_id and (not values["is_admin"] or not values["active"]):
        errors["is_admin"] = _("Sie können sich nicht selbst die Administratorrechte entziehen oder sich deaktivieren.")
    if not errors:
        try:
            set_display_name(db(), user, values["display_name"], by_user_id=viewer().user_id)
        except UserError as exc:
            db().rollback()
            reloaded = db().get(User, user_id)
            if reloaded is None:  # deleted meanwhile by someone else
                abort(404)
            user = reloaded
            errors[exc.field] = _name_error(exc)
    if errors:
        return _user_page(user, values, errors)
    # The display name went through set_display_name above (its uniqueness rule).
    update_user(db(), user, by=viewer().user_id,
                **{key: values[key] for key in ("email", "phone", "signature", "language", "is_admin", "active")})
    db().commit()
    flash(_("Benutzer gespeichert."), "success")
    return redirect(url_for("settings.users"))


@bp.route("/benutzer/<int:user_id>/passwort", methods=["POST"])
@login_required
def user_password(user_id: int) -> ResponseReturnValue:
    require_admin()
    user = db().get(User, user_id)
    if user is None:
        abort(404)
    problem = check_new_password(request.form.get("password", ""), request.form.get("password2", ""))
    if problem:
        flash(problem, "error")
        return redirect(url_for("settings.user_edit", user_id=user.id))
    set_password(db(), user, request.form["password"], by=viewer().user_id)
    db().commit()
    if user.id == viewer().user_id:
        _keep_this_session(user)
    flash(_("Das Passwort von %(name)s wurde neu gesetzt; alle Sitzungen wurden beendet.", name=user.display_name),
          "success")
    return redirect(url_for("settings.user_edit", user_id=user.id))


@bp.route("/benutzer/<int:user_id>/sitzungen-beenden", methods=["POST"])
@login_required
def user_end_sessions(user_id: int) -> ResponseReturnValue:
    """An administrator ends every session and remember-me cookie of a user (a lost laptop)."""
    require_admin()
    user = db().get(User, user_id)
    if user is None:
        abort(404)
    end_sessions(db(), user, by=viewer().user_id)
    db().commit()
    if user.id == viewer().user_id:
        _keep_this_session(user)  # the administrator's own other sessions end, this one stays
    flash(_("Alle Sitzungen von %(name)s wurden beendet.", name=user.display_name), "success")
    target = request.form.get("next", "")
    return redirect(url_for("settings.users") if target == "list" else url_for("settings.user_edit", user_id=user.id))


# -- groups ----------------------------------------------------------------------------------------


@bp.route("/gruppen")
@login_required
def groups() -> ResponseReturnValue:
    require_admin()
    rows = list(db().scalars(select(Group).options(selectinload(Group.members), selectinload(Group.parent)).order_by(Group.name)))
    return render_template("settings/groups.html", groups=rows)


def _group_page(group: Group | None, values: dict[str, Any], errors: dict[str, str]) -> ResponseReturnValue:
    users = list(db().scalars(select(User).order_by(User.display_name)))
    return render_template("settings/group_form.html", group=group, values=values, errors=errors,
                           parents=allowed_parents(db(), group), users=users), (422 if errors else 200)


def _group_form(form: Any) -> dict[str, Any]:
    return {"name": (form.get("name") or "").strip(), "parent_id": _int(form.get("parent_id")),
            "members": {i for i in (_int(v) for v in form.getlist("members")) if i}}


def _save_group(group: Group | None, values: dict[str, Any]) -> Group:
    """The group service (core/users.save_group) checks name and parent: never its own ancestor."""
    return save_group(db(), group, name=values["name"], parent_id=values["parent_id"], member_ids=values["members"],
                      by=viewer().user_id)


@bp.route("/gruppen/neu", methods=["GET", "POST"])
@login_required
def group_new() -> ResponseReturnValue:
    require_admin()
    if request.method == "GET":
        return _group_page(None, {"name": "", "parent_id": None, "members": set()}, {})
    values = _group_form(request.form)
    try:
        group = _save_group(None, values)
    except ValidationError as exc:
        return _group_page(None, values, field_messages(exc.errors))
    db().commit()
    flash(_("Gruppe %(name)s angelegt.", name=group.name), "success")
    return redirect(url_for("settings.groups"))


@bp.route("/gruppen/<int:group_id>", methods=["GET", "POST"])
@login_required
def group_edit(group_id: int) -> ResponseReturnValue:
    require_admin()
    group = db().get(Group, group_id)
    if group is None:
        abort(404)
    if request.method == "GET":
        return _group_page(group, {"name": group.name, "parent_id": group.parent_id,
                                   "members": {u.id for u in group.members}}, {})
    values = _group_form(request.form)
    try:
        _save_group(group, values)
    except ValidationError as exc:
        return _group_page(group, values, field_messages(exc.errors))
    db().commit()
    flash(_("Gruppe gespeichert."), "success")
    return redirect(url_for("settings.groups"))


# -- folders (Ablage) ------------------------------------------------------------------------------


def folder_tree() -> list[tuple[int, Folder, int]]:
    """Folders depth-first as (depth, folder, number of documents filed there)."""
    folders = list(db().scalars(select(Folder)))
    counts: dict[int, int] = {
        folder_id: int(n) for folder_id, n in
        db().execute(select(document_folders.c.folder_id, func.count()).group_by(document_folders.c.folder_id)).all()}
    children: dict[int | None, list[Folder]] = {}
    for f in folders:
        children.setdefault(f.parent_id, []).append(f)
    result: list[tuple[int, Folder, int]] = []
    seen: set[int] = set()

    def walk(parent: int | None, depth: int) -> None:
        for f in sorted(children.get(parent, []), key=lambda x: x.name.casefold()):
            if f.id in seen:
                continue
            seen.add(f.id)
            result.append((depth, f, int(counts.get(f.id, 0))))
            walk(f.id, depth + 1)

    walk(None, 0)
    return result


@bp.route("/ordner", methods=["GET", "POST"])
@login_required
def folders() -> ResponseReturnValue:
    require_admin()
    errors: dict[str, str] = {}
    values: dict[str, Any] = {"name": "", "parent_id": None}
    if request.method == "POST":
        values = {"name": (request.form.get("name") or "").strip(), "parent_id": _int(request.form.get("parent_id"))}
        try:
            folder = create_folder(db(), values["name"], values["parent_id"], by=viewer().user_id)
        except ValidationError as exc:
            errors = field_messages(exc.errors)
        else:
            db().commit()
            flash(_("Ordner %(name)s angelegt.", name=folder.name), "success")
            return redirect(url_for("settings.folders"))
    return render_template("settings/folders.html", tree=folder_tree(), values=values, errors=errors), (422 if errors else 200)


@bp.route("/ordner/<int:folder_id>", methods=["POST"])
@login_required
def folder_rename(folder_id: int) -> ResponseReturnValue:
    require_admin()
    folder = db().get(Folder, folder_id)
    if folder is None:
        abort(404)
    try:
        rename_folder(db(), folder, request.form.get("name") or "", by=viewer().user_id)
    except ValidationError as exc:
        db().rollback()
        flash(" ".join(field_messages(exc.errors).values()), "error")
        return redirect(url_for("settings.folders"))
    db().commit()
    flash(_("Ordner umbenannt."), "success")
    return redirect(url_for("settings.folders"))


# -- plugins ---------------------------------------------------------------------------------------


@bp.route("/plugins")
@login_required
def plugins() -> ResponseReturnValue:
    require_admin()
    ka = current_ka()
    disabled = set(db().scalars(select(PluginState.name).where(PluginState.enabled.is_(False))))
    counts = dict(db().execute(select(Document.type_key, func.count()).group_by(Document.type_key)).all())
    rows = []
    for name, report in sorted(ka.plugins.reports.items()):
        types = [ka.types.get(k) for k in report.types]
        rows.append({"report": report, "enabled": name not in disabled,
                     "types": [t for t in types if t is not None],
                     "documents": sum(int(counts.get(k, 0)) for k in report.types)})
    return render_template("settings/plugins.html", rows=rows, lang=language())


@bp.route("/plugins/<name>", methods=["POST"])
@login_required
def plugin_toggle(name: str) -> ResponseReturnValue:
    require_admin()
    ka = current_ka()
    if name not in ka.plugins.reports:
        abort(404)
    enabled = request.form.get("enabled") == "1"
    set_plugin_enabled(db(), name, enabled, user_id=viewer().user_id)
    db().commit()
    if enabled:
        flash(_("Plugin %(name)s aktiviert.", name=name), "success")
    else:
        flash(_("Plugin %(name)s deaktiviert. Seine Daten bleiben erhalten.", name=name), "success")
    return redirect(url_for("settings.plugins"))
