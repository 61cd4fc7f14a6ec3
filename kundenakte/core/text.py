"""Text folding and the user wildcard syntax shared by every filter (UI, API, import)."""

from __future__ import annotations

import unicodedata

_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ẞ": "ss"})
LIKE_ESCAPE = "\\"


def fold(text: str | None) -> str:
    """Lower-case, German umlauts spelled out, other accents dropped: "Müller" -> "mueller".

    Stored next to names so that filters are case- and umlaut-insensitive on every database
    without collations or functions on the column (which would defeat its index).
    """
    if not text:
        return ""
    lowered = text.casefold().translate(_FOLD)  # casefold turns ß into ss as well
    decomposed = unicodedata.normalize("NFKD", lowered)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip()


def wildcard_to_like(pattern: str) -> str:
    """Turn a user pattern with ``*`` wildcards into a LIKE pattern over folded text.

    A literal ``%`` or ``_`` typed by the user matches only itself. Without a ``*`` the pattern
    matches the whole value (as users of the peers' filter masks expect), so "doc" does not find
    "DOCHOUSE" but "doc*" does.
    """
    folded = fold(pattern)
    escaped = (
        folded.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")
    )
    return escaped.replace("*", "%")


def has_wildcard(pattern: str) -> bool:
    return "*" in pattern
