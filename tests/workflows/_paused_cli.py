"""Run the evidencekit CLI with one workflow step paused at a barrier (for race and kill tests).

    python -m tests.workflows._paused_cli MODULE ATTR READY_FIFO GO_FIFO CLI-ARGS…

The first call of MODULE.ATTR (ATTR may be `Class.method`; `ATTR#N` pauses at the Nth call
instead) writes a line to READY_FIFO (so the test knows the command got there), then blocks
reading GO_FIFO until the test opens it for writing; then the real function runs. No sleeping:
the test decides exactly when the paused command continues, or kills it while it waits.
"""

from __future__ import annotations

import importlib
import os
import select
import sys
from typing import Any


def main() -> None:
    module_name, attr, ready, go, *args = sys.argv[1:]
    attr, _, nth = attr.partition("#")
    calls = [0]
    owner: Any = importlib.import_module(module_name)
    *path, attr = attr.split(".")  # "Class.method" pauses a method
    for name in path:
        owner = getattr(owner, name)
    real = getattr(owner, attr)
    paused = [False]

    def barrier(*a: Any, **k: Any) -> Any:
        calls[0] += 1
        if not paused[0] and calls[0] >= int(nth or 1):
            paused[0] = True
            # GO is opened before READY is written, so the test's open(GO, "w") never blocks
            fd = os.open(go, os.O_RDONLY | os.O_NONBLOCK)
            try:
                with open(ready, "w") as fh:
                    fh.write("ready\n")
                # wait in short slices: a signal the kernel delivers to another thread does not
                # interrupt a blocking call of the main thread, so the signal handlers (Ctrl-C,
                # SIGTERM) only run if the main thread comes back to Python now and then
                while True:
                    readable, _, _ = select.select([fd], [], [], 0.05)
                    if readable:
                        os.read(fd, 64)
                        break
            finally:
                os.close(fd)
        return real(*a, **k)

    setattr(owner, attr, barrier)
    from evidencekit.cli.main import main as cli_main

    sys.argv = ["evidencekit", *args]
    cli_main()


if __name__ == "__main__":
    main()
