"""How a letter or e-mail is put together, and how its text keeps its structure on the way out.

Composition (one place, documented in docs/plugins.md → communication): Anrede (salutation) +
the template's body + Grußformel (closing) + signature, each added once; the PS/Anhänge field
follows when the mail is built. A body that starts with its own salutation (the placeholder
``{{ kontakt.briefanrede }}`` or a line such as "Sehr geehrte …", "Hallo …", "Dear …") gets no
automatic one; a body with its own closing gets no automatic closing; a body that uses
``{{ absender.signatur }}`` gets no automatic signature; and a signature that starts with the
sender's name is not preceded by the name a second time.

Structure: the document editor (Quill) keeps text as *lines* — one ``<p>`` per line, an empty
``<p><br></p>`` for a blank line, ``<ol><li data-list="bullet">`` for bullets. Templates are
written in a plain text area (paragraphs separated by blank lines, "- " / "• " / "* " bullets,
or HTML paragraphs). :func:`to_editor_html` turns either into the editor's line model, so what the
draft shows is what the template says, and :func:`to_mail_html` turns the editor's lines back
into paragraphs (``<p>line<br>line</p>``) and real ``<ul>``/``<ol>`` lists for the message, whose
text/plain alternative (mime.html_to_text) then has the same paragraphs, line breaks and lists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import escape
from html.parser import HTMLParser

__all__ = [
    "AUTOMATIC_PARTS_HELP",
    "compose",
    "has_own_closing",
    "has_own_salutation",
    "to_editor_html",
    "to_mail_html",
]

AUTOMATIC_PARTS_HELP = (
    "Automatisch ergänzt werden: die Briefanrede vor dem Text (nicht, wenn der Text selbst mit einer "
    "Anrede beginnt, z. B. mit {{ kontakt.briefanrede }} oder „Sehr geehrte …“/„Hallo …“), die Grußformel "
    "nach dem Text (nicht, wenn der Text selbst eine enthält) und darunter Ihr Name mit Ihrer Signatur "
    "(nicht, wenn der Text {{ absender.signatur }} verwendet; beginnt die Signatur mit Ihrem Namen, "
    "steht er nur einmal da). Anhänge / PS folgen nach einer Trennlinie. Leerzeilen trennen Absätze, "
    "Zeilen mit „- “, „• “ oder „* “ am Anfang werden zu Aufzählungen."
)

_BULLET = re.compile(r"^\s*(?:[-•*])\s+(.*)$")
_SALUTATION = re.compile(
    r"^\s*(?:sehr\s+geehrte[rs]?|hallo|liebe[rs]?|guten\s+(?:tag|morgen|abend)|moin|servus|grüß\s+gott|"
    r"dear|hello|hi)\b",
    re.IGNORECASE,
)
_CLOSING = re.compile(
    r"^\s*(?:mit\s+(?:den\s+)?(?:freundlichen|besten|herzlichen|vielen)\s+grüßen|(?:viele|beste|herzliche|liebe|"
    r"freundliche)\s+grüße|mit\s+freundlichem\s+gruß|kind\s+regards|best\s+regards|(?:yours\s+)?sincerely|"
    r"yours\s+faithfully|regards)\b",
    re.IGNORECASE,
)
_BLOCK_TAGS = frozenset({"p", "div", "ul", "ol", "h1", "h2", "h3", "h4", "blockquote", "pre", "table", "hr"})
_VOID = frozenset({"br", "img", "hr"})
_EMPTY_LINE = "<p><br></p>"


# -- a small tree of sanitised HTML ---------------------------------------------------------------


@dataclass
class _Node:
    tag: str
    attrs: list[tuple[str, str | None]] = field(default_factory=list)
    children: list[_Node | str] = field(default_factory=list)

    def attr(self, name: str) -> str | None:
        return next((v for k, v in self.attrs if k == name), None)


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.root = _Node("")
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = _Node(tag, attrs)
        self.stack[-1].children.append(node)
        if tag not in _VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(_Node(tag, attrs))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, 0, -1):
            if self.stack[index].tag == tag:
                del self.stack[index:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)

    def handle_entityref(self, name: str) -> None:
        self.stack[-1].children.append(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self.stack[-1].children.append(f"&#{name};")


def _parse(html: str) -> _Node:
    builder = _TreeBuilder()
    builder.feed(html or "")
    builder.close()
    return builder.root


def _serialize(node: _Node | str) -> str:
    """Back to HTML; text is already escaped (charrefs were kept as written)."""
    if isinstance(node, str):
        return node
    if node.tag == "span" and "ql-ui" in (node.attr("class") or "").split():
        return ""  # the editor's own bullet widget, not text
    attrs = "".join(f' {k}="{escape(v or "", quote=True)}"' for k, v in node.attrs)
    if node.tag in _VOID:
        return f"<{node.tag}{attrs}>"
    inner = "".join(_serialize(c) for c in node.children)
    return f"<{node.tag}{attrs}>{inner}</{node.tag}>"


def _inner(node: _Node) -> str:
    return "".join(_serialize(c) for c in node.children)


def _text_of(html: str) -> str:
    from html import unescape

    return unescape(re.sub(r"<[^>]*>", "", html))


def _is_blank(html: str) -> bool:
    return not _text_of(html).strip() and "<img" not in html


# -- blocks: paragraphs (lists of lines), lists, anything else -------------------------------------


@dataclass
class _Block:
    kind: str  # "para", "list" or "raw"
    lines: list[str] = field(default_factory=list)  # para: inner HTML per line; list: per item
    ordered: bool = False
    html: str = ""  # raw
    cls: str | None = None


def _split_lines(html: str) -> list[str]:
    return re.split(r"<br\s*/?>", html)


def _text_blocks(text: str) -> list[_Block]:
    """Plain-text semantics: blank lines separate paragraphs, bullet lines form lists."""
    blocks: list[_Block] = []
    current: _Block | None = None
    # A placeholder's own line breaks arrive as "<br>" plus newline (budget.html_finalize): one break.
    text = re.sub(r"<br\s*/?>\r?\n", "\n", text).replace("\r\n", "\n").replace("\r", "\n")
    for raw_line in _split_lines(text.replace("\n", "<br>")):
        line = raw_line.strip()
        if _is_blank(line):
            current = None
            blocks.append(_Block("gap"))
            continue
        bullet = _BULLET.match(_text_of(line))
        if bullet is not None:
            item = re.sub(r"^\s*(?:[-•*])\s+", "", line, count=1)
            if current is None or current.kind != "list":
                current = _Block("list")
                blocks.append(current)
            current.lines.append(item)
            continue
        if current is None or current.kind != "para":
            current = _Block("para")
            blocks.append(current)
        current.lines.append(line)
    return _drop_gaps(blocks)


def _drop_gaps(blocks: list[_Block]) -> list[_Block]:
    return [b for b in blocks if b.kind != "gap"]


def _blocks(html: str) -> list[_Block]:
    """The blocks of a template body or a stored document text."""
    root = _parse(html)
    if not any(isinstance(c, _Node) and c.tag in _BLOCK_TAGS for c in root.children):
        return _text_blocks(_inner(root))
    blocks: list[_Block] = []
    loose: list[str] = []

    def flush() -> None:
        if loose:
            blocks.extend(_text_blocks("".join(loose)))
            loose.clear()

    for child in root.children:
        if isinstance(child, str) or child.tag not in _BLOCK_TAGS:
            loose.append(_serialize(child))
            continue
        flush()
        if child.tag == "p":
            lines = [line.strip() for line in _split_lines(_inner(child))]
            if all(_is_blank(line) for line in lines):
                blocks.append(_Block("gap"))
            else:
                blocks.append(_Block("para", lines=lines, cls=child.attr("class")))
        elif child.tag in ("ul", "ol"):
            blocks.extend(_list_blocks(child))
        else:
            blocks.append(_Block("raw", html=_serialize(child)))
    flush()
    return blocks


def _list_blocks(node: _Node) -> list[_Block]:
    """A list, split where Quill's items change between bullets and numbers."""
    result: list[_Block] = []
    for item in node.children:
        if not isinstance(item, _Node) or item.tag != "li":
            continue
        kind = item.attr("data-list")
        ordered = kind == "ordered" if kind else node.tag == "ol"
        if not result or result[-1].ordered != ordered:
            result.append(_Block("list", ordered=ordered))
        result[-1].lines.append(_inner(item).strip())
    return result


# -- the two renditions ------------------------------------------------------------------------------


def _editor(blocks: list[_Block]) -> str:
    """Quill's line model; a blank line between blocks. Gaps only mark paragraph ends here."""
    out: list[str] = []
    for block in _drop_gaps(blocks):
        if out:
            out.append(_EMPTY_LINE)
        if block.kind == "para":
            out.extend(f"<p>{line}</p>" if line else _EMPTY_LINE for line in block.lines)
        elif block.kind == "list":
            kind = "ordered" if block.ordered else "bullet"
            items = "".join(f'<li data-list="{kind}">{line}</li>' for line in block.lines)
            out.append(f"<ol>{items}</ol>")
        else:
            out.append(block.html)
    return "".join(out)


def to_editor_html(html: str) -> str:
    """A template body (plain text or HTML) in the editor's line model: paragraphs stay paragraphs,
    line breaks stay lines, bullet lines become a bulleted list."""
    return _editor(_blocks(html))


def to_mail_html(html: str) -> str:
    """The editor's lines as e-mail HTML: consecutive lines one ``<p>`` with ``<br>``, blank lines
    between paragraphs, bullets as ``<ul>``, numbers as ``<ol>``."""
    paragraphs: list[_Block] = []
    open_para: _Block | None = None  # the paragraph the next line joins (until a blank line)
    for block in _blocks(html):
        if block.kind == "gap":
            open_para = None
        elif block.kind == "para" and open_para is not None and open_para.cls == block.cls:
            open_para.lines.extend(block.lines)
        else:
            block = _Block(block.kind, list(block.lines), block.ordered, block.html, block.cls)
            paragraphs.append(block)
            open_para = block if block.kind == "para" else None
    out: list[str] = []
    for block in paragraphs:
        if block.kind == "para":
            cls = f' class="{escape(block.cls, quote=True)}"' if block.cls else ""
            out.append(f"<p{cls}>" + "<br>".join(block.lines) + "</p>")
        elif block.kind == "list":
            tag = "ol" if block.ordered else "ul"
            out.append(f"<{tag}>" + "".join(f"<li>{line}</li>" for line in block.lines) + f"</{tag}>")
        else:
            out.append(block.html)
    return "".join(out)


# -- composition ------------------------------------------------------------------------------------


def _first_line(blocks: list[_Block]) -> str:
    for block in blocks:
        if block.kind == "para" and block.lines:
            return _text_of(block.lines[0]).strip()
        if block.kind != "gap":
            return ""
    return ""


def has_own_salutation(body_html: str, salutation: str = "") -> bool:
    """Whether the (rendered) body starts with a salutation of its own."""
    first = _first_line(_blocks(body_html))
    if not first:
        return False
    return bool(_SALUTATION.match(first)) or (bool(salutation) and first.rstrip(",") == salutation.rstrip(","))


def has_own_closing(body_html: str, closing: str = "") -> bool:
    """Whether the (rendered) body contains a closing formula line of its own."""
    for block in _blocks(body_html):
        if block.kind != "para":
            continue
        for line in block.lines:
            text = _text_of(line).strip()
            if _CLOSING.match(text) or (closing and text.rstrip(",") == closing.rstrip(",")):
                return True
    return False


def _fix_salutation_comma(blocks: list[_Block]) -> None:
    # "{{ kontakt.briefanrede }}," — the placeholder already ends with a comma.
    for block in blocks:
        if block.kind == "para" and block.lines:
            block.lines[0] = re.sub(r",(\s*,)+(\s*)$", r",\2", block.lines[0])
            return


def compose(
    *,
    salutation: str,
    body_html: str,
    closing: str,
    sender_name: str,
    signature: str,
    body_has_signature: bool = False,
) -> str:
    """The draft's text in the editor's line model: Anrede + body + Grußformel + name/signature.

    ``body_html`` is the rendered template body; ``salutation``, ``closing``, ``sender_name`` and
    ``signature`` are plain text (escaped here). ``body_has_signature``: the template itself places
    ``{{ absender.signatur }}``.
    """
    body = _drop_gaps(_blocks(body_html))
    blocks: list[_Block] = []
    if has_own_salutation(body_html, salutation):
        _fix_salutation_comma(body)
    elif salutation.strip():
        blocks.append(_Block("para", lines=[escape(salutation.strip())]))
    blocks.extend(body)
    if closing.strip() and not has_own_closing(body_html, closing):
        blocks.append(_Block("para", lines=[escape(closing.strip())]))
    if not body_has_signature:
        lines = [line.rstrip() for line in signature.strip().splitlines()]
        name = sender_name.strip()
        starts_with_name = bool(name) and bool(lines) and lines[0].strip().casefold() == name.casefold()
        signed = ([] if starts_with_name or not name else [name]) + lines
        # Blank lines inside a signature separate its paragraphs, as in the body.
        current: list[str] = []
        for line in signed + [""]:
            if line.strip():
                current.append(escape(line.strip()))
            elif current:
                blocks.append(_Block("para", lines=current))
                current = []
    return _editor(blocks)
