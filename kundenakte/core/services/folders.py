"""Folders (Ablage): create, rename, move and delete, each with its audit entry.

The rules: a name of 1–200 characters, unique among its siblings (the table's unique constraint
says the same, but a German message is better than an IntegrityError); a known parent; a folder
never inside itself or one of its subfolders; a folder is deleted only when it is empty (no
documents filed there, no subfolders), because the database would silently unfile the documents.
Index entries carry folder names: the mapper events queue the documents of a renamed folder.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kundenakte.core import audit
from kundenakte.core.models import Folder, document_folders
from kundenakte.core.services.errors import InUse
from kundenakte.core.validation import N_, Message, ValidationError, column_limits


def folder_descendants(session: Session, folder_id: int) -> set[int]:
    """The ids of every folder below ``folder_id`` (not itself)."""
    children: dict[int | None, list[int]] = {}
    for fid, parent in session.execute(select(Folder.id, Folder.parent_id)).all():
        children.setdefault(parent, []).append(fid)
    found: set[int] = set()
    todo = list(children.get(folder_id, []))
    while todo:
        fid = todo.pop()
        if fid not in found:  # a cycle left by hand in the database must not loop forever
            found.add(fid)
            todo.extend(children.get(fid, []))
    return found


def folder_errors(session: Session, folder: Folder | None, name: str, parent_id: int | None) -> dict[str, Message]:
    """Every problem of a folder's name and parent at once (``folder`` None: a new folder)."""
    errors: dict[str, Message] = {}
    limit = column_limits(Folder)["name"]
    parent_known = True
    if parent_id is not None:
        if session.get(Folder, parent_id) is None:
            errors["parent_id"] = N_("Unbekannter Ordner.")
            parent_known = False
        elif folder is not None and parent_id in ({folder.id} | folder_descendants(session, folder.id)):
            errors["parent_id"] = N_("Ein Ordner kann nicht in sich selbst oder seinen Unterordnern liegen.")
    if not name or len(name) > limit:
        errors["name"] = N_("Bitte einen Namen mit höchstens %(n)s Zeichen angeben.", n=limit)
    elif parent_known:
        sibling = Folder.parent_id.is_(None) if parent_id is None else Folder.parent_id == parent_id
        clash = session.scalar(select(Folder.id).where(Folder.name == name, sibling))
        if clash is not None and (folder is None or clash != folder.id):
            errors["name"] = N_("Einen Ordner mit diesem Namen gibt es hier schon.")
    return errors


def create_folder(session: Session, name: str, parent_id: int | None = None, *, by: int | None,
                  via: str | None = None) -> Folder:
    """A new folder; ValidationError with every field error at once, before anything changes."""
    name = name.strip()
    errors = folder_errors(session, None, name, parent_id)
    if errors:
        raise ValidationError(errors)
    folder = Folder(name=name, parent_id=parent_id)
    session.add(folder)
    session.flush()
    audit.record(session, by, "created", "folder", folder.id, name=name, parent_id=parent_id,
                 **({"via": via} if via else {}))
    return folder


def rename_folder(session: Session, folder: Folder, name: str, *, by: int | None, via: str | None = None) -> Folder:
    """Give ``folder`` a new name (unique among its siblings)."""
    name = name.strip()
    errors = folder_errors(session, folder, name, folder.parent_id)
    if errors:
        raise ValidationError(errors)
    old = folder.name
    if name != old:
        folder.name = name
        audit.record(session, by, "changed", "folder", folder.id, before=old, name=name,
                     **({"via": via} if via else {}))
    return folder


def move_folder(session: Session, folder: Folder, parent_id: int | None, *, by: int | None,
                via: str | None = None) -> Folder:
    """Put ``folder`` into ``parent_id`` (None: the top level); never into itself or below itself."""
    errors = folder_errors(session, folder, folder.name, parent_id)
    if errors:
        raise ValidationError(errors)
    before = folder.parent_id
    if parent_id != before:
        folder.parent_id = parent_id
        session.flush()
        audit.record(session, by, "changed", "folder", folder.id, name=folder.name, parent_before=before,
                     parent_id=parent_id, **({"via": via} if via else {}))
    return folder


def delete_folder(session: Session, folder: Folder, *, by: int | None, via: str | None = None) -> None:
    """Delete an empty folder; InUse (German) while documents are filed there or subfolders exist."""
    filed = session.scalar(select(func.count()).select_from(document_folders)
                           .where(document_folders.c.folder_id == folder.id))
    if filed:
        raise InUse(N_("Im Ordner sind noch %(n)s Dokumente abgelegt; er kann nicht gelöscht werden.", n=int(filed)))
    if session.scalar(select(func.count()).select_from(Folder).where(Folder.parent_id == folder.id)):
        raise InUse(N_("Der Ordner enthält noch Unterordner; er kann nicht gelöscht werden."))
    audit.record(session, by, "deleted", "folder", folder.id, name=folder.name, **({"via": via} if via else {}))
    session.delete(folder)
    session.flush()


def find_folder(session: Session, path: str) -> Folder | None:
    """A folder by its path of names, e.g. ``Schriftverkehr/2026`` (or by its id as digits)."""
    if path.isdigit():
        return session.get(Folder, int(path))
    parent: int | None = None
    folder: Folder | None = None
    for part in [p.strip() for p in path.split("/") if p.strip()]:
        sibling = Folder.parent_id.is_(None) if parent is None else Folder.parent_id == parent
        folder = session.scalar(select(Folder).where(Folder.name == part, sibling))
        if folder is None:
            return None
        parent = folder.id
    return folder
