"""The ``kundenakte`` command line. Plugins add commands through ``register_commands``."""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click
from sqlalchemy import select

from kundenakte.core.config import ConfigError, load_settings
from kundenakte.core.runtime import Kundenakte

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from kundenakte.core.models import Folder


class Context:
    """Creates the instance lazily, so ``--help`` works without a database."""

    def __init__(self) -> None:
        self._ka: Kundenakte | None = None

    @property
    def ka(self) -> Kundenakte:
        if self._ka is None:
            try:
                self._ka = Kundenakte(load_settings())
            except ConfigError as exc:
                raise click.ClickException(f"Konfigurationsfehler: {exc}") from None
        return self._ka


pass_ctx = click.make_pass_decorator(Context, ensure=True)

NOT_SET_UP = ("Die Datenbank ist noch nicht eingerichtet (oder nicht auf dem neuesten Stand). "
              "Bitte zuerst `kundenakte init` ausführen; danach funktioniert dieser Befehl.")


class _Cli(click.Group):
    """The command group that says what to do when a command meets a database not yet set up."""

    def invoke(self, ctx: click.Context) -> object:
        from sqlalchemy.exc import OperationalError, ProgrammingError

        try:
            return super().invoke(ctx)
        except (OperationalError, ProgrammingError) as exc:
            # Only a missing or outdated schema gets the hint; any other database error stays as it is.
            if not _schema_missing(ctx):
                raise
            raise click.ClickException(NOT_SET_UP) from exc


def _schema_missing(ctx: click.Context) -> bool:
    from kundenakte.core import migrate

    c = ctx.find_object(Context)
    if c is None or c._ka is None:
        return False
    try:
        return migrate.pending(c._ka)
    except Exception:  # a database that cannot even be asked is not one to give set-up hints for
        return False


@click.group(cls=_Cli)
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Kundenakte – die digitale Kundenakte."""
    ctx.ensure_object(Context)


# -- setup ---------------------------------------------------------------------------------------


@cli.command()
@pass_ctx
def init(c: Context) -> None:
    """Create the instance folder and bring the database to the newest schema."""
    from kundenakte.core import migrate

    migrate.upgrade(c.ka)
    click.echo(f"Instanz bereit: {c.ka.settings.instance}")


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@pass_ctx
def db_upgrade(c: Context) -> None:
    """Apply all migrations of the core and of every plugin."""
    from kundenakte.core import migrate

    migrate.upgrade(c.ka)
    click.echo("Datenbank ist auf dem neuesten Stand.")


# -- users and groups ----------------------------------------------------------------------------


@cli.group()
def user() -> None:
    """Users."""


@user.command("create")
@click.argument("login")
@click.option("--name", "display_name", default="", help="Display name")
@click.option("--email", default="")
@click.option("--admin", is_flag=True)
@click.option("--password", default=None, help="Prompted when omitted")
@pass_ctx
def user_create(c: Context, login: str, display_name: str, email: str, admin: bool, password: str | None) -> None:
    """Create a user."""
    from kundenakte.core.users import UserError, create_user

    if password is None:
        password = click.prompt("Passwort", hide_input=True, confirmation_prompt=True)
    try:
        with c.ka.db.write() as session:
            created = create_user(session, login, password, display_name=display_name or login, email=email, is_admin=admin)
            ident = created.id
    except UserError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Benutzer {login} angelegt (id {ident}).")


@cli.group()
def group() -> None:
    """Groups."""


@group.command("create")
@click.argument("name")
@click.option("--parent", default=None, help="Name of the parent group")
@pass_ctx
def group_create(c: Context, name: str, parent: str | None) -> None:
    from kundenakte.core.users import UserError, create_group

    try:
        with c.ka.db.write() as session:
            create_group(session, name, parent=parent)
    except UserError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Gruppe {name} angelegt.")


@group.command("move")
@click.argument("name")
@click.option("--parent", default=None, help="Name of the new parent group (none: move to the top)")
@pass_ctx
def group_move(c: Context, name: str, parent: str | None) -> None:
    """Put a group inside another (never inside itself or one of its subgroups)."""
    from kundenakte.core.services import UserError, ValidationError, set_group_parent

    try:
        with c.ka.db.write() as session:
            set_group_parent(session, name, parent)
    except UserError as exc:
        raise click.ClickException(str(exc)) from None
    except ValidationError as exc:
        raise click.ClickException(" ".join(exc.errors.values())) from None
    click.echo(f"Gruppe {name} liegt jetzt in {parent}." if parent else f"Gruppe {name} liegt jetzt oben.")


@group.command("add")
@click.argument("name")
@click.argument("logins", nargs=-1, required=True)
@pass_ctx
def group_add(c: Context, name: str, logins: tuple[str, ...]) -> None:
    """Add users to a group."""
    from kundenakte.core.users import UserError, add_members

    try:
        with c.ka.db.write() as session:
            add_members(session, name, logins)
    except UserError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{len(logins)} Benutzer zu {name} hinzugefügt.")


@group.command("remove")
@click.argument("name")
@click.argument("logins", nargs=-1, required=True)
@pass_ctx
def group_remove(c: Context, name: str, logins: tuple[str, ...]) -> None:
    """Remove users from a group."""
    from kundenakte.core.users import UserError, remove_members

    try:
        with c.ka.db.write() as session:
            remove_members(session, name, logins)
    except UserError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{len(logins)} Benutzer aus {name} entfernt.")


@group.command("list")
@pass_ctx
def group_list(c: Context) -> None:
    from kundenakte.core.models import Group

    with c.ka.db.read() as session:
        for g in session.scalars(select(Group).order_by(Group.name)):
            parent = f" (in {g.parent.name})" if g.parent else ""
            click.echo(f"{g.name}{parent}: {', '.join(sorted(u.login for u in g.members))}")


# -- folders (Ablage) ---------------------------------------------------------------------------


@cli.group()
def folder() -> None:
    """Folders (Ablage); a folder is named by its path, e.g. Schriftverkehr/2026."""


def _folder_or_fail(session: Session, path: str) -> Folder:
    from kundenakte.core.services.folders import find_folder

    found = find_folder(session, path)
    if found is None:
        raise click.ClickException(f"Unbekannter Ordner: {path}")
    return found


def _folder_write(c: Context, change: Callable[[Session], str]) -> None:
    """Run one folder change in a write transaction; the service's German messages become the error."""
    from kundenakte.core.services import InUse, ValidationError

    try:
        with c.ka.db.write() as session:
            message = change(session)
    except ValidationError as exc:
        raise click.ClickException(" ".join(exc.errors.values())) from None
    except InUse as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(message)


@folder.command("create")
@click.argument("name")
@click.option("--parent", default=None, help="Path of the parent folder (none: the top level)")
@pass_ctx
def folder_create(c: Context, name: str, parent: str | None) -> None:
    """Create a folder."""
    from kundenakte.core.services.folders import create_folder

    def change(session: Session) -> str:
        parent_id = _folder_or_fail(session, parent).id if parent else None
        created = create_folder(session, name, parent_id, by=None, via="cli")
        return f"Ordner {created.name} angelegt (id {created.id})."

    _folder_write(c, change)


@folder.command("rename")
@click.argument("path")
@click.argument("name")
@pass_ctx
def folder_rename(c: Context, path: str, name: str) -> None:
    """Rename a folder."""
    from kundenakte.core.services.folders import rename_folder

    def change(session: Session) -> str:
        rename_folder(session, _folder_or_fail(session, path), name, by=None, via="cli")
        return f"Ordner {path} heißt jetzt {name.strip()}."

    _folder_write(c, change)


@folder.command("move")
@click.argument("path")
@click.option("--parent", default=None, help="Path of the new parent folder (none: the top level)")
@pass_ctx
def folder_move(c: Context, path: str, parent: str | None) -> None:
    """Put a folder inside another (never inside itself or one of its subfolders)."""
    from kundenakte.core.services.folders import move_folder

    def change(session: Session) -> str:
        target = _folder_or_fail(session, path)
        move_folder(session, target, _folder_or_fail(session, parent).id if parent else None, by=None, via="cli")
        return f"Ordner {target.name} liegt jetzt in {parent}." if parent else f"Ordner {target.name} liegt jetzt oben."

    _folder_write(c, change)


@folder.command("delete")
@click.argument("path")
@pass_ctx
def folder_delete(c: Context, path: str) -> None:
    """Delete an empty folder (no documents filed there, no subfolders)."""
    from kundenakte.core.services.folders import delete_folder

    def change(session: Session) -> str:
        delete_folder(session, _folder_or_fail(session, path), by=None, via="cli")
        return f"Ordner {path} gelöscht."

    _folder_write(c, change)


@folder.command("list")
@pass_ctx
def folder_list(c: Context) -> None:
    """Every folder with its id, indented below its parent."""
    from kundenakte.core.models import Folder

    with c.ka.db.read() as session:
        rows = list(session.scalars(select(Folder)))
    children: dict[int | None, list[Folder]] = {}
    for f in rows:
        children.setdefault(f.parent_id, []).append(f)

    def walk(parent: int | None, depth: int) -> None:
        for f in sorted(children.get(parent, []), key=lambda x: x.name.casefold()):
            click.echo(f"{'  ' * depth}{f.name} (id {f.id})")
            walk(f.id, depth + 1)

    walk(None, 0)


# -- demo, serve, archive ------------------------------------------------------------------------


@cli.command()
@click.option("--companies", default=40, show_default=True)
@click.option("--seed", default=42, show_default=True)
@pass_ctx
def demo(c: Context, companies: int, seed: int) -> None:
    """Load realistic German demo data (users, companies, contacts, folders, documents)."""
    from kundenakte.core import migrate
    from kundenakte.core.demo import load_demo

    migrate.upgrade(c.ka)
    info = load_demo(c.ka, companies=companies, seed=seed, progress=True)
    click.echo(info.summary())


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=None, type=int, help="Worker processes (default KUNDENAKTE_WEB_WORKERS, 2)")
@click.option("--threads", default=None, type=int, help="Threads per worker (default KUNDENAKTE_WEB_THREADS, 8)")
@click.option("--demo/--no-demo", "with_demo", default=False, help="Load demo data into an empty instance first")
@pass_ctx
def serve(c: Context, host: str, port: int, workers: int | None, threads: int | None, with_demo: bool) -> None:
    """Run the web UI with gunicorn (gthread workers: processes × threads).

    Every request has a thread of its own, so a few slow clients (a dribbled upload) occupy a
    few threads and the others keep serving; put a buffering proxy in front in production.
    """
    from kundenakte.core import migrate
    from kundenakte.core.demo import DEMO_PASSWORD, load_demo
    from kundenakte.core.models import User

    ka = c.ka
    migrate.upgrade(ka)
    with ka.db.read() as session:
        empty = session.scalar(select(User.id).limit(1)) is None
    if with_demo and empty:
        click.echo("Leere Instanz: lade Demodaten …")
        info = load_demo(ka, progress=True)
        click.echo(info.summary())
    if with_demo:
        click.secho(f"\n  Kundenakte läuft auf http://{host}:{port:d}/", bold=True)
        click.secho(f"  Anmeldung: lea.mueller / {DEMO_PASSWORD}   (Administrator: admin / {DEMO_PASSWORD})\n", bold=True)
    ka.search.reindex() if ka.search.count_indexed() == 0 else None
    instance = str(ka.settings.instance)
    workers = workers or ka.settings.web_workers
    threads = threads or ka.settings.web_threads
    ka.close()
    env = dict(os.environ, KUNDENAKTE_INSTANCE=instance)
    os.execve(*gunicorn_command(host, port, workers, threads, instance), env)


def gunicorn_command(host: str, port: int, workers: int, threads: int, instance: str) -> tuple[str, list[str]]:
    """What ``kundenakte serve`` runs: gthread workers, so that slow clients occupy threads, not processes.

    A worker takes a connection only while it has a free thread (``--worker-connections`` = threads,
    no keep-alive): otherwise gthread accepts connections it cannot serve and queues them behind the
    slow ones, while the other worker idles. Refused connections wait in the listen queue for
    whichever worker frees a thread first. Behind the reverse proxy keep-alive is not used anyway.
    """
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    argv = [
        gunicorn,
        "--worker-class", "gthread",
        "--workers", str(workers),
        "--threads", str(threads),
        "--worker-connections", str(threads),
        "--keep-alive", "0",
        "--bind", f"{host}:{port}",
        "--umask", "0o077",
        "--control-socket", str(Path(instance) / "gunicorn.ctl"),
        "--access-logfile", "-",
        "kundenakte.web.wsgi:app",
    ]
    return gunicorn, argv


@cli.command()
@click.option("--dry-run", is_flag=True, help="Only list what would be archived")
@pass_ctx
def archive(c: Context, dry_run: bool) -> None:
    """Archive every document whose Aufbewahrungsfrist has passed (idempotent)."""
    from kundenakte.core.retention import archive_due_documents

    done = archive_due_documents(c.ka, dry_run=dry_run)
    c.ka.search.flush()
    verb = "würde archivieren" if dry_run else "archiviert"
    for d in done:
        click.echo(f"{verb}: #{d.id} {d.type_key} „{d.title}“ (fällig {d.archive_due})")
    click.echo(f"{len(done)} Dokument(e) {verb}.")


# -- plugins -------------------------------------------------------------------------------------


@cli.group()
def plugins() -> None:
    """Plugins: list, enable, disable."""


@plugins.command("list")
@pass_ctx
def plugins_list(c: Context) -> None:
    disabled = c.ka.disabled_plugins()
    for name, report in sorted(c.ka.plugins.reports.items()):
        state = "Fehler" if not report.loaded else ("deaktiviert" if name in disabled else "aktiv")
        line = f"{name:<16} {state:<12} {report.module}"
        if report.types:
            line += f"  Typen: {', '.join(report.types)}"
        if report.error:
            line += f"  ({report.error})"
        click.echo(line)


def _set_plugin(c: Context, name: str, enabled: bool) -> None:
    from kundenakte.core.users import set_plugin_enabled

    if name not in c.ka.plugins.reports:
        raise click.ClickException(f"Unbekanntes Plugin: {name}")
    with c.ka.db.write() as session:
        set_plugin_enabled(session, name, enabled, user_id=None)
    click.echo(f"Plugin {name} {'aktiviert' if enabled else 'deaktiviert'}.")


@plugins.command("enable")
@click.argument("name")
@pass_ctx
def plugins_enable(c: Context, name: str) -> None:
    _set_plugin(c, name, True)


@plugins.command("disable")
@click.argument("name")
@pass_ctx
def plugins_disable(c: Context, name: str) -> None:
    _set_plugin(c, name, False)


# -- search and storage --------------------------------------------------------------------------


@cli.group()
def search() -> None:
    """Full-text index."""


@search.command("reindex")
@pass_ctx
def search_reindex(c: Context) -> None:
    """Rebuild the index from the database."""
    n = c.ka.search.reindex(progress=True)
    click.echo(f"{n} Einträge indiziert.")


@search.command("optimize")
@pass_ctx
def search_optimize(c: Context) -> None:
    """Merge the index into as few segments as possible (Whoosh; nothing to do on PostgreSQL)."""
    optimize = getattr(c.ka.search.backend, "optimize", None)
    if optimize is None:
        click.echo("Nichts zu tun: dieser Suchdienst verwaltet seine Segmente selbst.")
        return
    optimize()
    click.echo("Index zusammengeführt.")


@search.command("check")
@click.option("--repair", is_flag=True, help="Fix what is missing, stale or extra")
@pass_ctx
def search_check(c: Context, repair: bool) -> None:
    """Report index entries missing, stale or extra compared with the database."""
    report = c.ka.search.check(repair=repair)
    segments = getattr(c.ka.search.backend, "segment_count", None)
    if segments is not None:
        click.echo(f"Segmente: {segments()}")
    for kind, label in (("missing", "fehlt"), ("stale", "veraltet"), ("extra", "überzählig")):
        for key in report[kind][:50]:
            click.echo(f"{label}: {key}")
        click.echo(f"{label}: {len(report[kind])}")
    if repair:
        c.ka.search.flush()
        click.echo("repariert.")
    elif any(report.values()):
        sys.exit(1)


@cli.group()
def storage() -> None:
    """Attachment files."""


@storage.command("gc")
@click.option("--min-age", default=3600, show_default=True, help="Only files older than this many seconds")
@pass_ctx
def storage_gc(c: Context, min_age: int) -> None:
    """Remove files that no attachment row names (left by a crash before commit)."""
    referenced = c.ka.referenced_blobs()
    removed = c.ka.storage.garbage_collect(referenced, min_age_s=min_age)
    click.echo(f"{len(removed)} verwaiste Datei(en) entfernt.")


def _add_plugin_commands() -> None:
    try:
        from kundenakte.core.plugins import PluginHost

        settings = load_settings()
        host = PluginHost(allowed=settings.plugins_allowed, blocked=settings.plugins_blocked)
        host.call("register_commands", cli=cli)
    except ConfigError:
        pass


def _add_core_groups() -> None:
    from kundenakte.cli_exchange import register as register_exchange

    register_exchange(cli)


_add_core_groups()


def main() -> None:
    _add_plugin_commands()
    cli(prog_name="kundenakte")


def new_password() -> str:
    return secrets.token_urlsafe(12)
