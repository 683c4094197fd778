"""`evidencekit demo [DIR]`: build a complete sample case, then say how to verify it."""

from __future__ import annotations

from pathlib import Path

import click

from evidencekit.cli.runtime import App, pass_app


@click.command()
@click.argument("directory", required=False, type=click.Path(path_type=Path, file_okay=False))
@pass_app
def demo(app: App, directory: Path | None) -> None:
    """Build a sample case in DIRECTORY (default: a new reports/demo-<UTC time>/)."""
    from evidencekit.workflows.demo import run_demo

    result = run_demo(directory, progress=app.info)
    app.emit("evidencekit/demo/1", result.to_dict(), result.summary_lines())
