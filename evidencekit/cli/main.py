"""The `evidencekit` command group.

Command modules are imported only when their command runs, so `evidencekit --help` and
`--version` never load dfvfs, pytsk3, reportlab or pyhanko.
"""

from __future__ import annotations

import importlib
import re
import warnings
from pathlib import Path
from typing import Any

import click

from evidencekit import __version__
from evidencekit.cli import i18n
from evidencekit.cli.i18n import N_, _
from evidencekit.cli.runtime import (
    App,
    configure_logging,
    install_signal_handlers,
    print_click_error_json,
    run_guarded,
)

# name -> (module, attribute, one-line help shown in `evidencekit --help`)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "case": ("evidencekit.cli.commands.case", "case", N_("Create and show case workspaces.")),
    "keys": ("evidencekit.cli.commands.keys", "keys", N_("Manage examiner identities.")),
    "hash": ("evidencekit.cli.commands.hash", "hash_cmd", N_("Hash files (sums, hashdeep, JSON).")),
    "seal": ("evidencekit.cli.commands.seal", "seal", N_("Seal files as an evidence item.")),
    "verify": ("evidencekit.cli.commands.verify", "verify", N_("Re-hash items and check seals.")),
    "acquire": ("evidencekit.cli.commands.acquire", "acquire", N_("Image disks, collect files.")),
    "ls": ("evidencekit.cli.commands.ls", "ls", N_("List partitions and files in an image.")),
    "convert": ("evidencekit.cli.commands.convert", "convert", N_("Convert an image item.")),
    "custody": ("evidencekit.cli.commands.custody", "custody", N_("Chain-of-custody ledger.")),
    "report": ("evidencekit.cli.commands.report", "report", N_("Build and verify PDF reports.")),
    "demo": ("evidencekit.cli.commands.demo", "demo", N_("Build a complete sample case.")),
    "run": ("evidencekit.cli.commands.run", "run", N_("Run a plan of steps (PLAN.toml).")),
}


class LazyGroup(click.Group):
    """Loads each command's module on first use; maps errors to exit codes in one place."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module_name, attr, _help = COMMANDS[cmd_name]
        command = getattr(importlib.import_module(module_name), attr)
        assert isinstance(command, click.Command)
        return i18n.localize(command)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, _(COMMANDS[name][2])) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section(_("Commands")):
                formatter.write_dl(rows)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # the interface language is needed before click parses anything: `--help`, a usage
        # error or a prompt may come first. `--lang` and `--case` are read ahead of the parser.
        lang, case_dir = _global_language_options(args)
        i18n.install(i18n.choose(lang, case_dir))
        i18n.localize(self)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return run_guarded(
                lambda: super(LazyGroup, self).invoke(ctx), lambda: ctx.find_object(App)
            )
        except click.ClickException as exc:
            app = ctx.find_object(App)
            # an unknown command fails before the group's callback has made the App
            if (app.json if app is not None else ctx.params.get("as_json")) is True:
                print_click_error_json(exc)
            raise

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        # an error in the global options (before any App exists): --json is known from argv
        before = list(args)
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.ClickException as exc:
            if parent is None and "--json" in before[: _first_command(before)]:
                print_click_error_json(exc)
            raise


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--case",
    "case_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Case folder (else EVIDENCEKIT_CASE, else the current folder if it is a case).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.option("-q", "--quiet", is_flag=True, help="Only errors on stderr.")
@click.option("-v", "--verbose", count=True, help="More detail on stderr (-vv for debug).")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.option(
    "--identity",
    "identity_selector",
    metavar="NAME_OR_FINGERPRINT",
    help="Examiner identity to sign with (else EVIDENCEKIT_IDENTITY, else the only one).",
)
@click.option(
    "--passphrase-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="File whose first line is the identity's passphrase (else EVIDENCEKIT_PASSPHRASE).",
)
@click.option(
    "--case-identity",
    metavar="sha256:HEX",
    envvar="EVIDENCEKIT_CASE_IDENTITY",
    callback=lambda _ctx, _p, v: _case_identity(v),
    help="Trust only the ledger that starts with this case (shown by `case show` and in every "
    "report): case.toml's list of examiners is then not consulted.",
)
@click.option(
    "--lang",
    "interface_language",
    type=click.Choice(i18n.LANGUAGES),
    help="Language of the interface: en or vi (else EVIDENCEKIT_LANG, else the case's "
    "language, else LANGUAGE/LC_ALL/LC_MESSAGES/LANG). `report build --lang` chooses a "
    "report's language.",
)
@click.version_option(__version__, "--version", prog_name="evidencekit")
@click.pass_context
def cli(
    ctx: click.Context,
    case_dir: Path | None,
    as_json: bool,
    quiet: bool,
    verbose: int,
    debug: bool,
    identity_selector: str | None,
    passphrase_file: Path | None,
    case_identity: str | None,
    interface_language: str | None,
) -> None:
    """evidencekit: image devices, collect files, seal them, record custody, report.

    Exit codes: 0 success, 1 operational error, 2 usage error, 3 integrity failure,
    4 finished and sealed but some source data could not be read.
    """
    verbosity = -1 if quiet else verbose
    configure_logging(verbosity, debug)
    ctx.obj = App(
        case_dir=case_dir,
        json=as_json,
        verbosity=verbosity,
        debug=debug,
        identity_selector=identity_selector,
        passphrase_file=passphrase_file,
        case_identity=case_identity,
    )


def _first_command(args: list[str]) -> int:
    """Index of the first command name in `args` (the global options come before it)."""
    for i, arg in enumerate(args):
        if arg in COMMANDS:
            return i
    return len(args)


def _case_identity(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip().lower()
    if not re.fullmatch(r"sha256:[0-9a-f]{64}", text):
        raise click.BadParameter(
            _(
                "{value} is not a case identity: sha256: and 64 hex digits "
                "(`evidencekit case show` prints it)"
            ).format(value=repr(value)),
            param_hint="--case-identity",
        )
    return text


_VALUE_OPTIONS = ("--case", "--identity", "--passphrase-file", "--case-identity", "--lang")


def _global_language_options(args: list[str]) -> tuple[str | None, Path | None]:
    """`--lang` and `--case` among the global options (those before the command's name)."""
    lang: str | None = None
    case_dir: Path | None = None
    i = 0
    while i < len(args):
        token = args[i]
        name, eq, inline = token.partition("=")
        if token == "--" or not token.startswith("-"):
            break
        if name in _VALUE_OPTIONS:
            value = inline if eq else (args[i + 1] if i + 1 < len(args) else None)
            if name == "--lang":
                lang = value
            elif name == "--case" and value:
                case_dir = Path(value)
            i += 1 if eq else 2
            continue
        i += 1
    return lang, case_dir


def main() -> None:
    """Console-script entry point."""
    install_signal_handlers()
    # pyHanko imports cryptography's DSA classes, which cryptography >= 51 announces as
    # deprecated on every run: noise on an investigator's terminal, about an algorithm
    # evidencekit never signs or accepts (identity/algorithms.py)
    warnings.filterwarnings("ignore", message=r"DSA is deprecated", category=UserWarning)
    cli(prog_name="evidencekit")
