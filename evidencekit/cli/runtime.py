"""The CLI's runtime: the shared context, output (text or JSON), and the one place where errors
become exit codes and one-line messages.

Exit codes (docs/design.md): 0 success; 1 operational error; 2 usage error; 3 integrity failure;
4 finished and sealed, but some source data could not be read. 3 wins over 4, 4 over 1.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, overload

import click

from evidencekit import __version__
from evidencekit.cli.i18n import _
from evidencekit.errors import (
    EvidenceKitError,
    IdentityError,
    InterruptedAfterRecording,
    InterruptedError_,
)

if TYPE_CHECKING:  # imported when a command needs them: `evidencekit --help` stays quick
    from evidencekit.case import Case
    from evidencekit.identity import Identity, IdentityStore

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTEGRITY = 3
EXIT_PARTIAL = 4

log = logging.getLogger("evidencekit")


_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_LINE_BREAKS = frozenset("\u2028\u2029\x85")


def terminal_text(text: str) -> str:
    """`text` safe to print on a terminal: control characters (so every escape sequence, which
    starts with ESC or a C1 control), bidi overrides and isolates, and Unicode line breaks are
    shown as `\\x1b`, `\\u202e` … instead of acting on the terminal. Tabs stay (columns).

    Names, notes, titles and certificate fields come from people and files nobody vetted: an
    examiner name holding "\\x1b[2J" would clear the screen, U+202E would show a file name or a
    digest reversed. Vietnamese (combining marks included) is untouched. JSON output is not
    passed through here: it escapes controls itself and must carry the exact values.
    """
    if text.isprintable():
        return text
    out = []
    for ch in text:
        code = ord(ch)
        if ch == "\t" or not (
            code < 0x20 or 0x7F <= code < 0xA0 or ch in _BIDI_CONTROLS or ch in _LINE_BREAKS
        ):
            out.append(ch)
        elif code < 0x100:
            out.append(f"\\x{code:02x}")
        else:
            out.append(f"\\u{code:04x}")
    return "".join(out)


@dataclass
class App:
    """What every command gets as `ctx.obj`: the global options and helpers."""

    case_dir: Path | None = None
    json: bool = False
    verbosity: int = 0
    debug: bool = False
    identity_selector: str | None = None
    passphrase_file: Path | None = None
    case_identity: str | None = None
    _identity: Identity | None = field(default=None, repr=False)

    # -- case and identity ----------------------------------------------------------------
    def case(self) -> Case:
        """The case from --case / EVIDENCEKIT_CASE / the current folder (CaseError if none)."""
        from evidencekit.case import find_case

        return self.pin(find_case(self.case_dir))

    @overload
    def pin(self, case: Case) -> Case: ...
    @overload
    def pin(self, case: None) -> None: ...
    def pin(self, case: Case | None) -> Case | None:
        """`case` with the case identity the reader trusts (--case-identity), if any."""
        if case is not None and self.case_identity:
            case.pinned_identity = self.case_identity
        return case

    def identity_store(self) -> IdentityStore:
        from evidencekit.identity import IdentityStore

        return IdentityStore()

    def passphrase(self, name: str, *, confirm: bool = False, what: str = "Passphrase") -> bytes:
        """The passphrase (or a token's PIN, `what="PIN"`): --passphrase-file, else
        EVIDENCEKIT_PASSPHRASE, else a TTY prompt."""
        if self.passphrase_file is not None:
            try:
                text = self.passphrase_file.read_bytes()
            except OSError as exc:
                raise IdentityError(
                    _("cannot read passphrase file {path}: {reason}").format(
                        path=repr(str(self.passphrase_file)), reason=exc.strerror
                    )
                ) from exc
            return text.splitlines()[0] if text.strip() else b""
        env = os.environ.get("EVIDENCEKIT_PASSPHRASE")
        if env is not None:
            return env.encode("utf-8")
        if sys.stdin.isatty() and sys.stderr.isatty():
            prompt = _("PIN for {name}") if what == "PIN" else _("Passphrase for {name}")
            value = click.prompt(
                prompt.format(name=name),
                hide_input=True,
                confirmation_prompt=confirm,
                err=True,
            )
            return str(value).encode("utf-8")
        message = (
            _("no PIN for identity {name} and no terminal to ask on")
            if what == "PIN"
            else _("no passphrase for identity {name} and no terminal to ask on")
        )
        raise IdentityError(
            message.format(name=repr(name)),
            hint=_("set EVIDENCEKIT_PASSPHRASE or pass --passphrase-file FILE"),
        )

    def secret_without_prompt(self) -> bool:
        """Whether a passphrase (or PIN) comes from a source that needs no prompt:
        --passphrase-file or EVIDENCEKIT_PASSPHRASE."""
        return self.passphrase_file is not None or "EVIDENCEKIT_PASSPHRASE" in os.environ

    def identity(self) -> Identity:
        """The unlocked examiner identity (loaded once per command)."""
        if self._identity is None:
            store = self.identity_store()
            info = store.find(self.identity_selector)
            # a token identity's secret is its PIN, asked for (and read) like a passphrase
            secret = self.passphrase(info.name, what="PIN" if info.token else "Passphrase")
            self._identity = store.unlock(info, secret)
        return self._identity

    # -- output ---------------------------------------------------------------------------
    def emit(self, schema: str, data: dict[str, Any], text: str | Iterable[str] | None) -> None:
        """Print the result: one JSON document with --json, else the human text."""
        if self.json:
            doc = {"schema": schema, "evidencekit_version": __version__, **data}
            click.echo(json_text(doc))
        elif text is not None:
            # every human line goes through terminal_text: it carries names, notes, titles
            lines = text.split("\n") if isinstance(text, str) else text
            for line in lines:
                click.echo(terminal_text(line))

    def warn(self, message: str) -> None:
        """A warning on stderr (shown unless -q)."""
        if self.verbosity >= 0:
            click.echo(
                _("evidencekit: warning: {message}").format(message=terminal_text(message)),
                err=True,
            )

    def info(self, message: str) -> None:
        """A progress or status line on stderr (shown unless -q)."""
        if self.verbosity >= 0:
            click.echo(terminal_text(message), err=True)

    def exit(self, code: int) -> NoReturn:
        raise SystemExit(code)


pass_app = click.make_pass_decorator(App)


def _print_error(exc: EvidenceKitError, app: App | None) -> None:
    if isinstance(exc, InterruptedError_) and _RECEIVED and _RECEIVED[0] != signal.SIGINT:
        exc.message += _(" (interrupted by {signal})").format(
            signal=_SIGNAL_NAMES.get(_RECEIVED[0], _RECEIVED[0])
        )
    from evidencekit.cli.library_messages import localized

    message = localized(exc.message) or exc.message
    hint = localized(exc.hint)
    click.echo(_("evidencekit: error: {message}").format(message=terminal_text(message)), err=True)
    if hint:
        click.echo(_("  hint: {hint}").format(hint=terminal_text(hint)), err=True)
    if app is not None and app.json:
        # `code` (and `type`) are fixed English words; the message is in the interface language
        doc = error_document(error_code(exc), type(exc).__name__, message, hint, exc.exit_code)
        click.echo(json_text(doc))


def error_code(exc: EvidenceKitError) -> str:
    """The fixed English code of one of our errors: its class name in snake case without
    `Error` (`IntegrityError` -> `integrity`, `PartialReadError` -> `partial_read`)."""
    name = type(exc).__name__.rstrip("_")
    name = name.removesuffix("Error") or name
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def json_text(doc: dict[str, Any]) -> str:
    """The one way a `--json` document becomes text (docs/json.md; every schema is in
    evidencekit/schemas/, and the test suite checks every document that passes through here)."""
    return json.dumps(doc, ensure_ascii=False, indent=2, default=str)


def error_document(
    code: str, type_name: str, message: str, hint: str | None, exit_code: int
) -> dict[str, Any]:
    """The `evidencekit/error/1` document: `code` is a fixed English word scripts can match
    (`integrity`, `missing_argument`, …); `message` is the one line also printed on stderr."""
    return {
        "schema": "evidencekit/error/1",
        "evidencekit_version": __version__,
        "error": {"code": code, "type": type_name, "message": message, "hint": hint},
        "exit_code": exit_code,
    }


_CLICK_CODES: dict[str, str] = {
    "MissingParameter": "missing_parameter",
    "BadParameter": "bad_parameter",
    "NoSuchOption": "no_such_option",
    "BadOptionUsage": "bad_option_usage",
    "BadArgumentUsage": "bad_argument_usage",
    "NoSuchCommand": "no_such_command",
    "UsageError": "usage",
    "FileError": "file_error",
    "ClickException": "usage",
}


def click_error_document(exc: click.ClickException) -> dict[str, Any]:
    """The error document for click's own errors (a missing argument, a bad option value, an
    unknown command): the same shape as ours, exit code 2 for usage errors."""
    name = type(exc).__name__
    code = _CLICK_CODES.get(name, "usage")
    if isinstance(exc, click.MissingParameter):
        kind = exc.param_type or (exc.param.param_type_name if exc.param else None)
        code = f"missing_{kind or 'parameter'}"
    elif name == "UsageError" and _is_no_such_command(exc.format_message()):
        code = "no_such_command"
    return error_document(code, name, exc.format_message(), None, exc.exit_code)


def _is_no_such_command(message: str) -> bool:
    """Whether click's usage error is "No such command …", in English or in the interface's
    language (the JSON code must not depend on the language)."""
    translated = _("No such command {name!r}.").split("{", 1)[0]
    return "No such command" in message or bool(translated and message.startswith(translated))


def print_click_error_json(exc: click.ClickException) -> None:
    """Print click's error as a JSON document on stdout (click itself prints the usage on
    stderr and exits with the code)."""
    click.echo(json_text(click_error_document(exc)))


def run_guarded(func: Callable[[], Any], app_getter: Callable[[], App | None]) -> Any:
    """Run the command, mapping our errors (and Ctrl-C, and unexpected bugs) to exit codes."""
    try:
        return func()
    except EvidenceKitError as exc:
        app = app_getter()
        if app is not None and app.debug:
            traceback.print_exc()
        _print_error(exc, app)
        raise SystemExit(exc.exit_code) from None
    except KeyboardInterrupt as exc:
        if isinstance(exc, InterruptedAfterRecording):
            sig = _RECEIVED[0] if _RECEIVED else signal.SIGINT
            by = _(" (by {signal})").format(signal=_SIGNAL_NAMES.get(sig, sig))
            text = terminal_text(exc.message) + (by if sig != signal.SIGINT else "")
            click.echo(_("evidencekit: error: {message}").format(message=text), err=True)
            raise SystemExit(EXIT_ERROR) from None
        text = (
            _("interrupted by {signal}").format(signal=exc)
            if isinstance(exc, Terminated)
            else _("interrupted")
        )
        click.echo(_("evidencekit: error: {message}").format(message=text), err=True)
        raise SystemExit(EXIT_ERROR) from None
    except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
        raise
    except SystemExit:
        raise
    except OSError as exc:
        app = app_getter()
        if app is not None and app.debug:
            traceback.print_exc()
        where = f" {exc.filename!r}" if exc.filename else ""
        text = f"{exc.strerror or exc}{where}"
        click.echo(_("evidencekit: error: {message}").format(message=text), err=True)
        raise SystemExit(EXIT_ERROR) from None
    except Exception as exc:  # a bug: say so in one line, with the traceback only on --debug
        app = app_getter()
        if app is not None and app.debug:
            traceback.print_exc()
        click.echo(
            _(
                "evidencekit: internal error: {error} "
                "(run with --debug for the traceback and report it)"
            ).format(error=f"{type(exc).__name__}: {exc}"),
            err=True,
        )
        raise SystemExit(EXIT_ERROR) from None


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, delivered like Ctrl-C: every path that seals an interrupted
    acquisition `incomplete` and records it handles this too (it is a KeyboardInterrupt)."""


_RECEIVED: list[int] = []
"""The signals this process received (the first one is named in the interruption's message)."""

_SIGNAL_NAMES: dict[int, str] = {
    signal.SIGINT: "Ctrl-C",
    signal.SIGTERM: "SIGTERM",
    signal.SIGHUP: "SIGHUP",
}


def install_signal_handlers() -> None:
    """SIGTERM and SIGHUP (a closed terminal, `kill`, a lab's job scheduler) stop a command the
    way Ctrl-C does: the work so far is sealed `incomplete` and recorded, exit 1. A second
    signal while that is being done stops at once (exit 1): what was not yet sealed stays
    visibly unfinished for `case show` and recovery, and nothing sealed is deleted.

    Only in the main thread of the CLI process (Python delivers signals there).
    """
    if threading.current_thread() is not threading.main_thread():
        return
    received = _RECEIVED

    def handler(signum: int, _frame: object) -> None:
        if received:
            os.write(
                2,
                (
                    _(
                        "evidencekit: {signal} again: stopping now; "
                        "unfinished work is left as it is (evidencekit case show)"
                    ).format(signal=_SIGNAL_NAMES.get(signum, str(signum)))
                    + "\n"
                ).encode(),
            )
            os._exit(EXIT_ERROR)
        received.append(signum)
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise Terminated(_SIGNAL_NAMES.get(signum, str(signum)))

    for sig in _SIGNAL_NAMES:
        signal.signal(sig, handler)


def configure_logging(verbosity: int, debug: bool) -> None:
    """Only the `evidencekit` logger is configured; it writes to stderr."""
    level = logging.WARNING
    if debug or verbosity >= 2:
        level = logging.DEBUG
    elif verbosity == 1:
        level = logging.INFO
    elif verbosity < 0:
        level = logging.ERROR
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("evidencekit: %(levelname)s: %(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(level)
    log.propagate = False
