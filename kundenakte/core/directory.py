"""The contact and company filters of the list pages (and anything else that filters master data).

Every text filter compares the stored folded columns (``name_folded``, ``city_folded``) with a
folded pattern, so "MÜLLER", "müller" and "mueller" find the same rows on every database without
functions on the column. A ``*`` is the only wildcard; without one the value must match exactly
(a name also matches from any word start, so "Müller" finds "Lea Müller").

The queries select plain columns rather than ORM objects: the contact list is the hottest page of
the product and is benchmarked against raw SQL (bench/web_bench.py).
"""

from __future__ import annotations

import re
from collections import namedtuple
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Integer, Select, String, and_, bindparam, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from kundenakte.core.models import Company, Contact, ContactPoint, User
from kundenakte.core.services.points import phone_key
from kundenakte.core.text import LIKE_ESCAPE, fold, has_wildcard, wildcard_to_like

if TYPE_CHECKING:
    # A SELECT of any number of columns (SQLAlchemy 2.1 types Select by its column tuple).
    AnySelect = Select[*tuple[Any, ...]]

MAX_PER_PAGE = 200
# The highest code point: "prefix" <= x < "prefix" + TOP holds exactly for strings starting with it.
_TOP = "\U0010ffff"


@dataclass(frozen=True)
class ContactFilter:
    name: str = ""
    postal_code: str = ""
    company: str = ""
    city: str = ""
    account_manager_id: int | None = None
    # Any of the contact's e-mail addresses or phone numbers (not only the preferred one).
    email_phone: str = ""

    @property
    def empty(self) -> bool:
        return not (self.name.strip() or self.postal_code.strip() or self.company.strip() or self.city.strip()
                    or self.account_manager_id or self.email_phone.strip())


@dataclass(frozen=True)
class CompanyFilter:
    name: str = ""
    postal_code: str = ""
    city: str = ""
    account_manager_id: int | None = None
    email_phone: str = ""

    @property
    def empty(self) -> bool:
        return not (self.name.strip() or self.postal_code.strip() or self.city.strip() or self.account_manager_id
                    or self.email_phone.strip())


def parse_user_id(raw: Any) -> int | None:
    """A user id from a query string; anything malformed means "no filter" (never an error page)."""
    text = str(raw or "").strip()
    if not text.isdigit() or len(text) > 12:
        return None
    return int(text) or None


def _literal_prefix(like: str) -> str | None:
    """For "abc%" patterns the fixed prefix "abc", so a range condition can use the column's index."""
    if not like.endswith("%"):
        return None
    head = like[:-1]
    if "%" in head or "_" in head.replace(LIKE_ESCAPE + "_", "") or LIKE_ESCAPE in head:
        return None  # escaped or inner wildcards: keep it simple, LIKE alone decides
    return head or None


@dataclass(frozen=True)
class Condition:
    """One filter condition: ``shape`` names its SQL form (for the statement cache), ``params`` its values.

    The SQL expression is built only when needed (``make``): with a cached statement only the
    values change, and building expressions costs more than running the indexed query.
    """

    shape: str
    make: Callable[[], ColumnElement[bool]]
    params: dict[str, Any]

    @property
    def expression(self) -> ColumnElement[bool]:
        return self.make()


def _bind(name: str, value: Any) -> Any:
    return bindparam(name, value, type_=String() if isinstance(value, str) else None)


def _pattern_condition(column: Any, name: str, value: str, like: str | None, *, ranged: bool) -> Condition:
    if like is None:
        return Condition("eq", lambda: column == _bind(name, value), {name: value})
    prefix = _literal_prefix(like) if ranged else None
    if prefix:
        # SQLite cannot use an index for LIKE 'doc%' under its default (binary) collation; the
        # equivalent range can, and LIKE keeps deciding exactly. Only for binary collations, where
        # the range is provably the prefix set (PostgreSQL may run a linguistic collation).
        lo, hi = f"{name}_lo", f"{name}_hi"
        return Condition(
            "range",
            lambda: and_(column >= _bind(lo, prefix), column < _bind(hi, prefix + _TOP),
                         column.like(_bind(name, like), escape=LIKE_ESCAPE)),
            {name: like, lo: prefix, hi: prefix + _TOP},
        )
    return Condition("like", lambda: column.like(_bind(name, like), escape=LIKE_ESCAPE), {name: like})


def folded_condition(column: Any, pattern: str, name: str, *, ranged: bool = False) -> Condition | None:
    """A user pattern on an already folded column; None when it filters nothing."""
    if not pattern.strip():
        return None
    if not has_wildcard(pattern):
        return _pattern_condition(column, name, fold(pattern), None, ranged=ranged)
    like = wildcard_to_like(pattern)
    if like.strip("%") == "":
        return None  # "*" alone filters nothing
    return _pattern_condition(column, name, "", like, ranged=ranged)


def postal_condition(column: Any, pattern: str, name: str, *, ranged: bool = False) -> Condition | None:
    """Postal codes are stored as typed (not folded): compare them literally, "*" still a wildcard."""
    pattern = pattern.strip()
    if not pattern:
        return None
    if not has_wildcard(pattern):
        return _pattern_condition(column, name, pattern, None, ranged=ranged)
    escaped = pattern.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")
    like = escaped.replace("*", "%")
    if like.strip("%") == "":
        return None
    return _pattern_condition(column, name, "", like, ranged=ranged)


def person_name_condition(column: Any, pattern: str, name: str) -> Condition | None:
    """A name matches from its start or from the start of any later word ("Müller" in "Lea Müller")."""
    if not pattern.strip():
        return None
    like = wildcard_to_like(pattern)
    if like.strip("%") == "":
        return None
    word = f"{name}_word"
    return Condition(
        "words",
        lambda: or_(column.like(_bind(name, like), escape=LIKE_ESCAPE), column.like(_bind(word, "% " + like), escape=LIKE_ESCAPE)),
        {name: like, word: "% " + like},
    )


def _like_escaped(text: str) -> str:
    return text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")


def point_keys(pattern: str) -> tuple[str, str, bool] | None:
    """The stored ``value_key`` forms of a typed e-mail or phone pattern: (e-mail, phone, wildcard).

    E-mail keys are casefolded, phone keys digits only in national form (``points.phone_key``),
    each part between two ``*`` normalised on its own ("+49 751*" gives "0751%"). A pattern without
    digits has no phone form: the e-mail form stands for both. None when it filters nothing.
    """
    text = pattern.strip()
    if not text or not text.replace("*", "").strip():
        return None
    mail_only = "@" in text  # "info123@example.de" is no phone number 123
    if "*" not in text:
        email = text.casefold()
        return email, (phone_key(text) if not mail_only else "") or email, False
    parts = text.split("*")
    email = "%".join(_like_escaped(p.casefold()) for p in parts)
    digits = [phone_key(p) if i == 0 else re.sub(r"\D", "", p) for i, p in enumerate(parts)]
    phone = "%".join(digits) if any(digits) and not mail_only else email
    return email, phone, True


def point_condition(owner: Any, pattern: str, name: str, *, ranged: bool = False) -> Condition | None:
    """Owners with ANY e-mail address or phone number matching ``pattern`` (``contact_points.value_key``).

    A subquery on the indexed ``value_key``: an exact value is two index probes, a prefix
    ("0751*") two index ranges on SQLite (binary collation, as for the other filters); the
    planner then reads the few matching owners by primary key.
    """
    keys = point_keys(pattern)
    if keys is None:
        return None
    email, phone, wildcard = keys
    owner_column = ContactPoint.contact_id if owner is Contact else ContactPoint.company_id
    owner_id = Contact.id if owner is Contact else Company.id
    ek, pk = f"{name}_e", f"{name}_p"
    # Every value is a named parameter (the cached statement binds them by name); websites are no match.
    channel_params = {f"{name}_mail": "email", f"{name}_phone": "phone"}

    def points(match: Callable[[], ColumnElement[bool]]) -> Callable[[], ColumnElement[bool]]:
        return lambda: owner_id.in_(select(owner_column).where(
            owner_column.is_not(None), ContactPoint.channel.in_([_bind(k, v) for k, v in channel_params.items()]), match()))

    key = ContactPoint.value_key
    if not wildcard:
        return Condition("points-eq", points(lambda: key.in_([_bind(ek, email), _bind(pk, phone)])),
                         {ek: email, pk: phone, **channel_params})
    e_lo, p_lo = (_literal_prefix(email), _literal_prefix(phone)) if ranged else (None, None)
    if e_lo and p_lo:
        params = {ek: email, pk: phone, f"{ek}_lo": e_lo, f"{ek}_hi": e_lo + _TOP, f"{pk}_lo": p_lo, f"{pk}_hi": p_lo + _TOP,
                  **channel_params}

        def ranges() -> ColumnElement[bool]:
            return or_(*(and_(key >= _bind(f"{k}_lo", params[f"{k}_lo"]), key < _bind(f"{k}_hi", params[f"{k}_hi"]),
                              key.like(_bind(k, params[k]), escape=LIKE_ESCAPE)) for k in (ek, pk)))

        return Condition("points-range", points(ranges), params)
    return Condition("points-like", points(lambda: or_(key.like(_bind(ek, email), escape=LIKE_ESCAPE),
                                                        key.like(_bind(pk, phone), escape=LIKE_ESCAPE))),
                     {ek: email, pk: phone, **channel_params})


def match_folded(column: Any, pattern: str, *, ranged: bool = False) -> ColumnElement[bool] | None:
    condition = folded_condition(column, pattern, "folded", ranged=ranged)
    return condition.expression if condition else None


def match_postal_code(column: Any, pattern: str, *, ranged: bool = False) -> ColumnElement[bool] | None:
    condition = postal_condition(column, pattern, "postal", ranged=ranged)
    return condition.expression if condition else None


def match_person_name(column: Any, pattern: str) -> ColumnElement[bool] | None:
    condition = person_name_condition(column, pattern, "person")
    return condition.expression if condition else None


# Compiled SQL per (dialect, statement shape). The filters are the hottest queries of the product;
# building and compiling the expression on every call cost more than running it (bench/web_bench.py).
_SQL: dict[tuple[Any, ...], tuple[str, tuple[str, ...] | None]] = {}


_ROW_TYPES: dict[tuple[Any, ...], Any] = {}


def _row_type(names: list[str]) -> Any:
    """A named tuple that also offers ``_mapping`` like SQLAlchemy's rows (the API reads rows so)."""
    base = namedtuple("FilterRow", names, rename=True)  # type: ignore[misc]
    return type("FilterRow", (base,), {"__slots__": (), "_mapping": property(lambda self: self._asdict())})


def _run(session: Session, shape: tuple[Any, ...], build: Callable[[], AnySelect], params: dict[str, Any]) -> list[Any]:
    """Run a filter statement on the session's connection; rows are named tuples of plain columns.

    The compiled SQL is cached per statement shape, and the rows come straight from the driver's
    cursor: every column here is text or an integer, so SQLAlchemy's per-column result processing
    would only add the cost of a second query.
    """
    connection = session.connection()
    key = (connection.dialect.name, *shape)
    entry = _SQL.get(key)
    if entry is None:
        compiled = build().compile(dialect=connection.dialect)
        entry = (str(compiled), tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None)
        _SQL[key] = entry
    sql, order = entry
    args: Any = tuple(params[name] for name in order) if order is not None else params
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql, args)
        rows = cursor.fetchall()
        row_type = _ROW_TYPES.get(key)
        if row_type is None:
            row_type = _ROW_TYPES[key] = _row_type([d[0] for d in cursor.description])
    finally:
        cursor.close()
    return [row_type(*row) for row in rows]


def _page_and_total(session: Session, shape: tuple[Any, ...], count_query: Callable[[], AnySelect],
                    page_query: Callable[[], AnySelect], params: dict[str, Any], page: int,
                    per_page: int) -> tuple[list[Any], int]:
    """One page of rows and the number of all matches.

    The page is read first: a short page (the usual outcome of a filter) already tells the total,
    so the COUNT runs only when the page is full or lies beyond the last row.
    """
    offset = (page - 1) * per_page
    rows = _run(session, ("page", *shape), page_query, params | {"limit_": per_page, "offset_": offset})
    if len(rows) < per_page and (rows or page == 1):
        return rows, offset + len(rows)
    count = _run(session, ("count", *shape), count_query, params)
    return (rows, int(count[0][0] or 0))


def _page_bounds(page: int, per_page: int) -> tuple[int, int]:
    per_page = max(1, min(int(per_page), MAX_PER_PAGE))
    page = max(1, int(page))
    return page, per_page


CONTACT_COLUMNS = (
    Contact.id,
    Contact.title,
    Contact.first_name,
    Contact.last_name,
    Contact.position,
    Contact.email,
    Contact.phone,
    Contact.postal_code,
    Contact.city,
    Contact.company_id,
    Contact.account_manager_id,
)


def _ranged(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


_COMPANY_MATCH = aliased(Company, name="company_match")


def contact_conditions(f: ContactFilter, ranged: bool) -> list[Condition]:
    postal = postal_condition(Contact.postal_code, f.postal_code, "plz", ranged=ranged)
    found: list[Condition | None] = [
        postal,
        folded_condition(Contact.city_folded, f.city, "city", ranged=ranged),
        person_name_condition(Contact.name_folded, f.name, "name"),
        point_condition(Contact, f.email_phone, "point", ranged=ranged),
    ]
    if f.account_manager_id:
        manager = f.account_manager_id
        found.append(Condition("eq", lambda: Contact.account_manager_id == _bind("manager", manager), {"manager": manager}))
    if postal is not None and postal.shape == "eq":
        match = _COMPANY_MATCH
        # An exact postal code narrows contacts to a few hundred at most: walk those through the
        # (postal_code, …) index and check each one's company by primary key. Driving from the
        # companies instead probes the index once per matching company ("doc*" matches ~1,000 of
        # 100,000): 12× slower with 1M contacts (bench/web_bench.py).
        company = folded_condition(match.name_folded, f.company, "company", ranged=ranged)
        if company is not None:
            by_contact = company
            found.append(Condition("exists:" + company.shape, lambda: exists().where(
                match.id == Contact.company_id, by_contact.expression), company.params))
    else:
        company = folded_condition(Company.name_folded, f.company, "company", ranged=ranged)
        if company is not None:
            # A subquery rather than a join: the planner resolves the (few) matching companies first
            # and then walks the contacts' (postal_code, company_id, account_manager_id) index.
            inner = company
            found.append(Condition("in:" + company.shape,
                                   lambda: Contact.company_id.in_(select(Company.id).where(inner.expression)), company.params))
    return [c for c in found if c is not None]


def _shape(conditions: list[Condition]) -> tuple[str, ...]:
    return tuple(f"{sorted(c.params)}:{c.shape}" for c in conditions)


def contact_query(f: ContactFilter, *, ranged: bool = False) -> AnySelect:
    """The filter as one SELECT of plain columns, with the company name, in list order."""
    return (
        select(*CONTACT_COLUMNS, Company.name.label("company_name"))
        .outerjoin(Company, Company.id == Contact.company_id)
        .where(*(c.expression for c in contact_conditions(f, ranged)))
        .order_by(Contact.last_name, Contact.first_name, Contact.id)
    )


def filter_contacts(session: Session, f: ContactFilter, *, page: int = 1, per_page: int = 50) -> tuple[list[Any], int]:
    """One page of contacts matching ``f`` and the number of all matches."""
    page, per_page = _page_bounds(page, per_page)
    conditions = contact_conditions(f, _ranged(session))
    params = {k: v for c in conditions for k, v in c.params.items()}
    shape = _shape(conditions)

    def count_query() -> AnySelect:
        return select(func.count()).select_from(Contact).where(*(c.expression for c in conditions))

    def page_query() -> AnySelect:
        return (
            select(*CONTACT_COLUMNS, Company.name.label("company_name"))
            .outerjoin(Company, Company.id == Contact.company_id)
            .where(*(c.expression for c in conditions))
            .order_by(Contact.last_name, Contact.first_name, Contact.id)
            .limit(bindparam("limit_", type_=Integer()))
            .offset(bindparam("offset_", type_=Integer()))
        )

    return _page_and_total(session, ("contacts", *shape), count_query, page_query, params, page, per_page)


COMPANY_COLUMNS = (
    Company.id,
    Company.name,
    Company.street,
    Company.postal_code,
    Company.city,
    Company.phone,
    Company.email,
    Company.account_manager_id,
)


def company_conditions(f: CompanyFilter, ranged: bool) -> list[Condition]:
    found: list[Condition | None] = [
        folded_condition(Company.name_folded, f.name, "name", ranged=ranged),
        folded_condition(Company.city_folded, f.city, "city", ranged=ranged),
        postal_condition(Company.postal_code, f.postal_code, "plz", ranged=ranged),
        point_condition(Company, f.email_phone, "point", ranged=ranged),
    ]
    if f.account_manager_id:
        manager = f.account_manager_id
        found.append(Condition("eq", lambda: Company.account_manager_id == _bind("manager", manager), {"manager": manager}))
    return [c for c in found if c is not None]


def filter_companies(session: Session, f: CompanyFilter, *, page: int = 1, per_page: int = 50) -> tuple[list[Any], int]:
    """One page of companies matching ``f`` (ordered by name) and the number of all matches."""
    page, per_page = _page_bounds(page, per_page)
    conditions = company_conditions(f, _ranged(session))
    params = {k: v for c in conditions for k, v in c.params.items()}
    shape = _shape(conditions)

    def count_query() -> AnySelect:
        return select(func.count()).select_from(Company).where(*(c.expression for c in conditions))

    def page_query() -> AnySelect:
        return (
            select(*COMPANY_COLUMNS)
            .where(*(c.expression for c in conditions))
            .order_by(Company.name_folded, Company.id)
            .limit(bindparam("limit_", type_=Integer()))
            .offset(bindparam("offset_", type_=Integer()))
        )

    return _page_and_total(session, ("companies", *shape), count_query, page_query, params, page, per_page)


def user_names(session: Session, ids: Sequence[int | None], known: Sequence[tuple[int, str]] = ()) -> dict[int, str]:
    """Display names for the account managers shown on one page.

    ``known`` are names the page loaded anyway (the active users of the filter's select); only the
    rest, i.e. deactivated managers, costs a query.
    """
    names = dict(known)
    wanted = {i for i in ids if i and i not in names}
    if wanted:
        names.update(session.execute(select(User.id, User.display_name).where(User.id.in_(wanted))).all())
    return names


ACTIVE_USERS = select(User.id, User.display_name).where(User.active.is_(True)).order_by(User.display_name)


def account_managers(session: Session) -> list[tuple[int, str]]:
    """Active users for the "interner Betreuer" selects."""
    return [(row[0], row[1]) for row in _run(session, ("account-managers",), lambda: ACTIVE_USERS, {})]
