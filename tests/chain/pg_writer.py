"""One workstation appending to a case's ledger in a loop (run as a process by the concurrency
test and by bench/bench_ledger.py):

    python -m tests.chain.pg_writer CASE_DIR IDENTITY COUNT TAG LOG [DEADLINE_S]

Each append registers a new item `TAG-i-attempt` through `record_event`, exactly as a command
does (its own ledger connection, trust check, signature and checkpoint); its id is written to LOG
and fsynced only after the append returned, so LOG lists the appends that "exited 0". An
operational failure (the server restarting, the connection lost) is retried with a new item id,
so an append that committed but whose answer was lost is never repeated under the same id; an
integrity failure stops the writer with exit 3. EVIDENCEKIT_HOME and EVIDENCEKIT_PASSPHRASE come
from the environment.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    from evidencekit.case import Case
    from evidencekit.errors import EvidenceKitError
    from evidencekit.identity import IdentityStore
    from evidencekit.workflows.custody import record_event

    case_dir, who, count, tag, log_path = argv[:5]
    deadline = time.monotonic() + (float(argv[5]) if len(argv) > 5 else 300.0)
    passphrase = os.environ["EVIDENCEKIT_PASSPHRASE"].encode()
    identity = IdentityStore().load(who, lambda _: passphrase)
    case = Case.open(Path(case_dir))
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    for i in range(int(count)):
        attempt = 0
        while True:
            item = f"{tag}-{i}-{attempt}"
            try:
                record_event(case, identity, "registered", item, description=f"máy trạm {tag}")
            except EvidenceKitError as exc:
                if exc.exit_code != 1 or time.monotonic() > deadline:
                    print(f"{item}: {exc.message}", file=sys.stderr)
                    return exc.exit_code
                attempt += 1
                time.sleep(0.1)
                continue
            os.write(fd, f"{item}\n".encode())
            os.fsync(fd)
            break
    os.close(fd)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
