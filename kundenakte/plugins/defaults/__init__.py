"""The core's own contributions, made through the same hooks as every other plugin.

Modelled on Datasette's ``default_*`` plugins: whatever the core would otherwise hard-code about
areas is declared here or by the area plugins themselves. The host always loads this plugin (it is
the core's part of the contract), also under an allow-list.
"""

from __future__ import annotations

from kundenakte import hookimpl
from kundenakte.core.contributions import Category

# Heading of menu entries no plugin put into a group.
MORE = Category("more", "Weitere", "More", order=1000)


@hookimpl
def register_categories() -> list[Category]:
    return [MORE]
