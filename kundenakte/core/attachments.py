"""Files attached to documents: adding, removing and opening them through the ACL.

Blobs are content-addressed in ``ka.storage``; a row in ``attachments`` names one. Adding stores the
blob before the row is committed (a rollback removes a blob it created); removing deletes the row
and the blob only after the commit, and only when no other row still names the same content.
"""

from __future__ import annotations

import posixpath
import unicodedata
from typing import IO, TYPE_CHECKING, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from kundenakte.core import acl, audit
from kundenakte.core.documents import NotFound, _after_commit, get_readable, load_for_write
from kundenakte.core.models import Attachment, Document
from kundenakte.core.storage import StoredBlob
from kundenakte.core.unit_of_work import unit_of

if TYPE_CHECKING:
    from kundenakte.core.runtime import Kundenakte

MAX_FILENAME = 255
DEFAULT_FILENAME = "datei"
# Raster formats a browser may show inline; SVG is excluded because it can carry script.
INLINE_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})

# Characters Windows refuses in file names; a downloaded file must be savable everywhere.
_RESERVED = set('<>:"|?*')
# Control, format (bidi overrides, zero-width), surrogate and line/paragraph separator characters
# can hide a file's real extension ("rechnung\u202Efdp.exe") or break headers.
_DROP_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Zl", "Zp"}


def clean_filename(name: str | None) -> str:
    """A file name safe to show and to offer for download: basename only, NFC, at most 255 chars."""
    text = unicodedata.normalize("NFC", str(name or ""))
    text = text.replace("\\", "/")
    text = text.rsplit("/", 1)[-1]
    out = []
    for ch in text:
        if unicodedata.category(ch) in _DROP_CATEGORIES:
            continue
        # Look-alike slashes (fullwidth solidus, division slash, ...) become real ones under NFKC.
        if ch in _RESERVED or any(c in "/\\" for c in unicodedata.normalize("NFKC", ch)):
            out.append("_")
            continue
        out.append(" " if ch.isspace() else ch)
    text = " ".join("".join(out).split())
    text = text.strip(" .")
    if not text:
        return DEFAULT_FILENAME
    if len(text) > MAX_FILENAME:
        stem, ext = posixpath.splitext(text)
        if 1 < len(ext) <= 20:
            text = stem[: MAX_FILENAME - len(ext)].rstrip(" .") + ext
        else:
            text = text[:MAX_FILENAME].rstrip(" .")
    return text or DEFAULT_FILENAME


def _check_editable(session: Session, viewer: acl.Viewer, document: Document) -> None:
    if document.id is None:
        raise NotFound()
    load_for_write(session, viewer, document.id)


def _touch(ka: Kundenakte, session: Session, viewer: acl.Viewer, document: Document) -> None:
    document.updated_at = ka.clock.now()  # the row changes, so the mapper events queue the index
    _after_commit(ka, session, "document_saved", document_id=document.id, created=False, user_id=viewer.user_id)


def _created_in_this_transaction(session: Session, document: Document) -> bool:
    return any(hook == "document_saved" and kwargs.get("created") and kwargs.get("document_id") == document.id
               for hook, kwargs in unit_of(session).events)


def attach_blob(
    ka: Kundenakte,
    session: Session,
    viewer: acl.Viewer,
    document: Document,
    blob: StoredBlob,
    filename: str,
    *,
    inline: bool = False,
) -> Attachment:
    """Create the row for content already in the store (e.g. uploaded with a form that had errors)."""
    _check_editable(session, viewer, document)
    if not ka.storage.exists(blob.sha256):
        raise FileNotFoundError(blob.sha256)
    att = Attachment(
        document_id=document.id,
        filename=clean_filename(filename),
        mime_type=(blob.mime_type or "application/octet-stream")[:120],
        size=blob.size,
        sha256=blob.sha256,
        inline=inline,
        created_at=ka.clock.now(),
    )
    # Into the collection first (the cascade adds it to the session): adding it to the session
    # first would let the collection's lazy load autoflush it and then list it twice.
    document.attachments.append(att)
    if not inline and not _created_in_this_transaction(session, document):
        # An editor image arrives while the edit form is open; bumping the version here would turn
        # the user's own save into a conflict. The content that references it is saved with the form.
        # A document created in this transaction (a draft from a template with files) needs no
        # touch either: its creation already queues the index and announces document_saved
        # (created=True) after the commit, files included; a touch per file would bump a brand-new
        # document's version once per file and announce a second, "changed" save.
        _touch(ka, session, viewer, document)
    session.flush()
    audit.record(
        session, viewer.user_id, "attachment_added", "document", document.id,
        attachment_id=att.id, filename=att.filename, sha256=att.sha256, size=att.size, inline=inline,
    )
    return att


def add_attachment(
    ka: Kundenakte,
    session: Session,
    viewer: acl.Viewer,
    document: Document,
    stream: IO[bytes],
    filename: str,
    *,
    inline: bool = False,
) -> Attachment:
    """Store ``stream`` and attach it; needs edit rights. Raises UploadTooLarge leaving nothing behind.

    A regular file bumps the document's ``updated_at`` (and so its version) and queues the index;
    an ``inline`` image of the rich-text content does not (see ``attach_blob``).

    The MIME type is sniffed from the content by the store; the client's claim is never used.
    """
    # Check rights before writing a single byte, so a refused upload leaves no file either.
    _check_editable(session, viewer, document)
    blob = ka.storage.put(stream, session=session, filename=filename)
    return attach_blob(ka, session, viewer, document, blob, filename, inline=inline)


def remove_attachment(ka: Kundenakte, session: Session, viewer: acl.Viewer, document_id: int, attachment_id: int) -> None:
    """Delete the row; its blob goes after the commit unless another row names the same content."""
    document = session.get(Document, document_id)
    if document is None:
        raise NotFound()
    _check_editable(session, viewer, document)
    att = session.scalar(select(Attachment).where(Attachment.id == attachment_id, Attachment.document_id == document_id))
    if att is None:
        raise NotFound()
    audit.record(
        session, viewer.user_id, "attachment_removed", "document", document_id,
        attachment_id=att.id, filename=att.filename, sha256=att.sha256,
    )
    document.attachments.remove(att)
    session.delete(att)
    _touch(ka, session, viewer, document)
    unit_of(session).blobs_to_check.append(att.sha256)


def open_attachment(
    ka: Kundenakte, session: Session, viewer: acl.Viewer, document_id: int, attachment_id: int
) -> tuple[Attachment, BinaryIO]:
    """The attachment row and an open binary stream, for a viewer who may read the document."""
    get_readable(session, viewer, document_id)
    att = session.scalar(select(Attachment).where(Attachment.id == attachment_id, Attachment.document_id == document_id))
    if att is None:
        raise NotFound()
    try:
        stream = ka.storage.open(att.sha256)
    except FileNotFoundError:
        raise NotFound() from None
    return att, stream
