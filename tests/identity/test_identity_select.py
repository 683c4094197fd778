"""`--identity` chooses one examiner identity (`IdentityStore.find`, the one place it is done):
an exact name wins over a fingerprint prefix, a prefix may be written as `keys show` prints it
(`sha256:…`), and a value that fits several identities is a usage error (exit 2) naming each
by name and fingerprint prefix and pointing at `keys show --all`.

Oracles: real identities made with real keys (their fingerprints are recomputed from the
certificates by `keys show --json`), and the CLI run in-process and as a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidencekit.cli.main import cli
from evidencekit.errors import AmbiguousIdentityError, IdentityError
from evidencekit.identity import Identity, IdentityStore
from tests.conftest import PASSPHRASE, TEST_KDF


def _make(store: IdentityStore, name: str) -> Identity:
    return store.create(name, PASSPHRASE.encode(), org="Công an tỉnh", kdf=TEST_KDF)


def _chosen(runner: CliRunner, selector: str) -> tuple[int, str, list[str]]:
    """(exit code, stderr, fingerprints of `keys show --identity selector --json`)."""
    result = runner.invoke(cli, ["--json", "--identity", selector, "keys", "show"])
    doc = json.loads(result.stdout)
    found = [i["fingerprint"] for i in doc.get("identities", [])]
    return result.exit_code, result.stderr, found


def test_exact_name_wins_over_a_fingerprint_prefix(ek_home: Path) -> None:
    store = IdentityStore(ek_home)
    first = _make(store, "Nguyễn Bá Tùng")
    prefix = first.fingerprint[:6]
    # a colleague whose name is exactly the first one's fingerprint prefix
    second = _make(store, prefix)
    runner = CliRunner()
    code, _err, found = _chosen(runner, prefix)
    assert code == 0 and found == [second.fingerprint]
    assert store.find(prefix).fingerprint == second.fingerprint
    # the first one is still chosen by more of its fingerprint, as keys show prints it
    for spelled in (
        first.fingerprint[:8],
        "sha256:" + first.fingerprint[:8],
        "SHA256:" + first.fingerprint[:8].upper(),
        ":".join(first.fingerprint[i : i + 2] for i in range(0, 8, 2)),
    ):
        code, _err, found = _chosen(runner, spelled)
        assert (code, found) == (0, [first.fingerprint]), spelled
    # and by name, NFD-typed too
    import unicodedata

    code, _err, found = _chosen(runner, unicodedata.normalize("NFD", "Nguyễn Bá Tùng"))
    assert (code, found) == (0, [first.fingerprint])


def test_a_name_shared_by_two_identities_is_a_usage_error_listing_both(
    ek_home: Path, tmp_path: Path
) -> None:
    store = IdentityStore(ek_home)
    one = _make(store, "Trương Đình Bủng")
    two = _make(store, "Trương Đình Bủng")
    with pytest.raises(AmbiguousIdentityError) as raised:
        store.find("Trương Đình Bủng")
    assert raised.value.exit_code == 2
    assert isinstance(raised.value, IdentityError)
    runner = CliRunner()
    result = runner.invoke(cli, ["--identity", "Trương Đình Bủng", "keys", "show"])
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1, result.stderr  # one line: what, the candidates, what to do
    line = errors[0]
    assert line.startswith("evidencekit: error: 'Trương Đình Bủng' matches 2 identities: ")
    for ident in (one, two):
        assert f"Trương Đình Bủng ({ident.fingerprint[:16]})" in line
    assert "evidencekit keys show --all" in line
    # keys show --all lists every identity, both of them included
    result = runner.invoke(cli, ["--json", "keys", "show", "--all"])
    assert result.exit_code == 0
    listed = {i["fingerprint"] for i in json.loads(result.stdout)["identities"]}
    assert listed == {one.fingerprint, two.fingerprint}
    # the full fingerprint of either still chooses it
    code, _err, found = _chosen(runner, two.fingerprint)
    assert (code, found) == (0, [two.fingerprint])
    # --json: the error document says exit 2, the fixed code names the ambiguity
    result = runner.invoke(cli, ["--json", "--identity", "Trương Đình Bủng", "keys", "show"])
    doc = json.loads(result.stdout)
    assert doc["exit_code"] == 2 and doc["error"]["code"] == "ambiguous_identity"
    # and in Vietnamese, from a real process
    env = {**os.environ, "EVIDENCEKIT_LANG": "vi"}
    proc = subprocess.run(
        [sys.executable, "-m", "evidencekit", "--identity", "Trương Đình Bủng", "keys", "show"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "'Trương Đình Bủng' khớp với 2 danh tính: " in proc.stderr
    assert "evidencekit keys show --all" in proc.stderr
    assert "fingerprint" not in proc.stderr


def test_a_prefix_shared_by_several_identities_lists_them(ek_home: Path) -> None:
    store = IdentityStore(ek_home)
    made: dict[str, list[Identity]] = {}
    n = 0
    while not any(len(v) > 1 for v in made.values()):  # pigeonhole: at most 17 keys
        ident = _make(store, f"Điều tra viên {n}")
        made.setdefault(ident.fingerprint[0], []).append(ident)
        n += 1
    char, pair = next((k, v) for k, v in made.items() if len(v) > 1)
    runner = CliRunner()
    code, err, found = _chosen(runner, char)
    assert code == 2 and found == []
    for ident in pair:
        assert f"{ident.name} ({ident.fingerprint[:16]})" in err
    others = [i for k, v in made.items() if k != char for i in v]
    for ident in others:
        assert ident.fingerprint[:16] not in err
    assert "give more of the fingerprint" in err


def test_no_selector_and_several_identities(ek_home: Path) -> None:
    store = IdentityStore(ek_home)
    a = _make(store, "Lê Văn Ấn")
    b = _make(store, "Phạm Thị Ễnh")
    runner = CliRunner()
    result = runner.invoke(cli, ["keys", "show"])
    assert result.exit_code == 2
    assert f"Lê Văn Ấn ({a.fingerprint[:16]})" in result.stderr
    assert f"Phạm Thị Ễnh ({b.fingerprint[:16]})" in result.stderr
    assert "evidencekit keys show --all" in result.stderr
    # EVIDENCEKIT_IDENTITY chooses, as --identity does
    result = runner.invoke(
        cli, ["--json", "keys", "show"], env={"EVIDENCEKIT_IDENTITY": "Phạm Thị Ễnh"}
    )
    assert result.exit_code == 0
    assert [i["fingerprint"] for i in json.loads(result.stdout)["identities"]] == [b.fingerprint]


def test_nothing_matches(ek_home: Path) -> None:
    store = IdentityStore(ek_home)
    ident = _make(store, "Nguyễn Bá Tùng")
    for selector in ("Nguyễn Bá", "zz", "sha256:", ident.fingerprint[:8] + "x"):
        with pytest.raises(IdentityError) as raised:
            store.find(selector)
        assert not isinstance(raised.value, AmbiguousIdentityError)
        assert raised.value.exit_code == 1
        assert "no identity matches" in raised.value.message
