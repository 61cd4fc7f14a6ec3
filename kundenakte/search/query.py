"""User query syntax, shared by both backends.

Syntax: words are ANDed, ``"a phrase"``, ``-exclude`` (or ``NOT``), ``OR``
(binds tighter than the implicit AND), ``(groups)``, ``prefix*`` and field
filters such as ``typ:email``, ``ordner:"Schriftverkehr 2024"``,
``status:offen``, ``titel:Vertrag``, ``firma:Müller``, ``kontakt:…``.

:func:`parse` returns a small tree whose words are already analysed (stemmed,
folded), so a backend only maps nodes to its own query objects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .analysis import MIN_PREFIX, analyze, fold, tokenize
from .base import QueryError

__all__ = [
    "And", "Everything", "Keyword", "Node", "Not", "Or", "Phrase", "Prefix", "Term",
    "EXTRA_FIELD", "KEYWORD_FIELDS", "TEXT_FIELDS", "parse", "positive_terms",
]

# User-facing field names (German and English) -> canonical field.
TEXT_FIELDS = {
    "titel": "title", "title": "title", "betreff": "title",
    "firma": "company", "unternehmen": "company", "company": "company",
    "kontakt": "contact", "contact": "contact", "person": "contact",
}
KEYWORD_FIELDS = {
    "typ": "type", "type": "type", "dokumenttyp": "type",
    "ordner": "folders", "folder": "folders", "folders": "folders",
    "status": "status",
    "kategorie": "category", "category": "category", "bereich": "category",
}
_FIELDS = {**TEXT_FIELDS, **KEYWORD_FIELDS}
EXTRA_FIELD = "extra"  # named type-specific and plugin fields, stored as "name=value"
_EXTRA_NAME = re.compile(r"[a-zäöüß][a-z0-9_äöüß]{1,39}")
_OPS = {"OR": "OR", "ODER": "OR", "AND": "AND", "UND": "AND", "NOT": "NOT", "NICHT": "NOT"}
_BREAK = set(' \t\r\n()"\u3000')


@dataclass(frozen=True)
class Term:
    field: str | None  # None = catch-all text
    stem: str
    word: str = ""  # folded, unstemmed: for backends that stem themselves


@dataclass(frozen=True)
class Phrase:
    field: str | None
    stems: tuple[str, ...]  # at least two
    words: tuple[str, ...] = ()  # folded, unstemmed


@dataclass(frozen=True)
class Prefix:
    field: str | None
    text: str  # folded, at least MIN_PREFIX characters


@dataclass(frozen=True)
class Keyword:
    field: str  # canonical keyword field
    value: str  # as typed; matched case-insensitively by the backend
    prefix: bool = False


@dataclass(frozen=True)
class Not:
    child: Node


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Everything:
    """The empty query: every entry that passes the filters."""


Node = Term | Phrase | Prefix | Keyword | Not | And | Or | Everything


@dataclass
class _Tok:
    kind: str  # WORD PHRASE FIELD OR AND NOT NEG LP RP
    text: str = ""
    field: str = ""
    quoted: bool = False


def _lex(q: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i, n = 0, len(q)
    while i < n:
        c = q[i]
        if c in _BREAK and c not in '()"':
            i += 1
        elif c == "(":
            toks.append(_Tok("LP"))
            i += 1
        elif c == ")":
            toks.append(_Tok("RP"))
            i += 1
        elif c == '"':
            end = q.find('"', i + 1)
            if end == -1:
                raise QueryError("Anführungszeichen nicht geschlossen: jede Phrase braucht ein schließendes \".")
            toks.append(_Tok("PHRASE", q[i + 1:end]))
            i = end + 1
        elif c == "-" and i + 1 < n and q[i + 1] not in " \t\r\n\u3000-)":
            toks.append(_Tok("NEG"))
            i += 1
        else:
            j = i
            while j < n and q[j] not in _BREAK:
                j += 1
            word = q[i:j]
            i = j
            if word in _OPS:
                toks.append(_Tok(_OPS[word]))
                continue
            name, colon, value = word.partition(":")
            if colon and name.casefold() in _FIELDS:
                field = _FIELDS[name.casefold()]
                if not value:
                    if i < n and q[i] == '"':
                        end = q.find('"', i + 1)
                        if end == -1:
                            raise QueryError("Anführungszeichen nicht geschlossen: jede Phrase braucht ein schließendes \".")
                        value, i = q[i + 1:end], end + 1
                        if not value.strip():
                            raise QueryError(f"Das Feld „{name}:“ braucht einen Wert.")
                        toks.append(_Tok("FIELD", value, field, quoted=True))
                        continue
                    raise QueryError(f"Das Feld „{name}:“ braucht einen Wert, z. B. {name}:wert.")
                toks.append(_Tok("FIELD", value, field))
            elif colon and value and _EXTRA_NAME.fullmatch(name.casefold()):
                # A field a document type or plugin marks searchable (extra_index_fields), e.g.
                # seriennummer:SN-4711 or belegnummer:RE-2026-00001: matched as a whole value.
                toks.append(_Tok("FIELD", f"{name.casefold()}={value}", EXTRA_FIELD))
            elif word.strip("-"):
                toks.append(_Tok("WORD", word))
    return toks


class _Parser:
    def __init__(self, toks: list[_Tok]) -> None:
        self.toks = toks
        self.pos = 0

    def peek(self) -> _Tok | None:
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def take(self) -> _Tok:
        tok = self.toks[self.pos]
        self.pos += 1
        return tok

    def parse_seq(self, closing: bool) -> list[_Raw]:
        items: list[_Raw] = []
        while True:
            tok = self.peek()
            if tok is None:
                if closing:
                    raise QueryError("Klammer nicht geschlossen: es fehlt eine „)“.")
                break
            if tok.kind == "RP":
                if not closing:
                    raise QueryError("Zu viele schließende Klammern „)“.")
                self.take()
                break
            if tok.kind == "AND":
                self.take()
                nxt = self.peek()
                if not items or nxt is None or nxt.kind in ("OR", "AND", "RP"):
                    raise QueryError("„AND“ braucht links und rechts einen Suchbegriff.")
                continue
            items.append(self.parse_or())
        return items

    def parse_or(self) -> _Raw:
        left = self.parse_unary()
        alts = [left]
        while (tok := self.peek()) is not None and tok.kind == "OR":
            self.take()
            nxt = self.peek()
            if nxt is None or nxt.kind in ("OR", "AND", "RP"):
                raise QueryError("„OR“ braucht links und rechts einen Suchbegriff.")
            alts.append(self.parse_unary())
        if len(alts) == 1:
            return left
        if any(a[0] == "not" for a in alts):
            raise QueryError("Ein ausgeschlossener Begriff kann nicht Teil von „OR“ sein.")
        return ("or", alts)

    def parse_unary(self) -> _Raw:
        tok = self.peek()
        if tok is None:
            raise QueryError("Unvollständige Suche.")
        if tok.kind in ("NEG", "NOT"):
            self.take()
            nxt = self.peek()
            if nxt is None or nxt.kind in ("OR", "AND", "RP", "NEG", "NOT"):
                raise QueryError("Nach „-“ bzw. „NOT“ fehlt der auszuschließende Begriff.")
            return ("not", self.parse_unary())
        if tok.kind == "OR":
            raise QueryError("„OR“ braucht links und rechts einen Suchbegriff.")
        self.take()
        if tok.kind == "LP":
            items = self.parse_seq(closing=True)
            if not items:
                raise QueryError("Leere Klammern „()“.")
            return ("and", items)
        if tok.kind in ("WORD", "PHRASE", "FIELD"):
            return ("leaf", tok)
        raise QueryError("Unerwartetes Zeichen in der Suche.")  # pragma: no cover


_Raw = tuple[Any, ...]  # ("kind", payload …) as the parser builds it


def _check_positive(raw: _Raw) -> None:
    """An AND group of only exclusions would mean "everything except …"."""
    kind, val = raw
    if kind == "and":
        if all(r[0] == "not" for r in val):
            raise QueryError("Nur ausschließende Begriffe („-…“): bitte mindestens einen Suchbegriff angeben.")
        for r in val:
            _check_positive(r)
    elif kind == "or":
        for r in val:
            _check_positive(r)
    elif kind == "not" and val[0] != "leaf":
        _check_positive(val)


def _leaf(tok: _Tok) -> Node | None:
    if tok.kind == "FIELD" and (tok.field in KEYWORD_FIELDS.values() or tok.field == EXTRA_FIELD):
        value = tok.text.strip()
        prefix = not tok.quoted and value.endswith("*")
        value = value.rstrip("*") if prefix else value
        if not value:
            raise QueryError("Ein Feldwert aus nur „*“ ist nicht erlaubt.")
        return Keyword(tok.field, value, prefix)
    field = tok.field or None
    text = tok.text
    if tok.kind == "PHRASE" or tok.quoted:
        return _words(text, field)
    prefix = text.endswith("*")
    core = text.rstrip("*")
    if "*" in core:
        raise QueryError("Der Platzhalter „*“ ist nur am Wortende erlaubt, z. B. rech*.")
    if not prefix:
        return _words(core, field)
    words = tokenize(core)
    if not words:
        raise QueryError("Vor „*“ fehlt der Wortanfang, z. B. rech*.")
    head = fold(words[-1])
    if len(head) < MIN_PREFIX:
        raise QueryError(f"Eine Präfixsuche braucht mindestens {MIN_PREFIX} Zeichen vor „*“.")
    pre = Prefix(field, head)
    rest = _words(" ".join(words[:-1]), field) if len(words) > 1 else None
    return pre if rest is None else And((rest, pre))


def _words(text: str, field: str | None) -> Node | None:
    toks = analyze(text)
    if not toks:
        return None  # only stop words or punctuation: matches nothing by itself
    if len(toks) == 1:
        return Term(field, toks[0][0], toks[0][1])
    return Phrase(field, tuple(s for s, _ in toks), tuple(w for _, w in toks))


def _build(raw: _Raw) -> Node | None:
    kind, val = raw
    if kind == "leaf":
        return _leaf(val)
    if kind == "not":
        child = _build(val)
        return None if child is None else Not(child)
    children = [c for c in (_build(r) for r in val) if c is not None]
    if kind == "or":
        return None if not children else children[0] if len(children) == 1 else Or(tuple(children))
    if not children or all(isinstance(c, Not) for c in children):
        return None
    return children[0] if len(children) == 1 else And(tuple(children))


def parse(query: str) -> Node | None:
    """Parse a user query; None means "can match nothing" (e.g. only stop words).

    Raises QueryError for malformed input and nothing else.
    """
    if not isinstance(query, str):
        raise QueryError("Die Suche muss Text sein.")
    if len(query) > 2000:
        raise QueryError("Die Suche ist zu lang (höchstens 2000 Zeichen).")
    toks = _lex(query)
    if not toks:
        return Everything()
    p = _Parser(toks)
    items = p.parse_seq(closing=False)
    root: _Raw = ("and", items)
    _check_positive(root)
    return _build(root)


def positive_terms(node: Node | None) -> tuple[set[str], set[str]]:
    """Stems and prefixes a hit may be highlighted for (excluded words are not)."""
    stems: set[str] = set()
    prefixes: set[str] = set()

    def walk(n: Node | None) -> None:
        if isinstance(n, Term):
            stems.add(n.stem)
        elif isinstance(n, Phrase):
            stems.update(n.stems)
        elif isinstance(n, Prefix):
            prefixes.add(n.text)
        elif isinstance(n, (And, Or)):
            for c in n.children:
                walk(c)

    walk(node)
    return stems, prefixes
