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
    "*": {"class"},
}
# Quill writes its formatting as classes; nothing else may style the page.
_CLASS_RE = re.compile(r"^(ql-[a-z0-9-]+\s*)+$")
_SAFE_IMAGE_DATA = re.compile(r"^data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]+$")


def _attribute_filter(tag: str, attr: str, value: str) -> str | None:
    if attr == "class":
        return value if _CLASS_RE.match(value) else None
    if tag == "img" and attr == "src":
        # Inline images: our own attachment URLs or raster data URLs; never SVG (it can script).
        if value.startswith("/") and not value.startswith("//"):
            return value
        return value if _SAFE_IMAGE_DATA.match(value) else None
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
