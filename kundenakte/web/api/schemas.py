"""Declarations of the API's bodies and parameters: one object both validates input and describes it.

A :class:`Prop` knows its JSON type, limits and German error messages; a :class:`Model` is a named
set of props. The views validate with them and ``openapi.py`` turns the very same objects into JSON
Schema, so the published document cannot drift from what the server accepts. Document types become
models too (:func:`data_model`), one per declared type.

Validation here is about *shape* (types, unknown fields, limits that would otherwise reach the
database as errors: NUL characters, huge numbers, ids beyond 32 bits, dates beyond year 2999);
the meaning (required values, choices, known users) stays with the core services, which answer
with :class:`~kundenakte.core.doctypes.ValidationError`.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from kundenakte.core.doctypes import DocumentType, parse_date
from kundenakte.core.formatting import parse_decimal
from kundenakte.core.models import ContactPoint, PostalAddress
from kundenakte.core.services import COMPANY_TEXT, CONTACT_TEXT, points
from kundenakte.core.services.companies import COMPANY_LISTS
from kundenakte.core.services.contacts import CHOICES, CONTACT_LISTS, clean_birthday
from kundenakte.core.services.fields import TextField
from kundenakte.core.validation import column_limits

MAX_ID = 2**31 - 1
MAX_NUMBER = Decimal(10) ** 12
MIN_YEAR, MAX_YEAR = 1000, 2999
PRINCIPAL_PATTERN = r"^(\*|[ug]:[1-9][0-9]{0,8})$"

UNKNOWN_FIELD = "Unbekanntes Feld."
REQUIRED = "Dieses Feld ist ein Pflichtfeld."


class ApiError(Exception):
    """An answer other than success: HTTP status, a machine-readable code and a German message."""

    def __init__(self, status: int, error: str, message: str, fields: Mapping[str, str] | None = None,
                 **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.fields = dict(fields or {})
        self.extra = extra

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.error, "message": self.message, "status": self.status}
        if self.fields:
            out["fields"] = self.fields
        out.update(self.extra)
        return out


def invalid(fields: Mapping[str, str], message: str = "Die Eingaben sind nicht gültig.") -> ApiError:
    return ApiError(422, "validation_failed", message, fields)


def _check_text(value: str) -> str | None:
    if "\x00" in value:
        return "Der Text enthält ein unzulässiges Steuerzeichen."
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "Der Text enthält ungültige Zeichen."
    return None


def _check_date(value: Any) -> str | None:
    try:
        parsed = parse_date(value)
    except ValueError as exc:
        return str(exc)
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        return f"Bitte ein Datum zwischen den Jahren {MIN_YEAR} und {MAX_YEAR} angeben."
    return None


@dataclass(frozen=True)
class Prop:
    """One value: ``kind`` is string, text (string checked for control characters), integer, id,
    boolean, number (JSON number or German number text), date, array or object.

    ``rule`` is a master-data field of the core services: its length, required message and e-mail
    or web rule are the service's, checked by the service's own ``TextField.check``.
    """

    name: str
    kind: str
    required: bool = False
    nullable: bool = False
    max_length: int | None = None
    min_length: int | None = None
    enum: tuple[Any, ...] = ()
    minimum: int | Decimal | None = None
    maximum: int | Decimal | None = None
    items: Prop | None = None
    max_items: int | None = None
    pattern: str | None = None
    description: str = ""
    read_only: bool = False
    example: Any = None
    # "object" props: the model of the nested object, or None for free-form.
    model: Model | None = None
    partial: bool = False  # a nested object that may name only some of its fields (PATCH)
    extra_schema: dict[str, Any] = field(default_factory=dict)
    rule: TextField | None = None
    # A service's own check of the (shape-checked) value: {"": message} for the value itself, for
    # lists {"1.value": message} per entry, so the API answers every problem at once in its words.
    service_rule: Callable[[Any], dict[str, str]] | None = None
    # "object" props in output schemas: a component schema's name instead of the inline schema.
    ref: str | None = None

    # -- JSON Schema ---------------------------------------------------------------------------

    def schema(self) -> dict[str, Any]:
        s: dict[str, Any]
        k = self.kind
        if k in ("string", "text"):
            s = {"type": "string"}
        elif k == "date":
            s = {"type": "string", "format": "date"}
        elif k == "datetime":
            s = {"type": "string", "format": "date-time"}
        elif k == "integer":
            s = {"type": "integer"}
        elif k == "id":
            s = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
        elif k == "boolean":
            s = {"type": "boolean"}
        elif k == "number":
            s = {"type": ["number", "string"]}
        elif k == "array":
            s = {"type": "array", "items": self.items.schema() if self.items else {}}
            if self.max_items is not None:
                s["maxItems"] = self.max_items
        elif k == "object" and self.ref is not None:
            s = {"$ref": f"#/components/schemas/{self.ref}"}
        elif k == "object":
            s = self.model.schema() if self.model is not None else {"type": "object"}
        else:  # pragma: no cover - a declaration error
            raise AssertionError(k)
        if self.max_length is not None:
            s["maxLength"] = self.max_length
        if self.min_length is not None:
            s["minLength"] = self.min_length
        if self.enum:
            s["enum"] = list(self.enum)
        if self.minimum is not None:
            s["minimum"] = int(self.minimum) if isinstance(self.minimum, int) else float(self.minimum)
        if self.maximum is not None:
            s["maximum"] = int(self.maximum) if isinstance(self.maximum, int) else float(self.maximum)
        if self.pattern:
            s["pattern"] = self.pattern
        if self.description:
            s["description"] = self.description
        if self.read_only:
            s["readOnly"] = True
        if self.example is not None:
            s["examples"] = [self.example]
        s.update(self.extra_schema)
        if self.nullable:
            if isinstance(s.get("type"), str):
                s["type"] = [s["type"], "null"]
            elif isinstance(s.get("type"), list):
                s["type"] = [*s["type"], "null"]
            else:
                s = {"anyOf": [s, {"type": "null"}]}
            if "enum" in s:
                s["enum"] = [*s["enum"], None]
        return s

    # -- validation ----------------------------------------------------------------------------

    def clean(self, value: Any) -> Any:
        """The value, checked for shape; raises ValueError with a German sentence."""
        if value is None:
            if self.nullable:
                return None
            raise ValueError("Ein Wert ist erforderlich." if not self.required else REQUIRED)
        k = self.kind
        if k in ("string", "text", "date", "datetime"):
            if not isinstance(value, str):
                raise ValueError("Erwartet wird ein Text.")
            problem = _check_text(value)
            if problem:
                raise ValueError(problem)
            if self.rule is not None:
                problem = self.rule.check(value.strip())
                if problem:
                    raise ValueError(problem)
            elif self.max_length is not None and len(value) > self.max_length:
                raise ValueError(f"Höchstens {self.max_length} Zeichen.")
            if self.rule is None and self.min_length is not None and len(value.strip()) < self.min_length:
                raise ValueError(REQUIRED)
            if k == "date" and value.strip():
                problem = _check_date(value)
                if problem:
                    raise ValueError(problem)
            if self.pattern and not re.fullmatch(self.pattern.strip("^$"), value):
                raise ValueError("Ungültiges Format.")
        elif k in ("integer", "id"):
            if isinstance(value, bool) or not isinstance(value, int):
                if isinstance(value, float) and value.is_integer() and math.isfinite(value):
                    value = int(value)
                else:
                    raise ValueError("Erwartet wird eine ganze Zahl.")
            if k == "id" and not 1 <= value <= MAX_ID:
                raise ValueError("Unbekannte Auswahl.")
            if abs(value) > MAX_NUMBER:
                raise ValueError("Die Zahl ist zu groß.")
        elif k == "boolean":
            if not isinstance(value, bool):
                raise ValueError("Erwartet wird true oder false.")
        elif k == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                raise ValueError("Erwartet wird eine Zahl.")
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError("Erwartet wird eine Zahl.")
            if isinstance(value, str):
                problem = _check_text(value)
                if problem:
                    raise ValueError(problem)
                if len(value) > 40:
                    raise ValueError("Erwartet wird eine Zahl.")
            if not (isinstance(value, str) and not value.strip()):
                try:
                    number = parse_decimal(value)
                except ValueError as exc:
                    raise ValueError(str(exc)) from None
                if not number.is_finite() or abs(number) >= MAX_NUMBER:
                    raise ValueError("Die Zahl ist zu groß.")
        elif k == "array":
            if not isinstance(value, list):
                raise ValueError("Erwartet wird eine Liste.")
            if self.max_items is not None and len(value) > self.max_items:
                raise ValueError(f"Höchstens {self.max_items} Einträge.")
            if self.service_rule is None and self.items is not None:
                # Entries that are objects answer per entry and field ("emails.1.value"), like the services.
                nested: dict[str, str] = {}
                for i, item in enumerate(value):
                    try:
                        self.items.clean(item)
                    except NestedErrors as exc:
                        nested.update({f"{i}.{k}": v for k, v in exc.fields.items()})
                    except ValueError as exc:
                        if self.items.kind != "object":
                            raise ValueError(f"Ungültiger Eintrag: {exc}") from None
                        nested[str(i)] = str(exc)
                if nested:
                    raise NestedErrors(nested)
        elif k == "object":
            if not isinstance(value, dict):
                raise ValueError("Erwartet wird ein Objekt.")
            if self.model is not None:
                try:
                    value = self.model.validate(value, partial=self.partial)
                except ApiError as exc:
                    raise NestedErrors(exc.fields) from None
        if self.service_rule is not None:
            problems = self.service_rule(value)
            if set(problems) == {""}:
                raise ValueError(problems[""])
            if problems:
                raise NestedErrors(problems)
        if self.enum and value not in self.enum:
            raise ValueError("Bitte einen der angebotenen Werte wählen.")
        if k in ("integer",) and self.minimum is not None and value < self.minimum:
            raise ValueError(f"Der Wert darf nicht kleiner als {self.minimum} sein.")
        if k in ("integer",) and self.maximum is not None and value > self.maximum:
            raise ValueError(f"Der Wert darf nicht größer als {self.maximum} sein.")
        return value

    # -- output --------------------------------------------------------------------------------

    def output(self, value: Any) -> Any:
        """``value`` (a column, a Python value) in the JSON shape :meth:`schema` declares."""
        k = self.kind
        if value is None:
            if self.nullable:
                return None
            if k in ("string", "text"):
                return ""
            if k == "array":
                return []
            if k == "boolean":
                return False
            return None
        if k == "datetime":
            # Stored datetimes are naive UTC; the API says so (RFC 3339 with Z).
            return value.isoformat() + ("Z" if value.tzinfo is None else "")
        if k == "date":
            return value.isoformat()
        if k == "boolean":
            return bool(value)
        if k == "number" or isinstance(value, Decimal):
            return str(value)
        if k == "array" and self.items is not None:
            return [self.items.output(item) for item in value]
        if k == "object" and self.model is not None:
            return self.model.output(value)
        return value

    def parse_query(self, raw: str) -> Any:
        """A query-string value converted to this prop's kind, then checked like JSON input."""
        if self.kind in ("integer", "id"):
            text = raw.strip()
            if not re.fullmatch(r"[-+]?\d{1,12}", text):
                raise ValueError("Erwartet wird eine ganze Zahl.")
            return self.clean(int(text))
        if self.kind == "boolean":
            text = raw.strip().lower()
            if text in ("true", "1"):
                return True
            if text in ("false", "0"):
                return False
            raise ValueError("Erwartet wird true oder false.")
        return self.clean(raw)


class NestedErrors(ValueError):
    def __init__(self, fields: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in fields.items()))
        self.fields = dict(fields)


@dataclass(frozen=True)
class Model:
    """A named JSON object; unknown fields are refused."""

    name: str
    props: tuple[Prop, ...]
    description: str = ""
    additional: bool = False
    # Cross-field checks after the props: body -> {field: message}.
    checks: tuple[Callable[[dict[str, Any]], dict[str, str]], ...] = ()

    def prop(self, name: str) -> Prop | None:
        return next((p for p in self.props if p.name == name), None)

    def schema(self, *, partial: bool = False, read: bool = False, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
        props = [p for p in self.props if p.name not in exclude and (read or not p.read_only)]
        s: dict[str, Any] = {
            "type": "object",
            "properties": {p.name: p.schema() for p in props},
        }
        # Output objects always carry every declared key; input objects the required ones.
        required = [p.name for p in props] if read else ([] if partial else [p.name for p in props if p.required])
        if required:
            s["required"] = required
        if not self.additional:
            s["additionalProperties"] = False
        if self.description:
            s["description"] = self.description
        return s

    def output(self, row: Any, **given: Any) -> dict[str, Any]:
        """The object the API answers with: every declared prop of ``row`` (an ORM row, a result
        row's mapping or a dict), ``given`` values first; the same declaration as input and schema."""
        values = row if isinstance(row, Mapping) else None
        out: dict[str, Any] = {}
        for p in self.props:
            if p.name in given:
                value = given[p.name]
            elif values is not None:
                value = values.get(p.name)
            else:
                value = getattr(row, p.name)
            out[p.name] = p.output(value)
        return out

    def subset(self, name: str, names: tuple[str, ...], *extra: Prop) -> Model:
        """A read-only model of some of this model's props (list rows), plus ``extra`` ones."""
        props = tuple(replace(self._by_name(n), read_only=True) for n in names)
        return Model(name, props + extra, additional=self.additional)

    def _by_name(self, name: str) -> Prop:
        found = self.prop(name)
        if found is None:  # pragma: no cover - a declaration error
            raise KeyError(name)
        return found

    def validate(self, body: Any, *, partial: bool = False, prefix: str = "") -> dict[str, Any]:
        """The body with every declared field checked; raise ApiError 422 with all field errors."""
        if not isinstance(body, dict):
            raise invalid({}, "Erwartet wird ein JSON-Objekt.")
        errors: dict[str, str] = {}
        known = {p.name: p for p in self.props if not p.read_only}
        if not self.additional:
            for key in body:
                if key not in known:
                    errors[prefix + str(key)] = UNKNOWN_FIELD
        cleaned: dict[str, Any] = {}
        for name, p in known.items():
            if name not in body:
                if p.required and not partial:
                    errors[prefix + name] = REQUIRED
                continue
            try:
                cleaned[name] = p.clean(body[name])
            except NestedErrors as exc:
                errors.update({f"{prefix}{name}.{k}" if k else prefix + name: v for k, v in exc.fields.items()})
            except ValueError as exc:
                errors[prefix + name] = str(exc)
        if self.additional:
            for key, value in body.items():
                if key not in known:
                    cleaned[key] = value
        if not errors:
            for check in self.checks:
                errors.update({prefix + k: v for k, v in check(cleaned).items()})
        if errors:
            raise invalid(errors)
        return cleaned


# -- parameters ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    prop: Prop
    location: str = "query"  # or "path"

    @property
    def name(self) -> str:
        return self.prop.name

    def openapi(self) -> dict[str, Any]:
        out = {"name": self.name, "in": self.location, "required": self.location == "path" or self.prop.required,
               "schema": self.prop.schema()}
        if self.prop.description:
            out["description"] = self.prop.description
        return out


def parse_args(params: tuple[Param, ...], args: Mapping[str, str]) -> dict[str, Any]:
    """Query parameters by their declarations; unknown ones are ignored, malformed ones are 422."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for param in params:
        if param.location != "query":
            continue
        raw = args.get(param.name)
        if raw is None:
            if param.prop.required:
                errors[param.name] = REQUIRED
            continue
        try:
            out[param.name] = param.prop.parse_query(raw)
        except ValueError as exc:
            errors[param.name] = str(exc)
    if errors:
        raise invalid(errors, "Die Parameter der Anfrage sind nicht gültig.")
    return out


def page_params(default_per_page: int = 50, maximum: int = 200) -> tuple[Param, ...]:
    return (
        Param(Prop("page", "integer", minimum=1, maximum=100_000, description="Seite, ab 1.")),
        Param(Prop("per_page", "integer", minimum=1, maximum=maximum,
                   description=f"Einträge je Seite (Standard {default_per_page}, höchstens {maximum}).")),
    )


def id_param(name: str) -> Param:
    return Param(Prop(name, "integer", minimum=1, maximum=MAX_ID), "path")


# -- master data -------------------------------------------------------------------------------------
# Contacts and companies come from the services' declarations: every text field of CONTACT_TEXT /
# COMPANY_TEXT (length, required message, e-mail and web rule), the services' lists and choices. A
# field declared there is accepted, answered and published here without a second declaration.

def _master(fields: tuple[TextField, ...], name: str, **extra: Any) -> Prop:
    """The API's prop for a service-declared text field: length, required and rules from the service."""
    rule = next(f for f in fields if f.name == name)
    extra.setdefault("description", rule.label)
    return Prop(name, "text", required=bool(rule.required), max_length=rule.max_length,
                min_length=1 if rule.required else None, rule=rule, **extra)


def _texts(fields: tuple[TextField, ...], **examples: Any) -> tuple[Prop, ...]:
    return tuple(_master(fields, f.name, **({"example": examples[f.name]} if f.name in examples else {}))
                 for f in fields)


_POINT_LIMIT = column_limits(ContactPoint)["value"]
_ADDRESS_LIMITS = column_limits(PostalAddress)
_LIST_HELP = {
    "emails": "E-Mail-Adressen", "phones": "Telefonnummern", "websites": "Webadressen", "addresses": "Anschriften",
}
_LIST_ITEM = {"emails": "EmailEntry", "phones": "PhoneEntry", "websites": "WebsiteEntry"}
_PREFERRED = Prop("preferred", "boolean", description="Der bevorzugte Eintrag (höchstens einer; sonst der erste).")

ADDRESS_ENTRY = Model(
    "AddressEntry",
    (
        Prop("kind", "string", enum=points.KINDS["address"]),
        *(Prop(key, "text", max_length=_ADDRESS_LIMITS[key], description=points.ADDRESS_LABELS[key])
          for key in points.ADDRESS_TEXT),
        _PREFERRED,
    ),
    description="Eine Anschrift; die bevorzugte steht auch in street/postal_code/city/country.",
)


def _service_list_check(key: str) -> Callable[[Any], dict[str, str]]:
    """The services' check of one list (``points.clean_lists``): every entry's errors at once, in its words."""

    def check(value: Any) -> dict[str, str]:
        errors: dict[str, str] = {}
        points.clean_lists({key: value}, errors)
        return {k.removeprefix(key).removeprefix("."): v for k, v in errors.items()}

    return check


def _list_prop(key: str) -> Prop:
    """One of the services' lists (``points.LIST_KEYS``): a given list replaces the stored one."""
    if key == "addresses":
        item = ADDRESS_ENTRY
    else:
        channel = points.CHANNELS[key]
        item = Model(_LIST_ITEM[key], (
            Prop("value", "text", required=True, max_length=_POINT_LIMIT),
            Prop("kind", "string", enum=points.KINDS[channel]),
            _PREFERRED,
        ), description=f"Ein Eintrag; der bevorzugte steht auch in {points.SCALAR_OF[channel]}.")
    return Prop(key, "array", items=Prop(key, "object", model=item), service_rule=_service_list_check(key),
                description=f"{_LIST_HELP[key]}; eine angegebene Liste ersetzt die gespeicherte. "
                            "Fehler je Eintrag z. B. unter emails.1.value.")


def _birthday_check(value: Any) -> dict[str, str]:
    problem = clean_birthday(value)[1]
    return {"": problem} if problem else {}


# Shared keyword options for Prop(...); typed as Any-valued so a splat type-checks against every parameter.
_ts: dict[str, Any] = {"read_only": True}

COMPANY = Model(
    "Company",
    (
        Prop("id", "id", **_ts),
        *_texts(COMPANY_TEXT, name="DOCHOUSE GmbH"),
        Prop("account_manager_id", "id", nullable=True, description="Interner Betreuer (Benutzer-ID)."),
        *(_list_prop(key) for key in COMPANY_LISTS),
        Prop("created_at", "datetime", **_ts),
        Prop("updated_at", "datetime", **_ts),
    ),
    description="Ein Unternehmen (Stammdaten, für alle aktiven Benutzer sichtbar).",
)

COMPANY_SUMMARY = COMPANY.subset(
    "CompanySummary", ("id", "name", "street", "postal_code", "city", "phone", "email", "account_manager_id"))

CONTACT = Model(
    "Contact",
    (
        Prop("id", "id", **_ts),
        Prop("gender", "string", enum=CHOICES["gender"]),
        *_texts(CONTACT_TEXT, last_name="Müller"),
        Prop("language", "string", enum=CHOICES["language"]),
        Prop("company_id", "id", nullable=True),
        Prop("use_company_address", "boolean",
             description="Wenn true, wird die Anschrift des Unternehmens übernommen (und mitgeführt)."),
        Prop("account_manager_id", "id", nullable=True),
        Prop("birthday", "date", nullable=True, description="Geburtstag (JJJJ-MM-TT).", service_rule=_birthday_check),
        *(_list_prop(key) for key in CONTACT_LISTS),
        Prop("created_at", "datetime", **_ts),
        Prop("updated_at", "datetime", **_ts),
    ),
    description="Ein Kontakt (Stammdaten, für alle aktiven Benutzer sichtbar).",
)

CONTACT_SUMMARY = CONTACT.subset(
    "ContactSummary",
    ("id", "title", "first_name", "last_name", "position", "email", "phone", "postal_code", "city", "company_id",
     "account_manager_id"),
    Prop("company_name", "string", nullable=True, read_only=True),
)

_FILTER_TEXT: dict[str, Any] = {"max_length": 200}
WILDCARD_HELP = "Ohne * exakter Vergleich (Groß/Klein und Umlaute egal), * ist Platzhalter."

COMPANY_FILTERS = (
    Param(Prop("name", "text", description="Name. " + WILDCARD_HELP, **_FILTER_TEXT)),
    Param(Prop("postal_code", "text", description="PLZ, z. B. 88*.", **_FILTER_TEXT)),
    Param(Prop("city", "text", description="Ort. " + WILDCARD_HELP, **_FILTER_TEXT)),
    Param(Prop("account_manager_id", "id", description="Interner Betreuer (Benutzer-ID).")),
)

CONTACT_FILTERS = (
    Param(Prop("name", "text", description="Vor- oder Nachname, ab Wortanfang. " + WILDCARD_HELP, **_FILTER_TEXT)),
    Param(Prop("postal_code", "text", description="PLZ, z. B. 88*.", **_FILTER_TEXT)),
    Param(Prop("company", "text", description="Unternehmensname. " + WILDCARD_HELP, **_FILTER_TEXT)),
    Param(Prop("city", "text", description="Ort. " + WILDCARD_HELP, **_FILTER_TEXT)),
    Param(Prop("account_manager_id", "id", description="Interner Betreuer (Benutzer-ID).")),
)

# -- documents ---------------------------------------------------------------------------------------

PRINCIPAL = Prop("principal", "string", pattern=PRINCIPAL_PATTERN, max_length=12,
                 description='"*" (alle), "u:<Benutzer-ID>" oder "g:<Gruppen-ID>".')
ID_LIST = Prop("ids", "id")

# The generic document fields, shared by create (with ``type``) and update (with ``version``).
DOCUMENT_INPUT_PROPS = (
    Prop("title", "text", max_length=300, example="Angebot Pumpe"),
    Prop("company_id", "id", nullable=True),
    Prop("contact_id", "id", nullable=True),
    Prop("document_date", "date", nullable=True, description="Datum (JJJJ-MM-TT); leer heißt heute."),
    Prop("status", "text", max_length=40, nullable=True),
    Prop("content", "text", nullable=True, description="Inhalt als HTML; wird bereinigt gespeichert."),
    Prop("folder_ids", "array", items=ID_LIST, max_items=200),
    Prop("retention_days", "integer", nullable=True, minimum=0, maximum=36500),
    Prop("readers", "array", items=PRINCIPAL, max_items=200),
    Prop("editors", "array", items=PRINCIPAL, max_items=200),
    Prop("responsible_id", "id", nullable=True),
    Prop("parent_id", "id", nullable=True),
)

_KIND_PROPS: dict[str, dict[str, Any]] = {
    "text": {"kind": "text"},
    "longtext": {"kind": "text"},
    "richtext": {"kind": "text"},
    "date": {"kind": "date"},
    "money": {"kind": "number"},
    "decimal": {"kind": "number"},
    "integer": {"kind": "integer"},
    "choice": {"kind": "string"},
    "user": {"kind": "id"},
    "contact": {"kind": "id"},
    "boolean": {"kind": "boolean"},
    # Stored as the plugin wrote it (ISO, possibly without offset): not promised as RFC 3339.
    "datetime": {"kind": "text"},
}


def data_model(doctype: DocumentType, *, output: bool = False) -> Model:
    """The ``data`` object of one document type, for input (strict) or output (as stored)."""
    props = []
    for f in doctype.fields:
        if f.computed and not output:
            continue
        spec = dict(_KIND_PROPS[f.kind])
        kwargs: dict[str, Any] = {"description": f.label + (f" – {f.help}" if f.help else "")}
        if f.kind in ("text", "longtext") and not output:
            kwargs["max_length"] = f.max_length
        if f.kind == "choice":
            kwargs["enum"] = tuple(c.value for c in f.choices)
        if f.kind in ("money", "decimal", "integer") and not output:
            if f.min_value is not None:
                kwargs["minimum"] = int(f.min_value) if f.kind == "integer" else f.min_value
            if f.max_value is not None:
                kwargs["maximum"] = int(f.max_value) if f.kind == "integer" else f.max_value
        if output:
            if f.kind in ("money", "decimal"):
                spec = {"kind": "number"}
            kwargs["read_only"] = False
            kwargs["nullable"] = True
        else:
            kwargs["nullable"] = f.kind != "boolean" and not f.required
            kwargs["required"] = f.required
        if f.computed:
            kwargs["description"] += " (berechnet, nur lesbar)"
        props.append(Prop(f.name, spec["kind"], **kwargs))
    suffix = "Out" if output else ""
    return Model(f"Data_{doctype.key}{suffix}", tuple(props), description=f"Felder des Dokumenttyps „{doctype.label}“.",
                 additional=output)


def data_schema(model: Model, *, output: bool, partial: bool = False) -> dict[str, Any]:
    if not output:
        return model.schema(partial=partial)
    schema = model.schema(read=False)
    schema.pop("required", None)
    return schema


def document_create_model(doctype: DocumentType) -> Model:
    return Model(
        f"DocumentCreate_{doctype.key}",
        (
            Prop("type", "string", required=True, enum=(doctype.key,), description="Schlüssel des Dokumenttyps."),
            *[p if p.name != "title" else Prop("title", "text", required=True, max_length=300, min_length=1)
              for p in DOCUMENT_INPUT_PROPS],
            Prop("data", "object", model=data_model(doctype)),
        ),
        description=f"Neues Dokument vom Typ „{doctype.label}“.",
    )


def document_update_model(doctype: DocumentType | None) -> Model:
    data = Prop("data", "object", model=data_model(doctype), partial=True) if doctype is not None else Prop("data", "object")
    return Model(
        "DocumentUpdate",
        (
            Prop("version", "integer", required=True, minimum=1, maximum=MAX_ID,
                 description="Die zuletzt gelesene Version; ist das Dokument inzwischen neuer, kommt 409."),
            *DOCUMENT_INPUT_PROPS,
            data,
        ),
        description="Geänderte Felder eines Dokuments; nicht genannte Felder bleiben unverändert.",
    )


# -- answers: documents, attachments, folders ------------------------------------------------------
# What the API answers with, declared once: ``Model.output`` builds the answer, ``Model.schema(read=True)``
# its OpenAPI schema. A document's answer reuses the input props (``DOCUMENT_INPUT_PROPS``); its
# ``data`` follows the document type's declared fields (``data_model(..., output=True)``).

_LINKS: dict[str, Any] = {"read_only": True, "extra_schema": {"additionalProperties": {"type": "string"}}}

ATTACHMENT = Model(
    "Attachment",
    (
        Prop("id", "id", **_ts),
        Prop("document_id", "id", **_ts),
        Prop("filename", "string", **_ts),
        Prop("mime_type", "string", **_ts),
        Prop("size", "integer", minimum=0, **_ts),
        Prop("sha256", "string", **_ts),
        Prop("inline", "boolean", **_ts),
        Prop("created_at", "datetime", **_ts),
        Prop("links", "object", **_LINKS),
    ),
)

FOLDER = Model("Folder", (Prop("id", "id", **_ts), Prop("name", "string", **_ts),
                          Prop("parent_id", "id", nullable=True, **_ts)))

# Input props that answer with "" rather than null (an empty status or content reads as empty text).
_NEVER_NULL = ("status", "content")

DOCUMENT = Model(
    "Document",
    (
        Prop("id", "id", **_ts),
        Prop("type", "string", **_ts),  # per type: a constant (openapi.document_schema)
        *(replace(p, nullable=p.nullable and p.name not in _NEVER_NULL, read_only=True) for p in DOCUMENT_INPUT_PROPS),
        Prop("author_id", "id", nullable=True, **_ts),
        Prop("data", "object", **_ts),  # per type: data_model(type, output=True)
        Prop("amount", "string", nullable=True, description="Gespiegelter Betrag (Dezimaltext).", **_ts),
        Prop("due_date", "date", nullable=True, **_ts),
        Prop("archive_due", "date", nullable=True, **_ts),
        Prop("archived_at", "datetime", nullable=True, **_ts),
        Prop("archived", "boolean", **_ts),
        Prop("version", "integer", minimum=1, **_ts),
        Prop("created_at", "datetime", **_ts),
        Prop("updated_at", "datetime", **_ts),
        Prop("attachments", "array", items=Prop("attachment", "object", ref="Attachment"), **_ts),
        Prop("links", "object", **_LINKS),
    ),
)

DOCUMENT_FILTERS = (
    Param(Prop("type", "text", max_length=60, description="Dokumenttyp (Schlüssel).")),
    Param(Prop("company_id", "id")),
    Param(Prop("contact_id", "id")),
    Param(Prop("status", "text", max_length=40)),
    Param(Prop("include_archived", "boolean", description="Auch archivierte Dokumente (Standard false).")),
)

SEARCH_PARAMS = (
    Param(Prop("q", "text", required=True, min_length=1, max_length=500,
               description='Suchanfrage: Wörter, "Phrasen", Präfix*, feld:wert, AND/OR/NOT.')),
    Param(Prop("type", "text", max_length=60, description="Nur Dokumente dieses Typs.")),
    Param(Prop("include_archived", "boolean")),
)

def page_schema(item_ref: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["items", "total", "page", "per_page", "links"],
        "properties": {
            "items": {"type": "array", "items": {"$ref": item_ref}},
            "total": {"type": "integer", "minimum": 0},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1},
            "links": {"$ref": "#/components/schemas/PageLinks"},
        },
    }


def to_json_value(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value
