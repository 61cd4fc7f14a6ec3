"""The memory and time budget of one template render, charged while strings are being built.

An output cap alone comes too late: ``{{ a ~ a ~ a }}`` inside two loops over list literals of
such concatenations builds one string of gigabytes before the first chunk reaches the cap. So
every place where the sandbox creates a string asks the per-render :class:`RenderBudget` first,
with the size of the string it is about to build:

* ``~`` concatenation (rewritten to the ``_ka_concat`` filter by :class:`BudgetTransformer`),
* every filter the sandbox offers (``replace``, ``upper``, ``truncate`` …, see :data:`FILTERS`),
* turning a value into output text, with HTML escaping and line breaks (``finalize``),
* every loop iteration (``_ka_bounded``), which also bounds ``loop.length`` and friends.

Arithmetic (``*``, ``+``, ``%`` …), calls (``range``, ``format`` …) and every filter not listed
here do not exist in the sandbox at all. The budget is cumulative: the sum of the lengths of all
strings a render builds, so its peak memory is bounded too (a character takes at most 4 bytes).
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from jinja2 import Template, nodes, pass_environment, pass_eval_context
from jinja2.filters import FILTERS as JINJA_FILTERS
from jinja2.nodes import EvalContext
from jinja2.runtime import Undefined
from jinja2.visitor import NodeTransformer
from markupsafe import Markup, escape

# Characters one render may build in total: every intermediate string and the output. A letter
# is a few thousand characters; the loop limit times a long line is still far below this.
MAX_BUILT_CHARS = 2_000_000
MAX_LOOP_ITERATIONS = 10_000
DEFAULT_TIMEOUT_S = 2.0

CONCAT_FILTER = "_ka_concat"
BOUNDED_FILTER = "_ka_bounded"

_ESCAPE_GROWTH = {"&": 4, "<": 3, ">": 3, '"': 4, "'": 4}  # markupsafe: &amp; &lt; &gt; &#34; &#39;
_LINE_BREAK_HTML = Markup("<br>\n")


class LimitExceeded(Exception):
    """A render went over its budget; ``str(exc)`` is the German message for the user."""


class RenderBudget:
    """Characters, loop iterations and time left for one render."""

    def __init__(self, *, timeout_s: float = DEFAULT_TIMEOUT_S, max_chars: int = MAX_BUILT_CHARS,
                 max_iterations: int = MAX_LOOP_ITERATIONS) -> None:
        self.deadline = time.monotonic() + timeout_s
        self.max_chars = max_chars
        self.chars = 0
        self.iterations_left = max_iterations
        self.max_iterations = max_iterations

    def charge(self, chars: int) -> None:
        """Account for a string of ``chars`` characters *before* it is built."""
        self.chars += max(chars, 0)
        if self.chars > self.max_chars:
            raise LimitExceeded(
                "Die Vorlage erzeugt beim Ausfüllen zu viel Text (mehr als "
                f"{self.max_chars:,} Zeichen). Bitte Schleifen und Verkettungen mit ~ vereinfachen.".replace(",", ".")
            )
        self.check_time()

    def tick(self) -> None:
        self.iterations_left -= 1
        if self.iterations_left < 0:
            raise LimitExceeded(
                f"Die Vorlage enthält zu viele Schleifendurchläufe (höchstens {self.max_iterations})."
            )
        self.check_time()

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise LimitExceeded("Die Vorlage braucht zu lange zum Erzeugen (Zeitlimit überschritten).")


_BUDGET: contextvars.ContextVar[RenderBudget | None] = contextvars.ContextVar("ka_render_budget", default=None)


def current() -> RenderBudget:
    budget = _BUDGET.get()
    if budget is None:
        # Only Jinja's compile-time constant folding calls filters outside a render; refusing makes
        # it leave the expression to run time, where a budget always exists (BudgetedTemplate).
        raise RuntimeError("no render budget active")
    return budget


@contextmanager
def active(budget: RenderBudget | None = None) -> Iterator[RenderBudget]:
    """Make ``budget`` (or a fresh default one) the budget of the renders in this block."""
    budget = budget or RenderBudget()
    token = _BUDGET.set(budget)
    try:
        yield budget
    finally:
        _BUDGET.reset(token)


class BudgetedTemplate(Template):
    """A template that never runs without a budget, even when used directly (defence in depth)."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        if _BUDGET.get() is not None:
            return super().render(*args, **kwargs)
        with active():
            return super().render(*args, **kwargs)

    def generate(self, *args: Any, **kwargs: Any) -> Iterator[str]:
        if _BUDGET.get() is not None:
            yield from super().generate(*args, **kwargs)
            return
        budget = RenderBudget()
        stream = super().generate(*args, **kwargs)
        try:
            while True:
                # Set around each step only: a generator may be resumed from another context.
                with active(budget):
                    try:
                        chunk = next(stream)
                    except StopIteration:
                        return
                yield chunk
        finally:
            # Jinja's generate() is a generator (typed as an Iterator): close it so its own
            # finally blocks run now, not whenever it is garbage-collected.
            if isinstance(stream, Generator):
                stream.close()


# -- sizes and conversions ------------------------------------------------------------------------


def _bound(value: Any, depth: int = 0) -> int:
    """An upper bound of ``len(str(value))`` computed without building the string."""
    if isinstance(value, str):
        return len(value) * 10 + 2 if depth else len(value)  # repr() inside containers: \U0001xxxx
    if value is None or isinstance(value, (bool, int, float)):
        return 5_000  # str() of an int is limited to 4,300 digits by Python itself
    if isinstance(value, (list, tuple, set, frozenset)):
        return 2 + sum(_bound(item, depth + 1) + 2 for item in value)
    if isinstance(value, dict):
        return 2 + sum(_bound(k, depth + 1) + _bound(v, depth + 1) + 4 for k, v in value.items())
    return 1_000


def text(value: Any) -> str:
    """``str(value)`` charged to the budget (a string stays itself and costs nothing)."""
    if isinstance(value, str):
        return value
    if isinstance(value, Undefined):
        return str(value)  # StrictUndefined raises here, as it should
    if value is None or isinstance(value, (bool, int, float)):
        return str(value)
    current().charge(_bound(value))
    return str(value)


def escaped_size(value: str) -> int:
    return len(value) + sum(value.count(ch) * extra for ch, extra in _ESCAPE_GROWTH.items())


def escaped(value: Any) -> Markup:
    """``escape(value)`` charged to the budget."""
    if hasattr(value, "__html__"):
        return Markup(value.__html__())
    value = text(value)
    current().charge(escaped_size(value))
    return escape(value)


# -- the operations templates can use -------------------------------------------------------------


@pass_eval_context
def concat(eval_ctx: EvalContext, first: Any, *rest: Any) -> str:
    """``a ~ b ~ c``: Jinja's ``markup_join``/``str_join`` with the result's size charged first."""
    parts = (first, *rest)
    budget = current()
    if eval_ctx.autoescape and any(hasattr(p, "__html__") for p in parts):
        pieces: list[str] = [escaped(p) for p in parts]
        budget.charge(sum(len(p) for p in pieces))
        return Markup("").join(pieces)
    strings = [text(p) for p in parts]
    budget.charge(sum(len(s) for s in strings))
    return "".join(strings)


def bounded(iterable: Iterable[Any]) -> Iterator[Any]:
    # Loops without output never yield to the caller, so the budget is enforced inside the loop.
    budget = current()
    for item in iterable:
        budget.tick()
        yield item


def html_finalize(value: Any) -> Any:
    """Output of ``{{ … }}`` in HTML: escaped, line breaks (address, signature) as ``<br>``."""
    if hasattr(value, "__html__") or isinstance(value, Undefined):
        return value
    value = text(value)
    normalized = value.replace("\r\n", "\n").replace("\r", "\n") if "\r" in value else value
    breaks = normalized.count("\n")
    budget = current()
    budget.charge(escaped_size(normalized))
    result = escape(normalized)
    if breaks:
        budget.charge(len(result) + breaks * (len(_LINE_BREAK_HTML) - 1))
        result = result.replace("\n", _LINE_BREAK_HTML)
    return result


def text_finalize(value: Any) -> Any:
    return value if isinstance(value, Undefined) else text(value)


def replace(value: Any, old: Any, new: Any, count: Any = None) -> str:
    source, before, after = text(value), text(old), text(new)
    occurrences = source.count(before) if before else len(source) + 1
    limit = None if count is None else int(count)
    if limit is not None and limit >= 0:
        occurrences = min(occurrences, limit)
    current().charge(len(source) + occurrences * max(len(after) - len(before), 0))
    return source.replace(before, after) if limit is None else source.replace(before, after, limit)


def _case(name: str) -> Callable[[Any], str]:
    jinja_filter = JINJA_FILTERS[name]

    def case_filter(value: Any) -> str:
        value = text(value)
        budget = current()
        budget.charge(len(value))
        result: str = jinja_filter(value)
        # Case mapping may lengthen a string ("ß".upper() == "SS"), by three at most.
        budget.charge(len(result) - len(value))
        return result

    case_filter.__name__ = f"budgeted_{name}"
    return case_filter


def trim(value: Any, chars: Any = None) -> str:
    value = text(value)
    current().charge(len(value))
    trimmed: str = JINJA_FILTERS["trim"](value, None if chars is None else text(chars))
    return trimmed


@pass_environment
def truncate(environment: Any, value: Any, length: Any = 255, killwords: bool = False, end: Any = "...",
             leeway: Any = None) -> str:
    value, end = text(value), text(end)
    current().charge(min(len(value), max(int(length), 0)) + len(end))
    truncated: str = JINJA_FILTERS["truncate"](environment, value, int(length), killwords, end, leeway)
    return truncated


# Allowed filter name -> implementation. ``default`` only returns one of its arguments.
FILTERS: dict[str, Callable[..., Any]] = {
    "capitalize": _case("capitalize"),
    "d": JINJA_FILTERS["d"],
    "default": JINJA_FILTERS["default"],
    "lower": _case("lower"),
    "replace": replace,
    "title": _case("title"),
    "trim": trim,
    "truncate": truncate,
    "upper": _case("upper"),
    CONCAT_FILTER: concat,
    BOUNDED_FILTER: bounded,
}


class BudgetTransformer(NodeTransformer):
    """Route ``~`` and every loop's iterable through the budgeted filters (idempotent)."""

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        first, *rest = node.nodes
        return nodes.Filter(first, CONCAT_FILTER, rest, [], None, None, lineno=node.lineno)

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        if not (isinstance(node.iter, nodes.Filter) and node.iter.name == BOUNDED_FILTER):
            node.iter = nodes.Filter(node.iter, BOUNDED_FILTER, [], [], None, None, lineno=node.iter.lineno)
        return node
