"""Categories (areas) contributed by plugins through ``register_categories``.

The core hard-codes none: labels and order of menu groups and fallback overview sections come
from the enabled plugins, the built-in ones included (see ``kundenakte/plugins/defaults``).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from kundenakte.core.contributions import Category

if TYPE_CHECKING:
    from kundenakte.core.runtime import Kundenakte

log = logging.getLogger(__name__)

UNKNOWN_ORDER = 900  # a category nobody declared comes after every declared one


def categories(ka: Kundenakte, session: Session | None = None) -> dict[str, Category]:
    """Every enabled plugin's categories by key, sorted by ``order``; worked out once per disabled set."""
    disabled = ka.disabled_plugins(session)
    known: dict[frozenset[str], dict[str, Category]] = ka.derived.setdefault("categories", {})
    if disabled not in known:
        found: dict[str, Category] = {}
        for plugin, category in ka.collect("register_categories", session):
            if not isinstance(category, Category):
                log.error("plugin %s: register_categories returned %s", plugin, type(category).__name__)
                continue
            if category.key in found:
                log.error("plugin %s: category %r is already declared by %s", plugin, category.key,
                          found[category.key].plugin)
                continue
            found[category.key] = replace(category, plugin=category.plugin or plugin)
        known[disabled] = dict(sorted(found.items(), key=lambda kv: (kv[1].order, kv[1].label)))
    return known[disabled]


def category_for(known: dict[str, Category], key: str) -> Category:
    """The declared category, or one named after its key for a category nobody declared.

    A group given as a declared category's German label (the form before categories had keys)
    is matched by that label, so older third-party menu items keep their heading.
    """
    if key in known:
        return known[key]
    for category in known.values():
        if category.label == key:
            return category
    return Category(key=key, label=key.replace("_", " ").title() if key.islower() else key, order=UNKNOWN_ORDER)
