"""Run the evidencekit CLI paused at a barrier, for the fault suite (like
tests/workflows/_paused_cli.py, whose interface it keeps):

    python -m tests.faults._paused MODULE ATTR[#N] READY_FIFO GO_FIFO CLI-ARGS…

The Nth call of MODULE.ATTR writes a line to READY_FIFO, then waits until the test writes to
GO_FIFO, or until a signal arrives. The wait is a select() over GO_FIFO and the signal wake-up
pipe (`signal.set_wakeup_fd`), so a signal that lands between writing READY_FIFO and starting to
wait is not lost: a plain blocking open() of GO_FIFO would then block for ever, the signal having
been taken before the system call began (the fault suite hung twice so in ~1,000 kills). The
Python handler (the CLI's: Ctrl-C, SIGTERM as an interruption) runs when the wait returns, inside
the barrier, before the real function.
"""

from __future__ import annotations

import importlib
import os
import select
import signal
import sys
import threading
from typing import Any


def _wait(ready: str, go: str) -> None:
    """Say READY, then wait until GO_FIFO is written to, or a signal is delivered (its handler
    then raises here). The wake-up pipe is in place before READY is written, and the test
    signals only once it has read READY: no signal can fall outside the wait."""
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


def main() -> None:
    module_name, attr, ready, go, *args = sys.argv[1:]
    attr, _, nth = attr.partition("#")
    calls = [0]
    owner: Any = importlib.import_module(module_name)
    *path, attr = attr.split(".")
    for name in path:
        owner = getattr(owner, name)
    real = getattr(owner, attr)
    paused = [False]

    def barrier(*a: Any, **k: Any) -> Any:
        calls[0] += 1
        if not paused[0] and calls[0] >= int(nth or 1):
            paused[0] = True
            if threading.current_thread() is not threading.main_thread():
                raise RuntimeError(f"{attr} is called outside the main thread: no barrier there")
            _wait(ready, go)
        return real(*a, **k)

    setattr(owner, attr, barrier)
    from evidencekit.cli.main import main as cli_main

    sys.argv = ["evidencekit", *args]
    cli_main()


if __name__ == "__main__":
    main()
