"""The contact and company filters of the list pages (and anything else that filters master data).

Every text filter compares the stored folded columns (``name_folded``, ``city_folded``) with a
folded pattern, so "MÜLLER", "müller" and "mueller" find the same rows on every database without
functions on the column. A ``*`` is the only wildcard; without one the value must match exactly
(a name also matches from any word start, so "Müller" finds "Lea Müller").

The queries select plain columns rather than ORM objects: the contact list is the hottest page of
the product and is benchmarked against raw SQL (bench/web_bench.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from sqlalchemy import ColumnElement, Row, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from kundenakte.core.models import Company, Contact, User
from kundenakte.core.text import LIKE_ESCAPE, fold, has_wildcard, wildcard_to_like

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

    @property
    def empty(self) -> bool:
        return not (self.name.strip() or self.postal_code.strip() or self.company.strip() or self.city.strip()
                    or self.account_manager_id)


@dataclass(frozen=True)
class CompanyFilter:
    name: str = ""
    postal_code: str = ""
    city: str = ""
    account_manager_id: int | None = None

    @property
    def empty(self) -> bool:
        return not (self.name.strip() or self.postal_code.strip() or self.city.strip() or self.account_manager_id)


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


def match_folded(column: Any, pattern: str, *, ranged: bool = False) -> ColumnElement[bool] | None:
    """Condition for a user pattern on an already folded column, or None for an empty pattern."""
    if not pattern.strip():
        return None
    if not has_wildcard(pattern):
        return column == fold(pattern)
    like = wildcard_to_like(pattern)
    if like.strip("%") == "":
        return None  # "*" alone filters nothing
    condition = column.like(like, escape=LIKE_ESCAPE)
    prefix = _literal_prefix(like) if ranged else None
    if prefix:
        # SQLite cannot use an index for LIKE 'doc%' under its default (binary) collation; the
        # equivalent range can, and LIKE keeps deciding exactly. Only for binary collations, where
        # the range is provably the prefix set (PostgreSQL may run a linguistic collation).
        condition = and_(column >= prefix, column < prefix + _TOP, condition)
    return condition


def match_postal_code(column: Any, pattern: str, *, ranged: bool = False) -> ColumnElement[bool] | None:
    pattern = pattern.strip()
    if not pattern:
        return None
    if not has_wildcard(pattern):
        return column == pattern
    like = wildcard_to_like(pattern)
    if like.strip("%") == "":
        return None
    prefix = _literal_prefix(like) if ranged else None
    condition = column.like(like, escape=LIKE_ESCAPE)
    if prefix:
        condition = and_(column >= prefix, column < prefix + _TOP, condition)
    return condition


def match_person_name(column: Any, pattern: str) -> ColumnElement[bool] | None:
    """A name matches from its start or from the start of any later word ("Müller" in "Lea Müller")."""
    if not pattern.strip():
        return None
    like = wildcard_to_like(pattern)
    if like.strip("%") == "":
        return None
    return or_(column.like(like, escape=LIKE_ESCAPE), column.like("% " + like, escape=LIKE_ESCAPE))


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


def _contact_conditions(f: ContactFilter, ranged: bool) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool] | None] = [
        match_postal_code(Contact.postal_code, f.postal_code, ranged=ranged),
        match_folded(Contact.city_folded, f.city, ranged=ranged),
        match_person_name(Contact.name_folded, f.name),
    ]
    if f.account_manager_id:
        conditions.append(Contact.account_manager_id == f.account_manager_id)
    company = match_folded(Company.name_folded, f.company, ranged=ranged)
    if company is not None:
        # A subquery rather than a join: the planner resolves the (few) matching companies first
        # and then walks the contacts' (postal_code, company_id, account_manager_id) index.
        conditions.append(Contact.company_id.in_(select(Company.id).where(company)))
    return [c for c in conditions if c is not None]


def contact_query(f: ContactFilter, *, ranged: bool = False) -> Select[Any]:
    """The filter as one SELECT of plain columns, with the company name, in list order."""
    return (
        select(*CONTACT_COLUMNS, Company.name.label("company_name"))
        .outerjoin(Company, Company.id == Contact.company_id)
        .where(*_contact_conditions(f, ranged))
        .order_by(Contact.last_name, Contact.first_name, Contact.id)
    )


def filter_contacts(session: Session, f: ContactFilter, *, page: int = 1, per_page: int = 50) -> tuple[list[Row[Any]], int]:
    """One page of contacts matching ``f`` and the number of all matches."""
    page, per_page = _page_bounds(page, per_page)
    ranged = _ranged(session)
    conditions = _contact_conditions(f, ranged)
    total = session.scalar(select(func.count()).select_from(Contact).where(*conditions)) or 0
    if total == 0 or (page - 1) * per_page >= total:
        return [], int(total)
    rows = session.execute(contact_query(f, ranged=ranged).limit(per_page).offset((page - 1) * per_page)).all()
    return list(rows), int(total)


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


def _company_conditions(f: CompanyFilter, ranged: bool) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool] | None] = [
        match_folded(Company.name_folded, f.name, ranged=ranged),
        match_folded(Company.city_folded, f.city, ranged=ranged),
        match_postal_code(Company.postal_code, f.postal_code, ranged=ranged),
    ]
    if f.account_manager_id:
        conditions.append(Company.account_manager_id == f.account_manager_id)
    return [c for c in conditions if c is not None]


def filter_companies(session: Session, f: CompanyFilter, *, page: int = 1, per_page: int = 50) -> tuple[list[Row[Any]], int]:
    """One page of companies matching ``f`` (ordered by name) and the number of all matches."""
    page, per_page = _page_bounds(page, per_page)
    conditions = _company_conditions(f, _ranged(session))
    total = session.scalar(select(func.count()).select_from(Company).where(*conditions)) or 0
    if total == 0 or (page - 1) * per_page >= total:
        return [], int(total)
    stmt = (
        select(*COMPANY_COLUMNS)
        .where(*conditions)
        .order_by(Company.name_folded, Company.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return list(session.execute(stmt).all()), int(total)


def user_names(session: Session, ids: Sequence[int | None]) -> dict[int, str]:
    """Display names for the account managers shown on one page."""
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return dict(session.execute(select(User.id, User.display_name).where(User.id.in_(wanted))).all())


def account_managers(session: Session) -> list[tuple[int, str]]:
    """Active users for the "interner Betreuer" selects."""
    return list(
        session.execute(select(User.id, User.display_name).where(User.active.is_(True)).order_by(User.display_name)).all()
    )


def copy_company_address(session: Session, contact: Contact) -> None:
    """A contact using its company's address keeps a copy, so that the PLZ/Ort filters stay indexed."""
    if not contact.use_company_address or contact.company_id is None:
        return
    company = session.get(Company, contact.company_id)
    if company is None:
        return
    contact.street = company.street
    contact.postal_code = company.postal_code
    contact.city = company.city
    contact.country = company.country


def propagate_company_address(session: Session, company: Company) -> int:
    """After a company's address changed: update the copies of the contacts that use it."""
    count = 0
    for contact in session.scalars(
        select(Contact).where(Contact.company_id == company.id, Contact.use_company_address.is_(True))
    ):
        contact.street = company.street
        contact.postal_code = company.postal_code
        contact.city = company.city
        contact.country = company.country
        count += 1
    return count
