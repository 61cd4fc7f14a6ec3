"""Sandboxed rendering of user-written e-mail templates.

Templates are written by ordinary users, so they are treated as untrusted code. Three layers keep
them harmless:

1. ``validate_template`` walks the parsed template and allows only a small whitelist of constructs:
   placeholders of the form ``{{ gruppe.feld }}``, a few filters, ``if`` and bounded ``for``.
   ``render`` runs the same check, so an unchecked template can never reach the compiler.
2. The Jinja environment is an ``ImmutableSandboxedEnvironment`` without globals, with attribute
   access limited to dict keys, no calls and no arithmetic.
3. Rendering runs under a budget (budget.py) that is charged *before* each string is built —
   ``~``, filters, output conversion — plus a loop-iteration budget, a wall-clock limit and a
   streamed output cap. A template over budget is refused when it is saved (trial render with
   the placeholders' example values, :func:`trial_render`) and fails cleanly when rendered.

The context consists only of nested dicts of strings (``group -> key -> str``); objects are never
handed to a template.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, UndefinedError, nodes
from jinja2.exceptions import SecurityError
from jinja2.runtime import LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.tests import TESTS

from kundenakte.core.formatting import format_date

from . import budget
from .salutation import closing, letter_salutation, short_salutation

__all__ = [
    "ALLOWED_FILTERS",
    "ALLOWED_TESTS",
    "BASE_PLACEHOLDER_KEYS",
    "PLACEHOLDERS",
    "Placeholder",
    "TemplateRenderError",
    "build_context",
    "context_keys",
    "render",
    "sample_context",
    "single_line",
    "trial_render",
    "validate_template",
]

MAX_TEMPLATE_CHARS = 100_000
MAX_LOOP_ITERATIONS = budget.MAX_LOOP_ITERATIONS
MAX_LOOP_NESTING = 2
# Characters one render may build in total (every intermediate string, see budget.py).
MAX_BUILT_CHARS = budget.MAX_BUILT_CHARS

ALLOWED_FILTERS: tuple[str, ...] = (
    "capitalize",
    "d",
    "default",
    "lower",
    "replace",
    "title",
    "trim",
    "truncate",
    "upper",
)
ALLOWED_TESTS: tuple[str, ...] = ("defined", "undefined", "none", "string", "eq", "ne", "in")
_LOOP_ATTRIBUTES = frozenset(
    {"index", "index0", "revindex", "revindex0", "first", "last", "length", "previtem", "nextitem"}
)
# Names Jinja or the default environment give special meaning; none may be referenced.
_RESERVED_NAMES = frozenset(
    {
        "self", "super", "loop", "caller", "varargs", "kwargs", "range", "lipsum", "cycler",
        "joiner", "namespace", "dict", "environment", "context", "config", "request", "g",
    }
)
_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029]")

_REFUSED_STATEMENTS: dict[type[nodes.Node], str] = {
    nodes.Include: "{% include %} ist in Vorlagen nicht erlaubt.",
    nodes.Extends: "{% extends %} ist in Vorlagen nicht erlaubt.",
    nodes.Import: "{% import %} ist in Vorlagen nicht erlaubt.",
    nodes.FromImport: "{% from … import %} ist in Vorlagen nicht erlaubt.",
    nodes.Macro: "{% macro %} ist in Vorlagen nicht erlaubt.",
    nodes.CallBlock: "{% call %} ist in Vorlagen nicht erlaubt.",
    nodes.Assign: "{% set %} ist in Vorlagen nicht erlaubt.",
    nodes.AssignBlock: "{% set %} ist in Vorlagen nicht erlaubt.",
    nodes.With: "{% with %} ist in Vorlagen nicht erlaubt.",
    nodes.Block: "{% block %} ist in Vorlagen nicht erlaubt.",
    nodes.FilterBlock: "{% filter %} ist in Vorlagen nicht erlaubt.",
    nodes.ScopedEvalContextModifier: "{% autoescape %} ist in Vorlagen nicht erlaubt.",
    nodes.EvalContextModifier: "{% autoescape %} ist in Vorlagen nicht erlaubt.",
    nodes.Call: "Funktionsaufrufe sind in Vorlagen nicht erlaubt.",
    nodes.Getitem: "Zugriffe mit eckigen Klammern sind nicht erlaubt; bitte gruppe.feld verwenden.",
    nodes.Slice: "Zugriffe mit eckigen Klammern sind nicht erlaubt; bitte gruppe.feld verwenden.",
    nodes.Dict: "Dictionary-Ausdrücke sind in Vorlagen nicht erlaubt.",
    nodes.BinExpr: "Rechenoperationen sind in Vorlagen nicht erlaubt.",
    nodes.UnaryExpr: "Rechenoperationen sind in Vorlagen nicht erlaubt.",
}

class TemplateRenderError(Exception):
    """A template could not be rendered; ``str(exc)`` is a German message for the user."""

    def __init__(self, message: str, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or [message]


@dataclass(frozen=True)
class Placeholder:
    key: str
    label_de: str
    label_en: str
    group: str
    example: str


PLACEHOLDERS: list[Placeholder] = [
    Placeholder("kontakt.anrede", "Anrede (kurz)", "Form of address", "Kontakt", "Frau Dr. Müller"),
    Placeholder(
        "kontakt.briefanrede", "Briefanrede", "Letter salutation", "Kontakt",
        "Sehr geehrte Frau Dr. Müller,",
    ),
    Placeholder(
        "kontakt.grussformel", "Grußformel", "Complimentary close", "Kontakt",
        "Mit freundlichen Grüßen",
    ),
    Placeholder("kontakt.vorname", "Vorname", "First name", "Kontakt", "Anna"),
    Placeholder("kontakt.nachname", "Nachname", "Last name", "Kontakt", "Müller"),
    Placeholder("kontakt.titel", "Titel", "Title", "Kontakt", "Dr."),
    Placeholder("kontakt.email", "E-Mail-Adresse", "E-mail address", "Kontakt", "anna.mueller@example.de"),
    Placeholder("unternehmen.name", "Firmenname", "Company name", "Unternehmen", "Müller & Söhne GmbH"),
    Placeholder("unternehmen.strasse", "Straße", "Street", "Unternehmen", "Hauptstraße 1"),
    Placeholder("unternehmen.plz", "PLZ", "Postal code", "Unternehmen", "80331"),
    Placeholder("unternehmen.ort", "Ort", "City", "Unternehmen", "München"),
    Placeholder(
        "unternehmen.anschrift", "Anschrift (mehrzeilig)", "Postal address (multi-line)",
        "Unternehmen", "Müller & Söhne GmbH\nHauptstraße 1\n80331 München",
    ),
    Placeholder("absender.name", "Name", "Name", "Absender", "Max Mustermann"),
    Placeholder("absender.email", "E-Mail-Adresse", "E-mail address", "Absender", "max@example.de"),
    Placeholder("absender.telefon", "Telefon", "Phone", "Absender", "+49 89 123456"),
    Placeholder(
        "absender.signatur", "Signatur", "Signature", "Absender",
        "Max Mustermann\nVertrieb\nTel. +49 89 123456",
    ),
    Placeholder("datum.heute", "Heutiges Datum", "Today's date", "Datum", "27.11.2026"),
    Placeholder(
        "datum.heute_lang", "Heutiges Datum (ausgeschrieben)", "Today's date (long)", "Datum",
        "27. November 2026",
    ),
]
BASE_PLACEHOLDER_KEYS: frozenset[str] = frozenset(p.key for p in PLACEHOLDERS)


# --- Structural check ----------------------------------------------------------------------------


class _Checker:
    """Whitelist walk over the template AST; anything without a ``visit_`` method is refused."""

    def __init__(self, allowed: set[str] | None) -> None:
        self.allowed = allowed
        self.errors: list[str] = []

    def report(self, node: nodes.Node, message: str) -> None:
        lineno = getattr(node, "lineno", None)
        text = f"Zeile {lineno}: {message}" if lineno else message
        if text not in self.errors:
            self.errors.append(text)

    def visit(self, node: nodes.Node | None, scope: frozenset[str], depth: int) -> None:
        if node is None:
            return
        handler = getattr(self, f"visit_{type(node).__name__}", None)
        if handler is not None:
            handler(node, scope, depth)
            return
        for refused_type, message in _REFUSED_STATEMENTS.items():
            if isinstance(node, refused_type):
                self.report(node, message)
                break
        else:
            self.report(node, f"Der Ausdruck „{type(node).__name__}“ ist in Vorlagen nicht erlaubt.")
        # Keep walking so the user sees every problem at once, not one per save.
        self.visit_children(node, scope, depth)

    def visit_children(self, node: nodes.Node, scope: frozenset[str], depth: int) -> None:
        for child in node.iter_child_nodes():
            self.visit(child, scope, depth)

    # Harmless containers and literals.
    visit_Template = visit_Output = visit_If = visit_Concat = visit_Compare = visit_children
    visit_Operand = visit_And = visit_Or = visit_Not = visit_CondExpr = visit_children
    visit_List = visit_Tuple = visit_Keyword = visit_children
    # Scope only wraps statements (autoescape, with) that are refused on their own.
    visit_Scope = visit_children

    def visit_TemplateData(self, node: nodes.Node, scope: frozenset[str], depth: int) -> None:
        pass

    def visit_Const(self, node: nodes.Node, scope: frozenset[str], depth: int) -> None:
        pass

    def _check_identifier(self, node: nodes.Node, name: str) -> bool:
        if "__" in name or name.startswith("_"):
            self.report(node, f"Namen mit Unterstrich am Anfang oder „__“ sind nicht erlaubt: {name}")
            return False
        return True

    def visit_Name(self, node: nodes.Name, scope: frozenset[str], depth: int) -> None:
        if not self._check_identifier(node, node.name):
            return
        if node.ctx != "load":
            self.report(node, "Zuweisungen sind in Vorlagen nicht erlaubt.")
            return
        if node.name in scope:
            return
        if node.name in _RESERVED_NAMES:
            self.report(node, f"„{node.name}“ ist in Vorlagen nicht verfügbar.")
            return
        if self.allowed is not None and node.name in self.allowed:
            return
        self.report(
            node,
            f"Unvollständiger Platzhalter {{{{ {node.name} }}}}: bitte in der Form "
            f"{{{{ {node.name}.feld }}}} angeben.",
        )

    def visit_Getattr(self, node: nodes.Getattr, scope: frozenset[str], depth: int) -> None:
        attrs: list[str] = []
        root: nodes.Node = node
        while isinstance(root, nodes.Getattr):
            attrs.insert(0, root.attr)
            root = root.node
        if not all(self._check_identifier(node, attr) for attr in attrs):
            return
        if not isinstance(root, nodes.Name):
            self.report(node, "Punkt-Zugriffe sind nur auf Platzhalter erlaubt (gruppe.feld).")
            self.visit(root, scope, depth)
            return
        name = root.name
        if not self._check_identifier(node, name):
            return
        if name == "loop" and depth > 0 and "loop" not in scope:
            if len(attrs) != 1 or attrs[0] not in _LOOP_ATTRIBUTES:
                self.report(node, f"loop.{'.'.join(attrs)} ist nicht erlaubt.")
            return
        if name in scope:
            self.report(node, f"Punkt-Zugriffe auf die Schleifenvariable „{name}“ sind nicht erlaubt.")
            return
        if name in _RESERVED_NAMES:
            self.report(node, f"„{name}“ ist in Vorlagen nicht verfügbar.")
            return
        key = ".".join([name, *attrs])
        if len(attrs) > 1:
            self.report(node, f"Unbekannter Platzhalter {{{{ {key} }}}} (zu tief verschachtelt).")
            return
        if self.allowed is not None and key not in self.allowed:
            self.report(node, f"Unbekannter Platzhalter {{{{ {key} }}}}.")

    def _visit_filter_or_test(
        self, node: nodes.Filter | nodes.Test, allowed: tuple[str, ...], kind: str,
        scope: frozenset[str], depth: int,
    ) -> None:
        if node.name not in allowed:
            self.report(
                node, f"{kind} „{node.name}“ ist nicht erlaubt. Erlaubt: {', '.join(allowed)}."
            )
        if node.dyn_args is not None or node.dyn_kwargs is not None:
            self.report(node, "*args und **kwargs sind in Vorlagen nicht erlaubt.")
        self.visit_children(node, scope, depth)

    def visit_Filter(self, node: nodes.Filter, scope: frozenset[str], depth: int) -> None:
        self._visit_filter_or_test(node, ALLOWED_FILTERS, "Der Filter", scope, depth)

    def visit_Test(self, node: nodes.Test, scope: frozenset[str], depth: int) -> None:
        self._visit_filter_or_test(node, ALLOWED_TESTS, "Der Test", scope, depth)

    def visit_For(self, node: nodes.For, scope: frozenset[str], depth: int) -> None:
        if node.recursive:
            self.report(node, "Rekursive Schleifen sind nicht erlaubt.")
        if depth + 1 > MAX_LOOP_NESTING:
            self.report(node, f"Schleifen dürfen höchstens {MAX_LOOP_NESTING}-fach verschachtelt sein.")
        targets = [node.target] if isinstance(node.target, nodes.Name) else list(node.target.iter_child_nodes())
        names: set[str] = set()
        for target in targets:
            if not isinstance(target, nodes.Name):
                self.report(node, "Ungültige Schleifenvariable.")
            elif self._check_identifier(target, target.name):
                if target.name in _RESERVED_NAMES:
                    self.report(target, f"„{target.name}“ ist als Schleifenvariable nicht erlaubt.")
                names.add(target.name)
        self.visit(node.iter, scope, depth)
        inner = scope | names
        for child in node.body:
            self.visit(child, inner, depth + 1)
        self.visit(node.test, inner, depth + 1)
        for child in node.else_:
            self.visit(child, scope, depth)


def _parse(source: str) -> tuple[nodes.Template | None, list[str]]:
    if not isinstance(source, str):
        raise TypeError("template source must be a str")
    if len(source) > MAX_TEMPLATE_CHARS:
        return None, [f"Die Vorlage ist zu lang (höchstens {MAX_TEMPLATE_CHARS:,} Zeichen).".replace(",", ".")]
    try:
        return _TEXT_ENV.parse(source), []
    except TemplateSyntaxError as exc:
        return None, [f"Syntaxfehler in Zeile {exc.lineno}: {exc.message}"]


def validate_template(source: str, allowed: Iterable[str]) -> list[str]:
    """Check a template before it is saved; returns German error messages (empty list = valid).

    ``allowed`` holds the placeholder keys (``"kontakt.nachname"``) the template may reference,
    normally ``BASE_PLACEHOLDER_KEYS`` plus the keys plugins contribute.
    """
    tree, errors = _parse(source)
    if tree is None:
        return errors
    checker = _Checker(set(allowed))
    checker.visit(tree, frozenset(), 0)
    return checker.errors


# --- Environment ---------------------------------------------------------------------------------


class _SandboxEnvironment(ImmutableSandboxedEnvironment):
    """No globals, no calls, no arithmetic, dict keys only; every string charged to the budget."""

    template_class = budget.BudgetedTemplate
    # Intercepting every operator also disables Jinja's compile-time constant folding for them,
    # so "x" * 10**9 is never evaluated, not even by the compiler.
    intercepted_binops = frozenset({"*", "**", "+", "-", "/", "//", "%"})
    intercepted_unops = frozenset({"-", "+"})

    def compile(self, source: Any, name: str | None = None, filename: str | None = None, raw: bool = False,
                defer_init: bool = False) -> Any:
        # Every template, also one compiled directly, gets its "~" and loops routed through the
        # budget before code is generated.
        tree = self.parse(source, name, filename) if isinstance(source, str) else source
        tree = budget.BudgetTransformer().visit(tree)
        tree.set_environment(self)
        # Two calls, not raw=raw: Jinja's overloads tell the source text (raw) from the code object.
        if raw:
            return super().compile(tree, name, filename, raw=True, defer_init=defer_init)
        return super().compile(tree, name, filename, raw=False, defer_init=defer_init)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        raise SecurityError(f"operator {operator!r} is not allowed")

    def call_unop(self, context: Any, operator: str, arg: Any) -> Any:
        raise SecurityError(f"operator {operator!r} is not allowed")

    def call(self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        raise SecurityError("calls are not allowed")

    def getattr(self, obj: Any, attribute: str) -> Any:
        # Only dict keys are reachable; Python attributes (str.upper, dict.items, __class__) never.
        if isinstance(obj, Mapping) and not attribute.startswith("_") and attribute in obj:
            return obj[attribute]
        if isinstance(obj, LoopContext) and attribute in _LOOP_ATTRIBUTES:
            return getattr(obj, attribute)
        return self.undefined(obj=obj, name=attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        if isinstance(obj, Mapping) and isinstance(argument, str) and not argument.startswith("_"):
            if argument in obj:
                return obj[argument]
        return self.undefined(obj=obj, name=argument)


def _build_environment(*, html: bool) -> _SandboxEnvironment:
    env = _SandboxEnvironment(
        autoescape=html,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=budget.html_finalize if html else budget.text_finalize,
        auto_reload=False,
        cache_size=0,
    )
    env.globals = {}
    env.filters = dict(budget.FILTERS)
    env.tests = {name: TESTS[name] for name in ALLOWED_TESTS}
    return env


_TEXT_ENV = _build_environment(html=False)
_HTML_ENV = _build_environment(html=True)


# --- Rendering -----------------------------------------------------------------------------------


def context_keys(context: Mapping[str, Mapping[str, str]]) -> set[str]:
    """Placeholder keys a context provides, suitable as ``allowed`` for ``validate_template``."""
    return {f"{group}.{key}" for group, values in context.items() for key in values}


def _check_context(context: Any) -> None:
    if not isinstance(context, Mapping):
        raise TypeError("render context must be a dict of dicts of str")
    for group, values in context.items():
        if not isinstance(group, str) or not _NAME_PATTERN.match(group) or not isinstance(values, Mapping):
            raise TypeError(f"invalid context group {group!r}")
        for key, value in values.items():
            if not isinstance(key, str) or not _NAME_PATTERN.match(key) or not isinstance(value, str):
                raise TypeError(f"invalid context entry {group!r}.{key!r}: only str values are allowed")


def single_line(text: str) -> str:
    """Replace every kind of line break by a space, e.g. for subjects."""
    return _LINE_BREAKS.sub(" ", text).strip()


def render(
    source: str,
    context: Mapping[str, Mapping[str, str]],
    *,
    html: bool,
    max_chars: int = 200_000,
    timeout_s: float = 2.0,
    single_line_output: bool | None = None,
) -> str:
    """Render a user template; raises ``TemplateRenderError`` with a German message.

    ``html=True`` autoescapes placeholder values (and turns their line breaks into ``<br>``).
    ``html=False`` is for subjects and plain text; its result is collapsed to one line unless
    ``single_line_output=False`` is passed (plain-text bodies).
    """
    _check_context(context)
    tree, errors = _parse(source)
    if tree is None:
        raise TemplateRenderError(errors[0], errors)
    checker = _Checker(context_keys(context))
    checker.visit(tree, frozenset(), 0)
    if checker.errors:
        raise TemplateRenderError(checker.errors[0], checker.errors)

    env = _HTML_ENV if html else _TEXT_ENV
    # Plain copies: the template must never see (or keep) the caller's objects.
    plain = {group: dict(values) for group, values in context.items()}
    chunks: list[str] = []
    total = 0
    stream = None
    try:
        # Compiled outside the budget: its clock is for running the template, and compile-time
        # constant folding must not build anything (the budgeted filters refuse without a budget).
        template = env.from_string(tree)
        with budget.active(budget.RenderBudget(timeout_s=timeout_s)) as guard:
            try:
                stream = template.generate(plain)
                for chunk in stream:
                    total += len(chunk)
                    if total > max_chars:
                        raise TemplateRenderError(
                            f"Das Ergebnis der Vorlage ist zu lang (höchstens {max_chars} Zeichen)."
                        )
                    guard.check_time()
                    chunks.append(chunk)
            finally:
                # generate() is a generator (typed as an Iterator): closing it runs its finally blocks now.
                if isinstance(stream, Generator):
                    stream.close()
    except TemplateRenderError:
        raise
    except budget.LimitExceeded as exc:
        raise TemplateRenderError(str(exc)) from None
    except UndefinedError as exc:
        raise TemplateRenderError(f"Ein Platzhalter ist nicht belegt ({exc.message}).") from None
    except SecurityError:
        raise TemplateRenderError("Die Vorlage enthält einen unzulässigen Ausdruck.") from None
    except TemplateError:
        raise TemplateRenderError("Die Vorlage konnte nicht verarbeitet werden.") from None
    except Exception:
        # Details of unexpected errors stay out of the user-facing message on purpose: they could
        # contain internals of the sandbox.
        raise TemplateRenderError("Die Vorlage konnte nicht ausgewertet werden.") from None

    result = "".join(chunks)
    if single_line_output if single_line_output is not None else not html:
        result = single_line(result)
    return result


def sample_context(extra_examples: Mapping[str, str] | None = None) -> dict[str, dict[str, str]]:
    """Realistic values for every placeholder: the catalogue's examples (and plugins' examples)."""
    context: dict[str, dict[str, str]] = {}
    for placeholder in PLACEHOLDERS:
        group, key = placeholder.key.split(".")
        context.setdefault(group, {})[key] = placeholder.example
    for path, example in (extra_examples or {}).items():
        group, _, key = path.partition(".")
        if _NAME_PATTERN.match(group) and _NAME_PATTERN.match(key):
            context.setdefault(group, {}).setdefault(key, example or "Beispiel")
    return context


def trial_render(source: str, *, html: bool, extra_examples: Mapping[str, str] | None = None) -> list[str]:
    """Render ``source`` once with :func:`sample_context`; German errors, empty when it works.

    Run when a template is saved, so a template over budget (too much text built, too many loop
    iterations, too long) is refused then and not only when someone uses it.
    """
    try:
        render(source, sample_context(extra_examples), html=html, single_line_output=False)
    except TemplateRenderError as exc:
        return exc.errors
    return []


# --- Context -------------------------------------------------------------------------------------


def _field(data: Mapping[str, Any] | None, key: str, *, multiline: bool = False) -> str:
    value = (data or {}).get(key)
    if value is None:
        return ""
    text = str(value).strip()
    return "\n".join(line.rstrip() for line in text.splitlines()) if multiline else single_line(text)


def build_context(
    contact: Mapping[str, Any] | None,
    company: Mapping[str, Any] | None,
    sender: Mapping[str, Any],
    today: date,
    extra: Mapping[str, Mapping[str, str]] | None = None,
) -> dict[str, dict[str, str]]:
    """Assemble the template context from plain dicts.

    contact: salutation keys (see salutation.py) plus ``email``.
    company: ``name``, ``street``, ``postal_code``, ``city``, ``country`` (optional).
    sender: ``name``, ``email``, ``phone``, ``signature`` (multi-line).
    extra: what plugins contribute through the hook, ``group -> key -> str``; may add groups and
    keys but not overwrite base placeholders.
    """
    language = _field(contact, "language").lower() or "de"
    date_locale = language if language in ("de", "en") else "de"
    city_line = " ".join(p for p in (_field(company, "postal_code"), _field(company, "city")) if p)
    address_lines = [
        _field(company, "name"), _field(company, "street"), city_line, _field(company, "country"),
    ]
    context: dict[str, dict[str, str]] = {
        "kontakt": {
            "anrede": short_salutation(contact),
            "briefanrede": letter_salutation(contact or None),
            "grussformel": closing(language),
            "vorname": _field(contact, "first_name"),
            "nachname": _field(contact, "last_name"),
            "titel": _field(contact, "title"),
            "email": _field(contact, "email"),
        },
        "unternehmen": {
            "name": _field(company, "name"),
            "strasse": _field(company, "street"),
            "plz": _field(company, "postal_code"),
            "ort": _field(company, "city"),
            "anschrift": "\n".join(line for line in address_lines if line),
        },
        "absender": {
            "name": _field(sender, "name"),
            "email": _field(sender, "email"),
            "telefon": _field(sender, "phone"),
            "signatur": _field(sender, "signature", multiline=True),
        },
        "datum": {
            # In the recipient's language, as the closing formula is.
            "heute": format_date(today, date_locale),
            "heute_lang": format_date(today, date_locale, style="long"),
        },
    }
    for group, values in (extra or {}).items():
        if not isinstance(group, str) or not _NAME_PATTERN.match(group):
            raise ValueError(f"invalid placeholder group {group!r}")
        target = context.setdefault(group, {})
        for key, value in values.items():
            if not isinstance(key, str) or not _NAME_PATTERN.match(key):
                raise ValueError(f"invalid placeholder key {group}.{key!r}")
            if key in target:
                raise ValueError(f"placeholder {group}.{key} is already defined")
            if value is None:
                value = ""
            if not isinstance(value, str):
                raise TypeError(f"placeholder {group}.{key} must be a str, got {type(value).__name__}")
            target[key] = value
    return context
