"""A test plugin with pages: a blueprint, a template folder overriding the start page, a nav link.

Used to check that a plugin disabled when the app was created gets its pages, template folder
and menu entries back when enabled, without a restart.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, render_template

from kundenakte import hookimpl
from kundenakte.core.contributions import MenuItem

NAME = "pluginpages"
TEMPLATES = Path(__file__).resolve().parent / "templates"

bp = Blueprint(NAME, __name__)


@bp.route("/testseiten/<int:number>")
def page(number: int) -> str:
    return render_template("pluginpages/page.html", number=number)


@hookimpl
def register_blueprints() -> list[Blueprint]:
    return [bp]


@hookimpl
def extra_template_dirs() -> list[str]:
    return [str(TEMPLATES)]


@hookimpl
def navigation_links(viewer: Any) -> list[MenuItem]:
    return [MenuItem("Testseiten", endpoint=f"{NAME}.page", values={"number": 7}, order=90, label_en="Test pages")]
