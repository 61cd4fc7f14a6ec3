"""Plain text from attachments, for the search index.

PDFs are parsed by pypdf in a child process (``python -m
kundenakte.search.extract FILE``) with a wall-clock timeout and memory and
CPU limits, so a hostile or broken PDF can neither hang nor bloat the
caller. Pages are streamed to stdout as they are read; on a timeout the
text read so far is kept. Nothing here raises: unreadable input gives "".
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

from .analysis import html_to_text

__all__ = ["extract_text"]

log = logging.getLogger(__name__)

_MEMORY_LIMIT = 1 << 30  # bytes of address space for the PDF child
_HTML = {"text/html", "application/xhtml+xml"}


def extract_text(path: Path, mime_type: str, *, max_chars: int = 1_000_000, timeout_s: float = 10) -> str:
    """Searchable text of the file at ``path``; "" if there is none or it cannot be read."""
    mime = (mime_type or "").split(";")[0].strip().lower()
    try:
        if mime == "application/pdf":
            return _pdf_in_child(Path(path), max_chars, timeout_s)
        if mime in _HTML:
            return html_to_text(_read_text(Path(path), max_chars * 4))[:max_chars]
        if mime.startswith("text/"):
            return _read_text(Path(path), max_chars * 4)[:max_chars]
    except Exception:  # never let one attachment break indexing
        log.warning("text extraction failed for %s (%s)", path, mime, exc_info=True)
    return ""


def _read_text(path: Path, max_bytes: int) -> str:
    with open(path, "rb") as fh:
        data = fh.read(max_bytes)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by max_bytes is still UTF-8.
        if exc.start >= len(data) - 3 and len(data) == max_bytes:
            return data[:exc.start].decode("utf-8-sig", errors="replace")
    return data.decode("cp1252", errors="replace")


def _pdf_in_child(path: Path, max_chars: int, timeout_s: float) -> str:
    if not path.is_file():
        return ""
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
    cmd = [sys.executable, "-m", "kundenakte.search.extract", str(path), str(max_chars), str(int(timeout_s) + 1)]
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=timeout_s, env=env, stdin=subprocess.DEVNULL)
        out = done.stdout
    except subprocess.TimeoutExpired as exc:  # run() has killed the child
        log.warning("PDF text extraction timed out after %ss: %s", timeout_s, path)
        out = exc.stdout or b""
    return out.decode("utf-8", errors="replace")[:max_chars]


def _child(path: str, max_chars: int, cpu_s: int) -> int:
    """Runs in the child process: write the PDF's text to stdout page by page."""
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (_MEMORY_LIMIT, _MEMORY_LIMIT))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s))
    except (ImportError, ValueError, OSError):
        pass
    logging.disable(logging.CRITICAL)  # pypdf warns a lot about damaged files
    out = sys.stdout.buffer
    try:
        from pypdf import PdfReader

        reader = PdfReader(path, strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            return 0  # needs a password we do not have
        written = 0
        for page in reader.pages:
            try:
                text = page.extract_text() or ""
            except Exception:
                continue  # one broken page does not spoil the others
            if not text.strip():
                continue
            chunk = (text.strip() + "\n")[: max_chars - written]
            out.write(chunk.encode("utf-8", errors="replace"))
            out.flush()  # keep what we have if the parent kills us
            written += len(chunk)
            if written >= max_chars:
                break
    except Exception:  # encrypted without a usable password, damaged, not a PDF
        return 0
    return 0


if __name__ == "__main__":
    _args = sys.argv[1:]
    sys.exit(_child(_args[0], int(_args[1]) if len(_args) > 1 else 1_000_000, int(_args[2]) if len(_args) > 2 else 30))
