"""Benchmark: build and sign the report of a case with 50 items and 5,000 collected files.

Target (issue 8): built and signed in under 10 s on the project machine. The case is made with
the real sealing code (40 raw-image items with unreadable extents, 10 logical collections of 500
files each with their manifests) and, when the custody ledger is available, real custody events.
Only `build_report` is timed (model, render, attachments, PAdES signature, write, custody event);
`verify_report` and poppler's `pdfsig` on the result are timed beside it for scale.

    .venv/bin/python bench/bench_report.py [--items 50] [--files 5000] [--runs 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evidencekit.case import Case
from evidencekit.hash.seal.write import artifact_from_file, seal_item
from evidencekit.identity import Identity, IdentityStore
from evidencekit.workflows.casework import init_case
from evidencekit.workflows.report import build_report, verify_report
from evidencekit.workflows.trust import identity_of


def make_case(root: Path, n_items: int, n_files: int) -> tuple[Case, object]:
    ident = IdentityStore(root / "home").create(
        "Nguyễn Bá Tùng", b"bench passphrase 2026", org="Công an tỉnh"
    )
    case = init_case(
        root / "case",
        ident,
        number="VKS-2024-06",
        title="Vụ án trộm cắp tài sản (benchmark)",
        agency="Cơ quan Cảnh sát điều tra",
        timezone="Asia/Ho_Chi_Minh",
    )
    case_identity = identity_of(case)
    n_logical = max(1, n_items // 5)
    per = n_files // n_logical
    try:
        from evidencekit.workflows.custody import record_event
    except ImportError:
        record_event = None  # type: ignore[assignment]
    for i in range(n_items):
        item = f"ITEM{i:03d}"
        folder = case.item_dir(item)
        folder.mkdir(parents=True)
        logical = i < n_logical
        name = f"{item}.tar" if logical else f"{item}.raw"
        (folder / name).write_bytes(os.urandom(64 * 1024))
        art, res = artifact_from_file(folder, name, ("md5", "sha1", "sha256"), window=16384)
        facts: dict[str, object] = {}
        if logical:
            files = [
                {
                    "path": f"Tài liệu/thư mục {j // 100:03d}/tệp số {j:05d} – Bủng.txt",
                    "kind": "r",
                    "size": j * 37,
                    "mtime": "2024-06-01T08:30:00Z",
                    "deleted": j % 97 == 0,
                    "digests": {"sha256": f"sha256:{(i * 100000 + j):064x}"},
                }
                for j in range(per)
            ]
            (folder / f"{item}.manifest.json").write_text(
                json.dumps(
                    {"schema": "evidencekit/logical-manifest/1", "item": item, "files": files},
                    ensure_ascii=False,
                ),
                "utf-8",
            )
        else:
            facts = {
                "source": {
                    "path": f"/dev/sd{chr(97 + i % 26)}",
                    "model": "Kingston DT",
                    "serial": f"SN{i:06d}",
                },
                "read_errors": [
                    {"offset": 4096 * k, "length": 512, "errno": 5} for k in range(i % 4)
                ],
            }
        sealed = seal_item(
            folder,
            item,
            ident,
            kind="tar" if logical else "raw",
            artifacts=[art],
            status="complete" if logical or i % 4 == 0 else "complete-with-errors",
            combined=None if logical else res,
            facts=facts,
            description=f"Vật chứng số {i} của Nguyễn Bá Tùng",
            case_identity=case_identity,
        )
        if record_event is not None:
            record_event(
                case,
                ident,
                "collected" if logical else "acquired",
                item,
                description=f"vật chứng {i}",
                digests={"sha256": art.digests["sha256"]},
                details={"seal_sha256": sealed.seal_sha256, "status": sealed.status},
            )
    return case, ident


def _cosigned_verify(
    root: Path, pdf: Path, case: Case, examiner: Identity, runs: int
) -> list[float]:
    """Co-sign the report through `report cosign`'s workflow (a second, pinned examiner adds a
    signature field; the ledger records `report_cosigned`) and time `verify_report` on it: the
    difference analysis runs for the revision the co-signature adds."""
    from evidencekit.workflows.casework import add_examiner
    from evidencekit.workflows.report.amend import cosign_report

    second = IdentityStore(root / "home2").create("Trần Văn Đồng", b"bench passphrase 2026")
    add_examiner(case, examiner, second.certificate)
    case = Case.open(case.path)
    cosigned = root / "cosigned.pdf"
    cosign_report(pdf, second, "receiver", case=case, out=cosigned)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        ver = verify_report(cosigned, case=case)
        times.append(time.perf_counter() - t)
        assert ver.ok, ver.problems
    return times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=50)
    ap.add_argument("--files", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="ek-bench-report-"))
    try:
        t0 = time.perf_counter()
        case, ident = make_case(root, args.items, args.files)
        setup = time.perf_counter() - t0
        builds, cpus, verifies, pdfsigs = [], [], [], []
        for run in range(args.runs):
            t, c = time.perf_counter(), time.process_time()
            res = build_report(
                case,
                ident,
                lang="vi",
                out=root / f"r{run}.pdf",  # type: ignore[arg-type]
                now=dt.datetime.now(dt.UTC),
            )
            builds.append(time.perf_counter() - t)
            cpus.append(time.process_time() - c)
            t = time.perf_counter()
            ver = verify_report(res.path, case=case)
            verifies.append(time.perf_counter() - t)
            assert ver.ok, ver.problems
            t = time.perf_counter()
            out = subprocess.run(["pdfsig", str(res.path)], capture_output=True, text=True)
            pdfsigs.append(time.perf_counter() - t)
            assert "Signature is Valid" in out.stdout, out.stdout
        cosigned_verifies = _cosigned_verify(root, res.path, case, ident, args.runs)
        pages = subprocess.run(["pdfinfo", str(res.path)], capture_output=True, text=True).stdout
        n_pages = next(
            (ln.split()[-1] for ln in pages.splitlines() if ln.startswith("Pages:")), "?"
        )
        print(f"date: {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}")
        print(f"case: {args.items} items, {args.files} collected files, setup {setup:.1f} s")
        print(f"report: {n_pages} pages, {res.size / 1e6:.2f} MB")
        print(
            "build+sign (s): " + ", ".join(f"{b:.2f}" for b in builds) + f"  best {min(builds):.2f}"
        )
        print("  CPU time of the process (s): " + ", ".join(f"{c:.2f}" for c in cpus))
        print("verify_report --case (s): " + ", ".join(f"{v:.2f}" for v in verifies))
        print("pdfsig (s): " + ", ".join(f"{p:.2f}" for p in pdfsigs))
        print(
            "verify_report --case of the report co-signed by a second examiner (s): "
            + ", ".join(f"{v:.2f}" for v in cosigned_verifies)
        )
        print(f"load average: {os.getloadavg()[0]:.2f}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
