"""Benchmark: what each PAdES level, `report extend` and `report cosign` add to a report's
build, size and verification, against the local RFC 3161 TSA of the tests (openssl ts on
loopback; a real TSA adds its network round trips: one for B-T and B-LT, two for B-LTA).

    .venv/bin/python bench/bench_report_levels.py [--items 10] [--files 500]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_report import make_case
from evidencekit.identity import IdentityStore
from evidencekit.workflows.report import build_report, verify_report
from evidencekit.workflows.report.amend import cosign_report, extend_report
from tests.report.tsa import local_tsa


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=10)
    ap.add_argument("--files", type=int, default=500)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        case, ident = make_case(root, args.items, args.files)
        second = IdentityStore(root / "home2").create("Trần Văn Đồng", b"bench passphrase 2026")
        with local_tsa(root / "tsa") as url:
            rows = []
            for level in ("B-B", "B-T", "B-LT", "B-LTA"):
                t0 = time.perf_counter()
                res = build_report(
                    case,
                    ident,  # type: ignore[arg-type]
                    tsa_url=None if level == "B-B" else url,
                    level=level,
                    out=root / f"{level}.pdf",
                )
                built = time.perf_counter() - t0
                t0 = time.perf_counter()
                ver = verify_report(res.path, case=case)
                checked = time.perf_counter() - t0
                assert ver.ok and ver.signature.level == level, ver.problems
                rows.append((f"build {level}", built, res.size, checked))
            pdf = root / "B-LT.pdf"
            t0 = time.perf_counter()
            ext = extend_report(pdf, url, case=case, identity=ident)  # type: ignore[arg-type]
            extended = time.perf_counter() - t0
            t0 = time.perf_counter()
            ver = verify_report(pdf, case=case)
            rows.append(("extend B-LT -> B-LTA", extended, ext.size, time.perf_counter() - t0))
            assert ver.ok, ver.problems
            t0 = time.perf_counter()
            co = cosign_report(pdf, second, "receiver", case=None, tsa_url=url)
            cosigned = time.perf_counter() - t0
            t0 = time.perf_counter()
            verify_report(pdf, trust=[ident.certificate, second.certificate])  # type: ignore[attr-defined]
            rows.append(("cosign B-LT (no case)", cosigned, co.size, time.perf_counter() - t0))
    print(f"{'step':<24} {'seconds':>8} {'bytes':>10} {'verify s':>9}")
    for name, secs, size, vsecs in rows:
        print(f"{name:<24} {secs:8.2f} {size:10d} {vsecs:9.2f}")


if __name__ == "__main__":
    main()
