"""Finding duplicate contacts: scored pairs with a German reason, grouped, without comparing all pairs.

Two contacts are compared only when they share a *blocking key*, so the work grows with the
number of contacts, not with its square:

* ``e:<address>`` – an e-mail address, casefolded (every e-mail of the contact);
* ``c:<company id>:<code>`` – the Kölner Phonetik of the folded last name and the company;
* ``p:<postal code>:<code>`` – the same code and the postal code.

Inside a block a pair counts when the e-mail is the same, or when the last names sound alike
(same code: Meier/Meyer/Maier, Müller/Mueller, Strauß/Strauss) and the first names are compatible
(equal once folded, alike by their code – Philipp/Filip –, one an initial or a prefix of the other,
or one missing). Names are folded with :func:`kundenakte.core.text.fold` first (umlauts spelled
out, ß as ss, accents dropped), so spellings of one name meet in one code.

The phonetic code is the one of the ``cologne-phonetics`` package (MIT, pure Python): jellyfish
has no Kölner Phonetik and abydos has seen no release since 2020 and pulls in numpy.

:func:`find_duplicates` scans the whole table (the "Dubletten" page); :func:`find_matches` answers
for one record (an import row, a new contact) with the same rules, reading only the candidates.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import cologne_phonetics
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from kundenakte.core.models import Company, Contact
from kundenakte.core.text import fold
from kundenakte.core.validation import N_

# Reasons, in German; the web layer translates them (they are msgids).
SAME_EMAIL = N_("gleiche E-Mail")
SAME_NAME_COMPANY = N_("gleicher Name, gleiches Unternehmen")
SIMILAR_NAME_COMPANY = N_("ähnlicher Name, gleiches Unternehmen")
SAME_NAME_POSTCODE = N_("gleicher Name, gleiche PLZ")
SIMILAR_NAME_POSTCODE = N_("ähnlicher Name, gleiche PLZ")
REASONS = (SAME_EMAIL, SAME_NAME_COMPANY, SIMILAR_NAME_COMPANY, SAME_NAME_POSTCODE, SIMILAR_NAME_POSTCODE)

# A block larger than this is split further by the first digit of the first name's code (contacts
# without a usable first name are compared with every sub-block): a thousand "Müller" at one
# company would otherwise cost half a million comparisons.
SPLIT_BLOCK = 64
_INITIAL_RE = re.compile(r"^[^\W\d_]\.?$")
_WORDS_RE = re.compile(r"[^\W\d_]+")


@lru_cache(maxsize=1 << 16)
def phonetic(text: str) -> str:
    """Kölner Phonetik of a (folded) name, all words as one code; "" for a name without letters."""
    words = " ".join(_WORDS_RE.findall(fold(text)))
    if not words:
        return ""
    return "".join(code for _word, code in cologne_phonetics.encode(words.replace(" ", "-"), concat=True))


def _postal_key(text: str) -> str:
    return "".join(text.split()).upper()


@dataclass(frozen=True)
class Person:
    """What the finder compares of a contact (or of a record that is to become one)."""

    id: int | None
    first_name: str
    last_name: str
    emails: frozenset[str]
    company_ids: frozenset[int]
    postal_code: str
    street: str = ""

    @property
    def last_code(self) -> str:
        return phonetic(self.last_name)

    def keys(self) -> Iterator[str]:
        for email in self.emails:
            yield f"e:{email}"
        code = self.last_code
        if code:
            for company in self.company_ids:
                yield f"c:{company}:{code}"
            if self.postal_code:
                yield f"p:{self.postal_code}:{code}"


def person(ident: int | None, first_name: str | None, last_name: str | None, emails: Iterable[str | None] = (),
           company_ids: Iterable[int | None] = (), postal_code: str | None = "", street: str | None = "") -> Person:
    """A :class:`Person` with every value normalised (e-mails casefolded, empty ones dropped)."""
    return Person(
        id=ident, first_name=(first_name or "").strip(), last_name=(last_name or "").strip(),
        emails=frozenset(e.strip().casefold() for e in emails if e and e.strip()),
        company_ids=frozenset(c for c in company_ids if c is not None),
        postal_code=_postal_key(postal_code or ""), street=fold(street or ""),
    )


def _first_names_compatible(a: str, b: str) -> tuple[bool, bool]:
    """(compatible, equal): may "a" and "b" be one person's first name, and are they the same name?"""
    fa, fb = fold(a), fold(b)
    if not fa or not fb:
        return True, False
    if fa == fb:
        return True, True
    if _INITIAL_RE.match(fa) or _INITIAL_RE.match(fb):
        return fa[0] == fb[0], False
    wa, wb = _WORDS_RE.findall(fa), _WORDS_RE.findall(fb)
    if wa and wb and (wa[: len(wb)] == wb or wb[: len(wa)] == wa):  # "Hans" and "Hans-Peter"
        return True, False
    code_a = phonetic(fa)
    return bool(code_a) and code_a == phonetic(fb), False


@dataclass(frozen=True)
class Pair:
    """Two contacts that may be one person: ``a`` < ``b`` (ids), score 1–100, reasons best first."""

    a: int
    b: int
    score: int
    reasons: tuple[str, ...]


def compare(x: Person, y: Person) -> tuple[int, tuple[str, ...]]:
    """Score (0 = no duplicate) and reasons for two people; the one rule of finder and matcher."""
    reasons: list[tuple[int, str]] = []
    compatible, same_first = _first_names_compatible(x.first_name, y.first_name)
    if x.emails & y.emails:
        reasons.append((95 if compatible and x.last_code == y.last_code else 80, SAME_EMAIL))
    code = x.last_code
    if code and code == y.last_code and compatible:
        same_last = fold(x.last_name) == fold(y.last_name)
        # Full names spelled alike count more; a missing first name or an initial less.
        bonus = (10 if same_last else 0) + (10 if same_first else 0)
        if not x.first_name or not y.first_name:
            bonus -= 10
        if x.emails and y.emails and not x.emails & y.emails:
            bonus -= 20  # both have e-mail addresses and none is shared: more likely namesakes
        same_name = same_last and same_first
        if x.company_ids & y.company_ids:
            reasons.append((70 + bonus, SAME_NAME_COMPANY if same_name else SIMILAR_NAME_COMPANY))
        elif x.postal_code and x.postal_code == y.postal_code:  # (a company's contacts share its postcode)
            street = 10 if x.street and x.street == y.street else 0
            reasons.append((60 + bonus + street, SAME_NAME_POSTCODE if same_name else SIMILAR_NAME_POSTCODE))
    if not reasons:
        return 0, ()
    reasons.sort(key=lambda r: -r[0])
    score = reasons[0][0] + 5 * (len(reasons) - 1)
    return max(1, min(100, score)), tuple(r for _s, r in reasons)


def _first_bucket(p: Person) -> str:
    folded = fold(p.first_name)
    if not folded or _INITIAL_RE.match(folded):
        return ""
    code = phonetic(folded)
    return code[:1]


def _block_pairs(members: list[Person]) -> Iterator[tuple[Person, Person]]:
    if len(members) <= SPLIT_BLOCK:
        for i, x in enumerate(members):
            for y in members[i + 1:]:
                yield x, y
        return
    buckets: dict[str, list[Person]] = defaultdict(list)
    for p in members:
        buckets[_first_bucket(p)].append(p)
    wild = buckets.pop("", [])
    for i, x in enumerate(wild):  # without a first name: compared with everyone
        for y in wild[i + 1:]:
            yield x, y
        for group in buckets.values():
            for y in group:
                yield x, y
    for group in buckets.values():
        for i, x in enumerate(group):
            for y in group[i + 1:]:
                yield x, y


def scored_pairs(people: Iterable[Person], *, min_score: int = 1) -> list[Pair]:
    """Every pair of ``people`` (all with ids) sharing a blocking key and scoring ``min_score`` or more."""
    blocks: dict[str, list[Person]] = defaultdict(list)
    for p in people:
        for key in set(p.keys()):
            blocks[key].append(p)
    seen: set[tuple[int, int]] = set()
    pairs: list[Pair] = []
    for members in blocks.values():
        if len(members) < 2:
            continue
        for x, y in _block_pairs(members):
            assert x.id is not None and y.id is not None
            ids = (x.id, y.id) if x.id < y.id else (y.id, x.id)
            if ids in seen or ids[0] == ids[1]:
                continue
            seen.add(ids)
            score, reasons = compare(x, y)
            if score >= min_score:
                pairs.append(Pair(ids[0], ids[1], score, reasons))
    return pairs


@dataclass
class DuplicateGroup:
    """Contacts connected by pairs (a ~ b, b ~ c: one group); ``score`` is the best pair's."""

    contact_ids: list[int]
    pairs: list[Pair] = field(default_factory=list)

    @property
    def score(self) -> int:
        return max(p.score for p in self.pairs)

    @property
    def reasons(self) -> list[str]:
        seen: dict[str, None] = {}
        for p in sorted(self.pairs, key=lambda p: -p.score):
            for r in p.reasons:
                seen.setdefault(r, None)
        return list(seen)


def group_pairs(pairs: Iterable[Pair]) -> list[DuplicateGroup]:
    """Connected components of the pairs, best score first (then lowest id)."""
    parent: dict[int, int] = {}

    def root(i: int) -> int:
        while parent.setdefault(i, i) != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    pairs = list(pairs)
    for p in pairs:
        ra, rb = root(p.a), root(p.b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, DuplicateGroup] = {}
    for p in pairs:
        groups.setdefault(root(p.a), DuplicateGroup(contact_ids=[])).pairs.append(p)
    for g in groups.values():
        g.contact_ids = sorted({i for p in g.pairs for i in (p.a, p.b)})
        g.pairs.sort(key=lambda p: (-p.score, p.a, p.b))
    return sorted(groups.values(), key=lambda g: (-g.score, g.contact_ids[0]))


# -- reading contacts ------------------------------------------------------------------------------

_COLUMNS = (Contact.id, Contact.first_name, Contact.last_name, Contact.email, Contact.company_id,
            Contact.postal_code, Contact.street)


def _extra_emails(session: Session, ids: list[int] | None) -> dict[int, list[str]]:
    """Further e-mail addresses per contact (the contact points, once the model has them)."""
    return {}


def _people(session: Session, where: Any = None) -> list[Person]:
    query = select(*_COLUMNS)
    if where is not None:
        query = query.where(where)
    rows = session.execute(query).all()
    extra = _extra_emails(session, [r.id for r in rows] if where is not None else None)
    return [person(r.id, r.first_name, r.last_name, [r.email, *extra.get(r.id, ())], [r.company_id], r.postal_code, r.street)
            for r in rows]


def find_duplicates(session: Session, *, min_score: int = 1) -> list[DuplicateGroup]:
    """Every group of probable duplicates among all contacts, best first (reads only)."""
    return group_pairs(scored_pairs(_people(session), min_score=min_score))


@dataclass(frozen=True)
class Match:
    """An existing contact a record may be: its id, score 1–100 and the reasons."""

    contact_id: int
    score: int
    reasons: tuple[str, ...]


def _get(record: Any, name: str) -> Any:
    if isinstance(record, Mapping):
        return record.get(name)
    return getattr(record, name, None)


def person_of(session: Session, record: Any) -> Person:
    """A record (mapping or object with contact field names) as a :class:`Person`.

    Understood: ``first_name``, ``last_name``, ``email``, ``emails`` (strings or ``{"value": …}``),
    ``company_id`` or ``company_name`` (every company of that folded name), ``postal_code``, ``street``.
    """
    emails: list[str] = [_get(record, "email") or ""]
    for entry in _get(record, "emails") or ():
        emails.append(entry.get("value", "") if isinstance(entry, Mapping) else str(entry or ""))
    company_ids: list[int | None] = [_get(record, "company_id")]
    company_name = _get(record, "company_name")
    if company_ids[0] is None and company_name and fold(company_name):
        company_ids = list(session.scalars(select(Company.id).where(Company.name_folded == fold(company_name))))
    return person(_get(record, "id"), _get(record, "first_name"), _get(record, "last_name"), emails, company_ids,
                  _get(record, "postal_code"), _get(record, "street"))


def find_matches(session: Session, record_like: Any, *, min_score: int = 50, limit: int = 10) -> list[Match]:
    """Existing contacts that ``record_like`` probably is, best first, by the finder's rules.

    For the importer's "update existing" and for a warning on a new contact: ``record_like`` is a
    mapping or an object with the contact's field names (see :func:`person_of`; ``ContactRecord``
    and ``Contact`` both fit). Reads only the candidates: contacts with one of its e-mail addresses,
    of its company or with its postal code. A record with an ``id`` never matches that contact.
    """
    me = person_of(session, record_like)
    conditions = []
    if me.emails:
        conditions.append(func.lower(Contact.email).in_(sorted(me.emails)))
    if me.last_code:
        if me.company_ids:
            conditions.append(Contact.company_id.in_(sorted(me.company_ids)))
        if me.postal_code:
            conditions.append(Contact.postal_code.in_(sorted({me.postal_code, _postal_display(me.postal_code)})))
    if not conditions:
        return []
    matches = []
    for other in _people(session, or_(*conditions)):
        if other.id is None or other.id == me.id:
            continue
        score, reasons = compare(me, other)
        if score >= min_score:
            matches.append(Match(other.id, score, reasons))
    matches.sort(key=lambda m: (-m.score, m.contact_id))
    return matches[:limit]


def _postal_display(key: str) -> str:
    # Postal codes are stored as typed; the key has no spaces. German codes have none anyway, and
    # for others the stored form with one space ("SW1A 1AA") is the usual one.
    return key if len(key) < 5 or key.isdigit() else f"{key[:-3]} {key[-3:]}"
