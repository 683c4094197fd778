"""RFC 3161 timestamps on checkpoints (issue 13): a local TSA (`openssl ts -reply`) stamps the
latest checkpoint, the token is kept in the ledger, `custody verify` checks it offline and
`openssl ts -verify` (the oracle) accepts it."""

from __future__ import annotations

import base64
import datetime as dt
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from evidencekit.case import Case
from evidencekit.chain import ledger as ledger_module
from evidencekit.errors import IntegrityError
from evidencekit.identity import Identity
from evidencekit.workflows.custody import list_events, record_event
from tests.conftest import need_peer
from tests.report.tsa import local_tsa, make_tsa


def _stamp(invoke: Any, case_dir: Path, url: str) -> dict[str, Any]:
    res = invoke("--case", str(case_dir), "--json", "custody", "timestamp", "--tsa", url)
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)["event"]  # type: ignore[no-any-return]


def _verify(invoke: Any, case_dir: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    res = invoke("--case", str(case_dir), "--json", "custody", "verify", *extra)
    return res.exit_code, json.loads(res.stdout)


@pytest.mark.peer
def test_a_timestamped_checkpoint_verifies_here_and_with_openssl(
    case_dir: Path, identity: Identity, invoke: Any, tmp_path: Path
) -> None:
    need_peer("openssl")
    case = Case.open(case_dir)
    record_event(case, identity, "registered", "HDD01", description="Ổ cứng")
    with local_tsa(tmp_path / "tsa") as url:
        ev = _stamp(invoke, case_dir, url)
    assert ev["kind"] == "checkpoint_timestamped" and ev["item"] is None
    note, token = ev["details"]["checkpoint"], base64.b64decode(ev["details"]["token"])
    assert note.split("\n")[1] == "2"  # the checkpoint over case_opened + registered

    # the oracle: openssl checks the token over the checkpoint's exact bytes
    (tmp_path / "cp.txt").write_bytes(note.encode())
    (tmp_path / "token.der").write_bytes(token)

    def ts_verify(data: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["openssl", "ts", "-verify", "-data", str(data), "-in", str(tmp_path / "token.der"),
             "-token_in", "-CAfile", str(tmp_path / "tsa" / "tsa.crt")],
            capture_output=True, text=True,
        )  # fmt: skip

    res = ts_verify(tmp_path / "cp.txt")
    assert res.returncode == 0 and "Verification: OK" in res.stdout, res.stdout + res.stderr
    (tmp_path / "other.txt").write_bytes(note.encode().replace(b"\n2\n", b"\n3\n"))
    assert ts_verify(tmp_path / "other.txt").returncode != 0

    code, doc = _verify(invoke, case_dir)
    assert code == 0, doc["problems"]
    (stamp,) = doc["timestamps"]
    assert stamp["tree_size"] == 2 and stamp["tsa"] == "CN=Test TSA evidencekit"
    assert stamp["tsa_pinned"] is False
    code, doc = _verify(invoke, case_dir, "--tsa-cert", str(tmp_path / "tsa" / "tsa.crt"))
    assert code == 0 and doc["timestamps"][0]["tsa_pinned"] is True
    text = invoke("--case", str(case_dir), "custody", "verify").stdout
    assert "existed by" in text and "TSA not pinned" in text


@pytest.mark.peer
def test_a_token_from_another_tsa_is_refused_when_one_is_pinned(
    case_dir: Path, identity: Identity, invoke: Any, tmp_path: Path
) -> None:
    need_peer("openssl")
    with local_tsa(tmp_path / "tsa") as url:
        _stamp(invoke, case_dir, url)
    make_tsa(tmp_path / "other")
    code, doc = _verify(invoke, case_dir, "--tsa-cert", str(tmp_path / "other" / "tsa.crt"))
    assert code == 3
    (p,) = doc["problems"]
    assert (
        p["kind"] == "timestamp-invalid" and "not by a trusted timestamp authority" in p["message"]
    )


@pytest.mark.peer
def test_events_dated_after_their_timestamp_are_named(
    case_dir: Path,
    identity: Identity,
    invoke: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The signer writes event times; a TSA's token bounds them: a clock set two days ahead
    (or a forger's) shows against the token."""
    need_peer("openssl")
    case = Case.open(case_dir)
    future = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    with monkeypatch.context() as m:
        m.setattr(ledger_module, "utcnow", lambda: future)
        record_event(case, identity, "registered", "HDD01", description="ghi ngày sau")
        with local_tsa(tmp_path / "tsa") as url:
            _stamp(invoke, case_dir, url)
    code, doc = _verify(invoke, case_dir)
    assert code == 3
    assert any(
        p["kind"] == "timestamp-invalid" and "their dates are false" in p["message"]
        for p in doc["problems"]
    ), doc["problems"]


@pytest.mark.peer
def test_a_stamped_checkpoint_of_another_tree_is_named(
    case_dir: Path, identity: Identity, invoke: Any, tmp_path: Path
) -> None:
    """An insider who rewrites events under a timestamp (re-signing everything with their own
    pinned key) cannot re-stamp the past: the kept token is over the old tree."""
    need_peer("openssl")
    from tests.chain.helpers import raw_db

    case = Case.open(case_dir)
    record_event(case, identity, "registered", "HDD01", description="Ổ cứng")
    with local_tsa(tmp_path / "tsa") as url:
        _stamp(invoke, case_dir, url)
    events = list_events(case)
    assert [e["kind"] for e in events] == ["case_opened", "registered", "checkpoint_timestamped"]
    # the insider swaps the leaf and node of event 1 for another event's (the stored tree now
    # lies about event 1, and so does every recomputation from it)
    with raw_db(case_dir) as db:
        db.execute("UPDATE events SET data = (SELECT data FROM events WHERE seq = 0) WHERE seq = 1")
    code, doc = _verify(invoke, case_dir)
    assert code == 3
    kinds = {p["kind"] for p in doc["problems"]}
    assert "timestamp-invalid" in kinds, doc["problems"]


def test_an_unreachable_tsa_is_a_clear_error(
    case_dir: Path, identity: Identity, invoke: Any
) -> None:
    res = invoke("--case", str(case_dir), "custody", "timestamp", "--tsa", "http://127.0.0.1:9/x")
    assert res.exit_code == 1
    assert "did not answer" in res.stderr and "--tsa" in res.stderr
    assert len(list_events(Case.open(case_dir))) == 1  # nothing recorded


def test_garbage_tokens_are_integrity_errors() -> None:
    from evidencekit.chain.timestamp import verify_token

    with pytest.raises(IntegrityError):
        verify_token(b"\x30\x03\x02\x01\x00", b"data")
    with pytest.raises(IntegrityError):
        verify_token(b"not der at all", b"data")
