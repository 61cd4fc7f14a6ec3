"""What the Whoosh index holds: two schemas and the conversion of a record into field values.

Documents and master data (contacts, companies) live in two indexes of one folder, so a search for
documents never has to filter the master data out and the "Kontakte und Unternehmen" box of the
search page has an index of its own.

All text is analysed by :mod:`.analysis` before Whoosh sees it: text fields receive
space-separated stems, so Whoosh's own tokenizer only splits on spaces. What keeps prefix and phrase
queries cheap is part of the schema, not of any Whoosh internals:

* ``pfx`` holds the leading 2..``GRAM_MAX`` characters of every folded word, so a short prefix
  (``ve*``, the expensive kind) is one term; a longer prefix expands over ``words``, where few words
  share it.
* ``big`` holds adjacent stem pairs, so a phrase is an AND of pair terms and no positions are stored.
* ``twords`` holds the folded title words; type-ahead suggestions expand a prefix over them.

Raise ``SCHEMA_VERSION`` when the layout changes: a mismatch starts empty indexes, which the
indexing service refills.
"""

from __future__ import annotations

from typing import Any, cast

from whoosh import columns, fields, formats
from whoosh.analysis import Analyzer, RegexTokenizer, SpaceSeparatedTokenizer

from .analysis import MAX_PREFIX, analyze, bigrams, fold
from .base import IndexRecord

__all__ = ["DOCS", "GRAM_MAX", "PEOPLE", "SCHEMA_VERSION", "SEP", "docs_schema", "people_schema", "to_fields"]

SCHEMA_VERSION = "4"  # 3: public Whoosh API only, two indexes; 4: facet column, title words
DOCS = "docs"  # index names inside the folder
PEOPLE = "people"
SEP = "\x1f"  # separates multi-valued keyword values (folder names may hold spaces)
GRAM_MAX = 3  # prefixes up to this length are one `pfx` term; longer ones expand over `words`
_STORE_MAX = 20_000  # characters of body kept for snippets


def _tokens(tokenizer: Any) -> Analyzer:
    # Whoosh accepts a bare tokenizer as an analyzer (its own RegexAnalyzer returns one); its type
    # hints only name composed analyzers. The index's tokens must stay exactly these.
    return cast(Analyzer, tokenizer)


def _text() -> fields.FieldType:
    return fields.TEXT(analyzer=_tokens(SpaceSeparatedTokenizer()), phrase=False)


def _exists(analyzer: Analyzer | None = None) -> fields.FieldType:
    return fields.FieldType(formats.Existence(), analyzer or _tokens(SpaceSeparatedTokenizer()), scorable=False)


def _multi() -> fields.FieldType:
    return _exists(_tokens(RegexTokenizer(r"[^\x1f]+")))


def docs_schema() -> fields.Schema:
    return fields.Schema(
        id=fields.ID(unique=True, stored=True),
        type=fields.ID(),
        category=fields.ID(),
        status=fields.ID(),
        archived=fields.ID(),
        folders=_multi(),  # as named, for facets
        folders_f=_multi(),  # folded, for ordner: filters
        principals=_multi(),
        extra=_multi(),
        all=_text(),
        title=_text(),
        company=_text(),
        contact=_text(),
        big=_exists(),
        pfx=_exists(),
        words=_exists(),
        twords=_exists(),
        facet=fields.COLUMN(columns.VarBytesColumn()),  # "type<SEP>folder<SEP>…": facets read per hit
        title_s=fields.STORED(),
        body_s=fields.STORED(),
        updated=fields.STORED(),
    )


def people_schema() -> fields.Schema:
    return fields.Schema(
        id=fields.ID(unique=True, stored=True),
        kind=fields.ID(),
        all=_text(),
        pfx=_exists(),
        words=_exists(),
        updated=fields.STORED(),
    )


def _prefix_terms(folded: set[str]) -> tuple[str, str]:
    grams = {w[:i] for w in folded for i in range(2, min(len(w), GRAM_MAX) + 1)}
    return " ".join(grams), " ".join(folded)


def to_fields(r: IndexRecord) -> dict[str, Any]:
    """The values ``writer.update_document`` takes for one record, in the index its kind belongs to."""
    sections = [analyze(t) for t in (r.title, r.content, r.attachments, r.company, r.contact, *r.extra.values()) if t]
    stems: list[str] = []
    pairs: set[str] = set()
    folded: set[str] = set()
    for sec in sections:
        sec_stems = [s for s, _ in sec]
        stems.extend(sec_stems)
        pairs.update(bigrams(sec_stems))
        folded.update(f for _, f in sec)
    pfx, words = _prefix_terms(folded)
    if r.kind != "document":
        return {"id": r.id, "kind": r.kind, "all": " ".join(stems), "pfx": pfx, "words": words, "updated": float(r.updated)}
    title = analyze(r.title) if r.title else []
    title_stems = [s for s, _ in title]
    body = r.content if not r.attachments else f"{r.content}\n{r.attachments}"
    return {
        "id": r.id,
        "type": r.type,
        "category": r.category,
        "status": fold(r.status),
        "archived": "1" if r.archived else "0",
        "folders": SEP.join(f for f in r.folders if f),
        "folders_f": SEP.join(fold(f) for f in r.folders if f),
        "principals": SEP.join(p for p in r.read_principals if p),
        "extra": SEP.join(fold(f"{k}={v}") for k, v in r.extra.items() if v),
        "all": " ".join(title_stems + stems),  # the title twice: a cheap title boost
        "title": " ".join(title_stems),
        "company": " ".join(s for s, _ in analyze(r.company)),
        "contact": " ".join(s for s, _ in analyze(r.contact)),
        "big": " ".join(pairs),
        "pfx": pfx,
        "words": words,
        "twords": " ".join({f for _, f in title}),
        "facet": SEP.join([r.type, *(f for f in r.folders if f)]).encode("utf-8"),
        "title_s": r.title,
        "body_s": body[:_STORE_MAX],
        "updated": float(r.updated),
    }


assert MAX_PREFIX > GRAM_MAX
