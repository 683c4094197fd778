"""Fault injection for `acquire disk` / `acquire files`: run the CLI in its own process paused at a
named call (tests/paused.py), signal it there, then check what the case says.

The oracle of every check is outside the code under test where one exists: `sha256sum` of the
source against the image, and the exit codes of `verify` and `custody verify` (which re-hash every
sealed file and replay the ledger) agreeing with `case show`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.json_contract import check_stdout
from tests.paused import REPO, env
from tests.paused import Paused as BasePaused


def run(case_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in a new process (so that its signals and exits are real)."""
    result = subprocess.run(
        [sys.executable, "-m", "evidencekit", "--case", str(case_dir), *args],
        cwd=REPO,
        env=env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    check_stdout(args, result.stdout)  # a --json document validates (docs/json.md)
    return result


class Paused(BasePaused):
    """A CLI command in its own process, stopped just before the Nth call of MODULE:ATTR#N
    (tests/paused.py); `reached` says whether it got there (the callers decide what else)."""

    def __init__(self, tmp: Path, step: str, case_dir: Path, *args: str) -> None:
        super().__init__(tmp, step, case_dir, *args, must_reach=False)


def sha256(path: Path) -> str:
    """sha256sum of a file (the coreutils peer)."""
    out = subprocess.run(["sha256sum", str(path)], capture_output=True, text=True, check=True)
    return out.stdout.split()[0]


def media_sha256(paths: list[Path]) -> str:
    """sha256 of the concatenation of `paths` (`cat … | sha256sum`)."""
    cat = subprocess.Popen(["cat", *map(str, paths)], stdout=subprocess.PIPE)
    out = subprocess.run(["sha256sum"], stdin=cat.stdout, capture_output=True, text=True)
    cat.wait()
    return out.stdout.split()[0]


def case_show(case_dir: Path) -> dict[str, Any]:
    r = run(case_dir, "--json", "case", "show")
    assert r.returncode == 0, r.stderr
    return dict(json.loads(r.stdout))


def seal_status(case_dir: Path, item: str) -> str | None:
    path = case_dir / "evidence" / item / f"{item}.seal.json"
    if not path.is_file():
        return None
    return str(json.loads(path.read_text("utf-8"))["status"])


def events(case_dir: Path, item: str) -> list[dict[str, Any]]:
    from evidencekit.case import Case
    from evidencekit.workflows.custody import list_events

    return list_events(Case.open(case_dir), item)


def assert_truthful(case_dir: Path, item: str) -> str:
    """`case show`, `verify` and `custody verify` agree on the item; nothing complete-looking is
    unrecorded. Returns the item's state: "absent", "unfinished", or its seal status."""
    shown = case_show(case_dir)
    custody = run(case_dir, "custody", "verify")
    assert custody.returncode == 0, f"custody verify: {custody.stdout}{custody.stderr}"
    unfinished = [a["item"] for a in shown["unfinished"]]
    staged = case_dir / "evidence" / ".staging" / item
    published = case_dir / "evidence" / item
    assert (item in unfinished) == staged.is_dir(), (shown, staged)
    evs = events(case_dir, item)
    if item in shown["items"]:
        assert item not in unfinished
        status = seal_status(case_dir, item)
        assert status is not None, f"{item} is listed as an item but has no seal"
        # the seal the ledger recorded last is the one on disk (`verify` checks the binding)
        assert [e for e in evs if e["kind"] == "acquired" or e["kind"] == "collected"], evs
        v = run(case_dir, "verify", item)
        want = {"complete": 0, "complete-with-errors": 4, "incomplete": 4}[status]
        assert v.returncode == want, f"verify {item} ({status}): {v.stdout}{v.stderr}"
        return status
    assert not (published.exists() and any(published.iterdir())), "an unlisted item folder"
    if item in unfinished:
        return "unfinished"
    assert not evs or all(e["kind"] not in ("acquired", "collected") for e in evs), evs
    return "absent"
