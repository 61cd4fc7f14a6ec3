"""Small value objects plugins return from hooks: menu entries, overview sections, placeholders."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Category:
    """An area of the application (e.g. "Kommunikation"): heading of menu groups and fallback sections.

    Document types name their ``category`` and menu items their ``group`` by ``key``; lower
    ``order`` comes first. Contributed through ``register_categories``.
    """

    key: str
    label: str
    label_en: str = ""
    order: int = 100
    plugin: str = ""  # filled by the caller of the hook

    def label_for(self, language: str) -> str:
        return self.label_en if language == "en" and self.label_en else self.label


@dataclass(frozen=True)
class MenuItem:
    """An entry of a "…" menu, the left navigation or the settings page.

    ``group`` is the key of the :class:`Category` it is shown under (e.g. "communication"); lower
    ``order`` comes first. The target is a Flask ``endpoint`` with its ``values`` (built with
    ``url_for``, so it follows a URL prefix), a literal ``url`` (external links), or ``type_key``
    for "create a new document of this type here".
    """

    label: str
    url: str = ""
    endpoint: str = ""
    values: Mapping[str, Any] = field(default_factory=dict)
    type_key: str = ""
    group: str = ""
    order: int = 100
    icon: str = ""
    label_en: str = ""
    method: str = "get"  # "post" for actions that change something (rendered as a form with CSRF token)
    # document_actions only: a button in the document's toolbar instead of a "…" entry. In the edit
    # form it saves the document first and then opens the target (a "get" page, e.g. a confirmation).
    toolbar: bool = False
    # Open the (GET) target in a dialog over the page; it must also work as a page of its own, which
    # is what users without JavaScript get. The dialog shows the target's ``[data-dialog-content]``.
    dialog: bool = False
    plugin: str = ""  # filled by the caller of the hook

    def label_for(self, language: str) -> str:
        return self.label_en if language == "en" and self.label_en else self.label


@dataclass(frozen=True)
class OverviewFilter:
    """One radio button of an overview section; ``statuses`` None means "alle"."""

    value: str
    label: str
    statuses: tuple[str, ...] | None = None
    label_en: str = ""


@dataclass(frozen=True)
class OverviewFigure:
    """A further figure of an overview section beside its sum (e.g. "Offene Posten"), in euros."""

    label: str
    value: Any  # Decimal
    label_en: str = ""


@dataclass(frozen=True)
class OverviewSection:
    """A section of the company/contact overview, declared rather than hand-built.

    The core runs one grouped, ACL-filtered query per section for the counts and one for the page,
    so a plugin gets filters, counts, sums and paging without writing a query.
    """

    key: str
    label: str
    type_keys: tuple[str, ...]
    filters: tuple[OverviewFilter, ...] = (OverviewFilter("all", "alle", None, "all"),)
    default_filter: str = "all"
    columns: tuple[str, ...] = ()  # declared field names shown next to title, date and status
    show_sum: bool = False  # sum of Document.amount per filter
    # What the sum means ("Pipeline (gewichtet)", "Fakturiert"); one section sums one meaning only.
    sum_label: str = ""
    sum_label_en: str = ""
    # Figures the plugin computes itself, each one meaning (open receivables from payments, say):
    # called with the instance, the session and a SELECT of the ids of the section's documents the viewer may read
    # in this scope (the same ACL clause as counts and sums), it returns OverviewFigure objects.
    figures: Callable[[Any, Any, Any], Any] | None = None
    order: int = 100
    label_en: str = ""
    plugin: str = ""


@dataclass(frozen=True)
class Placeholder:
    """A template placeholder: ``{{ group.key }}``; ``resolve`` gets the render context dicts."""

    group: str
    key: str
    label: str
    resolve: Callable[[dict[str, Any]], str] | None = None
    label_en: str = ""
    example: str = ""
    plugin: str = ""

    @property
    def path(self) -> str:
        return f"{self.group}.{self.key}"


@dataclass
class PluginReport:
    """What the plugin manager knows about one plugin, for ``kundenakte plugins list`` and the admin page."""

    name: str
    module: str = ""
    builtin: bool = False
    loaded: bool = False
    enabled: bool = True
    error: str = ""
    types: list[str] = field(default_factory=list)
