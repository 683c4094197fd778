"""The one barrier and launcher every test uses to stop a real evidencekit process at a step (the
fault suite, the commit-protocol races, the signal and resume tests).

The barrier, run as

    python -m tests.paused MODULE ATTR[#N] READY_FIFO GO_FIFO CLI-ARGS…

replaces MODULE.ATTR (ATTR may be `Class.method`) before the CLI starts; its Nth call (default
the first) writes a line to READY_FIFO, then waits until the test writes to GO_FIFO, or until a
signal arrives, and then the real function runs. No sleeping: the test decides when the command
goes on, or signals or kills it while it waits.

- In the main thread the wait is a select() over GO_FIFO and the signal wake-up pipe
  (`signal.set_wakeup_fd`, set before READY is written), so a signal that lands between writing
  READY and starting to wait is not lost (a blocking open() of GO_FIFO then blocked for ever: two
  hangs in ~1,000 kills). The Python handler (the CLI's: Ctrl-C, SIGTERM, SIGHUP as an
  interruption) runs when the wait returns, inside the barrier, before the real function.
- In any other thread (a pump consumer, the tar's hasher) the wake-up pipe cannot be set (Python
  allows it in the main thread only) and signals are handled by the main thread anyway: the wait
  polls GO_FIFO in short slices, so the command's main thread runs on and handles them.

The launcher, :class:`Paused`, starts such a process and waits (for a state, not a time) until
the barrier is reached or the command ends.
"""

from __future__ import annotations

import importlib
import itertools
import os
import select
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

REPO = Path(__file__).resolve().parent.parent
TIMEOUT = 600  # a hang guard only: every command here ends in seconds


def env() -> dict[str, str]:
    """This environment, with the checkout first on the import path."""
    e = dict(os.environ)
    e["PYTHONPATH"] = str(REPO) + os.pathsep + e.get("PYTHONPATH", "")
    return e


class Ended(NamedTuple):
    """How a paused command ended (also unpacks as `rc, out, err`)."""

    returncode: int
    stdout: str
    stderr: str


class Paused:
    """A CLI command in its own process, stopped just before the Nth call of MODULE:ATTR#N.

    With `must_reach` (the default) a command that ends without reaching the barrier fails the
    test at once; without, `reached` says whether it did.
    """

    running: ClassVar[list[subprocess.Popen[bytes]]] = []
    _serial: ClassVar[itertools.count[int]] = itertools.count()

    def __init__(
        self,
        folder: Path,
        step: str,
        case_dir: Path,
        *args: str,
        must_reach: bool = True,
        environ: dict[str, str] | None = None,
        prefix: tuple[str, ...] = (),
    ) -> None:
        module, _, attr = step.partition(":")
        self.step = step
        self.args = args
        tag = f"{os.getpid()}-{next(Paused._serial)}"
        self.ready, self.go = folder / f"ready-{tag}", folder / f"go-{tag}"
        for fifo in (self.ready, self.go):
            if fifo.exists():
                fifo.unlink()
            os.mkfifo(fifo)
        # `prefix` runs it through a launcher that execs it (same pid), e.g. `unshare --uts` to
        # give it a host name of its own (another workstation)
        self.proc = subprocess.Popen(
            [
                *prefix,
                *(sys.executable, "-m", "tests.paused", module, attr),
                *(str(self.ready), str(self.go), "--case", str(case_dir), *args),
            ],
            cwd=REPO,
            env=environ if environ is not None else env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        Paused.running.append(self.proc)
        self.reached = self._wait()
        if must_reach and not self.reached:
            _, err = self.proc.communicate(timeout=TIMEOUT)
            raise AssertionError(
                f"the command ended (exit {self.proc.returncode}) before {step}: "
                f"{err.decode(errors='replace')}"
            )

    def _wait(self) -> bool:
        """True once the barrier is reached; False if the command ended without reaching it."""
        fd = os.open(self.ready, os.O_RDONLY | os.O_NONBLOCK)
        try:
            while True:
                readable, _, _ = select.select([fd], [], [], 1.0)
                if readable and os.read(fd, 64):
                    return True
                if self.proc.poll() is not None:
                    return False
        finally:
            os.close(fd)

    def _ended(self) -> Ended:
        out, err = self.proc.communicate(timeout=TIMEOUT)
        if self.proc.returncode >= 0:  # it ended itself (not killed mid-write): --json validates
            from tests.json_contract import check_stdout  # here: the child never loads it

            check_stdout(self.args, out)
        return Ended(self.proc.returncode, out.decode(), err.decode())

    def release(self) -> Ended:
        """Let the command go on from the barrier; how it ended."""
        if self.reached:
            with open(self.go, "w") as fh:
                fh.write("go\n")
        return self._ended()

    def signal(self, sig: int) -> Ended:
        """Send `sig` while paused (a handled signal raises in the paused call and the command
        must then end by itself); how it ended."""
        self.proc.send_signal(sig)
        return self._ended()

    kill = signal

    @classmethod
    def reap(cls) -> None:
        """Kill and collect every paused command still running (a test's clean-up)."""
        while Paused.running:
            proc = Paused.running.pop()
            if proc.poll() is None:
                proc.kill()
            proc.communicate()


# -- the barrier (in the paused process) --------------------------------------------------------


def _wait_main(ready: str, go: str) -> None:
    """Say READY, then wait until GO is written to, or a signal is delivered (its handler then
    raises here). The wake-up pipe is in place before READY is written, and the test signals
    only once it has read READY: no signal can fall outside the wait."""
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    old = signal.set_wakeup_fd(wake_w)
    go_fd = os.open(go, os.O_RDONLY | os.O_NONBLOCK)
    try:
        with open(ready, "w") as fh:
            fh.write("ready\n")
        while True:
            readable, _, _ = select.select([go_fd, wake_r], [], [])
            if wake_r in readable:
                os.read(wake_r, 64)
                # the handler runs at the next bytecode; a signal that does not raise (none
                # here) goes back to waiting
                continue
            if os.read(go_fd, 64):
                return
            # a writer came and went without writing: wait for the next one
            os.close(go_fd)
            go_fd = os.open(go, os.O_RDONLY | os.O_NONBLOCK)
    finally:
        signal.set_wakeup_fd(old)
        for fd in (go_fd, wake_r, wake_w):
            os.close(fd)


def _wait_thread(ready: str, go: str) -> None:
    """The same in a thread other than the main one: GO is polled in short slices (the main
    thread handles the signals meanwhile)."""
    # GO is opened before READY is written, so the test's open(GO, "w") never blocks
    fd = os.open(go, os.O_RDONLY | os.O_NONBLOCK)
    try:
        with open(ready, "w") as fh:
            fh.write("ready\n")
        while True:
            readable, _, _ = select.select([fd], [], [], 0.05)
            if readable:
                if os.read(fd, 64):
                    return
                os.close(fd)  # a writer came and went without writing
                fd = os.open(go, os.O_RDONLY | os.O_NONBLOCK)
    finally:
        os.close(fd)


def main(argv: list[str] | None = None) -> None:
    module_name, attr, ready, go, *args = sys.argv[1:] if argv is None else argv
    attr, _, nth = attr.partition("#")
    calls = [0]
    owner: Any = importlib.import_module(module_name)
    *path, attr = attr.split(".")  # "Class.method" pauses a method
    for name in path:
        owner = getattr(owner, name)
    real = getattr(owner, attr)
    paused = [False]
    lock = threading.Lock()

    def barrier(*a: Any, **k: Any) -> Any:
        with lock:
            calls[0] += 1
            now = not paused[0] and calls[0] >= int(nth or 1)
            paused[0] = paused[0] or now
        if now:
            if threading.current_thread() is threading.main_thread():
                _wait_main(ready, go)
            else:
                _wait_thread(ready, go)
        return real(*a, **k)

    setattr(owner, attr, barrier)
    from evidencekit.cli.main import main as cli_main

    sys.argv = ["evidencekit", *args]
    cli_main()


if __name__ == "__main__":
    main()
