"""`evidencekit demo [DIR]`: build a complete sample case, then say how to verify it."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import click

from evidencekit.cli.i18n import _
from evidencekit.cli.runtime import App, pass_app


@click.command()
@click.argument("directory", required=False, type=click.Path(path_type=Path, file_okay=False))
@pass_app
def demo(app: App, directory: Path | None) -> None:
    """Build a sample case in DIRECTORY (default: a new reports/demo-<UTC time>/)."""
    from evidencekit.workflows.demo import run_demo

    result = run_demo(directory, progress=app.info)
    lines = result.summary_lines()
    hint = _path_hint()
    if hint:
        lines += ["", hint]  # one line each: printed lines are escaped, a newline included
    app.emit("evidencekit/demo/1", result.to_dict(), lines)


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
