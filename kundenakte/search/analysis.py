"""German text analysis shared by both search backends.

Both backends must agree on what a "word" is, so normalisation lives here and
nowhere else: the Whoosh backend indexes the output of :func:`analyze`
directly, the PostgreSQL backend feeds :func:`fold_for_tsvector` output to
``to_tsvector('german', ...)`` and the query side goes through the same
functions.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Sequence
from html.parser import HTMLParser

from whoosh.lang import stopwords_for_language
from whoosh.lang.snowball.german import GermanStemmer

__all__ = [
    "MAX_PREFIX",
    "MIN_PREFIX",
    "analyze",
    "bigrams",
    "edge_ngrams",
    "fold",
    "fold_for_tsvector",
    "fold_umlauts",
    "highlight",
    "highlight_best",
    "html_to_text",
    "normalize_word",
    "tokenize",
]

MIN_PREFIX = 2
MAX_PREFIX = 15

_WORD_RE = re.compile(r"\w+", re.UNICODE)
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss", "ẞ": "SS"})
# "ue" after "q" is never an umlaut (Quelle, Frequenz): keep it.
_DIGRAPH_RE = re.compile(r"(?<!q)ue|ae|oe")
_DIGRAPH_MAP = {"ae": "a", "oe": "o", "ue": "u"}


def fold_umlauts(text: str) -> str:
    """Spell umlauts and ß the way a keyboard without them does (ä→ae, ß→ss)."""
    return text.translate(_UMLAUTS)


def fold(word: str) -> str:
    """Canonical, case-free spelling of a word.

    Umlauts are first transliterated (ä→ae) and the transliteration is then
    collapsed (ae→a), so "Müller", "Mueller" and "Muller" all become
    "muller". This is the snowball "german2" idea, and since the German
    stemmer strips umlaut dots anyway nothing is lost for stemming.
    """
    w = fold_umlauts(word.casefold())
    if "e" in w:
        w = _DIGRAPH_RE.sub(lambda m: _DIGRAPH_MAP[m.group(0)], w)
    return w


def fold_for_tsvector(text: str) -> str:
    """The folded words of ``text``, space separated, so PostgreSQL sees what Whoosh sees.

    Punctuation goes too: PostgreSQL's parser would otherwise read
    "RE-2024-0815" as a hyphenated word and a negative number.
    """
    return " ".join(fold(w) for w in _WORD_RE.findall(text))


_stem: Callable[[str], str] = GermanStemmer().stem
_STOP = frozenset(fold(w) for w in stopwords_for_language("de"))
# Word -> (stem, folded) or None for a stop word. Bounded so a hostile corpus
# of unique tokens cannot grow it without limit.
_CACHE: dict[str, tuple[str, str] | None] = {}
_CACHE_MAX = 200_000


def normalize_word(word: str) -> tuple[str, str] | None:
    """Return ``(stem, folded)`` for one raw word, or None for a stop word."""
    hit = _CACHE.get(word, False)
    if hit is not False:
        return hit  # type: ignore[return-value]
    folded = fold(word)
    result = None if folded in _STOP else (_stem(folded), folded)
    if len(_CACHE) >= _CACHE_MAX:
        _CACHE.clear()
    _CACHE[word] = result
    return result


def tokenize(text: str) -> list[str]:
    """Raw words of ``text`` (no normalisation)."""
    return _WORD_RE.findall(text)


def analyze(text: str) -> list[tuple[str, str]]:
    """``(stem, folded)`` for every non-stop word of ``text``, in order."""
    out = []
    for word in _WORD_RE.findall(text):
        tok = normalize_word(word)
        if tok is not None:
            out.append(tok)
    return out


def bigrams(stems: Sequence[str]) -> Iterable[str]:
    """Adjacent stem pairs, the phrase index of the Whoosh backend."""
    return (f"{a}_{b}" for a, b in zip(stems, stems[1:], strict=False))


def edge_ngrams(folded: Iterable[str], into: set[str] | None = None) -> set[str]:
    """Leading 2..15 character slices of each word; longer words also whole.

    A prefix query then becomes one term lookup instead of an expansion over
    thousands of dictionary entries.
    """
    grams = set() if into is None else into
    cache = _GRAM_CACHE
    for w in folded:
        g = cache.get(w)
        if g is None:
            n = len(w)
            g = tuple(w[:i] for i in range(MIN_PREFIX, min(n, MAX_PREFIX) + 1))
            if n > MAX_PREFIX:
                g += (w,)
            if len(cache) >= _CACHE_MAX:
                cache.clear()
            cache[w] = g
        grams.update(g)
    return grams


_GRAM_CACHE: dict[str, tuple[str, ...]] = {}


class _TextExtractor(HTMLParser):
    _SKIP = {"script", "style", "head", "title", "template", "noscript"}
    _BLOCK = {"p", "div", "br", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "table", "section", "article",
              "blockquote", "pre", "hr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skip += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skip:
            self._skip -= 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Visible text of an HTML fragment; block elements become line breaks."""
    parser = _TextExtractor()
    try:
        parser.feed(markup)
        parser.close()
    except Exception:  # html.parser is lenient, but never let markup break indexing
        return re.sub(r"<[^>]*>", " ", markup)
    text = "".join(parser.parts)
    text = re.sub(r"[ \t\r\f\v]+", " ", text)
    return re.sub(r"\s*\n\s*", "\n", text).strip()


def highlight_best(texts: Sequence[str], stems: Iterable[str], prefixes: Iterable[str] = ()) -> str:
    """Snippet of the first of ``texts`` that contains a match (else of the first non-empty)."""
    stems, prefixes = set(stems), tuple(prefixes)
    texts = [t for t in texts if t]
    for t in texts:
        snippet = highlight(t, stems, prefixes)
        if "<mark>" in snippet:
            return snippet
    return highlight(texts[0], (), ()) if texts else ""


def highlight(
    text: str,
    stems: Iterable[str],
    prefixes: Iterable[str] = (),
    *,
    width: int = 240,
    max_fragments: int = 3,
) -> str:
    """HTML snippet of ``text`` with matched words wrapped in ``<mark>``.

    Everything except the ``<mark>`` tags is escaped, so stored content can
    never inject markup into a result page.
    """
    stems = set(stems)
    prefixes = tuple(prefixes)
    spans: list[tuple[int, int]] = []
    budget = max_fragments * width * 2  # later matches cannot enter the snippet anyway
    for m in _WORD_RE.finditer(text):
        tok = normalize_word(m.group(0))
        if tok is None:
            continue
        if tok[0] in stems or (prefixes and tok[1].startswith(prefixes)):
            spans.append(m.span())
            if m.start() > spans[0][0] + budget:
                break
    if not spans:
        snippet = text[:width]
        return html.escape(snippet) + ("…" if len(text) > width else "")
    # Windows around the first matches, merged when they overlap.
    half = width // 2
    windows: list[list[int]] = []
    for start, end in spans:
        lo, hi = max(0, start - half // 2), min(len(text), end + half)
        if windows and lo <= windows[-1][1]:
            windows[-1][1] = max(windows[-1][1], hi)
        else:
            if len(windows) == max_fragments:
                break
            windows.append([lo, hi])
    out: list[str] = []
    for lo, hi in windows:
        lo, hi = _snap(text, lo, hi)
        pos = lo
        frag: list[str] = ["…" if lo > 0 else ""]
        for start, end in spans:
            if start < lo or end > hi:
                continue
            frag.append(html.escape(text[pos:start]))
            frag.append("<mark>" + html.escape(text[start:end]) + "</mark>")
            pos = end
        frag.append(html.escape(text[pos:hi]))
        frag.append("…" if hi < len(text) else "")
        out.append("".join(frag))
    return " ".join(out)


def _snap(text: str, lo: int, hi: int) -> tuple[int, int]:
    """Move window edges to whitespace so words are not cut in half."""
    if lo > 0:
        sp = text.find(" ", lo, lo + 20)
        lo = sp + 1 if sp != -1 else lo
    if hi < len(text):
        sp = text.rfind(" ", hi - 20, hi)
        hi = sp if sp != -1 else hi
    return lo, hi
