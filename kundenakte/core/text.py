"""Text folding and the user wildcard syntax shared by every filter (UI, API, import)."""

from __future__ import annotations

import hashlib
import re
import unicodedata

_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ẞ": "ss"})
LIKE_ESCAPE = "\\"
# As in the search's fold (search/analysis.py): "ue" after "q" is no umlaut (Quelle).
_DIGRAPH_RE = re.compile(r"(?<!q)ue|ae|oe")
_NAME_WORD_RE = re.compile(r"[^\W_]+")
NAME_KEY_LENGTH = 200


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


def name_key(text: str | None) -> str:
    """The identity of a person's name: two names with one key look alike and may not coexist.

    Built on :func:`fold` (case, umlauts spelled out, accents dropped), then, like the search's
    fold, the spelled-out umlauts collapse (ae→a, oe→o, ue→u except after q), invisible format
    characters (zero-width spaces, direction marks, soft hyphens) go, and every run of
    punctuation and white space is one space. So "Lea Müller", "lea mueller", "LEA MULLER",
    "Léa  Müller." and "Lea-Müller" are one name; "Müller, Lea" (other order) is another.

    A key longer than ``NAME_KEY_LENGTH`` (only possible with characters that expand when
    normalised) is replaced by ``#`` and its SHA-256, so it always fits its indexed column.
    """
    visible = "".join(c for c in (text or "") if unicodedata.category(c) != "Cf")
    folded = _DIGRAPH_RE.sub(lambda m: m.group(0)[0], fold(visible))
    key = " ".join(_NAME_WORD_RE.findall(folded))
    if len(key) > NAME_KEY_LENGTH:
        return "#" + hashlib.sha256(key.encode("utf-8")).hexdigest()
    return key


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
