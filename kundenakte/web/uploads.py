"""Form uploads that survive a re-rendered form: stored at once, carried as signed tokens.

When a document form comes back with errors, its files are already in the content-addressed store;
the page carries one signed token per file (sha256, name, type, size, uploader), so the user does
not upload again. A blob never committed to a row is removed by ``kundenakte storage gc``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.exceptions import RequestEntityTooLarge

from kundenakte.core.attachments import clean_filename
from kundenakte.core.formatting import format_decimal, round_money
from kundenakte.core.storage import StoredBlob, UploadTooLarge
from kundenakte.web.context import current_ka
from kundenakte.web.formats import current_locale

SALT = "kundenakte.document-upload"


class FileTooLarge(RequestEntityTooLarge):
    """One file of a parsed form is over the storage limit: a 413 that names the file.

    The rest of the form was received, so a view that catches it can answer its form again with
    the error at the file field and everything else kept; one that does not answers the 413 page.
    """

    def __init__(self, filename: str, limit_bytes: int) -> None:
        super().__init__()
        self.filename = filename
        self.limit_bytes = limit_bytes


def limit_mb(limit_bytes: int = 0) -> str:
    """The upload limit in MB for messages: the store's when known, else the setting's."""
    if limit_bytes <= 0:
        return str(current_ka().settings.max_upload_mb)
    mb = Decimal(limit_bytes) / (1024 * 1024)
    if mb >= 10 or mb == mb.to_integral_value():
        return format_decimal(mb, current_locale(), places=0)
    # Two places at most, without trailing zeros: 100,000 bytes are "0,1" MB (German), "0.1" (English).
    return format_decimal(round_money(mb).normalize(), current_locale())


@dataclass(frozen=True)
class PendingUpload:
    sha256: str
    filename: str
    mime_type: str
    size: int
    token: str = ""

    @property
    def blob(self) -> StoredBlob:
        return StoredBlob(sha256=self.sha256, size=self.size, mime_type=self.mime_type, created=False)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt=SALT)  # type: ignore[arg-type]


def sign(upload: PendingUpload, user_id: int | None) -> str:
    return _serializer().dumps(
        {"s": upload.sha256, "f": upload.filename, "m": upload.mime_type, "z": upload.size, "u": user_id}
    )


def verify(token: str, user_id: int | None) -> PendingUpload | None:
    """The upload a token names, or None when it is forged, tampered with or someone else's."""
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("u") != user_id:
        return None
    try:
        return PendingUpload(str(data["s"]), str(data["f"]), str(data["m"]), int(data["z"]), token)
    except (KeyError, TypeError, ValueError):
        return None


def receive(user_id: int | None, *, field: str = "attachments", token_field: str = "upload_token") -> list[PendingUpload]:
    """Carried tokens plus the files of this request, stored now; a file too large → FileTooLarge (a 413), nothing left behind."""
    pending: list[PendingUpload] = []
    seen: set[tuple[str, str]] = set()
    for token in request.form.getlist(token_field):
        upload = verify(token, user_id)
        if upload is not None and (upload.sha256, upload.filename) not in seen:
            seen.add((upload.sha256, upload.filename))
            pending.append(upload)
    store = current_ka().storage
    created: list[str] = []
    name = ""
    try:
        for part in request.files.getlist(field):
            if part is None or not part.filename:
                continue  # the empty part a browser sends for "no file chosen"
            name = clean_filename(part.filename)
            # No session: the blob must outlive this request's rollback when the form has errors.
            blob = store.put(part.stream, filename=name)
            if blob.created:
                created.append(blob.sha256)
            upload = PendingUpload(blob.sha256, name, blob.mime_type, blob.size)
            upload = PendingUpload(upload.sha256, name, blob.mime_type, blob.size, sign(upload, user_id))
            if (upload.sha256, upload.filename) not in seen:
                seen.add((upload.sha256, upload.filename))
                pending.append(upload)
    except UploadTooLarge as exc:
        for sha in created:
            store.remove_if_unreferenced(sha)
        raise FileTooLarge(name, exc.limit) from None
    return pending

