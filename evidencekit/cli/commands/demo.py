"""`evidencekit demo [DIR]`: build a complete sample case, then say how to verify it."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import click

from evidencekit.cli.i18n import N_, _
from evidencekit.cli.runtime import App, pass_app


@click.command()
@click.argument("directory", required=False, type=click.Path(path_type=Path, file_okay=False))
@pass_app
def demo(app: App, directory: Path | None) -> None:
    """Build a sample case in DIRECTORY (default: a new reports/demo-<UTC time>/)."""
    from evidencekit.workflows.demo import run_demo

    result = run_demo(directory, progress=lambda line: app.info(_progress(line)))
    lines = [_("Demo case built in {folder}").format(folder=result.folder), ""]
    lines += [f"  - {_progress(s)}" for s in result.steps]
    if result.reports:
        lines += ["", _("Reports:"), *(f"  {p}" for p in result.reports)]
    if result.verify_commands:
        lines += ["", _("Verify it yourself:"), *(f"  {c}" for c in result.verify_commands)]
    hint = _path_hint()
    if hint:
        lines += ["", hint]  # one line each: printed lines are escaped, a newline included
    app.emit("evidencekit/demo/1", result.to_dict(), lines)


_STEPS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), template)
    for pattern, template in (
        (
            r"creating demo identities (?P<a>.+) and (?P<b>.+)",
            N_("creating demo identities {a} and {b}"),
        ),
        (r"initialising the case", N_("initialising the case")),
        (
            r"opening seizure session (?P<session>\S+) at (?P<place>.+)",
            N_("opening seizure session {session} at {place}"),
        ),
        (
            r"imaging (?P<source>.+) to E01 as item (?P<item>\S+)",
            N_("imaging {source} to E01 as item {item}"),
        ),
        (
            r"collecting the files inside (?P<source>.+) as item (?P<item>\S+)",
            N_("collecting the files inside {source} as item {item}"),
        ),
        (r"transferring (?P<item>\S+) to (?P<to>.+)", N_("transferring {item} to {to}")),
        (
            r"making the working copy (?P<copy>\S+) and re-sealing (?P<item>\S+)",
            N_("making the working copy {copy} and re-sealing {item}"),
        ),
        (
            r"verifying every item \(re-hash, seal signatures\)",
            N_("verifying every item (re-hash, seal signatures)"),
        ),
        (
            r"building the signed report \((?P<lang>[a-z]+)\)",
            N_("building the signed report ({lang})"),
        ),
        (
            r"building the Biên bản of seizure session (?P<session>\S+)",
            N_("building the Biên bản of seizure session {session}"),
        ),
        # the steps the demo lists in its result
        (
            r"identity (?P<name>.+) sha256:(?P<fp>[0-9a-f]+)… \(certificate (?P<path>.+)\)",
            N_("identity {name} sha256:{fp}… (certificate {path})"),
        ),
        (
            r"case (?P<number>.+) «(?P<title>.*)» in (?P<path>.+); pinned examiners: (?P<names>.+)",
            N_("case {number} «{title}» in {path}; pinned examiners: {names}"),
        ),
        (
            r"sample USB image \(FAT16, Vietnamese file names\): (?P<path>.+)",
            N_("sample USB image (FAT16, Vietnamese file names): {path}"),
        ),
        (
            r"seizure session (?P<session>\S+) at (?P<place>.+): (?P<item>\S+) registered with a "
            r"photo and sealed \((?P<seal>[^)]+)\) before two witnesses; (?P<owner>.+) refused "
            r"to sign the record",
            N_(
                "seizure session {session} at {place}: {item} registered with a photo and sealed "
                "({seal}) before two witnesses; {owner} refused to sign the record"
            ),
        ),
        (
            r"disk image (?P<item>\S+): (?P<source>.+) imaged to E01 \((?P<files>[^)]+)\), read "
            r"back and sealed; sha256 (?P<sha>\S+)",
            N_(
                "disk image {item}: {source} imaged to E01 ({files}), read back and sealed; "
                "sha256 {sha}"
            ),
        ),
        (
            r"logical collection (?P<item>\S+): (?P<n>\d+) files from (?P<source>.+) into "
            r"(?P<path>.+) \(PAX tar \+ DFXML \+ manifest, sealed\)",
            N_(
                "logical collection {item}: {n} files from {source} into {path} (PAX tar + "
                "DFXML + manifest, sealed)"
            ),
        ),
        (
            r"(?P<item>\S+)'s seal (?P<old>\S+) opened \(intact\) to image it, re-sealed as "
            r"(?P<new>\S+); analysed on the working copy (?P<copy>\S+) \(raw\), never on the "
            r"original",
            N_(
                "{item}'s seal {old} opened (intact) to image it, re-sealed as {new}; analysed "
                "on the working copy {copy} (raw), never on the original"
            ),
        ),
        (
            r"custody: (?P<items>.+) transferred by (?P<by>.+) before a witness and received by "
            r"(?P<to>.+) \(each event signed by its actor\)",
            N_(
                "custody: {items} transferred by {by} before a witness and received by {to} "
                "(each event signed by its actor)"
            ),
        ),
        (
            r"verified (?P<items>.+): all digests and seal signatures hold",
            N_("verified {items}: all digests and seal signatures hold"),
        ),
        (
            r"signed reports \(PAdES\) in Vietnamese and English and the Biên bản \(seizure "
            r"record\) of session (?P<session>\S+), each recorded in the ledger "
            r"\(report_issued\) and verified",
            N_(
                "signed reports (PAdES) in Vietnamese and English and the Biên bản (seizure "
                "record) of session {session}, each recorded in the ledger (report_issued) and "
                "verified"
            ),
        ),
    )
)


def _progress(line: str) -> str:
    """A step the demo announces or lists, in the interface language (as the workflow wrote it
    when no pattern knows it)."""
    for pattern, template in _STEPS:
        found = pattern.fullmatch(line)
        if found:
            return _(template).format(**found.groupdict())
    return line


def _path_hint() -> str | None:
    """`make demo` runs .venv/bin/evidencekit, which a fresh shell does not have on its PATH: say
    how to get the printed commands to work instead of letting them fail with 'not found'."""
    running = Path(sys.argv[0]).resolve() if sys.argv and sys.argv[0] else None
    found = shutil.which("evidencekit")
    if running is None or running.name != "evidencekit":
        return None
    if found is not None and Path(found).resolve() == running:
        return None
    activate = running.parent / "activate"
    how = f". {activate}" if activate.is_file() else f"PATH={running.parent}:$PATH"
    return _("(evidencekit is not on your PATH: run `{how}` first)").format(how=how)
