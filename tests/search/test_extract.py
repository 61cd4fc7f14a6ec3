"""Attachment text extraction, on the real PDFs of shared/testdata/pdf."""

from __future__ import annotations

from pathlib import Path

import pytest

from kundenakte.search.extract import extract_text

PDF_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "testdata" / "pdf"
needs_pdfs = pytest.mark.skipif(not PDF_DIR.is_dir(), reason=f"test PDFs not found at {PDF_DIR}")


@needs_pdfs
@pytest.mark.parametrize(("name", "expected"), [
    ("crazyones.pdf", ["The Crazy Ones", "October 14, 1998"]),
    ("example.pdf", ["Example document", "Beautiful is better than ugly"]),
    ("multilang.pdf", ["Hello World", "مرحبا بالعالم", "Привет, мир"]),
    ("pdflatex-outline.pdf", ["Contents", "Foo", "Bar"]),
    ("issue-297.pdf", ["test example"]),
    ("two-different-pages.pdf", ["1", "2"]),
])
def test_pdf_text(name, expected):
    text = extract_text(PDF_DIR / name, "application/pdf")
    for fragment in expected:
        assert fragment in text


@needs_pdfs
def test_pdf_pages_in_order():
    text = extract_text(PDF_DIR / "two-different-pages.pdf", "application/pdf")
    assert text.split() == ["1", "2"]


@needs_pdfs
@pytest.mark.parametrize("name", ["encrypted-file.pdf", "libreoffice-writer-password.pdf", "git.pdf"])
def test_pdfs_without_readable_text_give_empty_string(name):
    assert extract_text(PDF_DIR / name, "application/pdf") == ""


@needs_pdfs
def test_image_pdf_gives_only_its_little_text():
    assert set(extract_text(PDF_DIR / "imagemagick-images.pdf", "application/pdf").split()) == {"Background"}


@needs_pdfs
def test_pdf_max_chars_and_timeout():
    text = extract_text(PDF_DIR / "example.pdf", "application/pdf", max_chars=20)
    assert text == "Example document\nBea"[:20] and len(text) == 20
    # A deadline the child cannot meet: no exception, at most partial text.
    assert isinstance(extract_text(PDF_DIR / "example.pdf", "application/pdf", timeout_s=0.001), str)


def test_broken_and_missing_files(tmp_path: Path):
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(b"%PDF-1.4\n" + b"\x00garbage" * 1000)
    assert extract_text(junk, "application/pdf") == ""
    assert extract_text(tmp_path / "missing.pdf", "application/pdf") == ""
    assert extract_text(tmp_path / "missing.txt", "text/plain") == ""


def test_plain_text_charsets(tmp_path: Path):
    utf8 = tmp_path / "a.txt"
    utf8.write_text("Grüße aus Köln – 5 €", encoding="utf-8")
    assert extract_text(utf8, "text/plain; charset=utf-8") == "Grüße aus Köln – 5 €"
    legacy = tmp_path / "b.txt"
    legacy.write_bytes("Grüße aus Köln – 5 €".encode("cp1252"))
    assert extract_text(legacy, "text/plain") == "Grüße aus Köln – 5 €"
    assert extract_text(utf8, "text/plain", max_chars=5) == "Grüße"


def test_html_is_stripped(tmp_path: Path):
    page = tmp_path / "mail.html"
    page.write_text("<html><head><title>x</title><style>p{}</style></head><body><p>Sehr geehrte "
                    "<b>Frau M&uuml;ller</b>,</p><script>alert(1)</script><p>anbei</p></body></html>")
    text = extract_text(page, "text/html")
    assert "Sehr geehrte Frau Müller," in text and "anbei" in text
    assert "alert" not in text and "<" not in text


def test_unknown_types_give_empty_string(tmp_path: Path):
    blob = tmp_path / "x.bin"
    blob.write_bytes(b"\x00\x01")
    assert extract_text(blob, "application/octet-stream") == ""
    assert extract_text(blob, "") == ""


@needs_pdfs
def test_one_child_reads_many_files_and_a_killed_one_is_replaced():
    from kundenakte.search import extract

    assert "The Crazy Ones" in extract_text(PDF_DIR / "crazyones.pdf", "application/pdf")
    first = extract._WORKER._proc
    assert first is not None
    assert "Example document" in extract_text(PDF_DIR / "example.pdf", "application/pdf")
    assert extract._WORKER._proc is first  # no interpreter start per file
    first.kill()  # what the memory or CPU limit does to a child reading a hostile file
    first.wait(5)
    assert "Example document" in extract_text(PDF_DIR / "example.pdf", "application/pdf")
    assert extract._WORKER._proc is not first
    # A timeout kills the child; the next file gets a new one and its full text.
    extract_text(PDF_DIR / "multilang.pdf", "application/pdf", timeout_s=0.0001)
    assert "Привет, мир" in extract_text(PDF_DIR / "multilang.pdf", "application/pdf")
