"""Einstellungen → Kontakte importieren: vCard and CSV files uploaded in the browser (admins).

The web face of ``kundenakte kontakte import``: the same sequence as the CLI (read_records →
plan_import → apply_import), no importer of its own. "Prüfen" parses and plans without writing;
the uploaded bytes then wait in the instance's temp folder (never in the database) under a random
name, and the page carries a signed, expiring token naming that file, its checksum, the uploader
and the chosen options. "Importieren" takes the file (an atomic rename, so a double click cannot
import twice), plans again on the current data and applies the plan. Files of abandoned dry runs
are swept after IMPORT_MAX_AGE_S whenever the page is used. The CLI writes no audit entry for an
import, so neither does the page (the index queue rows are its trace, as with the CLI).
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import secrets
import time
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeTimedSerializer

from kundenakte.core.attachments import clean_filename
from kundenakte.core.exchange import ContactRecord, ExchangeError, read_records
from kundenakte.core.exchange.importer import ImportPlan, apply_import, plan_import
from kundenakte.web.context import current_ka, db, login_required, viewer
from kundenakte.web.errors import render_error
from kundenakte.web.settings import require_admin

bp = Blueprint("contact_import", __name__, url_prefix="/einstellungen")

IMPORT_SALT = "kundenakte.contact-import"
IMPORT_MAX_AGE_S = 24 * 3600
IMPORT_PREVIEW = 200
IMPORT_MAPPINGS = ("auto", "outlook", "google", "thunderbird", "kundenakte")  # what read_records/--mapping accept
_IMPORT_ID = re.compile(r"^[0-9a-f]{32}$")
# File starts that no vCard or CSV has: office documents, PDFs, archives, images.
_BINARY_STARTS = (b"PK\x03\x04", b"%PDF", b"\xd0\xcf\x11\xe0", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b",
                  b"Rar!", b"7z\xbc\xaf")


def _import_dir() -> Path:
    folder = current_ka().settings.instance / "tmp" / "kontakte-import"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def _sweep_import_files(folder: Path) -> None:
    """Remove what abandoned dry runs (and interrupted imports) left behind."""
    cutoff = time.time() - IMPORT_MAX_AGE_S
    for path in folder.iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
        except FileNotFoundError:  # another request swept it first
            pass


def _import_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=IMPORT_SALT)  # type: ignore[arg-type]


def _mapping_choices() -> list[tuple[str, str]]:
    return [("auto", _("automatisch erkennen")), ("outlook", _("Outlook")), ("google", _("Google Kontakte")),
            ("thunderbird", _("Thunderbird")), ("kundenakte", _("Kundenakte (früherer eigener Export)"))]


def _looks_binary(data: bytes) -> bool:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 text has NUL bytes
        return False
    return data.startswith(_BINARY_STARTS) or b"\x00" in data[:8192]


def _read_upload(part: Any, limit: int) -> bytes | None:
    """The file's bytes, or None when it is larger than ``limit``."""
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = part.stream.read(1024 * 1024)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)


def _parse_contacts(data: bytes, filename: str, mapping: str) -> tuple[list[ContactRecord], str]:
    """``read_records`` as the CLI calls it; returns (records, German error message or "")."""
    if not data.strip():
        return [], _("Die Datei ist leer.")
    if _looks_binary(data):
        return [], _("Die Datei ist keine vCard- oder CSV-Datei. Eine Excel-Tabelle speichern Sie bitte zuerst als "
                     "CSV (Trennzeichen Semikolon oder Komma).")
    try:
        records = read_records(data, fmt="auto", mapping=None if mapping == "auto" else mapping, filename=filename)
    except ExchangeError as exc:
        # The importer's messages are written for the command line; here the option is a select.
        detail = str(exc).replace("Bitte --mapping outlook, google, thunderbird oder kundenakte angeben.",
                                  _("Bitte wählen Sie die Spaltenzuordnung."))
        return [], _("Die Datei konnte nicht gelesen werden: %(detail)s", detail=detail)
    except (csv.Error, UnicodeError, ValueError):
        return [], _("Die Datei konnte nicht gelesen werden. Ist es eine vCard- oder CSV-Datei?")
    if not records:
        return [], _("Die Datei enthält keine Kontakte.")
    return records, ""


def _plan_contacts(records: list[ContactRecord], update_existing: bool) -> ImportPlan:
    # The request's own session is a write session (BEGIN IMMEDIATE on SQLite) and would block the
    # importer's write transactions: end it – nothing was changed in it – and plan on a read session.
    db().rollback()
    with current_ka().db.read() as session:
        return plan_import(session, records, update_existing=update_existing)


def _import_page(mode: str, *, errors: dict[str, str] | None = None, status: int | None = None, **context: Any) -> ResponseReturnValue:
    """The page in one of its modes: "form" (also with errors), "report" (the dry run), "result"."""
    errors = errors or {}
    context.setdefault("values", {"mapping": "auto", "update_existing": True})
    page = render_template("settings/import.html", mode=mode, errors=errors, mappings=_mapping_choices(),
                           max_upload_mb=current_ka().settings.max_upload_mb, **context)
    return page, status or (422 if errors else 200)


def _action_labels() -> dict[str, str]:
    return {"create": _("neu"), "update": _("aktualisieren"), "skip": _("überspringen"), "company": _("neue Firma")}


@bp.route("/import", methods=["GET", "POST"])
@login_required
def index() -> ResponseReturnValue:
    require_admin()
    folder = _import_dir()
    _sweep_import_files(folder)
    if request.method == "GET":
        return _import_page("form")
    if request.form.get("action") == "import":
        return _import_apply(folder)
    return _import_check(folder)


def _import_check(folder: Path) -> ResponseReturnValue:
    mapping = request.form.get("mapping") or "auto"
    values = {"mapping": mapping, "update_existing": bool(request.form.get("update"))}
    errors: dict[str, str] = {}
    if mapping not in IMPORT_MAPPINGS:
        values["mapping"] = "auto"
        errors["mapping"] = _("Bitte eine Spaltenzuordnung wählen.")
        return _import_page("form", values=values, errors=errors)
    part = request.files.get("file")
    if part is None or not part.filename:
        errors["file"] = _("Bitte eine Datei auswählen.")
        return _import_page("form", values=values, errors=errors)
    filename = clean_filename(part.filename) or "kontakte"
    limit_mb = current_ka().settings.max_upload_mb
    data = _read_upload(part, limit_mb * 1024 * 1024)
    if data is None:
        errors["file"] = _("Die Datei ist zu groß (höchstens %(n)s MB).", n=limit_mb)
        return _import_page("form", values=values, errors=errors)
    records, problem = _parse_contacts(data, filename, mapping)
    if problem:
        errors["file"] = problem
        return _import_page("form", values=values, errors=errors)
    plan = _plan_contacts(records, bool(values["update_existing"]))
    counts = plan.counts
    token = ""
    if counts["create"] or counts["update"] or counts["company"]:
        file_id = secrets.token_hex(16)
        fd = os.open(folder / f"{file_id}.upload", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        token = _import_serializer().dumps({
            "id": file_id, "u": viewer().user_id, "n": filename, "m": mapping, "up": values["update_existing"],
            "h": hashlib.sha256(data).hexdigest(), "c": [counts["create"], counts["update"], counts["skip"]],
        })
    return _import_page("report", values=values, plan=plan, counts=counts, filename=filename, token=token,
                        items=plan.items[:IMPORT_PREVIEW], labels=_action_labels(),
                        lossy_total=sum(1 for item in plan.items if item.not_kept))


def _import_apply(folder: Path) -> ResponseReturnValue:
    gone = _("Die geprüfte Datei ist nicht mehr vorhanden – sie wurde schon importiert oder ist abgelaufen. "
             "Bitte laden Sie sie erneut hoch und prüfen Sie sie.")
    try:
        ticket = _import_serializer().loads(request.form.get("token", ""), max_age=IMPORT_MAX_AGE_S)
    except BadSignature:
        ticket = None
    if (not isinstance(ticket, dict) or ticket.get("u") != viewer().user_id
            or not _IMPORT_ID.match(str(ticket.get("id", ""))) or ticket.get("m") not in IMPORT_MAPPINGS):
        return _import_page("form", errors={"file": gone})
    values = {"mapping": ticket["m"], "update_existing": bool(ticket.get("up"))}
    path = folder / f"{ticket['id']}.upload"
    claimed = folder / f"{ticket['id']}.importing"
    try:
        os.replace(path, claimed)  # whoever renames first imports; a second click finds nothing
    except FileNotFoundError:
        return _import_page("form", values=values, errors={"file": gone})
    try:
        data = claimed.read_bytes()
        if hashlib.sha256(data).hexdigest() != ticket.get("h"):
            return _import_page("form", values=values, errors={"file": gone})
        records, problem = _parse_contacts(data, str(ticket.get("n", "")), values["mapping"])
        if problem:
            return _import_page("form", values=values, errors={"file": problem})
        plan = _plan_contacts(records, values["update_existing"])
        result = apply_import(current_ka(), plan)
    finally:
        claimed.unlink(missing_ok=True)
    counts = plan.counts
    changed = [counts["create"], counts["update"], counts["skip"]] != list(ticket.get("c") or [])
    # The report names, per record, what the file carried but Kundenakte does not keep.
    lossy = [item for item in plan.items if item.not_kept]
    return _import_page("result", values=values, result=result, filename=str(ticket.get("n", "")), changed=changed,
                        lossy=lossy[:IMPORT_PREVIEW], lossy_total=len(lossy))


@bp.errorhandler(413)
def _too_large(exc: Any) -> ResponseReturnValue:
    """A request beyond MAX_CONTENT_LENGTH never reaches the view: answer the import form with a message."""
    if request.endpoint != "contact_import.index" or not current_user.is_authenticated or not viewer().sees_all:
        return render_error(413)
    limit_mb = current_ka().settings.max_upload_mb
    return _import_page("form", errors={"file": _("Die Datei ist zu groß (höchstens %(n)s MB).", n=limit_mb)},
                        status=413)
