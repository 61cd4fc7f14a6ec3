"""Plain text from attachments, for the search index.

PDFs are parsed by pypdf in a child process with a wall-clock timeout and
memory and CPU limits, so a hostile or broken PDF can neither hang nor bloat
the caller. The child is long-lived (``python -m kundenakte.search.extract
--serve``): starting an interpreter and importing pypdf cost more than reading
a typical attachment, so one child reads file after file and is replaced when
it is killed (timeout, limit) or has read ``_FILES_PER_CHILD`` files. Pages are
streamed back as they are read; on a timeout the text read so far is kept.
Nothing here raises: unreadable input gives "".
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from .analysis import html_to_text

__all__ = ["extract_text"]

log = logging.getLogger(__name__)

_MEMORY_LIMIT = 1 << 30  # bytes of address space for the PDF child
_FILES_PER_CHILD = 500  # a fresh child now and then: nothing a parser leaks can pile up
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
    return _WORKER.extract(path, max_chars, timeout_s)


class _PdfChild:
    """The long-lived PDF reader of this process (one request at a time)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._pid = 0  # the parent's pid when the child was started: a forked worker starts its own
        self._files = 0

    def _child(self) -> subprocess.Popen[bytes]:
        if self._proc is not None and (self._pid != os.getpid() or self._proc.poll() is not None
                                       or self._files >= _FILES_PER_CHILD):
            self._stop()
        if self._proc is None:
            root = str(Path(__file__).resolve().parents[2])
            env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
            self._proc = subprocess.Popen([sys.executable, "-m", "kundenakte.search.extract", "--serve"],
                                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                          env=env, close_fds=True)
            self._pid = os.getpid()
            self._files = 0
        return self._proc

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if self._pid == os.getpid():
            try:
                proc.kill()
                proc.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                pass
        for stream in (proc.stdin, proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass

    def extract(self, path: Path, max_chars: int, timeout_s: float) -> str:
        with self._lock:
            deadline = time.monotonic() + timeout_s
            proc = self._child()
            assert proc.stdin is not None and proc.stdout is not None
            self._files += 1
            cpu_s = int(timeout_s) + 1
            try:
                proc.stdin.write(json.dumps({"path": str(path), "max_chars": max_chars, "cpu_s": cpu_s}).encode() + b"\n")
                proc.stdin.flush()
            except OSError:
                self._stop()
                return ""
            texts: list[bytes] = []
            buffer = b""
            fd = proc.stdout.fileno()
            while True:
                # Frames: b"T" + 8 digits of length + the page's text, then b"E" at the end of a file.
                while True:
                    if buffer[:1] == b"E":
                        return b"".join(texts).decode("utf-8", errors="replace")[:max_chars]
                    if buffer[:1] == b"T" and len(buffer) >= 9:
                        size = int(buffer[1:9])
                        if len(buffer) < 9 + size:
                            break
                        texts.append(buffer[9:9 + size])
                        buffer = buffer[9 + size:]
                        continue
                    break
                remaining = deadline - time.monotonic()
                ready = select.select([fd], [], [], remaining)[0] if remaining > 0 else []
                data = os.read(fd, 1 << 16) if ready else b""
                if not data:  # the deadline passed, or the child died (a limit): keep what was read
                    if remaining <= 0 or not ready:
                        log.warning("PDF text extraction timed out after %ss: %s", timeout_s, path)
                    self._stop()
                    return b"".join(texts).decode("utf-8", errors="replace")[:max_chars]
                buffer += data

    def close(self) -> None:
        with self._lock:
            self._stop()


_WORKER = _PdfChild()
atexit.register(_WORKER.close)


def _page_texts(path: str, max_chars: int) -> Iterator[str]:
    """The PDF's page texts in order, at most ``max_chars`` in all; nothing for an unreadable file."""
    try:
        from pypdf import PdfReader

        reader = PdfReader(path, strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            return  # needs a password we do not have
        written = 0
        for page in reader.pages:
            try:
                text = page.extract_text() or ""
            except Exception:
                continue  # one broken page does not spoil the others
            if not text.strip():
                continue
            chunk = (text.strip() + "\n")[: max_chars - written]
            yield chunk
            written += len(chunk)
            if written >= max_chars:
                break
    except Exception:  # encrypted without a usable password, damaged, not a PDF
        return


def _limit_memory() -> None:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (_MEMORY_LIMIT, _MEMORY_LIMIT))
    except (ImportError, ValueError, OSError):
        pass


def _limit_cpu(seconds: int) -> None:
    """CPU seconds for the next file: the limit counts the process's whole life, so it moves on per file."""
    try:
        import resource

        usage = resource.getrusage(resource.RUSAGE_SELF)
        soft = int(usage.ru_utime + usage.ru_stime) + seconds
        _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
    except (ImportError, ValueError, OSError):
        pass


def _serve() -> int:
    """Runs in the child: one JSON request per line on stdin, framed page texts on stdout."""
    _limit_memory()
    logging.disable(logging.CRITICAL)  # pypdf warns a lot about damaged files
    out = sys.stdout.buffer
    for line in sys.stdin.buffer:
        try:
            request = json.loads(line)
            path, max_chars, cpu_s = str(request["path"]), int(request["max_chars"]), int(request.get("cpu_s", 30))
        except (ValueError, KeyError, TypeError):
            out.write(b"E")
            out.flush()
            continue
        _limit_cpu(cpu_s)
        for chunk in _page_texts(path, max_chars):
            data = chunk.encode("utf-8", errors="replace")
            out.write(b"T%08d" % len(data) + data)
            out.flush()  # the parent keeps what it has if it kills us
        out.write(b"E")
        out.flush()
    return 0


def _child(path: str, max_chars: int, cpu_s: int) -> int:
    """One file, text to stdout (``python -m kundenakte.search.extract FILE [MAX_CHARS] [CPU_S]``)."""
    _limit_memory()
    _limit_cpu(cpu_s)
    logging.disable(logging.CRITICAL)
    out = sys.stdout.buffer
    for chunk in _page_texts(path, max_chars):
        out.write(chunk.encode("utf-8", errors="replace"))
        out.flush()
    return 0


if __name__ == "__main__":
    _args = sys.argv[1:]
    if _args[:1] == ["--serve"]:
        sys.exit(_serve())
    sys.exit(_child(_args[0], int(_args[1]) if len(_args) > 1 else 1_000_000, int(_args[2]) if len(_args) > 2 else 30))
