"""Issue 15: the seal verifier plug-ins are registered explicitly (no module imported by a string,
no failure swallowed), by every module that verifies seals; a seal whose format has no verifier
does not verify (`no-verifier`, exit 3) instead of passing with a note."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from evidencekit.case import Case
from evidencekit.hash.multihash import MultiHasher
from evidencekit.hash.seal.write import artifact_from_file, seal_item
from evidencekit.identity import Identity
from evidencekit.workflows.custody import record_event
from evidencekit.workflows.trust import identity_of

_REGISTERED = """
import importlib, sys
importlib.import_module(sys.argv[1])
from evidencekit.acquire.ewf.reader import verify_e01
from evidencekit.acquire.logical.tar_check import check_tar_item
from evidencekit.hash.seal.plugins import item_checker, media_verifier
print(media_verifier("e01") is verify_e01, item_checker("tar") is check_tar_item)
"""


@pytest.mark.parametrize(
    "module", ["evidencekit.workflows.verify", "evidencekit.workflows.recover"]
)
def test_each_module_that_verifies_seals_registers_the_plugins(module: str) -> None:
    # a fresh interpreter: in this one, other tests have imported everything already
    out = subprocess.run(
        [sys.executable, "-c", _REGISTERED, module], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["True", "True"], out.stdout + out.stderr


def test_nothing_is_registered_by_importing_the_plugin_modules() -> None:
    """The acquire modules provide the verifiers; they no longer register themselves when
    imported (that made verification depend on what happened to be imported before)."""
    code = (
        "import evidencekit.acquire.ewf.reader, evidencekit.acquire.logical.collect\n"
        "from evidencekit.hash.seal.plugins import item_checker, media_verifier\n"
        "print(media_verifier('e01'), item_checker('tar'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["None", "None"], out.stdout + out.stderr


def _sealed_unknown_format(case_dir: Path, identity: Identity, item: str) -> None:
    """An item whose media format no verifier of this program knows (as a seal from a newer
    version would name one), recorded in the case's ledger like the workflows record one."""
    folder = case_dir / "evidence" / item
    folder.mkdir(parents=True)
    (folder / f"{item}.aff4").write_bytes(b"a container this program cannot decode" * 100)
    art = artifact_from_file(folder, f"{item}.aff4", ("sha256",))[0]
    media = MultiHasher(("sha256",), window=4096)
    media.update(b"the media inside it")
    sealed = seal_item(
        folder,
        item,
        identity,
        kind="aff4",
        artifacts=[art],
        combined=media.result(),
        combined_format="aff4",
        combined_parts=[f"{item}.aff4"],
        case_identity=identity_of(Case.open(case_dir)),
    )
    details = {"seal_sha256": sealed.seal_sha256, "status": "complete"}
    record_event(Case.open(case_dir), identity, "sealed", item, details=details)


def test_a_format_without_a_verifier_is_a_problem(
    case_dir: Path, identity: Identity, invoke: Any
) -> None:
    _sealed_unknown_format(case_dir, identity, "NEW1")
    res = invoke("--json", "--case", str(case_dir), "verify", "NEW1")
    assert res.exit_code == 3, res.output
    doc = json.loads(res.stdout)
    (item,) = doc["items"]
    assert not item["ok"] and doc["exit_code"] == 3
    assert [(p["kind"], p["file"]) for p in item["problems"]] == [("no-verifier", "NEW1.aff4")]
    assert "'aff4'" in item["problems"][0]["message"]
    assert not any("verifier" in n for n in item["notes"])
    text = invoke("--case", str(case_dir), "verify", "NEW1")
    assert text.exit_code == 3
    assert "NEW1: FAILED: 1 problem(s)" in text.stdout
    assert "no-verifier: NEW1.aff4:" in text.stdout


def test_sizes_only_recomputes_no_media_digest_so_misses_no_verifier(
    case_dir: Path, identity: Identity, invoke: Any
) -> None:
    _sealed_unknown_format(case_dir, identity, "NEW2")
    res = invoke("--json", "--case", str(case_dir), "verify", "--sizes-only", "NEW2")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["items"][0]["problems"] == []
