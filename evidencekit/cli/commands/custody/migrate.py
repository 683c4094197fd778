"""`evidencekit custody migrate --to postgresql://…|sqlite`: move the case's ledger."""

from __future__ import annotations

import click

from evidencekit.cli.commands.custody._group import custody
from evidencekit.cli.i18n import _
from evidencekit.cli.runtime import App, pass_app


@custody.command("migrate")
@click.option(
    "--to",
    "to",
    required=True,
    metavar="postgresql://…|sqlite",
    help="Where to move the ledger: a PostgreSQL URL (no password: PGPASSFILE, service file, "
    "environment), or `sqlite` for custody.sqlite in the case folder.",
)
@pass_app
def migrate(app: App, to: str) -> None:
    """Move the case's ledger to PostgreSQL (or back to SQLite): copy every row as stored,
    prove the same events, tree root and checkpoints, switch case.toml, then record a signed
    `ledger_migrated` event. Stop the case's other writers first (docs/postgresql.md)."""
    from evidencekit.workflows.migrate import migrate_ledger

    case = app.case()
    done = migrate_ledger(case, app.identity(), to)
    c = done.copied
    app.emit(
        "evidencekit/custody-migrate/1",
        done.to_dict(),
        [
            _("Custody ledger moved from {source} to {target}").format(
                source=done.source, target=done.target
            ),
            _(
                "  {size} events ({already} there before), {checkpoints} checkpoints, "
                "root {hex}: the same in both"
            ).format(size=c.size, already=c.already, checkpoints=c.checkpoints, hex=c.root.hex()),
            *(
                [_("  old file kept as {set_aside}").format(set_aside=done.set_aside)]
                if done.set_aside
                else []
            ),
            _("  recorded as event #{event_seq} (ledger_migrated)").format(
                event_seq=done.event_seq
            ),
        ],
    )
