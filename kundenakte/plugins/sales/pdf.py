"""Printed vouchers: Jinja templates laid out after DIN 5008 (form B), rendered by WeasyPrint.

Templates are looked up, first match wins, in: the admin's folder (setting ``sales_template_dir``),
the folders plugins return from ``extra_template_dirs``, then this plugin's ``templates`` folder.
For a voucher of type ``T`` the page is ``sales/pdf/T.html`` if such a template exists, else
``sales/pdf/voucher.html``; its style sheet is the template ``sales/pdf/voucher.css``. So an
override may replace one type's page, the common page, or only the style sheet.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2

from kundenakte.core.formatting import format_date, format_decimal, format_money, format_percent
from kundenakte.plugins.sales.printdata import VoucherPrint
from kundenakte.plugins.sales.settings import template_dir

if TYPE_CHECKING:
    from kundenakte.core.runtime import Kundenakte

BUILTIN_TEMPLATES = Path(__file__).resolve().parent / "templates"
LOCALE = "de"


def _money(value: Any) -> str:
    return format_money(value, LOCALE)


def _number(value: Any) -> str:
    return format_decimal(Decimal(value).normalize() if isinstance(value, Decimal) else value, LOCALE)


def _percent(value: Any) -> str:
    return format_percent(value, LOCALE)


def _date(value: dt.date | None) -> str:
    return format_date(value, LOCALE) if value else ""


def template_folders(ka: Kundenakte) -> list[Path]:
    folders: list[Path] = []
    admin = template_dir(ka)
    if admin is not None:
        folders.append(admin)
    disabled = ka.disabled_plugins()
    for plugin, folder in ka.plugins.collect("extra_template_dirs"):
        if plugin not in disabled and folder:
            folders.append(Path(folder))
    folders.append(BUILTIN_TEMPLATES)
    return folders


def environment(folders: list[Path]) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(f) for f in folders]),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(money=_money, number=_number, percent=_percent, date=_date)
    return env


def render_html(env: jinja2.Environment, voucher: VoucherPrint) -> str:
    page = env.select_template([f"sales/pdf/{voucher.type_key}.html", "sales/pdf/voucher.html"])
    css = env.get_template("sales/pdf/voucher.css").render(v=voucher)
    return page.render(v=voucher, css=css)


def render_pdf(ka: Kundenakte, voucher: VoucherPrint) -> bytes:
    """The voucher as a PDF (bytes); templates as described in the module docstring."""
    return html_to_pdf(render_html(environment(template_folders(ka)), voucher))


def html_to_pdf(html: str) -> bytes:
    import weasyprint

    # No base URL: a template cannot make WeasyPrint fetch files or URLs the admin did not put inline.
    document = weasyprint.HTML(string=html, base_url=None, url_fetcher=_no_fetch)
    pdf: bytes = document.write_pdf(pdf_variant="pdf/a-3b")
    return pdf


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    if url.startswith("data:"):
        import weasyprint

        return weasyprint.default_url_fetcher(url, *args, **kwargs)  # type: ignore[no-any-return]
    raise ValueError(f"external resources are not loaded in printed vouchers: {url[:80]}")
