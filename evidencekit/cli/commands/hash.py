"""`evidencekit hash PATH… [-a ALGOS] [--format sums|hashdeep|json] [-r] [--window SIZE]`,
`evidencekit hash -c FILE [-a ALG]` and `evidencekit hash PATH… --audit KNOWN`.

`--format sums` lines are written as bytes, byte-identical to coreutils / b3sum (names are file
names, not text). Unreadable files get one error line on stderr and the rest continue; the exit
code is 1 at the end if any failed, 3 when a check or an audit finds a difference. The hashing,
checking and auditing are `evidencekit.workflows.hashing`; this module writes what they report.
"""

from __future__ import annotations

import os
import sys
from typing import BinaryIO, Literal, get_args

import click

from evidencekit import __version__
from evidencekit.cli import runtime
from evidencekit.cli.i18n import _
from evidencekit.cli.runtime import App, pass_app
from evidencekit.fsutil import command_line as fs_command_line
from evidencekit.hash.algorithms import Algorithm
from evidencekit.hash.sums import display_name

HashFormat = Literal["sums", "hashdeep", "json"]
"""How `hash` lists digests: coreutils/b3sum lines, hashdeep's file format, or JSON."""


def _stdout() -> BinaryIO:
    return sys.stdout.buffer


def _error(name: bytes, reason: str) -> None:
    click.echo(
        _("evidencekit: {display_name}: {reason}").format(
            display_name=display_name(name), reason=reason
        ),
        err=True,
    )


def _skipped(name: bytes) -> None:
    click.echo(
        _("evidencekit: {display_name}: skipped (not a regular file)").format(
            display_name=display_name(name)
        ),
        err=True,
    )


@click.command("hash")
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@click.option(
    "-a",
    "--algorithms",
    "algos",
    metavar="ALGOS",
    help="Comma-separated: md5, sha1, sha256, sha512, blake3 (default sha256; for -c and "
    "--audit: taken from the list).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(get_args(HashFormat)),
    help="sums: like md5sum/sha256sum/b3sum (one algorithm); hashdeep: hashdeep's file format; "
    "json (default with --json).",
)
@click.option("-r", "--recursive", is_flag=True, help="Hash the files under directories.")
@click.option("--window", metavar="SIZE", help="Also a digest per SIZE bytes (json only).")
@click.option(
    "-c",
    "--check",
    "check_file",
    type=click.Path(path_type=str, dir_okay=False),
    help="Check the digests listed in FILE (sums format); mismatch exits 3.",
)
@click.option(
    "--audit",
    "known_file",
    type=click.Path(path_type=str, dir_okay=False),
    help="Audit PATHs against a hashdeep file: matched/changed/moved/new/missing; exit 3 if "
    "anything is not matched.",
)
@pass_app
def hash_cmd(
    app: App,
    paths: tuple[str, ...],
    algos: str | None,
    fmt: HashFormat | None,
    recursive: bool,
    window: str | None,
    check_file: str | None,
    known_file: str | None,
) -> None:
    """Hash files in one pass with every algorithm asked for.

    Block devices and FIFOs are read until EOF; directories need -r. `--format sums` output can
    be checked with coreutils (`sha256sum -c`) or b3sum.
    """
    from evidencekit.errors import UsageError
    from evidencekit.hash.algorithms import DEFAULT_HASH_ALGORITHM, parse_algorithms
    from evidencekit.sizes import parse_size

    if check_file is not None:
        if paths or known_file:
            raise UsageError(_("-c FILE takes no PATH and no --audit"), hint=_("give only -c FILE"))
        _check(app, check_file, algos)
        return
    if not paths:
        raise UsageError(_("no PATH given"), hint=_("evidencekit hash FILE… (or -c SUMS_FILE)"))
    if known_file is not None:
        _audit(app, paths, known_file, algos, recursive)
        return
    fmt = fmt or ("json" if app.json else "sums")
    algorithms = parse_algorithms(algos or DEFAULT_HASH_ALGORITHM)
    if fmt == "sums" and len(algorithms) != 1:
        raise UsageError(
            _("--format sums takes exactly one algorithm, got {join}").format(
                join=", ".join(algorithms)
            ),
            hint=_("use --format json or hashdeep for several"),
        )
    if fmt == "hashdeep":
        from evidencekit.hash.hashdeep import check_algorithms

        check_algorithms(algorithms)
    window_size = parse_size(window, what=_("window size")) if window else None
    if window_size is not None and fmt != "json":
        raise UsageError(_("--window needs --format json (sums and hashdeep have no windows)"))
    if window_size is not None and window_size <= 0:
        raise UsageError(
            _("invalid window size {window!r}: must be positive").format(window=window)
        )
    _hash(app, paths, algorithms, fmt, recursive, window_size)


def _hash(
    app: App,
    paths: tuple[str, ...],
    algorithms: tuple[Algorithm, ...],
    fmt: HashFormat,
    recursive: bool,
    window: int | None,
) -> None:
    from evidencekit.cli.progress import TickBar
    from evidencekit.hash.hashdeep import header, record
    from evidencekit.hash.sums import format_line
    from evidencekit.workflows.hashing import HashedFile, HashRequest, hash_files

    out = _stdout()
    bar = TickBar(enabled=app.verbosity >= 0, transient=True)
    if fmt == "hashdeep":
        command = (
            fs_command_line(["evidencekit", *sys.argv[1:]]) if sys.argv else "evidencekit hash"
        )
        out.write(header(algorithms, os.getcwd(), command))

    def on_file(met: HashedFile) -> None:
        if met.skipped:
            _skipped(met.name)
            return
        if met.result is not None or met.error is not None:
            bar.clear()  # the progress line goes before the result line
        if met.error is not None:
            out.flush()
            _error(met.name, met.error)
        elif met.result is not None and fmt == "sums":
            out.write(format_line(algorithms[0], met.result.digests[algorithms[0]], met.name))
            out.flush()
        elif met.result is not None and fmt == "hashdeep":
            out.write(record(met.result.size, met.result.digests, algorithms, met.name))

    request = HashRequest(
        paths=paths,
        algorithms=algorithms,
        recursive=recursive,
        window=window,
        on_file=on_file,
        progress=bar if bar.enabled else None,
    )
    try:
        result = hash_files(request)
    finally:
        bar.finish()
    if fmt == "json":
        doc: dict[str, object] = {
            "schema": "evidencekit/hash/1",
            "evidencekit_version": __version__,
        }
        doc.update(result.to_dict())
        out.write(runtime.json_text(doc).encode("utf-8") + b"\n")
    out.flush()
    if result.exit_code:
        app.exit(result.exit_code)


def _check(app: App, check_file: str, algos: str | None) -> None:
    from evidencekit.hash.sums import escape_name
    from evidencekit.workflows.hashing import CheckedEntry, CheckRequest, check_sums

    out = _stdout()

    def on_entry(checked: CheckedEntry) -> None:
        if checked.error is not None:
            _error(checked.entry.name, checked.error)
        if not app.json:
            # coreutils -c escapes a name only when it holds a newline.
            label = checked.entry.name
            if b"\n" in label:
                label = b"\\" + escape_name("md5", label)[1]
            out.write(label + b": " + checked.verdict.encode() + b"\n")
            out.flush()

    result = check_sums(CheckRequest(check_file, algos, on_entry=on_entry))
    bad = list(result.bad_lines)
    if bad:
        app.warn(
            _("{check_file}: {count} line(s) improperly formatted (lines {bad})").format(
                check_file=check_file, count=len(bad), bad=bad[:10]
            )
        )
    if result.unreadable:
        app.warn(
            _("{unreadable} listed file(s) could not be read").format(unreadable=result.unreadable)
        )
    if result.failed:
        app.warn(_("{failed} computed checksum(s) did NOT match").format(failed=result.failed))
    if app.json:
        app.emit("evidencekit/hash-check/1", result.to_dict(), None)
    if result.exit_code:
        app.exit(result.exit_code)


def _audit(
    app: App, paths: tuple[str, ...], known_file: str, algos: str | None, recursive: bool
) -> None:
    from evidencekit.workflows.hashing import AuditRequest, HashedFile, audit_files

    def on_file(met: HashedFile) -> None:
        if met.skipped:
            _skipped(met.name)
        elif met.error is not None:
            _error(met.name, met.error)

    request = AuditRequest(paths, known_file, algos, recursive, on_file=on_file)
    found = audit_files(request)
    bad = list(found.bad_lines)
    if bad:
        app.warn(
            _("{known_file}: skipped {count} malformed line(s) (lines {bad})").format(
                known_file=known_file, count=len(bad), bad=bad[:10]
            )
        )
    result = found.audit
    lines = [
        _("{display_name}: changed").format(display_name=display_name(n)) for n in result.changed
    ]
    lines += [
        _("{display_name}: moved from {display_name2}").format(
            display_name=display_name(n), display_name2=display_name(w)
        )
        for n, w in result.moved
    ]
    lines += [
        _("{display_name}: new (not in the known file)").format(display_name=display_name(n))
        for n in result.new
    ]
    lines += [
        _("{display_name}: missing (known, not found)").format(display_name=display_name(n))
        for n in result.missing
    ]
    lines.append(
        _(
            "audit {value}: {count} matched, {count2} changed, {count3} moved, "
            "{count4} new, {count5} missing"
        ).format(
            value=_("passed") if result.ok else _("FAILED"),
            count=len(result.matched),
            count2=len(result.changed),
            count3=len(result.moved),
            count4=len(result.new),
            count5=len(result.missing),
        )
    )
    app.emit("evidencekit/hash-audit/1", found.to_dict(), lines)
    if found.exit_code:
        app.exit(found.exit_code)
