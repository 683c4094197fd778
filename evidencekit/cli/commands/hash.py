"""`evidencekit hash PATH… [-a ALGOS] [--format sums|hashdeep|json] [-r] [--window SIZE]`,
`evidencekit hash -c FILE [-a ALG]` and `evidencekit hash PATH… --audit KNOWN`.

`--format sums` lines are written as bytes, byte-identical to coreutils / b3sum (names are file
names, not text). Unreadable files get one error line on stderr and the rest continue; the exit
code is 1 at the end if any failed, 3 when a check or an audit finds a difference.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import click

from evidencekit import __version__
from evidencekit.cli.runtime import EXIT_ERROR, EXIT_INTEGRITY, EXIT_OK, App, pass_app, worst
from evidencekit.fsutil import command_line as fs_command_line
from evidencekit.hash.sums import display_name


def _walk(path: bytes, recursive: bool) -> Iterator[tuple[bytes, str | None]]:
    """(name, error or None) for every file under `path`, in sorted order."""
    if path == b"-":  # standard input, as coreutils
        yield path, None
        return
    try:
        st = os.stat(path)
    except OSError as exc:
        yield path, exc.strerror or str(exc)
        return
    if not stat.S_ISDIR(st.st_mode):
        yield path, None
        return
    if not recursive:
        yield path, "Is a directory (use -r to recurse)"
        return
    try:
        entries = sorted(os.scandir(path), key=lambda e: e.name)
    except OSError as exc:
        yield path, exc.strerror or str(exc)
        return
    for entry in entries:
        child = os.path.join(path, entry.name)
        try:
            if entry.is_dir(follow_symlinks=False):
                yield from _walk(child, True)
                continue
            mode = entry.stat(follow_symlinks=True).st_mode
        except OSError as exc:
            yield child, exc.strerror or str(exc)
            continue
        # Inside a tree only regular files (and symlinks to them) are hashed: a FIFO found while
        # recursing would block forever, and devices or linked folders are not the tree's files.
        # Named on the command line, FIFOs and devices are read until EOF.
        if stat.S_ISREG(mode):
            yield child, None
        else:
            click.echo(
                f"evidencekit: {display_name(child)}: skipped (not a regular file)", err=True
            )


def _stdout() -> BinaryIO:
    return sys.stdout.buffer


def _error(name: bytes, reason: str) -> None:
    click.echo(f"evidencekit: {display_name(name)}: {reason}", err=True)


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
    type=click.Choice(["sums", "hashdeep", "json"]),
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
    fmt: str | None,
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
            raise UsageError("-c FILE takes no PATH and no --audit", hint="give only -c FILE")
        _check(app, check_file, parse_algorithms(algos)[0] if algos else None, algos)
        return
    if not paths:
        raise UsageError("no PATH given", hint="evidencekit hash FILE… (or -c SUMS_FILE)")
    if known_file is not None:
        _audit(app, paths, known_file, algos, recursive)
        return
    fmt = fmt or ("json" if app.json else "sums")
    algorithms = parse_algorithms(algos or DEFAULT_HASH_ALGORITHM)
    if fmt == "sums" and len(algorithms) != 1:
        raise UsageError(
            f"--format sums takes exactly one algorithm, got {', '.join(algorithms)}",
            hint="use --format json or hashdeep for several",
        )
    if fmt == "hashdeep":
        from evidencekit.hash.hashdeep import check_algorithms

        check_algorithms(algorithms)
    window_size = parse_size(window, what="window size") if window else None
    if window_size is not None and fmt != "json":
        raise UsageError("--window needs --format json (sums and hashdeep have no windows)")
    if window_size is not None and window_size <= 0:
        raise UsageError(f"invalid window size {window!r}: must be positive")
    _hash(app, paths, algorithms, fmt, recursive, window_size)


def _hash(
    app: App,
    paths: tuple[str, ...],
    algorithms: tuple[str, ...],
    fmt: str,
    recursive: bool,
    window: int | None,
) -> None:
    from evidencekit.errors import EvidenceKitError
    from evidencekit.hash.hashdeep import header, record
    from evidencekit.hash.multihash import hash_file
    from evidencekit.hash.sums import format_line

    out = _stdout()
    code = EXIT_OK
    progress = _progress(app)
    files: list[dict[str, Any]] = []
    errors: list[dict[str, str]] = []
    if fmt == "hashdeep":
        command = (
            fs_command_line(["evidencekit", *sys.argv[1:]]) if sys.argv else "evidencekit hash"
        )
        out.write(header(algorithms, os.getcwd(), command))
    for arg in paths:
        for name, err in _walk(os.fsencode(arg), recursive):
            if err is None:
                try:
                    result = hash_file(
                        Path("/dev/stdin" if name == b"-" else os.fsdecode(name)),
                        algorithms,
                        window=window,
                        on_progress=progress(name) if progress else None,
                    )
                except EvidenceKitError as exc:
                    err = _reason(exc)
                if progress is not None:  # clear the progress line before the result line
                    click.echo("\r\033[K", nl=False, err=True)
            if err is not None:
                out.flush()
                _error(name, err)
                errors.append({"name": display_name(name), "error": err})
                code = EXIT_ERROR
                continue
            if fmt == "sums":
                out.write(format_line(algorithms[0], result.digests[algorithms[0]], name))
                out.flush()
            elif fmt == "hashdeep":
                out.write(record(result.size, result.digests, algorithms, name))
            else:
                files.append({"name": display_name(name), **result.to_dict()})
    if progress is not None:
        click.echo("\r\033[K", nl=False, err=True)
    if fmt == "json":
        doc = {
            "schema": "evidencekit/hash/1",
            "evidencekit_version": __version__,
            "algorithms": list(algorithms),
            "files": files,
            "errors": errors,
        }
        out.write(json.dumps(doc, ensure_ascii=False, indent=2).encode("utf-8") + b"\n")
    out.flush()
    if code:
        app.exit(code)


def _progress(app: App) -> Callable[[bytes], Callable[[int], None]] | None:
    """Per-file progress on stderr, only on a terminal (never in pipes or logs)."""
    if app.verbosity < 0 or not sys.stderr.isatty():
        return None
    from evidencekit.sizes import human

    last = [0.0]

    def for_file(name: bytes) -> Callable[[int], None]:
        def tick(done: int) -> None:
            now = time.monotonic()
            if now - last[0] >= 0.5:
                last[0] = now
                text = f"{display_name(name)}: {human(done)}"
                click.echo(f"\r\033[K{text}", nl=False, err=True)

        return tick

    return for_file


def _reason(exc: Exception) -> str:
    """'No such file or directory' from our wrapped OSError messages."""
    cause = exc.__cause__
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror
    return str(exc)


def _check(app: App, check_file: str, algorithm: str | None, algos: str | None) -> None:
    from evidencekit.errors import EvidenceKitError, UsageError
    from evidencekit.hash.multihash import hash_file
    from evidencekit.hash.sums import escape_name, parse_sums

    if algos and "," in algos:
        raise UsageError("-c takes at most one algorithm with -a")
    try:
        data = sys.stdin.buffer.read() if check_file == "-" else Path(check_file).read_bytes()
    except OSError as exc:
        raise EvidenceKitError(f"cannot read {check_file!r}: {exc.strerror}") from exc
    if algorithm is None and check_file.endswith((".b3", ".blake3")):
        algorithm = "blake3"
    entries, bad = parse_sums(data, algorithm=algorithm)
    if not entries:
        raise EvidenceKitError(
            f"{check_file}: no properly formatted checksum lines found",
            hint="expected lines like `HEX  NAME` (give -a blake3 for b3sum lists)",
        )
    out = _stdout()
    failed = unreadable = 0
    results: list[dict[str, Any]] = []
    for entry in entries:
        # coreutils -c escapes a name only when it holds a newline.
        label = entry.name
        if b"\n" in entry.name:
            label = b"\\" + escape_name("md5", entry.name)[1]
        try:
            result = hash_file(Path(os.fsdecode(entry.name)), (entry.algorithm,))
            ok = result.digests[entry.algorithm] == entry.hex_digest
            verdict = "OK" if ok else "FAILED"
            if not ok:
                failed += 1
            found = result.digests[entry.algorithm]
        except EvidenceKitError as exc:
            _error(entry.name, _reason(exc))
            verdict = "FAILED open or read"
            unreadable += 1
            found = None
        results.append({**entry.to_dict(), "result": verdict, "found": found})
        if not app.json:
            out.write(label + b": " + verdict.encode() + b"\n")
            out.flush()
    if bad:
        app.warn(f"{check_file}: {len(bad)} line(s) improperly formatted (lines {bad[:10]})")
    if unreadable:
        app.warn(f"{unreadable} listed file(s) could not be read")
    if failed:
        app.warn(f"{failed} computed checksum(s) did NOT match")
    if app.json:
        app.emit(
            "evidencekit/hash-check/1",
            {
                "ok": not failed and not unreadable,
                "entries": results,
                "bad_lines": bad,
                "failed": failed,
                "unreadable": unreadable,
            },
            None,
        )
    code = worst(
        EXIT_INTEGRITY if failed else EXIT_OK,
        EXIT_ERROR if unreadable else EXIT_OK,
    )
    if code:
        app.exit(code)


def _audit(
    app: App, paths: tuple[str, ...], known_file: str, algos: str | None, recursive: bool
) -> None:
    from evidencekit.errors import EvidenceKitError, UsageError
    from evidencekit.hash.algorithms import parse_algorithms
    from evidencekit.hash.hashdeep import audit, parse
    from evidencekit.hash.multihash import hash_file

    try:
        data = Path(known_file).read_bytes()
    except OSError as exc:
        raise EvidenceKitError(f"cannot read known file {known_file!r}: {exc.strerror}") from exc
    known_algos, known, bad = parse(data, source=repr(known_file))
    if bad:
        app.warn(f"{known_file}: skipped {len(bad)} malformed line(s) (lines {bad[:10]})")
    algorithms = parse_algorithms(algos) if algos else known_algos
    missing_cols = [a for a in algorithms if a not in known_algos]
    if not algorithms or missing_cols:
        raise UsageError(
            f"the known file {known_file!r} has no {', '.join(missing_cols) or 'usable'} digests",
            hint=f"it carries {', '.join(known_algos) or 'none we compute'}",
        )
    scanned: list[tuple[bytes, int, dict[str, str]]] = []
    code = EXIT_OK
    for arg in paths:
        for name, err in _walk(os.fsencode(arg), recursive):
            if err is None:
                try:
                    r = hash_file(Path(os.fsdecode(name)), algorithms)
                    scanned.append((name, r.size, dict(r.digests)))
                    continue
                except EvidenceKitError as exc:
                    err = _reason(exc)
            _error(name, err)
            code = EXIT_ERROR
    result = audit(known, scanned, algorithms)
    lines = [f"{display_name(n)}: changed" for n in result.changed]
    lines += [f"{display_name(n)}: moved from {display_name(w)}" for n, w in result.moved]
    lines += [f"{display_name(n)}: new (not in the known file)" for n in result.new]
    lines += [f"{display_name(n)}: missing (known, not found)" for n in result.missing]
    lines.append(
        f"audit {'passed' if result.ok else 'FAILED'}: {len(result.matched)} matched, "
        f"{len(result.changed)} changed, {len(result.moved)} moved, {len(result.new)} new, "
        f"{len(result.missing)} missing"
    )
    app.emit("evidencekit/hash-audit/1", result.to_dict(), lines)
    code = worst(code, EXIT_OK if result.ok else EXIT_INTEGRITY)
    if code:
        app.exit(code)
