"""The left navigation: the core's entries plus the plugins' ``navigation_links``, as one fragment.

Every page shows it, so it is rendered once per distinct (language, entries, active entry) and then
reused: the Jinja macro calls, ``url_for`` and gettext per entry cost a tenth of a list page
(bench/web_bench.py). It holds no user data beyond which plugins' links the viewer gets.
"""

from __future__ import annotations

import html
import threading
from typing import Any, Sequence

from flask import current_app, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup

# (endpoint, German label, icon, path prefix that marks it active; "" = exact "/")
CORE_TOP = (
    ("pages.home", "Start", "⌂", ""),
    ("contacts.index", "Kontakte", "☺", "/kontakte"),
    ("companies.index", "Unternehmen", "▦", "/unternehmen"),
    ("search.index", "Suche", "⌕", "/suche"),
)
CORE_BOTTOM = (("settings.index", "Einstellungen", "⚙", "/einstellungen"),)
_MAX = 256

_lock = threading.Lock()


def _entry(url: str, label: str, icon: str, active: bool) -> str:
    current = ' class="active" aria-current="page"' if active else ""
    return (f'<li><a href="{html.escape(url)}"{current}><span class="nav-icon" aria-hidden="true">'
            f"{html.escape(icon)}</span>{html.escape(label)}</a></li>")


def _core(entries: Sequence[tuple[str, str, str, str]], here: str, lang: str,
          memo: dict[Any, Any]) -> list[tuple[str, str, str, bool]]:
    # URLs depend only on the app's mount point, labels only on the language: both are looked up
    # once, so a page builds the key without url_for or gettext.
    result = []
    for endpoint, label, icon, prefix in entries:
        key = (request.script_root, lang, endpoint)
        resolved = memo.get(key)
        if resolved is None:
            resolved = memo[key] = (url_for(endpoint), _(label))
        active = here == "/" if not prefix else here.startswith(prefix)
        result.append((resolved[0], resolved[1], icon, active))
    return result


def sidebar(links: Sequence[Any], lang: str) -> tuple[Markup, Markup]:
    """The entries (``<li>``) of the sidebar's main and bottom list for the current request."""
    here = request.path
    cache: dict[Any, Any] = current_app.extensions.setdefault("kundenakte_nav", {})
    top = _core(CORE_TOP, here, lang, cache)
    top += [(link.url, link.label_for(lang), link.icon or "•", link.url != "/" and here.startswith(link.url))
            for link in links]
    bottom = _core(CORE_BOTTOM, here, lang, cache)
    key = (lang, tuple(top), tuple(bottom))
    fragments = cache.get(key)
    if fragments is None:
        fragments = (Markup("\n".join(_entry(*e) for e in top)), Markup("\n".join(_entry(*e) for e in bottom)))
        with _lock:
            if len(cache) >= _MAX:
                cache.clear()
            cache[key] = fragments
    return fragments
