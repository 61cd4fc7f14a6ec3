"""Finding duplicate contacts: scored pairs with a German reason, grouped, without comparing all pairs.

Two contacts are compared only when they share a *blocking key*, so the work grows with the
number of contacts, not with its square:

* ``e:<address>`` – an e-mail address, casefolded (every e-mail of the contact: its contact points'
  ``value_key`` and the single column);
* ``c:<company id>:<code>`` – the Kölner Phonetik of the folded last name and the company;
* ``p:<postal code>:<code>`` – the same code and a postal code (of any of its addresses);
* ``t:<phone digits>:<code>`` – the same code and a phone number (a company's switchboard
  number alone makes no duplicates).

Inside a block a pair counts when the e-mail is the same, or when the last names sound alike
(same code: Meier/Meyer/Maier, Müller/Mueller, Strauß/Strauss) and the first names are compatible
(equal once folded, alike by their code – Philipp/Filip –, one an initial or a prefix of the other,
or one missing). Names are folded with :func:`kundenakte.core.text.fold` first (umlauts spelled
out, ß as ss, accents dropped), so spellings of one name meet in one code.

The phonetic code is the one of the ``cologne-phonetics`` package (MIT, pure Python): jellyfish
has no Kölner Phonetik and abydos has seen no release since 2020 and pulls in numpy.

:func:`find_duplicates` scans the whole table (the "Dubletten" page); :func:`find_matches` answers
for one record (a new contact, an API client) with the same rules, reading only the candidates;
:class:`ContactIndex` answers for many records (an import's "update existing") from memory.
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

from kundenakte.core.models import Company, Contact, ContactPoint, PostalAddress
from kundenakte.core.services.points import phone_key
from kundenakte.core.text import fold
from kundenakte.core.validation import N_

# Reasons, in German; the web layer translates them (they are msgids).
SAME_EMAIL = N_("gleiche E-Mail")
SAME_NAME_COMPANY = N_("gleicher Name, gleiches Unternehmen")
SIMILAR_NAME_COMPANY = N_("ähnlicher Name, gleiches Unternehmen")
SAME_NAME_POSTCODE = N_("gleicher Name, gleiche PLZ")
SIMILAR_NAME_POSTCODE = N_("ähnlicher Name, gleiche PLZ")
SAME_PHONE = N_("ähnlicher Name, gleiche Telefonnummer")
REASONS = (SAME_EMAIL, SAME_NAME_COMPANY, SIMILAR_NAME_COMPANY, SAME_NAME_POSTCODE, SIMILAR_NAME_POSTCODE, SAME_PHONE)

# A block larger than this is split further by the first digit of the first name's code (contacts
# without a usable first name are compared with every sub-block): a thousand "Müller" at one
# company would otherwise cost half a million comparisons.
SPLIT_BLOCK = 64
_INITIAL_RE = re.compile(r"^[^\W\d_]\.?$")
_WORDS_RE = re.compile(r"[^\W\d_]+")


# Names repeat a lot in a contact list; folding them is the finder's hot spot otherwise.
_fold = lru_cache(maxsize=1 << 16)(fold)


@lru_cache(maxsize=1 << 16)
def phonetic(text: str) -> str:
    """Kölner Phonetik of a (folded) name, all words as one code; "" for a name without letters."""
    words = " ".join(_WORDS_RE.findall(_fold(text)))
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
    postal_codes: frozenset[str]
    streets: frozenset[str] = frozenset()
    phones: frozenset[str] = frozenset()

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
            for postal_code in self.postal_codes:
                yield f"p:{postal_code}:{code}"
            for phone in self.phones:
                yield f"t:{phone}:{code}"


# Shorter digit strings are extensions or typing errors, not a number two people could share by chance.
MIN_PHONE_DIGITS = 6


def person(ident: int | None, first_name: str | None, last_name: str | None, emails: Iterable[str | None] = (),
           company_ids: Iterable[int | None] = (), postal_codes: Iterable[str | None] = (), streets: Iterable[str | None] = (),
           phones: Iterable[str | None] = ()) -> Person:
    """A :class:`Person` with every value normalised (e-mails casefolded, phones as digits, empty ones dropped)."""
    phone_keys = (phone_key(p) for p in phones if p)
    return Person(
        id=ident, first_name=(first_name or "").strip(), last_name=(last_name or "").strip(),
        emails=frozenset(e.strip().casefold() for e in emails if e and e.strip()),
        company_ids=frozenset(c for c in company_ids if c is not None),
        postal_codes=frozenset(k for k in (_postal_key(c or "") for c in postal_codes) if k),
        streets=frozenset(x.strip() for x in streets if x and x.strip()),  # folded only when compared
        phones=frozenset(k for k in phone_keys if len(k) >= MIN_PHONE_DIGITS),
    )


def _first_names_compatible(a: str, b: str) -> tuple[bool, bool]:
    """(compatible, equal): may "a" and "b" be one person's first name, and are they the same name?"""
    fa, fb = _fold(a), _fold(b)
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
        # Alike names: one person; other first names: more likely a shared mailbox (info@…) than a duplicate.
        reasons.append((95 if compatible and x.last_code == y.last_code else 80 if compatible else 50, SAME_EMAIL))
    code = x.last_code
    if code and code == y.last_code and compatible:
        same_last = _fold(x.last_name) == _fold(y.last_name)
        # Full names spelled alike count more; a missing first name or an initial less.
        bonus = (10 if same_last else 0) + (10 if same_first else 0)
        if not x.first_name or not y.first_name:
            bonus -= 10
        if x.emails and y.emails and not x.emails & y.emails:
            bonus -= 20  # both have e-mail addresses and none is shared: more likely namesakes
        same_name = same_last and same_first
        if x.company_ids & y.company_ids:
            reasons.append((70 + bonus, SAME_NAME_COMPANY if same_name else SIMILAR_NAME_COMPANY))
        elif x.postal_codes & y.postal_codes:  # (a company's contacts share its postcode)
            street = 10 if {_fold(a) for a in x.streets} & {_fold(b) for b in y.streets} else 0
            reasons.append((60 + bonus + street, SAME_NAME_POSTCODE if same_name else SIMILAR_NAME_POSTCODE))
        if x.phones & y.phones:
            reasons.append((75 + bonus, SAME_PHONE))
    if not reasons:
        return 0, ()
    reasons.sort(key=lambda r: -r[0])
    score = reasons[0][0] + 5 * (len(reasons) - 1)
    return max(1, min(100, score)), tuple(r for _s, r in reasons)


def _first_bucket(p: Person) -> str:
    folded = _fold(p.first_name)
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

_COLUMNS = (Contact.id, Contact.first_name, Contact.last_name, Contact.email, Contact.phone, Contact.company_id,
            Contact.postal_code, Contact.street)


def _children(session: Session, ids: list[int] | None) -> tuple[dict[int, list[tuple[str, str]]], dict[int, list[tuple[str, str]]]]:
    """Per contact: (channel, value key) of its e-mails and phones, (postal code, street) of its addresses.

    ``ids`` None reads every contact's (the finder); otherwise only those contacts' (in chunks).
    """
    points: dict[int, list[tuple[str, str]]] = defaultdict(list)
    addresses: dict[int, list[tuple[str, str]]] = defaultdict(list)
    point_query = select(ContactPoint.contact_id, ContactPoint.channel, ContactPoint.value_key).where(
        ContactPoint.contact_id.is_not(None), ContactPoint.channel.in_(("email", "phone")))
    address_query = select(PostalAddress.contact_id, PostalAddress.postal_code, PostalAddress.street).where(
        PostalAddress.contact_id.is_not(None))
    chunks: list[list[int] | None] = [None] if ids is None else [ids[i:i + 900] for i in range(0, len(ids), 900)]
    for chunk in chunks:
        pq = point_query if chunk is None else point_query.where(ContactPoint.contact_id.in_(chunk))
        for contact_id, channel, key in session.execute(pq):
            if contact_id is not None:
                points[contact_id].append((channel, key))
        aq = address_query if chunk is None else address_query.where(PostalAddress.contact_id.in_(chunk))
        for contact_id, postal_code, street in session.execute(aq):
            if contact_id is not None:
                addresses[contact_id].append((postal_code, street))
    return points, addresses


def _people(session: Session, where: Any = None) -> list[Person]:
    query = select(*_COLUMNS)
    if where is not None:
        query = query.where(where)
    rows = session.execute(query).all()
    points, addresses = _children(session, [r.id for r in rows] if where is not None else None)
    people = []
    for r in rows:
        mine, places = points.get(r.id, ()), addresses.get(r.id, ())
        people.append(person(
            r.id, r.first_name, r.last_name, [r.email, *(k for c, k in mine if c == "email")], [r.company_id],
            [r.postal_code, *(p for p, _s in places)], [r.street, *(st for _p, st in places)],
            [r.phone, *(k for c, k in mine if c == "phone")],
        ))
    return people


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
    if type(record) is dict or isinstance(record, Mapping):
        return record.get(name)
    return getattr(record, name, None)


def person_of(session: Session | None, record: Any, *, company_ids: Iterable[int] | None = None) -> Person:
    """A record (mapping or object with contact field names) as a :class:`Person`.

    Understood: ``first_name``, ``last_name``, ``email``/``phone`` and the lists ``emails``/``phones``
    (strings or ``{"value": …}``), ``company_id`` or ``company_name`` (every company of that folded
    name), ``postal_code``, ``street`` and ``addresses`` (``{"postal_code": …, "street": …}``).
    A ``Contact`` fits too (its lists are its contact points and addresses). ``company_ids``, when
    given, are the ids ``company_name`` stands for (the caller resolved it; no query then).
    """
    def values(single: str, many: str, part: str = "value") -> list[str]:
        out = [str(_get(record, single) or "")]
        for entry in _get(record, many) or ():
            out.append(str((entry.get(part) if isinstance(entry, Mapping) else getattr(entry, part, entry)) or ""))
        return out

    companies: list[int | None] = [_get(record, "company_id")]
    company_name = _get(record, "company_name")
    if company_ids is not None:
        companies += list(company_ids)
    elif companies[0] is None and company_name and fold(company_name) and session is not None:
        companies = list(session.scalars(select(Company.id).where(Company.name_folded == fold(company_name))))
    return person(_get(record, "id"), _get(record, "first_name"), _get(record, "last_name"), values("email", "emails"),
                  companies, values("postal_code", "addresses", "postal_code"), values("street", "addresses", "street"),
                  values("phone", "phones"))


def find_matches(session: Session, record_like: Any, *, min_score: int = 50, limit: int = 10) -> list[Match]:
    """Existing contacts that ``record_like`` probably is, best first, by the finder's rules.

    For the importer's "update existing" and for a warning on a new contact: ``record_like`` is a
    mapping or an object with the contact's field names (see :func:`person_of`; ``ContactRecord``
    and ``Contact`` both fit). Reads only the candidates: contacts with one of its e-mail
    addresses or phone numbers, of its company or with one of its postal codes. A record with an
    ``id`` never matches that contact.
    """
    me = person_of(session, record_like)
    conditions = []
    keys = sorted(me.emails | me.phones)
    if keys:
        conditions.append(Contact.id.in_(select(ContactPoint.contact_id).where(ContactPoint.value_key.in_(keys))))
    if me.emails:
        conditions.append(func.lower(Contact.email).in_(sorted(me.emails)))  # a value only in the single column
    if me.last_code:
        if me.company_ids:
            conditions.append(Contact.company_id.in_(sorted(me.company_ids)))
        if me.postal_codes:
            codes = sorted(me.postal_codes | {_postal_display(c) for c in me.postal_codes})
            conditions.append(Contact.postal_code.in_(codes))
            conditions.append(Contact.id.in_(select(PostalAddress.contact_id).where(PostalAddress.postal_code.in_(codes))))
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


class ContactIndex:
    """Every contact's blocking keys in memory, to match many records at one query's cost (an import).

    ``ContactIndex(session)`` reads the contacts as :func:`find_duplicates` does; ``match(record)``
    answers what :func:`find_matches` would, without a query per record. Records of the same file
    can be added with ``add(person_of(...))`` so that later ones meet earlier ones.
    """

    def __init__(self, session: Session) -> None:
        self._blocks: dict[str, list[Person]] = defaultdict(list)
        self._companies: dict[str, list[int]] = defaultdict(list)
        for ident, folded in session.execute(select(Company.id, Company.name_folded).order_by(Company.id)):
            self._companies[folded].append(ident)
        for p in _people(session):
            self.add(p)

    @property
    def empty(self) -> bool:
        """No contact to match against (a first import into an empty file)."""
        return not self._blocks

    def add(self, p: Person) -> None:
        for key in set(p.keys()):
            self._blocks[key].append(p)

    def person(self, record: Any) -> Person:
        """``record`` as a :class:`Person`, its company name resolved from memory."""
        name = _get(record, "company_name")
        if _get(record, "company_id") is None and name:
            return person_of(None, record, company_ids=self._companies.get(fold(name), []))
        return person_of(None, record)

    def match(self, record: Any, *, min_score: int = 50, limit: int = 10) -> list[Match]:
        me = record if isinstance(record, Person) else self.person(record)
        seen: set[int] = set()
        matches = []
        for key in set(me.keys()):
            for other in self._blocks.get(key, ()):
                if other.id is None or other.id == me.id or other.id in seen:
                    continue
                seen.add(other.id)
                score, reasons = compare(me, other)
                if score >= min_score:
                    matches.append(Match(other.id, score, reasons))
        matches.sort(key=lambda m: (-m.score, m.contact_id))
        return matches[:limit]


def _postal_display(key: str) -> str:
    # Postal codes are stored as typed; the key has no spaces. German codes have none anyway, and
    # for others the stored form with one space ("SW1A 1AA") is the usual one.
    return key if len(key) < 5 or key.isdigit() else f"{key[:-3]} {key[-3:]}"
