"""Sanitising of rich-text content (documents, templates) with nh3 on every save."""

from __future__ import annotations

import re

import nh3

ALLOWED_TAGS = {
    "p", "br", "strong", "b", "em", "i", "u", "s", "strike", "sub", "sup", "span", "div",
    "h1", "h2", "h3", "h4", "blockquote", "pre", "code", "ul", "ol", "li", "a", "img",
    "table", "thead", "tbody", "tr", "th", "td", "hr",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    # The editor (Quill 2) marks list items as bullet or numbered with data-list; without it every
    # saved bullet list would come back as a numbered one.
    "li": {"data-list"},
    "*": {"class"},
}
_LIST_KINDS = frozenset({"bullet", "ordered", "checked", "unchecked"})
# Quill writes its formatting as classes; nothing else may style the page.
_CLASS_RE = re.compile(r"^(ql-[a-z0-9-]+\s*)+$")
_SAFE_IMAGE_DATA = re.compile(r"^data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]+$")
_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_LINK_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
_URL_EDGES = "".join(chr(c) for c in range(0x21))  # C0 controls and space
_URL_DROPPED = str.maketrans("", "", "\t\n\r")


def browser_url(value: str) -> str | None:
    """The URL as a browser reads it, or None when it may leave the origin in disguise.

    Browsers strip leading/trailing controls and spaces, drop tabs and line breaks anywhere, and
    read a backslash like a slash: "/\\host/x", "/<tab>/host/x" and " //host" all mean
    "//host/x", a URL on another host. Such scheme-relative and backslash URLs are refused
    outright; so is any other control character.
    """
    url = value.strip(_URL_EDGES).translate(_URL_DROPPED)
    if "\\" in url or url.startswith("//") or any(ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        return None
    return url


def safe_link(value: str) -> str | None:
    """An ``<a href>`` that may stay: http(s), mailto, tel or a same-origin reference; no ``data:``."""
    url = browser_url(value)
    if url is None:
        return None
    match = _SCHEME_RE.match(url)
    if match and match.group(1).lower() not in _LINK_SCHEMES:
        return None
    return url


def safe_image_source(value: str) -> str | None:
    """An ``<img src>`` that may stay: our own absolute paths or inline raster images (never SVG)."""
    url = browser_url(value)
    if url is None:
        return None
    if url.startswith("/") or _SAFE_IMAGE_DATA.match(url):
        return url
    return None


def _attribute_filter(tag: str, attr: str, value: str) -> str | None:
    if attr == "class":
        return value if _CLASS_RE.match(value) else None
    if tag == "img" and attr == "src":
        return safe_image_source(value)
    if tag == "a" and attr == "href":
        return safe_link(value)
    if attr == "data-list":
        return value if value in _LIST_KINDS else None
    return value


def sanitize_html(html: str | None) -> str:
    """Keep formatting, links and raster images; drop scripts, handlers, styles and unknown tags."""
    if not html:
        return ""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_attribute_filter,
        url_schemes={"http", "https", "mailto", "tel", "data"},
        clean_content_tags={"script", "style"},
        link_rel="noopener noreferrer",
    )


def html_to_text(html: str | None) -> str:
    """Plain text of sanitised HTML, for the index and plain-text mail parts."""
    if not html:
        return ""
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</li>|</h[1-6]>|</tr>", "\n", html)
    text = nh3.clean(text, tags=set())
    import html as html_module

    text = html_module.unescape(text)
    return re.sub(r"[ \t]+", " ", re.sub(r"\n\s*\n+", "\n\n", text)).strip()
