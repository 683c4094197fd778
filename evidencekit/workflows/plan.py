"""`evidencekit run PLAN.toml`: a batch of acquisitions, collections, seals, verifications and
reports (docs/plans.md).

The whole plan is checked before any step runs (`load_plan`, then `check_plan` against the case):
unknown keys, bad values, duplicate items, missing sources, and items that exist already with
other options or another source are usage errors naming the step and the key. Each step then goes
through the workflows' own typed requests (`acquire_disk`, `collect_item`, `seal_files`,
`verify_evidence`, `build_report`, `verify_report`); nothing shells out to the command line.

What makes a step "done" is the ledger, never a file: the item's acquisition event says
`complete` (or `complete-with-errors`) and its sealed folder is published. The plan's journal
(`CASE/plans/items/ITEM.json`) only says with which options and source each item was *started*, so
that a rerun tells "same step, already done" (skipped) from "same id, other options" (refused),
and continues an interrupted step through the item's own resume (`acquire disk --resume`,
`acquire files --resume`, `case recover`) instead of starting it again.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import os
import stat
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

from evidencekit.case import Case
from evidencekit.errors import (
    EvidenceKitError,
    InterruptedError_,
    PartialReadError,
    UsageError,
    worst_exit_code,
)
from evidencekit.ids import check_item_id
from evidencekit.timeutil import isoformat, utcnow
from evidencekit.workflows.commit import Signer
from evidencekit.workflows.progress import Progress, Tick

if TYPE_CHECKING:
    from evidencekit.workflows.acquire_disk import AcquireOptions

StepKind = Literal["acquire-disk", "acquire-files", "seal", "verify", "report", "report-verify"]
STEP_KINDS: tuple[StepKind, ...] = get_args(StepKind)
ITEM_KINDS = ("acquire-disk", "acquire-files", "seal")
_EVENT_OF = {"acquire-disk": "acquired", "acquire-files": "collected", "seal": "sealed"}
JOURNAL = ("plans", "items")
ITEM_PREFIX = "item:"
# identity values that name where a medium is attached, not which medium it is (as
# acquire_disk/resume.py compares a resumed source)
_VOLATILE = frozenset({"device", "major_minor", "sysfs", "path_id", "loop_direct_io", "ctime"})

# each kind's keys (as the CLI names its options) and their types
_ALGOS = "algos"
_SPEC: dict[str, dict[str, str]] = {
    "acquire-disk": {
        "source": "path",
        "format": "choice:raw,split,e01",
        "segment-size": "size",
        "compression": "choice:none,empty,fast,best",
        "algorithms": _ALGOS,
        "verify": "bool",
        "verify-source": "bool",
        "retries": "int",
        "max-errors": "int",
        "evidence-number": "str",
        "description": "str",
        "notes": "str",
        "set-readonly": "bool",
        "allow-mounted": "bool",
        "window": "size",
        "force": "bool",
        "image-bytes": "bool",
        "accept-stored-digest-mismatch": "str",
        "participants": "strs",
        "session": "str",
    },
    "acquire-files": {
        "source": "path",
        "sources": "paths",
        "description": "str",
        "partition": "int",
        "path": "str",
        "include": "strs",
        "exclude": "strs",
        "ignore-case": "bool",
        "max-size": "size",
        "include-deleted": "bool",
        "follow-symlinks": "bool",
        "source-timezone": "str",
        "algorithms": _ALGOS,
        "fs-type": "str",
        "no-stored-digest-check": "bool",
        "participants": "strs",
        "session": "str",
    },
    "seal": {
        "source": "path",
        "sources": "paths",
        "in-place": "bool",
        "algorithms": _ALGOS,
        "description": "str",
        "participants": "strs",
        "session": "str",
    },
    "verify": {"items": "items", "trust": "paths", "sizes-only": "bool", "record": "bool"},
    "report": {"items": "items", "lang": "choice:vi,en", "output": "path", "tsa-url": "str"},
    "report-verify": {"report": "path", "trust": "paths"},
}
_REQUIRED = {"acquire-disk": ("source",), "report-verify": ("report",)}


@dataclass(frozen=True, slots=True)
class Step:
    """One checked step: `number` counts from 1 in the plan; `options` holds the typed values
    of the keys given (sizes in bytes, algorithms as a tuple, paths resolved against the plan's
    folder)."""

    number: int
    kind: StepKind
    item: str | None
    options: dict[str, Any]
    sources: tuple[str, ...] = ()  # paths, or "item:ID" for an earlier item's image

    def label(self) -> str:
        return f"step {self.number} ({self.kind}{' ' + self.item if self.item else ''})"


@dataclass(frozen=True, slots=True)
class Plan:
    path: Path
    steps: tuple[Step, ...]


@dataclass(frozen=True, slots=True)
class Checked:
    """A step with what the case says of it: `action` is `run`, `resume` (an interrupted
    attempt of the same step), `publish` (recorded, not yet published: `case recover`),
    `skip` (done) or `fail` (cannot be done: `reason`)."""

    step: Step
    action: str
    fingerprint: str | None = None
    reason: str | None = None
    recorded_status: str | None = None


@dataclass(frozen=True, slots=True)
class StepOutcome:
    """What happened to one step (one summary row)."""

    number: int
    kind: str
    item: str | None
    status: str  # done, done-with-errors, resumed, skipped (done), failed, interrupted, not run
    exit_code: int | None
    duration: float
    message: str = ""

    def to_dict(self) -> dict[str, object]:
        return {
            "step": self.number,
            "kind": self.kind,
            "item": self.item,
            "status": self.status,
            "exit_code": self.exit_code,
            "duration_s": round(self.duration, 3),
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class PlanResult:
    plan: Path
    outcomes: tuple[StepOutcome, ...]
    interrupted: bool = False

    @property
    def exit_code(self) -> int:
        """The worst of the steps' exit codes (`errors.worst_exit_code`)."""
        return worst_exit_code(*(o.exit_code for o in self.outcomes if o.exit_code is not None))

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for o in self.outcomes:
            out[o.status] = out.get(o.status, 0) + 1
        return out

    def to_dict(self) -> dict[str, object]:
        return {
            "plan": str(self.plan),
            "exit_code": self.exit_code,
            "interrupted": self.interrupted,
            "counts": self.counts(),
            "steps": [o.to_dict() for o in self.outcomes],
        }


# -- reading and checking ---------------------------------------------------------------------
def _bad(number: int | None, key: str | None, message: str, hint: str | None = None) -> UsageError:
    where = f"step {number}" if number is not None else "plan"
    return UsageError(f"{where}{f', key {key!r}' if key else ''}: {message}", hint=hint)


def load_plan(path: Path) -> Plan:
    """Read and check PLAN.toml on its own (keys, values, duplicate items, sources present).

    Raises:
        UsageError: the first problem, naming the step number and the key.
    """
    try:
        doc = tomllib.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read plan {str(path)!r}: {exc.strerror}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"plan {str(path)!r} is not valid TOML: {exc}") from exc
    for key in doc:
        if key != "step":
            raise _bad(None, key, "unknown key (a plan holds [[step]] tables only)")
    raw = doc.get("step")
    if not isinstance(raw, list) or not raw or not all(isinstance(s, dict) for s in raw):
        raise _bad(None, "step", "no [[step]] tables", hint="docs/plans.md has an example")
    base = path.resolve().parent
    steps: list[Step] = []
    produced: dict[str, int] = {}
    for n, table in enumerate(raw, start=1):
        step = _parse_step(n, table, base)
        if step.item is not None and step.kind in ITEM_KINDS:
            if step.item in produced:
                raise _bad(
                    n, "item", f"{step.item!r} is already made by step {produced[step.item]}"
                )
            produced[step.item] = n
        steps.append(step)
    return Plan(path, tuple(steps))


def _parse_step(n: int, table: dict[str, Any], base: Path) -> Step:
    kind = table.get("kind")
    if kind not in STEP_KINDS:
        raise _bad(n, "kind", f"{kind!r} is not one of {', '.join(STEP_KINDS)}")
    spec = _SPEC[kind]
    item = None
    if kind in ITEM_KINDS:
        if "item" not in table:
            raise _bad(n, "item", "missing: every acquisition, collection and seal names its item")
        item = _item(n, "item", table["item"])
    elif "item" in table:
        raise _bad(n, "item", f"a {kind} step names `items`, not `item`")
    options: dict[str, Any] = {}
    for key, value in table.items():
        if key in ("kind", "item"):
            continue
        if key not in spec:
            raise _bad(n, key, f"unknown key for a {kind} step", hint=", ".join(sorted(spec)))
        options[key] = _value(n, key, spec[key], value, base)
    for key in _REQUIRED.get(kind, ()):
        if key not in options:
            raise _bad(n, key, "missing")
    sources: tuple[str, ...] = ()
    if kind in ITEM_KINDS:
        if "source" in options and "sources" in options:
            raise _bad(n, "sources", "give `source` or `sources`, not both")
        one = options.pop("source", None)
        many = options.pop("sources", None)
        sources = (one,) if one is not None else tuple(many or ())
        if not sources:
            raise _bad(n, "source", "missing")
        for src in sources:
            if src.startswith(ITEM_PREFIX):
                if kind != "acquire-files":
                    raise _bad(n, "source", "only acquire-files reads an earlier item's image")
                _item(n, "source", src[len(ITEM_PREFIX) :])
            elif not os.path.lexists(src):
                raise _bad(n, "source", f"{src!r} does not exist")
    return Step(n, kind, item, options, sources)


def _item(n: int, key: str, value: object) -> str:
    if not isinstance(value, str):
        raise _bad(n, key, f"{value!r} is not an item id")
    try:
        return check_item_id(value)
    except UsageError as exc:
        raise _bad(n, key, exc.message) from None


def _value(n: int, key: str, typ: str, value: object, base: Path) -> Any:
    from evidencekit.hash.algorithms import parse_algorithms
    from evidencekit.sizes import parse_size

    def want(ok: bool, what: str) -> None:
        if not ok:
            raise _bad(n, key, f"{value!r} is not {what}")

    if typ == "bool":
        want(isinstance(value, bool), "true or false")
        return value
    if typ == "int":
        want(isinstance(value, int) and not isinstance(value, bool) and value >= 0, "a count ≥ 0")
        return value
    if typ == "str":
        want(isinstance(value, str) and value != "", "a text")
        return value
    if typ.startswith("choice:"):
        choices = typ[len("choice:") :].split(",")
        want(value in choices, f"one of {', '.join(choices)}")
        return value
    if typ == "size":
        want(isinstance(value, (int, str)) and not isinstance(value, bool), "a size")
        try:
            return parse_size(str(value), what=key)
        except UsageError as exc:
            raise _bad(n, key, exc.message) from None
    if typ == _ALGOS:
        names = value if isinstance(value, list) else [value]
        want(all(isinstance(v, str) for v in names), "a list of digest names")
        try:
            return parse_algorithms([str(v) for v in names])
        except UsageError as exc:
            raise _bad(n, key, exc.message) from None
    sourced = key in ("source", "sources")  # only a source may name an item ("item:ID")
    if typ == "path":
        want(isinstance(value, str) and value != "", "a path")
        assert isinstance(value, str)
        return value if sourced and value.startswith(ITEM_PREFIX) else str(base / value)
    if typ in ("paths", "strs", "items"):
        values = [value] if isinstance(value, str) else value
        want(
            isinstance(values, list) and bool(values) and all(isinstance(v, str) for v in values),
            "a list of texts",
        )
        assert isinstance(values, list)
        if typ == "paths":
            paths = [v if sourced and v.startswith(ITEM_PREFIX) else str(base / v) for v in values]
            for p in paths if key == "trust" else ():
                want(os.path.isfile(p), "a certificate file that exists")
            return paths
        if typ == "items":
            return [_item(n, key, v) for v in values]
        return list(values)
    raise AssertionError(typ)


def _source_facts(step: Step) -> list[dict[str, object]]:
    """What identifies each source: its path and, for a file its size, for a device or disk
    image the media size and identity the acquisition records (serial, model, WWN…)."""
    from evidencekit.acquire.source.adapter import open_source

    facts: list[dict[str, object]] = []
    for src in step.sources:
        if src.startswith(ITEM_PREFIX):
            facts.append({"item": src[len(ITEM_PREFIX) :]})
            continue
        try:
            st = os.stat(src)
        except OSError as exc:
            raise _bad(step.number, "source", f"{src!r}: {exc.strerror}") from exc
        doc: dict[str, object] = {"path": src}
        if stat.S_ISDIR(st.st_mode):
            doc["type"] = "folder"
        elif step.kind == "acquire-disk" or stat.S_ISBLK(st.st_mode):
            doc["type"] = "device" if stat.S_ISBLK(st.st_mode) else "file"
            try:
                as_format = "raw" if step.options.get("image-bytes") else None
                with open_source(src, as_format=as_format) as media:
                    info = media.info
                doc["size"] = info.size
                doc["identity"] = {
                    k: v for k, v in sorted(info.identity.items()) if k not in _VOLATILE
                }
            except EvidenceKitError:
                # cannot be opened now: the step fails when it runs (exit 1), the others go on
                doc["size"] = st.st_size
                doc["unopened"] = True
        else:
            doc["type"] = "file"
            doc["size"] = st.st_size
        facts.append(doc)
    return facts


def fingerprint(step: Step) -> str:
    """sha256 of the step's kind, item, options and source facts (canonical JSON)."""
    doc = {
        "kind": step.kind,
        "item": step.item,
        "options": step.options,
        "sources": _source_facts(step),
    }
    text = json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _journal_path(case: Case, item: str) -> Path:
    return case.path.joinpath(*JOURNAL, f"{check_item_id(item)}.json")


def read_journal(case: Case, item: str) -> dict[str, Any] | None:
    """What a plan started `item` with (None: no plan started it)."""
    try:
        rec = json.loads(_journal_path(case, item).read_text("utf-8"))
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UsageError(f"cannot read the plan record of {item!r}: {exc.strerror}") from exc
    except ValueError:
        return None  # unreadable: as if no plan had started it (then refused, never skipped)
    return rec if isinstance(rec, dict) else None


def _journal_add(case: Case, step: Step, fp: str) -> None:
    """Write (atomically, durably) what the step starts its item with: one file per item, so
    that plans on several workstations sharing one case folder never write the same file."""
    from evidencekit.fsutil import atomic_write, make_dirs_inside

    make_dirs_inside(case.path, list(JOURNAL))
    rec = {"item": step.item, "kind": step.kind, "fingerprint": fp, "started": _now()}
    data = json.dumps(rec, ensure_ascii=False, sort_keys=True).encode("utf-8") + b"\n"
    atomic_write(_journal_path(case, step.item or ""), data)


def _now() -> str:
    return isoformat(utcnow())


def check_plan(case: Case, plan: Plan) -> list[Checked]:
    """What each step will do in this case; every conflict is found before anything runs.

    Raises:
        UsageError: an item exists with other options or source (or was not made by a plan),
            or a step names an item neither the case nor an earlier step has.
    """
    from evidencekit.workflows.acquire_disk.resume import last_acquisition
    from evidencekit.workflows.commit import unfinished

    attempts = {a.item_id: a for a in unfinished(case)}
    known = set(case.items()) | set(attempts)
    checked: list[Checked] = []
    for step in plan.steps:
        if step.kind not in ITEM_KINDS:
            names = list(step.options.get("items") or [])
            names += [s[len(ITEM_PREFIX) :] for s in step.sources if s.startswith(ITEM_PREFIX)]
            for name in names:
                if name not in known:
                    raise _bad(step.number, "items", f"no item {name!r} in the case or the plan")
            checked.append(
                _check_report(case, step) if step.kind == "report" else Checked(step, "run")
            )
            continue
        for s in step.sources:
            if s.startswith(ITEM_PREFIX) and s[len(ITEM_PREFIX) :] not in known:
                raise _bad(step.number, "source", f"no item {s[len(ITEM_PREFIX) :]!r} yet")
        item = step.item
        assert item is not None
        fp = fingerprint(step)
        last = last_acquisition(case, item)
        attempt = attempts.get(item)
        started = read_journal(case, item)
        same = started is not None and started.get("fingerprint") == fp

        def conflict(what: str, step: Step = step, item: str = item) -> UsageError:
            return _bad(
                step.number,
                "item",
                f"{item!r} {what}",
                hint="give this step a new item id, or put the plan back as it was",
            )

        if last is None and attempt is None:
            if case.item_dir(item).exists():
                raise conflict(
                    "has a folder in the case, but no acquisition, collection or seal record"
                )
            checked.append(Checked(step, "run", fp))
        elif last is not None and last[1] != _EVENT_OF[step.kind]:
            raise conflict(f"was {last[1]} in the case (event {last[0]}), not by a {step.kind}")
        elif (
            not same
            and started is None
            and step.kind == "acquire-disk"
            and attempt is None
            and last is not None
            and last[2] != "incomplete"
            and _published_is(case, item, last[3])
            and _recorded_difference(case, step) is None
        ):
            # acquired by hand with exactly these options from this medium: its seal says so
            checked.append(Checked(step, "skip", fp, recorded_status=last[2]))
        elif not same:
            if started is not None:
                raise conflict("exists in the case with other options or another source")
            diff = None
            if step.kind == "acquire-disk" and last is not None and attempt is None:
                diff = _recorded_difference(case, step)
            raise conflict(
                "exists in the case but was not made by a plan step"
                + (f": it was acquired with {diff}, says its seal" if diff else "")
            )
        elif attempt is not None:
            if attempt.running is not False:
                reason = f"its attempt is in progress: {attempt.describe()}"
                checked.append(Checked(step, "fail", fp, reason))
            elif last is not None and last[2] != "incomplete" and _staged_is(attempt, last[3]):
                checked.append(Checked(step, "publish", fp, recorded_status=last[2]))
            else:
                checked.append(Checked(step, "resume", fp))
        else:
            assert last is not None
            if last[2] == "incomplete":
                if step.kind == "seal":
                    reason = f"sealed incomplete (event {last[0]}); a seal cannot be continued"
                    checked.append(Checked(step, "fail", fp, reason))
                else:
                    checked.append(Checked(step, "resume", fp))
            elif not _published_is(case, item, last[3]):
                reason = (
                    f"recorded {last[2]} (event {last[0]}), but its published seal is missing "
                    "or is not the recorded one"
                )
                checked.append(Checked(step, "fail", fp, reason, recorded_status="integrity"))
            else:
                diff = _recorded_difference(case, step) if step.kind == "acquire-disk" else None
                if diff is not None:
                    raise conflict(f"was acquired with {diff}, says its seal")
                checked.append(Checked(step, "skip", fp, recorded_status=last[2]))
        if step.item:
            known.add(step.item)
    return checked


def _check_report(case: Case, step: Step) -> Checked:
    """A report step with an `output` that the ledger says was issued is done; an `output`
    that exists and was not issued by this case is refused (a report never overwrites)."""
    from evidencekit.workflows.custody import list_events

    out = step.options.get("output")
    if out is None or not os.path.lexists(out):
        return Checked(step, "run")
    try:
        sha = hashlib.sha256(Path(out).read_bytes()).hexdigest()
    except OSError as exc:
        raise _bad(step.number, "output", f"{out!r}: {exc.strerror}") from exc
    for ev in list_events(case):
        if ev.get("kind") == "report_issued" and (ev.get("digests") or {}).get("sha256") == sha:
            return Checked(step, "skip", recorded_status=f"issued (event {ev['seq']})")
    raise _bad(
        step.number,
        "output",
        f"{out!r} exists and is not a report this case issued",
        hint="name another output file",
    )


def _published_is(case: Case, item: str, seal_sha256: str) -> bool:
    seal = case.item_dir(item) / f"{item}.seal.json"
    try:
        return hashlib.sha256(seal.read_bytes()).hexdigest() == seal_sha256
    except OSError:
        return False


def _staged_is(attempt: Any, seal_sha256: str) -> bool:
    seal = Path(attempt.folder) / f"{attempt.item_id}.seal.json"
    try:
        return hashlib.sha256(seal.read_bytes()).hexdigest() == seal_sha256
    except OSError:
        return False


# -- running ----------------------------------------------------------------------------------
Report = Callable[[dict[str, object]], None]


def run_plan(
    case: Case,
    plan: Plan,
    examiner: Signer,
    *,
    on_record: Report | None = None,
    command_line: str | None = None,
) -> PlanResult:
    """Check the whole plan, then run its steps in order, past failed ones.

    `on_record` gets one dict when each step starts and when it ends (`event`: `start`/`end`,
    step, kind, item, status, exit_code, duration_s, message). Ctrl-C (or SIGTERM) stops the
    plan after the running step has sealed what it did as `incomplete`; the next run resumes it.

    Raises:
        UsageError: the plan does not fit the case (nothing was run).
    """
    checked = check_plan(case, plan)
    outcomes: list[StepOutcome] = []
    interrupted = False
    for entry in checked:
        step = entry.step
        if interrupted:
            outcomes.append(StepOutcome(step.number, step.kind, step.item, "not run", None, 0.0))
            continue
        if on_record:
            on_record(
                {
                    "event": "start",
                    "at": _now(),
                    "step": step.number,
                    "kind": step.kind,
                    "item": step.item,
                    "status": "running",
                    "action": entry.action,
                }
            )
        t0 = time.monotonic()
        try:
            run = _Run(command_line, _ticker(on_record, step))
            status, code, message = _run_step(case, examiner, entry, run)
        except PartialReadError as exc:
            status, code, message = "done-with-errors", exc.exit_code, exc.message
        except InterruptedError_ as exc:
            status, code, message, interrupted = "interrupted", exc.exit_code, exc.message, True
        except KeyboardInterrupt:
            status, code, message, interrupted = "interrupted", 1, "interrupted", True
        except EvidenceKitError as exc:
            status, code = "failed", exc.exit_code
            message = exc.message + (f" ({exc.hint})" if exc.hint else "")
        except OSError as exc:
            status, code = "failed", 1
            message = f"{exc.strerror or exc}{f' {exc.filename!r}' if exc.filename else ''}"
        outcome = StepOutcome(
            step.number, step.kind, step.item, status, code, time.monotonic() - t0, message
        )
        outcomes.append(outcome)
        if on_record:
            on_record({"event": "end", "at": _now(), **outcome.to_dict()})
    return PlanResult(plan.path, tuple(outcomes), interrupted)


@dataclass(frozen=True, slots=True)
class _Run:
    """What every step's request gets besides its options."""

    command_line: str | None
    progress: Progress | None


def _ticker(on_record: Report | None, step: Step) -> Progress | None:
    """Progress lines (`event: progress`) for `on_record`: one when a pass starts (a new
    label), then one per 1 % of its size (at least 1 MiB; every 16 MiB when the size is not
    known). Counted in bytes, never in time."""
    if on_record is None:
        return None
    state: dict[str, Any] = {"label": None, "next": 0}

    def tick(t: Tick, /) -> None:
        if t.label == state["label"] and t.done < state["next"]:
            return
        every = max(t.total // 100, 1 << 20) if t.total else 16 << 20
        state["label"], state["next"] = t.label, t.done + every
        with contextlib.suppress(Exception):  # a progress callback must not raise
            on_record(
                {
                    "event": "progress",
                    "step": step.number,
                    "kind": step.kind,
                    "item": step.item,
                    "label": t.label,
                    "done": t.done,
                    "total": t.total,
                    "bad": t.bad,
                }
            )

    return tick


def _run_step(case: Case, examiner: Signer, entry: Checked, run: _Run) -> tuple[str, int, str]:
    step, action = entry.step, entry.action
    if action == "fail":
        # a done item whose seal is gone or replaced is an integrity failure, never redone
        code = 3 if entry.recorded_status == "integrity" else 1
        return "failed", code, entry.reason or ""
    if action == "skip":
        cwe = entry.recorded_status == "complete-with-errors"
        return "skipped (done)", 4 if cwe else 0, f"{entry.recorded_status}"
    if action == "publish":
        from evidencekit.workflows.recover import recover

        recover(case, step.item or "")
        cwe = entry.recorded_status == "complete-with-errors"
        return "done", 4 if cwe else 0, "recorded before an interruption; published"
    if step.kind in ITEM_KINDS:
        assert entry.fingerprint is not None
        resume = action == "resume"
        if step.kind == "seal" and resume:
            from evidencekit.workflows.recover import recover

            # an unrecorded seal attempt has nothing to continue: set aside (never deleted)
            recover(
                case,
                step.item or "",
                identity=examiner.unlock(),
                discard="interrupted seal attempt, started again by `evidencekit run`",
            )
            resume = False
        # before any work: a kill from here on leaves an attempt this plan may resume
        _journal_add(case, step, entry.fingerprint)
        message = _ITEM_RUNNERS[step.kind](case, examiner, step, resume, run)
        if action == "resume" and step.kind == "seal":
            message = "sealed again; the interrupted attempt was set aside"
        return ("resumed" if action == "resume" else "done"), 0, message
    return _OTHER_RUNNERS[step.kind](case, examiner, step, run)


def _presence(step: Step) -> dict[str, Any]:
    """The step's `participants` (SPECs, as `--participant` takes them) and `session`: recorded
    in the event the step appends, the session checked open before any work
    (`workflows.seizure.presence`)."""
    o = step.options
    return {"participants": tuple(o.get("participants", ())), "session": o.get("session")}


def _paths(step: Step) -> list[Path]:
    return [Path(s) for s in step.sources]


def _acquire_disk(case: Case, examiner: Signer, step: Step, resume: bool, run: _Run) -> str:
    from evidencekit.workflows.acquire_disk import AcquireDiskRequest, acquire_disk

    req = AcquireDiskRequest(
        source=_paths(step)[0],
        item_id=step.item or "",
        options=_disk_options(step),
        resume=resume,
        command_line=run.command_line,
        progress=run.progress,
        **_presence(step),
    )
    r = acquire_disk(case, examiner, req).resumed
    if r is None:
        return ""
    if r.get("mode") == "redo":
        return "redone from byte 0 (an E01 cannot be continued); the earlier files set aside"
    return f"continued from byte {r.get('from_offset')}"


def _disk_options(step: Step) -> AcquireOptions:
    """The step's `acquire disk` options (the command line's defaults for what it leaves out)."""
    from evidencekit.workflows.acquire_disk import DEFAULT_WINDOW, AcquireOptions

    o = step.options
    window = o.get("window", DEFAULT_WINDOW)
    return AcquireOptions(
        format=o.get("format", "raw"),
        segment_size=o.get("segment-size"),
        **({"algorithms": o["algorithms"]} if "algorithms" in o else {}),
        verify=o.get("verify", True),
        verify_source=o.get("verify-source", False),
        **({"retries": o["retries"]} if "retries" in o else {}),
        max_errors=o.get("max-errors"),
        evidence_number=o.get("evidence-number"),
        description=o.get("description"),
        notes=o.get("notes"),
        set_readonly=o.get("set-readonly", False),
        allow_mounted=o.get("allow-mounted", False),
        window=window or None,
        force=o.get("force", False),
        compression=o.get("compression", "fast"),
        source_format="raw" if o.get("image-bytes") else None,
        accept_stored_digest_mismatch=o.get("accept-stored-digest-mismatch"),
    )


def _recorded_difference(case: Case, step: Step) -> str | None:
    """How the disk acquisition the item's signed seal records differs from `step` (its
    options, and its source: path, size, sector size, kind, format and identity), or None."""
    from evidencekit.acquire.source.adapter import open_source
    from evidencekit.hash.seal.read import load_seal

    item = step.item or ""
    try:
        facts = load_seal(case.item_dir(item) / f"{item}.seal.json").facts
    except EvidenceKitError as exc:
        return f"a seal that cannot be read ({exc.message})"
    want: dict[str, Any] = _disk_options(step).to_dict()
    got: dict[str, Any] = facts.get("options") or {}
    for key in sorted(set(want) | set(got)):
        if want.get(key) != got.get(key):
            name = key.replace("_", "-")
            return f"{name} {got.get(key)!r} (this step: {want.get(key)!r})"
    old: dict[str, Any] = facts.get("source") or {}
    try:
        as_format = "raw" if step.options.get("image-bytes") else None
        with open_source(step.sources[0], as_format=as_format) as media:
            new: dict[str, Any] = media.info.to_dict()
    except EvidenceKitError as exc:
        return f"a source that can no longer be opened ({exc.message})"
    for key in ("path", "size", "logical_sector_size", "kind", "format"):
        if old.get(key) != new.get(key):
            return f"a source whose {key} was {old.get(key)!r} (now {new.get(key)!r})"
    a, b = dict(old.get("identity") or {}), dict(new.get("identity") or {})
    for key in sorted((set(a) | set(b)) - _VOLATILE):
        if a.get(key) != b.get(key):
            return f"a source whose {key} was {a.get(key)!r} (now {b.get(key)!r})"
    return None


def _collect(case: Case, examiner: Signer, step: Step, resume: bool, run: _Run) -> str:
    from evidencekit.acquire.logical.options import CollectOptions
    from evidencekit.workflows.collect import CollectRequest, collect_item
    from evidencekit.workflows.sources import resolve_source

    o = step.options
    sources = tuple(
        resolve_source(case, Path(s[len(ITEM_PREFIX) :])) if s.startswith(ITEM_PREFIX) else Path(s)
        for s in step.sources
    )
    options = CollectOptions(
        includes=tuple(o.get("include", ())),
        excludes=tuple(o.get("exclude", ())),
        ignore_case=o.get("ignore-case", False),
        max_size=o.get("max-size"),
        include_deleted=o.get("include-deleted", False),
        follow_symlinks=o.get("follow-symlinks", False),
        partition=o.get("partition"),
        inside_path=o.get("path"),
        source_timezone=o.get("source-timezone") or case.info.timezone,
        **({"algorithms": o["algorithms"]} if "algorithms" in o else {}),
        check_stored_digests=not o.get("no-stored-digest-check", False),
        fs_type=o.get("fs-type"),
    )
    req = CollectRequest(
        item_id=step.item or "",
        sources=sources,
        options=options,
        description=o.get("description"),
        resume=resume,
        command_line=run.command_line,
        progress=run.progress,
        **_presence(step),
    )
    collect_item(case, examiner, req)
    return "collected again; the interrupted attempt's files set aside" if resume else ""


def _seal(case: Case, examiner: Signer, step: Step, resume: bool, run: _Run) -> str:
    from evidencekit.workflows.seal import SealRequest, seal_files

    o = step.options
    req = SealRequest(
        item_id=step.item or "",
        sources=tuple(_paths(step)),
        in_place=o.get("in-place", False),
        **({"algorithms": o["algorithms"]} if "algorithms" in o else {}),
        description=o.get("description"),
        progress=run.progress,
        **_presence(step),
    )
    seal_files(case, examiner, req)
    return ""


def _verify(case: Case, examiner: Signer, step: Step, run: _Run) -> tuple[str, int, str]:
    from evidencekit.workflows.verify import VerifyRequest, verify_evidence

    o = step.options
    targets = tuple(o.get("items") or case.items())
    req = VerifyRequest(
        targets=targets,
        trust=tuple(Path(p) for p in o.get("trust", ())),
        rehash=not o.get("sizes-only", False),
        record=o.get("record", False),
        progress=run.progress,
    )
    result = verify_evidence(case, req, examiner.unlock() if req.record else None)
    failed = [st.item_id or str(st.seal_path) for st in result.statuses if not st.ok]
    message = f"{len(result.statuses)} item(s) checked"
    if failed:
        message += f"; not verified: {', '.join(failed)}"
    return ("verified" if result.exit_code == 0 else "failed"), result.exit_code, message


def _report(case: Case, examiner: Signer, step: Step, run: _Run) -> tuple[str, int, str]:
    from evidencekit.workflows.report import build_report

    o = step.options
    out = o.get("output")
    result = build_report(
        case,
        examiner.unlock(),
        items=o.get("items"),
        lang=o.get("lang"),
        out=Path(out) if out else None,
        tsa_url=o.get("tsa-url"),
    )
    return "done", 0, f"{result.path} sha256:{result.sha256}"


def _report_verify(case: Case, examiner: Signer, step: Step, run: _Run) -> tuple[str, int, str]:
    from cryptography import x509

    from evidencekit.workflows.report import verify_report

    certs = []
    for p in step.options.get("trust", ()):
        try:
            certs.append(x509.load_pem_x509_certificate(Path(p).read_bytes()))
        except (OSError, ValueError) as exc:
            raise UsageError(f"cannot read certificate {p!r}: {exc}") from exc
    result = verify_report(Path(step.options["report"]), case=case, trust=certs)
    if result.ok:
        return "verified", 0, f"{result.path}"
    return "failed", 3, "; ".join(p.message for p in result.problems[:3])


_ITEM_RUNNERS: dict[str, Callable[[Case, Signer, Step, bool, _Run], str]] = {
    "acquire-disk": _acquire_disk,
    "acquire-files": _collect,
    "seal": _seal,
}
_OTHER_RUNNERS: dict[str, Callable[[Case, Signer, Step, _Run], tuple[str, int, str]]] = {
    "verify": _verify,
    "report": _report,
    "report-verify": _report_verify,
}


SUMMARY_FIELDS = ("step", "kind", "item", "status", "exit_code", "duration_s", "message")


def write_summary(path: Path, result: PlanResult) -> None:
    """One CSV row per step (header first), written whole then renamed into place."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8", errors="backslashreplace", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=SUMMARY_FIELDS)
        writer.writeheader()
        for o in result.outcomes:
            writer.writerow(o.to_dict())
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def steps_of(checked: Sequence[Checked]) -> list[dict[str, object]]:
    """The checked plan as data (`run --check`)."""
    return [
        {
            "step": c.step.number,
            "kind": c.step.kind,
            "item": c.step.item,
            "action": c.action,
            **({"reason": c.reason} if c.reason else {}),
        }
        for c in checked
    ]


__all__ = [
    "STEP_KINDS",
    "Checked",
    "Plan",
    "PlanResult",
    "Step",
    "StepOutcome",
    "check_plan",
    "fingerprint",
    "load_plan",
    "run_plan",
    "steps_of",
    "write_summary",
]
