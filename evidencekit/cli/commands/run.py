"""`evidencekit run PLAN.toml [--check] [--progress-jsonl FILE] [--summary FILE.csv]`."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import IO

import click

from evidencekit.cli.i18n import _
from evidencekit.cli.runtime import App, pass_app

SCHEMA = "evidencekit/run/1"


@click.command("run")
@click.argument("plan_file", metavar="PLAN.toml", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--check", "check_only", is_flag=True, help="Check the plan; run nothing.")
@click.option(
    "--progress-jsonl",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help="Append one JSON line per step start and end, and byte progress (for dashboards); "
    "- for stdout (not with --json).",
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
    With --json, stdout carries one summary document (every step's status, exit code and
    duration); --progress-jsonl FILE (or - for stdout) the live lines.
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
    if progress_jsonl is not None and str(progress_jsonl) == "-":
        if app.json:
            from evidencekit.errors import UsageError

            raise UsageError(
                _("--progress-jsonl - (stdout) and --json both write stdout: give one, or a file"),
                hint=_("--json prints one summary document; --progress-jsonl FILE the live lines"),
            )
        sink = sys.stdout
    elif progress_jsonl is not None:
        try:
            sink = open(progress_jsonl, "a", encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            from evidencekit.errors import UsageError

            raise UsageError(
                _("cannot open --progress-jsonl {progress_jsonl!r}: {strerror}").format(
                    progress_jsonl=str(progress_jsonl), strerror=exc.strerror
                )
            ) from exc

    lock = threading.Lock()  # progress lines come from the thread doing a step's work

    def on_record(rec: dict[str, object]) -> None:
        # a name that is not UTF-8 (a surrogate escape) stays a valid JSON escape, never an error
        line = json.dumps(rec, ensure_ascii=False).encode("utf-8", "backslashreplace").decode()
        if sink is not None:
            with lock:
                sink.write(line + "\n")
                sink.flush()
        if rec["event"] == "end":
            took = f"{rec['duration_s']:.1f} s"
            item = f" {rec['item']}" if rec["item"] else ""
            msg = f": {rec['message']}" if rec["message"] else ""
            app.info(
                _("step {step} {kind}{item}: {status} (exit {exit_code}, {took}){msg}").format(
                    step=rec["step"],
                    kind=rec["kind"],
                    item=item,
                    status=rec["status"],
                    exit_code=rec["exit_code"],
                    took=took,
                    msg=msg,
                )
            )

    try:
        result = run_plan(case, plan, examiner, on_record=on_record, command_line=command_line())
    finally:
        if sink is not None and sink is not sys.stdout:
            sink.close()
    if summary is not None:
        write_summary(summary, result)
    counts = ", ".join(f"{n} {status}" for status, n in sorted(result.counts().items()))
    lines = [
        _("plan {plan_file}: {count} steps: {counts}").format(
            plan_file=plan_file, count=len(result.outcomes), counts=counts
        )
    ]
    for o in result.outcomes:
        if o.status in ("failed", "interrupted"):
            item = f" {o.item}" if o.item else ""
            lines.append(
                _("  step {number} {kind}{item}: {status}: {message}").format(
                    number=o.number, kind=o.kind, item=item, status=o.status, message=o.message
                )
            )
    lines.append(_("exit code {exit_code}").format(exit_code=result.exit_code))
    if sink is sys.stdout:
        for line in lines:  # stdout holds the JSON lines: the summary goes with the step lines
            app.info(line)
    else:
        app.emit(SCHEMA, result.to_dict(), lines)
    if result.exit_code:
        app.exit(result.exit_code)
