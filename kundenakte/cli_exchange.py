"""``kundenakte kontakte import|export``: contact exchange on the command line (the CLI layer, above the core)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from kundenakte.core.runtime import Kundenakte


def _ka(ctx: click.Context) -> Kundenakte:
    # Imported here: kundenakte.cli imports this module to register the group.
    from kundenakte.cli import Context

    return ctx.ensure_object(Context).ka


@click.group("kontakte")
def exchange_group() -> None:
    """Kontakte importieren und exportieren (CSV, vCard)."""


@exchange_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["auto", "vcard", "csv"]), default="auto", show_default=True)
@click.option("--mapping", type=click.Choice(["outlook", "google", "thunderbird", "kundenakte"]), default=None,
              help="CSV-Spaltenzuordnung (ohne Angabe: nach den Spaltenköpfen erkannt)")
@click.option("--dry-run", is_flag=True, help="Nur anzeigen, was geschähe; nichts ändern")
@click.option("--no-update", is_flag=True, help="Dubletten nicht aktualisieren, nur überspringen")
@click.option("--verbose", "-v", is_flag=True, help="Jeden Datensatz auflisten (auch beim echten Import)")
@click.option("--no-index", is_flag=True, help="Suchindex nicht sofort aktualisieren (der Server holt es nach)")
@click.pass_context
def import_cmd(ctx: click.Context, file: Path, fmt: str, mapping: str | None, dry_run: bool, no_update: bool,
               verbose: bool, no_index: bool) -> None:
    """Kontakte aus FILE importieren (Dubletten per E-Mail oder Name+Firma erkannt).

    Jeder Datensatz mit Angaben, die Kundenakte nicht speichert, wird mit „nicht übernommen: …“ genannt.
    """
    from kundenakte.core.exchange import ExchangeError, read_records
    from kundenakte.core.exchange.importer import apply_import, plan_import

    try:
        records = read_records(file.read_bytes(), fmt=fmt, mapping=mapping, filename=file.name)
    except ExchangeError as exc:
        raise click.ClickException(str(exc)) from None
    ka = _ka(ctx)
    with ka.db.read() as session:
        plan = plan_import(session, records, update_existing=not no_update)
    if dry_run or verbose:
        for item in plan.items:
            click.echo(item.describe())
    else:
        for item in plan.items:
            if item.action == "skip" or item.warnings or item.not_kept:
                click.echo(item.describe())
    click.echo(plan.summary())
    if dry_run:
        click.echo("Probelauf: nichts geändert.")
        return
    result = apply_import(ka, plan, progress=True)
    click.echo(result.summary())
    if not no_index and (result.created or result.updated):
        ka.search.flush()
        click.echo("Suchindex aktualisiert.")


@exchange_group.command("export")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["vcard", "csv"]), default=None,
              help="Ohne Angabe nach der Dateiendung (.csv sonst vCard)")
@click.option("--version", "version", type=click.Choice(["3.0", "4.0"]), default="4.0", show_default=True,
              help="vCard-Version")
@click.option("--layout", type=click.Choice(["outlook-de", "outlook-en", "google"]), default="outlook-de",
              show_default=True, help="CSV-Spalten wie Outlook (deutsch/englisch, cp1252) oder Google Kontakte (UTF-8)")
@click.pass_context
def export_cmd(ctx: click.Context, file: Path, fmt: str | None, version: str, layout: str) -> None:
    """Alle Kontakte nach FILE exportieren (vCard verlustfrei; CSV nennt, was das Layout nicht fasst)."""
    from kundenakte.core.exchange.exporter import export_contacts

    if fmt is None:
        fmt = "csv" if file.suffix.lower() == ".csv" else "vcard"
    lost: dict[str, list[str]] = {}
    n = export_contacts(_ka(ctx), file, fmt=fmt, version=version, layout=layout, lost=lost)
    for source, what in lost.items():
        click.echo(f"{source}: nicht im Layout {layout}: {', '.join(what)}")
    click.echo(f"{n} Kontakt(e) nach {file} exportiert.")


def register(cli: click.Group) -> None:
    """Add ``kontakte`` to the ``kundenakte`` command group."""
    cli.add_command(exchange_group)
