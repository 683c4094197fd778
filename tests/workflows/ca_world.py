"""The CA trust world the issue 17/13 tests share: a case (created by the `identity` examiner)
trusting a test root (within O and policy limits, the issuing CA as intermediate) and the local
RFC 3161 TSA, two examiners imported from PKCS#12 files the root's issuing CA made.

Real components: the `openssl` CA of tests/identity/ca.py, the local TSA of tests/report/tsa.py.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from evidencekit.cli.main import cli
from tests.conftest import EXAMINER, PASSPHRASE, need_peer
from tests.identity.ca import ORG, P12_PASSWORD, POLICY, CaHierarchy, make_ca
from tests.report.tsa import local_tsa

AN = "Trần Văn An"
BINH = "Lê Thị Bình"


def cli_run(*args: str) -> Any:
    env = {"EVIDENCEKIT_P12_PASSPHRASE": P12_PASSWORD, "EVIDENCEKIT_PASSPHRASE": PASSPHRASE}
    return CliRunner().invoke(cli, list(args), env=env)


def ok(res: Any) -> Any:
    assert res.exit_code == 0, (res.stdout, res.stderr)
    return res


def next_second() -> None:
    """Wait until the UTC second changes: a revocation and a timestamp (both to the second)
    must fall in distinct seconds for their order to be provable. An ordering, not a timing."""
    start = int(time.time())
    while int(time.time()) <= start:
        time.sleep(0.05)


@dataclass
class World:
    case: Path
    ca: CaHierarchy
    an: Path
    binh: Path
    tsa_url: str
    tsa_dir: Path

    def run(self, who: str, *args: str) -> Any:
        return cli_run("--case", str(self.case), "--identity", who, *args)

    def verify(self) -> Any:
        return cli_run("--json", "--case", str(self.case), "custody", "verify")

    def stamp(self) -> None:
        ok(self.run(EXAMINER, "custody", "timestamp", "--tsa", self.tsa_url))


def problems(res: Any) -> list[dict[str, Any]]:
    return list(json.loads(res.stdout)["problems"])


@pytest.fixture
def world(case_dir: Path, tmp_path: Path) -> Iterator[World]:
    need_peer("openssl")
    ca = make_ca(tmp_path / "ca")
    an, _ = ca.issue("an", cn=AN)
    binh, _ = ca.issue("binh", cn=BINH)
    for name in ("an", "binh"):
        ok(cli_run("keys", "import", str(ca.p12(name))))
    with local_tsa(tmp_path / "tsa") as url:
        w = World(case_dir, ca, an, binh, url, tmp_path / "tsa")
        ok(
            w.run(
                EXAMINER,
                "case",
                "trust-ca",
                str(ca.root),
                "--org",
                ORG,
                "--policy",
                POLICY,
                "--intermediate",
                str(ca.issuing),
                "--reason",
                "chứng thư số của Bộ",
            )
        )
        ok(
            w.run(
                EXAMINER,
                "case",
                "trust-ca",
                str(w.tsa_dir / "tsa.crt"),
                "--tsa",
                "--reason",
                "TSA của phòng",
            )
        )
        yield w
