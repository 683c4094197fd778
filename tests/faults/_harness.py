"""The fault-injection harness (docs/commit-protocol.md, "How it is tested").

A command runs in its own process (`python -m tests.paused`, the one barrier every test uses),
paused at a FIFO barrier at the Nth call of a named function: the step boundary. The test then
sends SIGKILL, SIGTERM or SIGINT while it waits there (SIGTERM and SIGINT raise in the paused call,
before the step runs, as a signal arriving at that instant would), waits for the process to end,
and asks the case what it now is: `case show --json`, `verify`, `custody verify`, the ledger's
events and the files on disk must all tell one story (`truth`). Then every unfinished attempt is
finished or set aside with `case recover` (`recover_all`), and the command is run again with the
same id. No sleeping: the barrier is a FIFO the paused process blocks on.

The checks after the kill run in this process through click's CliRunner (the case, the home and
the passphrase are in the environment the module fixture `world` sets): only the killed command
pays for a process of its own.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from evidencekit.case import Case
from evidencekit.cli.main import cli
from evidencekit.identity import Identity, IdentityStore
from evidencekit.workflows.custody import list_events
from tests.conftest import EXAMINER, PASSPHRASE, TEST_KDF
from tests.paused import REPO, Ended
from tests.paused import Paused as BasePaused

SIGNALS = {"kill9": signal.SIGKILL, "term": signal.SIGTERM, "int": signal.SIGINT}
SEAL_EVENTS = ("acquired", "collected", "sealed", "converted")
SEED = int(os.environ.get("EVIDENCEKIT_FAULT_SEED", "1414"))
"""The seed of the random kill points; each test id names its own draw (`random_points`)."""


# -- the world a module's tests share ------------------------------------------------------------


@dataclass
class World:
    """One case (and examiner home) shared by a test module; each test uses its own item ids."""

    base: Path
    home: Path
    case_dir: Path
    identity: Identity
    counter: list[int] = field(default_factory=lambda: [0])

    prefix: str = ""

    def new_id(self, prefix: str) -> str:
        """A fresh item id; the ids of one test share `self.prefix` (set by the first)."""
        self.counter[0] += 1
        self.prefix = f"{prefix}{self.counter[0]:03d}"
        return self.prefix

    def more_id(self) -> str:
        """Another id of the current test (a re-run under a new id)."""
        return f"{self.prefix}-R"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
        return env


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A case made by `case init`, its examiner's home and passphrase in the environment for
    the whole module (the conftest fixtures are per test: too slow to remake per kill)."""
    base = tmp_path_factory.mktemp("faults")
    yield from make_world(base, base)


def make_world(base: Path, case_parent: Path) -> Iterator[World]:
    """The `world` fixture's body, with the case made in `case_parent` (a small disk)."""
    home = base / "ekhome"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EVIDENCEKIT_HOME", str(home))
        mp.setenv("EVIDENCEKIT_PASSPHRASE", PASSPHRASE)
        mp.delenv("EVIDENCEKIT_IDENTITY", raising=False)
        mp.delenv("EVIDENCEKIT_CASE", raising=False)
        ident = IdentityStore(home).create(
            EXAMINER, PASSPHRASE.encode(), org="Công an tỉnh", kdf=TEST_KDF
        )
        case_dir = case_parent / "vụ án"
        code, _, err = cli_run(
            None, "case", "init", str(case_dir), "--case-number", "VKS-14", "--title", "Lỗi"
        )
        assert code == 0, err
        yield World(base, home, case_dir, ident)


def cli_run(case_dir: Path | None, *args: str) -> tuple[int, str, str]:
    """The CLI in this process: (exit code, stdout, stderr)."""
    pre = ["--case", str(case_dir)] if case_dir is not None else []
    result = CliRunner().invoke(cli, [*pre, *args])
    return result.exit_code, result.stdout, result.stderr


# -- killing a command at a step -----------------------------------------------------------------


Killed = Ended
"""How the killed command ended (returncode, stdout, stderr)."""


class Paused(BasePaused):
    """A CLI command in its own process, stopped at the Nth call of MODULE:ATTR (`#N`), in the
    module's case (tests/paused.py: the one barrier and launcher)."""

    def __init__(self, world: World, step: str, *args: str) -> None:
        super().__init__(world.base, step, world.case_dir, *args, environ=world.env())


@pytest.fixture(autouse=True)
def no_paused_command_outlives_its_test() -> Iterator[None]:
    yield
    Paused.reap()


def kill_at(world: World, step: str, sig: int, *args: str) -> Killed:
    """Run `args`, stop it at `step` and send `sig`; check it ended as a signal must end it."""
    done = Paused(world, step, *args).kill(sig)
    if sig == signal.SIGKILL:
        assert done.returncode == -signal.SIGKILL, done.stderr
    else:
        # handled like Ctrl-C: one line (and a hint), exit 1, never a traceback or a crash
        assert done.returncode == 1, (done.returncode, done.stderr)
        assert "interrupted" in done.stderr, done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr, done.stderr
    return done


SAYS = {  # what a command stopped by SIGTERM or SIGINT after recording its item says
    "recorded": "was sealed and recorded, before it was published: `evidencekit case recover",
    "published": "was sealed, recorded and published in",
}


def random_points(
    seed: int, name: str, hot: Sequence[tuple[str, int]], count: int
) -> list[tuple[str, str, str]]:
    """`count` seeded draws of (test id, step, signal name): a hot function and the Nth of its
    `calls` calls (as many as the command is known to make). The id carries the seed, so a
    failing draw is re-run with EVIDENCEKIT_FAULT_SEED=… and the same id."""
    rng = random.Random(f"{seed}:{name}")
    out = []
    for _ in range(count):
        func, calls = rng.choice(list(hot))
        n = rng.randint(1, calls)
        sig = rng.choice(sorted(SIGNALS))
        out.append((f"seed{seed}-{func.rpartition(':')[2]}#{n}-{sig}", f"{func}#{n}", sig))
    return out


# -- what the case says afterwards ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Truth:
    """The case as `case show --json` states it, checked against the files and the ledger."""

    items: dict[str, str]  # item -> its seal's status
    unfinished: dict[str, bool]  # item -> recorded
    events: list[dict[str, Any]]
    reports: list[Path]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _seal_events(events: list[dict[str, Any]], item: str) -> list[str]:
    """The seal sha256 each event that recorded `item`'s seal names, in order (convert records
    `sealed` with it, then `converted` without)."""
    found = []
    for e in events:
        sha = (e.get("details") or {}).get("seal_sha256")
        if e.get("item") == item and e.get("kind") in SEAL_EVENTS and isinstance(sha, str):
            found.append(sha)
    return found


def truth(world: World) -> Truth:
    """Assert that `case show`, `verify`, `custody verify`, the ledger and the files agree, and
    return what they say."""
    case_dir = world.case_dir
    code, out, err = cli_run(case_dir, "--json", "case", "show")
    assert code == 0, err
    shown = json.loads(out)
    code, out, err = cli_run(case_dir, "custody", "verify")
    assert code == 0, out + err  # a crash at any point leaves the ledger verifiable
    events = list_events(Case.open(case_dir))
    evidence = case_dir / "evidence"
    # only published items are items, and every item folder is one (nothing half-named)
    on_disk = sorted(p.name for p in evidence.iterdir() if not p.name.startswith("."))
    assert on_disk == sorted(shown["items"]), (on_disk, shown["items"])
    statuses: dict[str, str] = {}
    for item in shown["items"]:
        seal = evidence / item / f"{item}.seal.json"
        assert seal.is_file(), f"item {item} is listed but has no seal"
        # complete-looking is recorded: the ledger's last seal event names exactly this seal
        recorded = _seal_events(events, item)
        assert recorded and recorded[-1] == _sha256(seal), f"item {item}: seal not recorded"
        statuses[item] = json.loads(seal.read_bytes())["status"]
    # `verify` agrees: 0 when every seal is complete, 4 when one is not (never 3); only this
    # test's items are re-hashed (the module's earlier items were checked by their own tests)
    mine = {i: s for i, s in statuses.items() if i.startswith(world.prefix)}
    if mine:
        code, out, err = cli_run(case_dir, "verify", *mine)
        want = 0 if all(s == "complete" for s in mine.values()) else 4
        assert code == want, (mine, out, err)
    unfinished: dict[str, bool] = {}
    staging = evidence / ".staging"
    for attempt in shown["unfinished"]:
        item = attempt["item"]
        folder = Path(attempt["folder"])
        assert folder.is_dir() and folder.parent == staging
        assert attempt["running"] is False, attempt  # every killed process is gone
        assert item not in shown["items"]
        recorded = bool(_seal_events(events, item))
        # case show says whether the ledger knows it: the same as the ledger says
        assert attempt["recorded"] is bool([e for e in events if e.get("item") == item])
        # a discard recorded but not moved is named as such
        discards = [
            e["seq"]
            for e in events
            if e.get("kind") == "attempt_discarded"
            and (e.get("details") or {}).get("item") == item
            and not (case_dir / e["details"]["moved_to"]).exists()
        ]
        assert attempt["discard_event"] == (discards[-1] if discards else None), attempt
        if recorded:
            staged_seal = folder / f"{item}.seal.json"
            assert _sha256(staged_seal) == _seal_events(events, item)[-1]
        unfinished[item] = recorded
    if staging.is_dir():
        # nothing in staging but the unfinished attempts and their records
        for entry in staging.iterdir():
            if entry.is_dir():
                assert entry.name in unfinished, entry
            else:
                stem = entry.name.removesuffix(".attempt.json")
                assert entry.name.endswith(".attempt.json") and stem in unfinished, (
                    f"{entry.name} is left in {staging} by no unfinished attempt"
                )
    reports = _reports(world, events)
    return Truth(statuses, unfinished, events, reports)


def _reports(world: World, events: list[dict[str, Any]]) -> list[Path]:
    """Every report under its own name is recorded by a `report_issued` event, and verifies."""
    folder = world.case_dir / "reports"
    issued = {
        (e.get("digests") or {}).get("sha256") for e in events if e.get("kind") == "report_issued"
    }
    found = []
    for pdf in sorted(folder.glob("*.pdf")) if folder.is_dir() else []:
        assert _sha256(pdf) in issued, f"{pdf.name} is a signed report the ledger never recorded"
        found.append(pdf)
    return found


def recover_all(world: World, truth_before: Truth) -> Truth:
    """Finish (recorded) or set aside (not recorded) every unfinished attempt, then check."""
    for item, recorded in truth_before.unfinished.items():
        args = ["case", "recover", item] + ([] if recorded else ["--discard", "lỗi thử nghiệm"])
        code, out, err = cli_run(world.case_dir, "--json", *args)
        assert code == 0, err
        assert json.loads(out)["action"] == ("published" if recorded else "discarded")
    after = truth(world)
    assert not after.unfinished
    return after


def assert_done(world: World, item: str, args: Sequence[str], state: Truth | None = None) -> None:
    """After recovery, `item` ends complete and verified: the command is run again with the same
    id when the item is absent; an item sealed `incomplete` (Ctrl-C or SIGTERM while copying:
    what was done is sealed, recorded and published) keeps its id, so the same command is refused
    (an item's content is recorded once) and a new id is used instead."""
    state = state or truth(world)  # `state`: what recover_all just checked
    status = state.items.get(item)
    if status is None:
        code, _, err = cli_run(world.case_dir, *args)
        assert code == 0, err
    elif status != "complete":
        assert status == "incomplete", status
        code, _, err = cli_run(world.case_dir, *args)
        assert code == 1 and "already exists" in err, err
        item = world.more_id()
        code, _, err = cli_run(world.case_dir, *[item if a == args[-1] else a for a in args])
        assert code == 0, err
    code, out, err = cli_run(world.case_dir, "verify", item)
    assert code == 0, out + err
    after = truth(world)
    assert after.items[item] == "complete" and not after.unfinished
