"""Times as Sleuth Kit reports them (seconds and nanoseconds) into UTC nanoseconds.

FAT and exFAT keep local wall-clock times. Sleuth Kit turns them into epoch seconds with
mktime(), i.e. in the process's TZ: we make that UTC while it runs (`utc_process_zone`), then
read the wall clock back in the source's zone (`local_ns`). No pytsk3 here: only numbers.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import threading
import time
from collections.abc import Iterator

# TZ is process-wide: two walks of FAT file systems at once must not undo each other's setting
_TZ_LOCK = threading.RLock()


@contextlib.contextmanager
def utc_process_zone() -> Iterator[None]:
    """The process's TZ is UTC inside this block (for Sleuth Kit's mktime), then restored."""
    with _TZ_LOCK:
        old = os.environ.get("TZ")
        os.environ["TZ"] = "UTC"
        time.tzset()
        try:
            yield
        finally:
            if old is None:
                del os.environ["TZ"]
            else:
                os.environ["TZ"] = old
            time.tzset()


def epoch_ns(seconds: int, nano: int) -> int | None:
    """A UTC time; None when both parts are 0 (the file system did not keep it)."""
    if not seconds and not nano:
        return None
    return int(seconds) * 1_000_000_000 + int(nano)


def local_ns(seconds: int, nano: int, zone: dt.tzinfo) -> int | None:
    """Sleuth Kit gave a local wall-clock time as if it were UTC: read it in `zone`."""
    if not seconds and not nano:
        return None
    wall = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=int(seconds))
    aware = wall.replace(tzinfo=zone)
    return int(aware.timestamp()) * 1_000_000_000 + int(nano)
