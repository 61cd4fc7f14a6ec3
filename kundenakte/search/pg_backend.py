"""PostgreSQL full-text search backend (the scale path).

One row per entry in ``search_entry``. Text is folded in Python with the
same function the Whoosh backend uses (ä→a via ae, ß→ss, …) before
``to_tsvector('german', …)``, and query words are folded the same way, so
both backends find the same things. Weights mark where a word came from:
A title, B company, C contact, D body; ``titel:x`` becomes ``'x':A``.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from sqlalchemy import Engine, text

from . import query as uq
from .analysis import fold, fold_for_tsvector, highlight_best, tokenize
from .base import Hit, IndexRecord, SearchResult, visible_principals

__all__ = ["PgSearchBackend"]

_TSV_MAX = 400_000  # characters per weight class; a tsvector must stay under 1 MB
_SNIPPET_MAX = 20_000
_WEIGHT = {"title": "A", "company": "B", "contact": "C"}
_KEYWORD_COLUMN = {"type": "type", "folders": "folders", "status": "status", "category": "category"}

_UPSERT = text(
    """INSERT INTO search_entry (id, kind, type, category, title, body, folders, status, date,
                                 archived, read_principals, updated, kw, tsv)
    VALUES (:id, :kind, :type, :category, :title, :body, :folders, :status, :date,
            :archived, :read_principals, :updated, :kw,
            setweight(to_tsvector('german', :t_a), 'A') || setweight(to_tsvector('german', :t_b), 'B')
            || setweight(to_tsvector('german', :t_c), 'C') || setweight(to_tsvector('german', :t_d), 'D'))
    ON CONFLICT (id) DO UPDATE SET
        kind = excluded.kind, type = excluded.type, category = excluded.category,
        title = excluded.title, body = excluded.body, folders = excluded.folders,
        status = excluded.status, date = excluded.date, archived = excluded.archived,
        read_principals = excluded.read_principals, updated = excluded.updated,
        kw = excluded.kw, tsv = excluded.tsv"""
)


def _keywords(r: IndexRecord) -> list[str]:
    """Folded "field=value" tokens, so ``typ:E-Mail`` style filters are case/umlaut blind."""
    kws = [f"type={fold(r.type)}", f"status={fold(r.status)}", f"category={fold(r.category)}"]
    kws += [f"folders={fold(f)}" for f in r.folders if f]
    kws += [f"extra={fold(f'{k}={v}')}" for k, v in r.extra.items() if v]
    return kws


def _row(r: IndexRecord) -> dict[str, Any]:
    body = "\n".join(t for t in (r.content, r.attachments) if t)
    extra = " ".join(v for v in r.extra.values() if v)
    return {
        "id": r.id, "kind": r.kind, "type": r.type, "category": r.category, "title": r.title,
        "body": body, "folders": list(r.folders), "status": r.status, "date": r.date,
        "archived": bool(r.archived), "read_principals": list(r.read_principals),
        "updated": float(r.updated), "kw": _keywords(r),
        "t_a": fold_for_tsvector(r.title)[:_TSV_MAX],
        "t_b": fold_for_tsvector(r.company)[:_TSV_MAX],
        "t_c": fold_for_tsvector(r.contact)[:_TSV_MAX],
        "t_d": fold_for_tsvector(f"{body}\n{extra}")[:_TSV_MAX],
    }


class _Sql:
    """Builds one WHERE clause and its bind parameters from a query tree."""

    def __init__(self) -> None:
        self.params: dict[str, object] = {}
        self.rank_terms: list[str] = []
        self._n = itertools.count()

    def bind(self, value: object) -> str:
        name = f"p{next(self._n)}"
        self.params[name] = value
        return f":{name}"

    def tsquery(self, tsq: str, positive: bool, prefix: bool = False) -> str:
        if positive:
            self.rank_terms.append(tsq)
        return f"tsv @@ {_prefix_query(self.bind(tsq)) if prefix else f'to_tsquery({_GERMAN}, {self.bind(tsq)})'}"

    def node(self, n: uq.Node, positive: bool = True) -> str:
        if isinstance(n, uq.Term):
            return self.tsquery(_lexeme(n.word or n.stem, n.field), positive)
        if isinstance(n, uq.Phrase):
            words = n.words or n.stems
            return self.tsquery(" <-> ".join(_lexeme(w, n.field) for w in words), positive)
        if isinstance(n, uq.Prefix):
            return self.tsquery(_lexeme(n.text, n.field, prefix=True), positive, prefix=True)
        if isinstance(n, uq.Keyword):
            token = f"{n.field}={fold(n.value)}"
            if n.prefix:
                return f"EXISTS (SELECT 1 FROM unnest(kw) k WHERE k LIKE {self.bind(_like_prefix(token))})"
            return f"kw @> ARRAY[CAST({self.bind(token)} AS text)]"
        if isinstance(n, uq.Everything):
            return "TRUE"
        if isinstance(n, uq.Or):
            return "(" + " OR ".join(self.node(c, positive) for c in n.children) + ")"
        if isinstance(n, uq.And):
            parts = [self.node(c, positive) for c in n.children if not isinstance(c, uq.Not)]
            parts += [f"NOT {self.node(c.child, False)}" for c in n.children if isinstance(c, uq.Not)]
            return "(" + " AND ".join(parts) + ")"
        raise TypeError(f"unknown query node {n!r}")  # pragma: no cover


def _lexeme(word: str, field: str | None, prefix: bool = False) -> str:
    # Folded words are \w+ only, so quoting them is enough to keep the
    # tsquery syntax out of user input.
    word = "".join(tokenize(word)) or "_"
    weight = _WEIGHT.get(field or "", "")
    suffix = (":*" if prefix else ":") + weight if (prefix or weight) else ""
    return f"'{word}'{suffix}"


_GERMAN = "'german'"


def _prefix_query(bound: str) -> str:
    """A prefix stemmed like the index (verfahren* finds "Verfahren"), unless german drops it as a
    stop word ("an*", "die*" would match nothing): then as typed."""
    return (f"(CASE WHEN numnode(to_tsquery('german', {bound})) > 0 THEN to_tsquery('german', {bound}) "
            f"ELSE to_tsquery('simple', {bound}) END)")


def _like_prefix(token: str) -> str:
    return token.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class PgSearchBackend:
    """Search backend over the ``search_entry`` table of a PostgreSQL database."""

    def __init__(self, engine: Engine, *, chunk_size: int = 1000) -> None:
        self.engine = engine
        self.chunk_size = chunk_size
        # The table and its indexes come from the Alembic migration ``search0001`` (branch
        # ``search``), like every other table: ``kundenakte db upgrade`` creates them.
        with self.engine.connect() as conn:
            if conn.execute(text("SELECT to_regclass('search_entry')")).scalar() is None:
                raise RuntimeError("Die Suchtabelle fehlt: bitte zuerst »kundenakte db upgrade« ausführen.")

    # -- writing -------------------------------------------------------------

    def index(self, records: Iterable[IndexRecord]) -> None:
        it = iter(records)
        while chunk := list(itertools.islice(it, self.chunk_size)):
            rows = list({r.id: _row(r) for r in chunk}.values())
            # Sorted ids: two concurrent writers lock rows in the same order
            # and so cannot deadlock.
            rows.sort(key=lambda row: row["id"])
            with self.engine.begin() as conn:
                conn.execute(_UPSERT, rows)

    def bulk(self, records: Iterable[IndexRecord]) -> int:
        """A rebuild: the same upserts, chunked."""
        n = 0

        def counted() -> Iterable[IndexRecord]:
            nonlocal n
            for r in records:
                n += 1
                yield r

        self.index(counted())
        return n

    def delete(self, ids: Iterable[str]) -> None:
        it = iter(ids)
        while chunk := sorted(itertools.islice(it, self.chunk_size)):
            with self.engine.begin() as conn:
                conn.execute(text("DELETE FROM search_entry WHERE id = ANY(:ids)"), {"ids": chunk})

    def clear(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(text("DELETE FROM search_entry"))

    # -- reading -------------------------------------------------------------

    def _where(
        self,
        query: str,
        principals: frozenset[str] | None,
        kinds: Sequence[str],
        types: Sequence[str],
        folders: Sequence[str],
        include_archived: bool,
        exclude: Collection[str] = (),
    ) -> tuple[uq.Node, str, str, dict[str, Any]] | None:
        node = uq.parse(query)
        principals = visible_principals(principals)
        if node is None or (principals is not None and not principals):
            return None
        sql = _Sql()
        conds = [sql.node(node)]
        if kinds:
            conds.append(f"kind = ANY(CAST({sql.bind(list(kinds))} AS text[]))")
        if types:
            conds.append(f"type = ANY(CAST({sql.bind(list(types))} AS text[]))")
        if folders:
            conds.append(f"folders && CAST({sql.bind(list(folders))} AS text[])")
        if principals is not None:
            conds.append(f"read_principals && CAST({sql.bind(sorted(principals))} AS text[])")
        if not include_archived:
            conds.append("NOT archived")
        if exclude:
            conds.append(f"NOT (id = ANY(CAST({sql.bind(sorted(exclude))} AS text[])))")
        rank_q = " | ".join(f"({t})" for t in sql.rank_terms)
        rank = f"ts_rank_cd(tsv, to_tsquery('german', {sql.bind(rank_q)}))" if rank_q else "0"
        return node, " AND ".join(conds), rank, sql.params

    def search(
        self,
        query: str,
        *,
        principals: frozenset[str] | None,
        kinds: Sequence[str] = ("document",),
        types: Sequence[str] = (),
        folders: Sequence[str] = (),
        include_archived: bool = False,
        limit: int | None = 20,
        offset: int = 0,
        exclude: Collection[str] = (),
    ) -> SearchResult:
        prep = self._where(query, principals, kinds, types, folders, include_archived, exclude)
        empty = SearchResult(hits=[], total=0, facets={"type": {}, "folders": {}})
        if prep is None:
            return empty
        node, where, rank, params = prep
        with self.engine.connect() as conn:
            total = conn.execute(text(f"SELECT count(*) FROM search_entry WHERE {where}"), params).scalar_one()
            if not total:
                return empty
            types_ = conn.execute(text(
                f"SELECT type, count(*) FROM search_entry WHERE {where} AND type <> '' GROUP BY type"), params).all()
            folders_ = conn.execute(text(
                f"SELECT f, count(*) FROM search_entry, unnest(folders) AS f WHERE {where} AND f <> '' GROUP BY f"),
                params).all()
            hits: list[Hit] = []
            if limit is None or limit > 0:
                page = dict(params, _limit=limit, _offset=offset)
                rows = conn.execute(text(
                    f"SELECT id, {rank} AS score, title, left(body, {_SNIPPET_MAX}) AS body FROM search_entry "
                    f"WHERE {where} ORDER BY score DESC, updated DESC, id LIMIT :_limit OFFSET :_offset"), page).all()
                stems, prefixes = uq.positive_terms(node)
                for row in rows:
                    hits.append(Hit(id=row.id, score=float(row.score),
                                    highlights=highlight_best([row.body, row.title], stems, prefixes)))
        return SearchResult(hits=hits, total=int(total),
                            facets={"type": {t: int(c) for t, c in types_}, "folders": {f: int(c) for f, c in folders_}})

    def matching_ids(
        self,
        query: str,
        *,
        principals: frozenset[str] | None,
        kinds: Sequence[str] = ("document",),
        types: Sequence[str] = (),
        folders: Sequence[str] = (),
        include_archived: bool = False,
        exclude: Collection[str] = (),
    ) -> list[str]:
        prep = self._where(query, principals, kinds, types, folders, include_archived, exclude)
        if prep is None:
            return []
        _, where, rank, params = prep
        with self.engine.connect() as conn:
            return list(conn.execute(text(
                f"SELECT id FROM search_entry WHERE {where} ORDER BY {rank} DESC, updated DESC, id"), params).scalars())

    def suggest(
        self, prefix: str, *, principals: frozenset[str] | None, limit: int = 10, exclude: Collection[str] = ()
    ) -> list[str]:
        principals = visible_principals(principals)
        words = [fold(w) for w in tokenize(prefix)]
        if not words or len(words[-1]) < 2 or limit <= 0 or (principals is not None and not principals):
            return []
        done = " & ".join(_lexeme(w, "title") for w in words[:-1])
        params: dict[str, object] = {"p": _lexeme(words[-1], "title", prefix=True), "n": limit}
        match = f"tsv @@ {_prefix_query(':p')}"
        if done:
            match += " AND tsv @@ to_tsquery('german', :q)"
            params["q"] = done
        acl = ""
        if principals is not None:
            acl = "AND read_principals && CAST(:pr AS text[])"
            params["pr"] = sorted(principals)
        if exclude:
            acl += " AND NOT (id = ANY(CAST(:ex AS text[])))"
            params["ex"] = sorted(exclude)
        with self.engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT title FROM search_entry WHERE kind = 'document' AND NOT archived AND title <> '' "
                f"AND {match} {acl} "
                "GROUP BY title ORDER BY max(updated) DESC LIMIT :n"), params).scalars()
            return list(rows)

    def stored_versions(self) -> dict[str, float]:
        with self.engine.connect() as conn:
            return {i: float(u) for i, u in conn.execute(text("SELECT id, updated FROM search_entry"))}

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM search_entry")).scalar_one())

    def close(self) -> None:
        """The engine belongs to the caller; nothing to release here."""
