"""Content-addressed attachment storage under the instance folder.

A blob is written to a temporary file, fsynced, renamed to ``files/ab/cd/<sha256>`` and its folder
fsynced, all before the database row that names it is committed. If the transaction rolls back,
blobs it created are removed again (unless another row uses the same content). A crash between the
file and the commit can leave a blob without a row; ``kundenakte storage gc`` removes those, so no
committed row ever lacks its file and no file outlives cleanup without its row.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

import puremagic
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from kundenakte.core.models import Attachment
from kundenakte.core.unit_of_work import unit_of

CHUNK = 1024 * 1024


class UploadTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"Die Datei ist größer als {limit // (1024 * 1024)} MB.")
        self.limit = limit


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int
    mime_type: str
    created: bool  # False when identical content was already stored


def sniff_mime(head: bytes, filename: str = "") -> str:
    """The MIME type from the content's first bytes; the client's claim is never trusted."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    try:
        matches = puremagic.magic_string(head)
    except (puremagic.PureError, ValueError):
        matches = []
    for match in matches:
        mime = getattr(match, "mime_type", "")
        if mime:
            return mime
    sample = head[:4096]
    if b"\x00" not in sample:
        try:
            text = sample.decode("utf-8")
        except UnicodeDecodeError:
            try:
                text = sample.decode("cp1252")
            except UnicodeDecodeError:
                return "application/octet-stream"
        lowered = text.lstrip().lower()
        if lowered.startswith(("<!doctype html", "<html")) or "<body" in lowered[:1000]:
            return "text/html"
        return "text/plain"
    return "application/octet-stream"


class BlobStore:
    def __init__(self, root: Path, *, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.tmp = root / "tmp"

    def path_for(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("not a sha256 hex digest")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def open(self, sha256: str) -> BinaryIO:
        return self.path_for(sha256).open("rb")

    def put(self, stream: IO[bytes], *, session: Session | None = None, filename: str = "") -> StoredBlob:
        """Store a stream; with ``session``, a new blob is removed again if that session rolls back.

        Raises UploadTooLarge (leaving nothing behind) when the stream exceeds the limit.
        """
        self.tmp.mkdir(parents=True, exist_ok=True)
        if session is not None:
            session.connection()  # begin now, so that a rollback of this session is always seen
        digest = hashlib.sha256()
        size = 0
        head = b""
        fd, tmp_name = tempfile.mkstemp(dir=self.tmp, prefix="upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                while True:
                    chunk = stream.read(CHUNK)
                    if not chunk:
                        break
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise UploadTooLarge(self.max_bytes)
                    if len(head) < 8192:
                        head += chunk[: 8192 - len(head)]
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha = digest.hexdigest()
            final = self.path_for(sha)
            created = not final.exists()
            if created:
                final.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp_name, final)
                _fsync_dir(final.parent)
            else:
                os.unlink(tmp_name)
        except BaseException:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)
            raise
        if created and session is not None:
            self._remove_on_rollback(session, sha)
        return StoredBlob(sha256=sha, size=size, mime_type=sniff_mime(head, filename), created=created)

    def put_bytes(self, data: bytes, *, session: Session | None = None, filename: str = "") -> StoredBlob:
        import io

        return self.put(io.BytesIO(data), session=session, filename=filename)

    def _remove_on_rollback(self, session: Session, sha: str) -> None:
        unit = unit_of(session)
        unit.new_blobs.add(sha)
        if unit.blob_listeners:
            return
        unit.blob_listeners = True

        def _after_commit(sess: Session) -> None:
            if not sess.in_nested_transaction():  # a released savepoint is not the commit
                unit_of(sess).new_blobs = set()

        def _after_rollback(sess: Session) -> None:
            pending = unit_of(sess)
            digests, pending.new_blobs = pending.new_blobs, set()
            for digest in digests:
                self.remove_if_unreferenced(digest)

        event.listen(session, "after_commit", _after_commit)
        def _after_soft_rollback(sess: Session, previous: object) -> None:
            if getattr(previous, "parent", None) is None:  # the outermost transaction, not a savepoint
                _after_rollback(sess)

        event.listen(session, "after_soft_rollback", _after_soft_rollback)

    def remove_if_unreferenced(self, sha: str, *, session: Session | None = None) -> bool:
        """Delete a blob no attachment row names (checked in a fresh read when no session is given)."""
        if session is not None:
            used = session.scalar(select(Attachment.id).where(Attachment.sha256 == sha).limit(1))
            if used is not None:
                return False
        elif self._referenced_checker is not None and self._referenced_checker(sha):
            return False
        path = self.path_for(sha)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True

    _referenced_checker = None  # set by the runtime: sha -> bool, reads the database

    def iter_blobs(self) -> Iterator[tuple[str, Path]]:
        if not self.root.exists():
            return
        for first in sorted(self.root.iterdir()):
            if len(first.name) != 2 or not first.is_dir():
                continue
            for second in sorted(first.iterdir()):
                for path in second.iterdir():
                    yield path.name, path

    def garbage_collect(self, referenced: Iterable[str], *, min_age_s: float = 3600) -> list[str]:
        """Remove blobs no row names, older than ``min_age_s`` (an upload may be committing now)."""
        keep = set(referenced)
        removed: list[str] = []
        cutoff = time.time() - min_age_s
        for sha, path in self.iter_blobs():
            if sha not in keep and path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                removed.append(sha)
        if self.tmp.exists():
            for path in self.tmp.iterdir():
                if path.stat().st_mtime < cutoff:
                    path.unlink(missing_ok=True)
        return removed


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
