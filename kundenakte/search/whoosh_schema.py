"""Schema of the Whoosh index and the conversion of a record into a document.

What the index holds lives here: the field list, the schema version written
next to the index (raise it when the layout changes; a mismatch starts an
empty index that the indexing service refills), and :func:`_to_doc`, which
analyses a record into the pre-split values the fast writer consumes.
Adding or changing a field is a change to this module (and, for a new
group of fields, to ``_MULTI``/``_FREQ``).
"""

from __future__ import annotations

from whoosh import columns, fields, formats
from whoosh.analysis import RegexTokenizer, SpaceSeparatedTokenizer

from .analysis import analyze, bigrams, edge_ngrams, fold
from .base import IndexRecord

SCHEMA_VERSION = "2"  # 2: named extra fields
_SEP = "\x1f"  # separates multi-valued keyword values (folder names may hold spaces)
_STORE_MAX = 20_000  # characters of body kept for snippets


def _schema() -> fields.Schema:
    space = SpaceSeparatedTokenizer()
    multi = RegexTokenizer(r"[^\x1f]+")

    def text() -> fields.FieldType:
        return fields.TEXT(analyzer=space, phrase=False)

    def exists(analyzer=space) -> fields.FieldType:
        return fields.FieldType(formats.Existence(), analyzer, scorable=False)

    return fields.Schema(
        id=fields.ID(unique=True, stored=True, sortable=True),
        kind=fields.ID(),
        type=fields.ID(stored=True),
        category=fields.ID(),
        status=fields.ID(),
        archived=fields.ID(),
        folders=exists(multi),
        principals=exists(multi),
        extra=exists(multi),
        all=text(),
        title=text(),
        company=text(),
        contact=text(),
        big=exists(),
        pfx=exists(),
        tpfx=exists(),
        title_s=fields.STORED(),
        body_s=fields.STORED(),
        date=fields.STORED(),
        updated=fields.COLUMN(columns.NumericColumn("d", default=0.0)),
    )


def _to_doc(r: IndexRecord) -> dict:
    """Pre-analysed field values in the shapes :class:`_FastWriter` expects."""
    sections = [analyze(t) for t in (r.title, r.content, r.attachments, r.company, r.contact, *r.extra.values()) if t]
    title = analyze(r.title) if r.title else []
    stems: list[str] = [s for s, _ in title]  # title twice: a cheap title boost
    pairs: set[str] = set()
    grams: set[str] = set()
    for sec in sections:
        sec_stems = [s for s, _ in sec]
        stems.extend(sec_stems)
        pairs.update(bigrams(sec_stems))
        edge_ngrams({f for _, f in sec}, grams)
    body = r.content if not r.attachments else f"{r.content}\n{r.attachments}"
    return {
        "id": r.id,
        "kind": r.kind,
        "type": r.type,
        "category": r.category,
        "status": fold(r.status),
        "archived": "1" if r.archived else "0",
        "folders": [f for f in r.folders if f],
        "principals": [p for p in r.read_principals if p],
        "extra": [fold(f"{k}={v}") for k, v in r.extra.items() if v],
        "all": stems,
        "title": [s for s, _ in title],
        "company": [s for s, _ in analyze(r.company)],
        "contact": [s for s, _ in analyze(r.contact)],
        "big": pairs,
        "pfx": grams,
        "tpfx": edge_ngrams({f for _, f in title}),
        "title_s": r.title,
        "body_s": body[:_STORE_MAX],
        "date": r.date.isoformat() if r.date else None,
        "updated": float(r.updated),
    }


_MULTI = frozenset({"folders", "principals", "extra", "big", "pfx", "tpfx"})
_FREQ = frozenset({"all", "title", "company", "contact"})
