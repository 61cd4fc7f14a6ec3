"""Menu items' targets: a Flask endpoint with its values, built with ``url_for``."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace

from flask import url_for
from werkzeug.routing import BuildError

from kundenakte.core.categories import categories, category_for
from kundenakte.core.contributions import MenuItem

log = logging.getLogger(__name__)


def menu_url(item: MenuItem) -> str:
    """The item's URL under the app's mount point; "" for a ``type_key`` item without a target.

    An endpoint that cannot be built (a typo, a missing value) is logged and the entry dropped by
    its caller rather than taking the page down.
    """
    if item.endpoint:
        try:
            return url_for(item.endpoint, **dict(item.values))
        except BuildError:
            log.error("menu item %r of plugin %s: cannot build endpoint %s", item.label, item.plugin, item.endpoint)
            return ""
    return item.url


def for_display(items: Iterable[MenuItem], lang: str) -> list[MenuItem]:
    """Items sorted by their category's order, with ``url`` built and ``group`` as the heading to show.

    Entries whose endpoint cannot be built are left out.
    """
    from kundenakte.web.context import current_ka, db

    known = categories(current_ka(), db())
    ranked = []
    for item in items:
        url = menu_url(item)
        if not url and not item.type_key:
            continue
        category = category_for(known, item.group or "more")
        ranked.append(((category.order, item.order, item.label), replace(item, url=url, group=category.label_for(lang))))
    return [item for _rank, item in sorted(ranked, key=lambda pair: pair[0])]
