"""``kundenakte mail fetch`` and ``kundenakte mail accounts``: inbound mail for cron and admins."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from kundenakte.core.runtime import Kundenakte


def add_commands(mail_group: click.Group, current_ka: Callable[[], Kundenakte]) -> None:
    """Add the commands; ``current_ka`` reads the instance from the click context (the plugin's __init__)."""
    _ka = current_ka

    @mail_group.command("fetch")
    @click.option("--account", "account_ids", type=int, multiple=True, help="Nur dieses Postfach (ID); mehrfach möglich.")
    @click.option("--limit", type=int, default=None, help="Höchstens so viele neue Nachrichten je Postfach.")
    def fetch(account_ids: tuple[int, ...], limit: int | None) -> None:
        """Fetch the mailboxes (Postfächer) and file every new message exactly once."""
        from kundenakte.plugins.communication.inbound.fetch import fetch_all

        summary = fetch_all(_ka(), account_ids=list(account_ids) or None, limit=limit)
        click.echo(str(summary))
        if summary.errors:
            raise SystemExit(1)

    @mail_group.command("accounts")
    def accounts() -> None:
        """List the mailboxes with their last fetch."""
        from sqlalchemy import select

        from kundenakte.plugins.communication.inbound.models import MailAccount

        with _ka().db.read() as session:
            for a in session.scalars(select(MailAccount).order_by(MailAccount.id)):
                click.echo(f"{a.id}\t{a.name}\t{a.username}@{a.host}:{a.port}/{a.folder}\t"
                           f"{'aktiv' if a.active else 'inaktiv'}\t{a.last_fetch_at or '-'}\t{a.last_error}")
