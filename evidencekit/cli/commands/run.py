"""`evidencekit run PLAN.toml [--check] [--progress-jsonl FILE] [--summary FILE.csv]`."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import IO

import click

from evidencekit.cli.runtime import App, pass_app

SCHEMA = "evidencekit/run/1"


@click.command("run")
@click.argument("plan_file", metavar="PLAN.toml", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--check", "check_only", is_flag=True, help="Check the plan; run nothing.")
@click.option(
    "--progress-jsonl",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help="Append one JSON line per step start and end (for dashboards).",
)
@click.option(
    "--summary",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE.csv",
    help="Write one CSV row per step when the plan ends.",
)
@pass_app
def run(
    app: App,
    plan_file: Path,
    check_only: bool,
    progress_jsonl: Path | None,
    summary: Path | None,
) -> None:
    """Run the steps of PLAN.toml: acquisitions, collections, seals, verifications, reports.

    The whole plan is checked first (exit 2, nothing done, on any problem). Steps already done
    with the same options and source are skipped; an interrupted one is resumed; a failed one
    is reported and the plan goes on. Exit code: the worst of the steps' (docs/plans.md).
    With --json, stdout carries the JSON lines of --progress-jsonl, then a summary line.
    """
    from evidencekit.fsutil import command_line
    from evidencekit.workflows.commit import lazy_identity
    from evidencekit.workflows.plan import check_plan, load_plan, run_plan, steps_of, write_summary

    plan = load_plan(plan_file)
    case = app.case()
    if check_only:
        checked = check_plan(case, plan)
        lines = [
            f"step {c['step']} {c['kind']} {c['item'] or ''}: {c['action']}".rstrip()
            for c in steps_of(checked)
        ]
        app.emit("evidencekit/run-check/1", {"steps": steps_of(checked)}, lines)
        return
    examiner = lazy_identity(app.identity_store(), app.identity_selector, app.identity)
    sink: IO[str] | None = None
    if progress_jsonl is not None:
        try:
            sink = open(progress_jsonl, "a", encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            from evidencekit.errors import UsageError

            raise UsageError(
                f"cannot open --progress-jsonl {str(progress_jsonl)!r}: {exc.strerror}"
            ) from exc

    lock = threading.Lock()  # progress lines come from the thread doing a step's work

    def on_record(rec: dict[str, object]) -> None:
        # a name that is not UTF-8 (a surrogate escape) stays a valid JSON escape, never an error
        line = json.dumps(rec, ensure_ascii=False).encode("utf-8", "backslashreplace").decode()
        with lock:
            if sink is not None:
                sink.write(line + "\n")
                sink.flush()
            if app.json:
                click.echo(line)
        if rec["event"] == "end" and not app.json:
            took = f"{rec['duration_s']:.1f} s"
            item = f" {rec['item']}" if rec["item"] else ""
            msg = f": {rec['message']}" if rec["message"] else ""
            app.info(
                f"step {rec['step']} {rec['kind']}{item}: {rec['status']} "
                f"(exit {rec['exit_code']}, {took}){msg}"
            )

    try:
        result = run_plan(case, plan, examiner, on_record=on_record, command_line=command_line())
    finally:
        if sink is not None:
            sink.close()
    if summary is not None:
        write_summary(summary, result)
    counts = ", ".join(f"{n} {status}" for status, n in sorted(result.counts().items()))
    if app.json:
        from evidencekit import __version__

        doc = {
            "event": "summary",
            "schema": SCHEMA,
            "evidencekit_version": __version__,
            **result.to_dict(),
        }
        click.echo(json.dumps(doc, ensure_ascii=False).encode("utf-8", "backslashreplace").decode())
    else:
        click.echo(f"plan {plan_file}: {len(result.outcomes)} steps: {counts}")
        for o in result.outcomes:
            if o.status in ("failed", "interrupted"):
                item = f" {o.item}" if o.item else ""
                click.echo(f"  step {o.number} {o.kind}{item}: {o.status}: {o.message}")
        click.echo(f"exit code {result.exit_code}")
    if result.exit_code:
        app.exit(result.exit_code)
