"""`evidencekit run PLAN.toml` (docs/plans.md): a checked plan, skip-if-done, resume after a
kill, failed items reported and the exit code the worst of the steps'.

Real components: file-system images built here with mkfs.vfat + mtools, a real E01 checked with
ewfverify, real processes killed with SIGKILL at a step boundary (the FIFO barrier of
tests/workflows/_paused_cli.py: no sleeping), and the custody ledger's own events as the count of
what was done.
"""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidencekit.case import Case
from evidencekit.chain.kinds import ACQUISITION_KINDS
from evidencekit.cli.main import cli
from evidencekit.hash.seal.read import load_seal
from evidencekit.workflows.custody import list_events
from tests.json_contract import check_stdout
from tests.paused import REPO, Paused
from tests.paused import env as _env
from tests.peers import need_peer

MiB = 1 << 20


@pytest.fixture(autouse=True)
def _no_paused_command_outlives_its_test() -> Iterator[None]:
    yield
    Paused.reap()


def _vfat(path: Path, size: int, files: dict[str, bytes]) -> Path:
    need_peer("mkfs.vfat", "mcopy")
    with open(path, "wb") as fh:
        fh.truncate(size)
    subprocess.run(["mkfs.vfat", "-n", "PLAN", str(path)], check=True, capture_output=True)
    for name, data in files.items():
        src = path.parent / f"_{name}"
        src.write_bytes(data)
        subprocess.run(["mcopy", "-i", str(path), str(src), f"::/{name}"], check=True)
        src.unlink()
    return path


def _run(case_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "evidencekit", "--case", str(case_dir), *args],
        cwd=REPO,
        env=_env(),
        capture_output=True,
        text=True,
        check=False,
    )


def _events(case_dir: Path) -> list[dict[str, object]]:
    return list_events(Case.open(case_dir))


def _acquisitions(case_dir: Path) -> Counter[str]:
    """How many times each item's content was recorded (acquired, collected, sealed)."""
    return Counter(str(e["item_id"]) for e in _events(case_dir) if e["kind"] in ACQUISITION_KINDS)


def _toml(steps: list[dict[str, object]]) -> str:
    out = []
    for step in steps:
        out.append("[[step]]")
        for key, value in step.items():
            out.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
        out.append("")
    return "\n".join(out)


def _summary(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


# -- a 100-item plan, killed and resumed ------------------------------------------------------
def _hundred_items(src: Path) -> list[dict[str, object]]:
    """100 item steps (seals of small files, collections of small folders, four disk images:
    e01, raw, split and a collection from inside the E01 item), then a verification."""
    src.mkdir()
    steps: list[dict[str, object]] = []
    e01 = _vfat(src / "e01.img", 2 * MiB, {"BIENBAN.TXT": "Biên bản thu giữ\n".encode()})
    steps.append({"kind": "acquire-disk", "item": "DE01", "source": str(e01), "format": "e01"})
    for n in range(2, 101):
        item = f"I{n:03d}"
        if n == 50:  # the step the first run is killed in (its record_event: the 50th)
            raw = _vfat(src / "raw.img", 4 * MiB, {"A.TXT": b"raw\n"})
            steps.append({"kind": "acquire-disk", "item": item, "source": str(raw)})
        elif n == 51:
            split = _vfat(src / "split.img", 3 * MiB, {"B.TXT": b"split\n"})
            steps.append(
                {
                    "kind": "acquire-disk",
                    "item": item,
                    "source": str(split),
                    "format": "split",
                    "segment-size": "1MiB",
                    "algorithms": "md5,sha256",
                }
            )
        elif n == 52:
            steps.append({"kind": "acquire-files", "item": item, "source": "item:DE01"})
        elif n % 4 == 0:
            folder = src / f"thư mục {n}"
            folder.mkdir()
            (folder / "ghi chú.txt").write_text(f"Nguyễn Bá Tùng {n}\n", "utf-8")
            (folder / "sub").mkdir()
            (folder / "sub" / "x.bin").write_bytes(bytes([n]) * n)
            steps.append(
                {
                    "kind": "acquire-files",
                    "item": item,
                    "sources": [str(folder)],
                    "description": f"Thư mục {n}",
                }
            )
        else:
            f = src / f"tệp-{n}.txt"
            f.write_text(f"Trương Đình Bủng {n}\n", "utf-8")
            steps.append({"kind": "seal", "item": item, "source": str(f)})
    steps.append({"kind": "verify"})
    return steps


def test_hundred_item_plan_killed_then_resumed_without_redoing(
    tmp_path: Path, case_dir: Path
) -> None:
    need_peer("ewfverify")
    steps = _hundred_items(tmp_path / "src")
    plan = tmp_path / "plan.toml"
    plan.write_text(_toml(steps), "utf-8")
    progress = tmp_path / "progress.jsonl"
    before = len(_events(case_dir))

    # run 1: killed (SIGKILL) inside step 50, the raw acquisition, with its image written and
    # sealed in staging but not yet recorded
    paused = Paused(
        tmp_path,
        "evidencekit.workflows.custody:record_event#50",
        case_dir,
        "run",
        str(plan),
        "--progress-jsonl",
        str(progress),
    )
    paused.kill(signal.SIGKILL)
    done_first = _acquisitions(case_dir)
    assert sorted(done_first) == sorted(str(s["item"]) for s in steps[:49])
    assert set(done_first.values()) == {1}
    assert (case_dir / "evidence" / ".staging" / "I050" / "I050.raw").is_file()
    lines = [json.loads(line) for line in progress.read_text("utf-8").splitlines()]
    first = [r for r in lines if r["event"] != "progress"]
    assert [r["step"] for r in first if r["event"] == "end"] == list(range(1, 50))
    assert first[-1] == {**first[-1], "event": "start", "step": 50, "item": "I050"}
    # byte progress of the acquisition, counted in bytes: its imaging pass reached the end
    imaging = [r for r in lines if r["event"] == "progress" and r["label"] == "imaging I050"]
    assert imaging and {r["total"] for r in imaging} == {4 * MiB}
    done = [r["done"] for r in imaging]
    assert done == sorted(done) and done[-1] == 4 * MiB

    # run 2: resumes step 50, skips 1-49, does 51-100, verifies, writes the summary
    summary = tmp_path / "summary.csv"
    res = _run(
        case_dir, "run", str(plan), "--summary", str(summary), "--progress-jsonl", str(progress)
    )
    assert res.returncode == 0, res.stderr
    counts = _acquisitions(case_dir)
    assert len(counts) == 100 and set(counts.values()) == {1}, counts  # each item exactly once
    rows = _summary(summary)
    assert [int(r["step"]) for r in rows] == list(range(1, 102))
    assert {r["status"] for r in rows[:49]} == {"skipped (done)"}
    assert rows[49]["status"] == "resumed"
    assert rows[49]["message"] == f"continued from byte {4 * MiB}"
    assert {r["status"] for r in rows[50:100]} == {"done"}
    assert rows[100]["kind"] == "verify" and rows[100]["status"] == "verified"
    assert rows[100]["message"].startswith("100 item(s) checked")
    assert {r["exit_code"] for r in rows} == {"0"}
    # the interrupted acquisition went on from its image, it was not started again
    seal = load_seal(case_dir / "evidence" / "I050" / "I050.seal.json")
    assert seal.status == "complete"
    assert seal.facts["resumed"]["mode"] == "resume"
    assert seal.facts["resumed"]["from_offset"] == 4 * MiB
    # the E01 the plan made is a valid E01 for libewf, and the split image has its segments
    ewf = subprocess.run(
        ["ewfverify", "-q", str(case_dir / "evidence" / "DE01" / "DE01.E01")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ewf.returncode == 0, ewf.stdout + ewf.stderr
    assert (case_dir / "evidence" / "I051" / "I051.003").is_file()
    second = [json.loads(line) for line in progress.read_text("utf-8").splitlines()][len(lines) :]
    second = [r for r in second if r["event"] != "progress"]
    ends = [r for r in second if r["event"] == "end"]
    assert len(ends) == 101 and len(second) == 202
    for r in ends:
        assert set(r) >= {"step", "kind", "item", "status", "exit_code", "duration_s"}

    # run 3: nothing left to do; the ledger gains nothing
    size = len(_events(case_dir))
    assert size == before + 100
    res = _run(case_dir, "--json", "run", str(plan))
    assert res.returncode == 0, res.stderr
    check_stdout(["--json"], res.stdout)  # one evidencekit/run/1 document (docs/json.md)
    doc = json.loads(res.stdout)
    assert doc["schema"] == "evidencekit/run/1" and doc["exit_code"] == 0
    assert doc["counts"] == {"skipped (done)": 100, "verified": 1}
    assert len(_events(case_dir)) == size


# -- a bad plan does nothing ------------------------------------------------------------------
BAD_PLANS = [
    ('[[step]]\nkind = "seal"\nitem = "A"\nsource = "f.txt"\nbogus = 1\n', "step 1, key 'bogus'"),
    ('[[step]]\nkind = "scan"\nitem = "A"\n', "step 1, key 'kind'"),
    (
        '[[step]]\nkind = "seal"\nitem = "A"\nsource = "f.txt"\n'
        '[[step]]\nkind = "acquire-disk"\nitem = "B"\nsource = "f.txt"\nformat = "vhd"\n',
        "step 2, key 'format'",
    ),
    (
        '[[step]]\nkind = "seal"\nitem = "A"\nsource = "f.txt"\n'
        '[[step]]\nkind = "seal"\nitem = "A"\nsource = "f.txt"\n',
        "step 2, key 'item'",
    ),
    ('[[step]]\nkind = "seal"\nitem = "A"\nsource = "missing.txt"\n', "step 1, key 'source'"),
    ('[[step]]\nkind = "seal"\nitem = ".A"\nsource = "f.txt"\n', "step 1, key 'item'"),
    ('[[step]]\nkind = "seal"\nsource = "f.txt"\n', "step 1, key 'item'"),
    (
        '[[step]]\nkind = "acquire-disk"\nitem = "A"\nsource = "f.txt"\nsegment-size = "lots"\n',
        "step 1, key 'segment-size'",
    ),
    (
        '[[step]]\nkind = "seal"\nitem = "A"\nsource = "f.txt"\nalgorithms = "crc32"\n',
        "key 'algorithms'",
    ),
    ('[[step]]\nkind = "seal"\nitem = "A"\nsource = "f.txt"\nin-place = "yes"\n', "key 'in-place'"),
    ('[[step]]\nkind = "verify"\nitems = ["NOSUCH"]\n', "step 1, key 'items'"),
    ('[[step]]\nkind = "verify"\ntrust = ["nosuch.pem"]\n', "step 1, key 'trust'"),
    ('title = "x"\n[[step]]\nkind = "verify"\n', "plan, key 'title'"),
    ('[[step]\nkind = "verify"\n', "not valid TOML"),
    ("", "no [[step]] tables"),
]


@pytest.mark.parametrize(("text", "named"), BAD_PLANS)
def test_bad_plan_exits_2_and_does_nothing(
    tmp_path: Path, case_dir: Path, text: str, named: str
) -> None:
    (tmp_path / "f.txt").write_text("tệp\n", "utf-8")
    plan = tmp_path / "plan.toml"
    if text.startswith("[[step]]\n"):
        # a good step first: nothing of it may run either; the bad step's number moves by one
        text = '[[step]]\nkind = "seal"\nitem = "GOOD"\nsource = "f.txt"\n' + text
        named = named.replace("step 2", "step 3").replace("step 1", "step 2")
    plan.write_text(text, "utf-8")
    before = _events(case_dir)
    result = CliRunner().invoke(cli, ["--case", str(case_dir), "run", str(plan)])
    assert result.exit_code == 2, result.output
    assert named in result.stderr, result.stderr
    assert _events(case_dir) == before
    assert not (case_dir / "evidence").exists() or not any((case_dir / "evidence").iterdir())
    assert not (case_dir / "plans").exists()


def test_same_item_with_other_source_or_options_is_refused(tmp_path: Path, case_dir: Path) -> None:
    f = tmp_path / "f.txt"
    f.write_text("tệp một\n", "utf-8")
    plan = tmp_path / "plan.toml"
    plan.write_text(_toml([{"kind": "seal", "item": "A", "source": str(f)}]), "utf-8")
    invoke = CliRunner().invoke
    assert invoke(cli, ["--case", str(case_dir), "run", str(plan)]).exit_code == 0
    before = _events(case_dir)
    # the same source, grown
    f.write_text("tệp một, đã sửa\n", "utf-8")
    result = invoke(cli, ["--case", str(case_dir), "run", str(plan)])
    assert result.exit_code == 2
    assert "step 1, key 'item': 'A' exists in the case with other options" in result.stderr
    # other options
    f.write_text("tệp một\n", "utf-8")
    plan.write_text(
        _toml([{"kind": "seal", "item": "A", "source": str(f), "algorithms": "sha256"}]), "utf-8"
    )
    assert invoke(cli, ["--case", str(case_dir), "run", str(plan)]).exit_code == 2
    # an item made outside any plan
    assert invoke(cli, ["--case", str(case_dir), "seal", str(f), "--item", "B"]).exit_code == 0
    before = _events(case_dir)
    plan.write_text(_toml([{"kind": "seal", "item": "B", "source": str(f)}]), "utf-8")
    result = invoke(cli, ["--case", str(case_dir), "run", str(plan)])
    assert result.exit_code == 2
    assert "was not made by a plan step" in result.stderr
    assert _events(case_dir) == before
    # back as it was: done, skipped
    plan.write_text(_toml([{"kind": "seal", "item": "A", "source": str(f)}]), "utf-8")
    result = invoke(cli, ["--case", str(case_dir), "run", str(plan)])
    assert result.exit_code == 0, result.stderr
    assert "skipped (done)" in result.stderr
    assert _events(case_dir) == before


# -- a failing item does not stop the others --------------------------------------------------
def test_failed_items_are_reported_and_the_worst_exit_code_wins(
    tmp_path: Path, case_dir: Path
) -> None:
    invoke = CliRunner().invoke
    good = tmp_path / "good.txt"
    good.write_text("Biên bản\n", "utf-8")
    # an item sealed before, then tampered with: its verification fails (3)
    assert invoke(cli, ["--case", str(case_dir), "seal", str(good), "--item", "T"]).exit_code == 0
    (case_dir / "evidence" / "T" / "good.txt").write_text("Biên bản sửa\n", "utf-8")
    bad = tmp_path / "bad.E01"
    bad.write_bytes(b"EVF\x09\x0d\x0a\xff\x00" + b"\x00" * 600)  # an E01 signature, then nothing
    steps = [
        {"kind": "seal", "item": "A", "source": str(good)},
        {"kind": "acquire-disk", "item": "BAD", "source": str(bad), "format": "e01"},
        {"kind": "acquire-files", "item": "FROMBAD", "source": "item:BAD"},  # missing by now
        {"kind": "seal", "item": "B", "source": str(good)},
        {"kind": "verify", "items": ["A", "B"]},
    ]
    plan = tmp_path / "plan.toml"
    plan.write_text(_toml(steps), "utf-8")
    progress = tmp_path / "progress.jsonl"
    args = ["--case", str(case_dir), "--json", "run", str(plan), "--progress-jsonl", str(progress)]
    result = invoke(cli, args)
    assert result.exit_code == 1, result.output
    records = [json.loads(line) for line in progress.read_text("utf-8").splitlines()]
    ends = {r["step"]: r for r in records if r.get("event") == "end"}
    assert [ends[n]["status"] for n in range(1, 6)] == [
        "done",
        "failed",
        "failed",
        "done",
        "verified",
    ]
    assert ends[2]["exit_code"] == 1 and "bad.E01" in ends[2]["message"]
    assert ends[3]["exit_code"] == 1
    counts = _acquisitions(case_dir)
    assert counts == Counter({"T": 1, "A": 1, "B": 1})
    doc = json.loads(result.stdout)  # the summary document (checked against its schema)
    assert doc["exit_code"] == 1 and [s["status"] for s in doc["steps"]] == [
        ends[n]["status"] for n in range(1, 6)
    ]

    # the same plan again plus the tampered item: done steps skipped, 3 beats 1
    steps[4] = {"kind": "verify", "items": ["A", "B", "T"]}
    plan.write_text(_toml(steps), "utf-8")
    summary = tmp_path / "s.csv"
    result = invoke(cli, ["--case", str(case_dir), "run", str(plan), "--summary", str(summary)])
    assert result.exit_code == 3, result.output
    rows = _summary(summary)
    assert [(r["status"], r["exit_code"]) for r in rows] == [
        ("skipped (done)", "0"),
        ("failed", "1"),
        ("failed", "1"),
        ("skipped (done)", "0"),
        ("failed", "3"),
    ]
    assert "not verified: T" in rows[4]["message"]
    assert _acquisitions(case_dir) == counts


# -- Ctrl-C stops the plan; the next run resumes the interrupted step ------------------------
@pytest.mark.parametrize("kind", ["seal", "acquire-files"])
def test_ctrl_c_stops_the_plan_and_the_next_run_resumes(
    tmp_path: Path, case_dir: Path, kind: str
) -> None:
    steps: list[dict[str, object]] = []
    for n in range(1, 5):
        folder = tmp_path / f"nguồn {n}"
        folder.mkdir()
        (folder / "tệp.txt").write_text(f"Nguyễn Bá Tùng {n}\n", "utf-8")
        step_kind = kind if n == 2 else "seal"
        source = str(folder) if step_kind == "acquire-files" else str(folder / "tệp.txt")
        steps.append({"kind": step_kind, "item": f"C{n}", "source": source})
    plan = tmp_path / "plan.toml"
    plan.write_text(_toml(steps), "utf-8")
    summary = tmp_path / "summary.csv"
    # Ctrl-C while step 2 records its event (its item is written and sealed in staging)
    paused = Paused(
        tmp_path,
        "evidencekit.workflows.custody:record_event#2",
        case_dir,
        "run",
        str(plan),
        "--summary",
        str(summary),
    )
    paused.proc.send_signal(signal.SIGINT)
    _out, err = paused.proc.communicate()
    assert paused.proc.returncode == 1, err.decode()
    assert [(r["status"], r["exit_code"]) for r in _summary(summary)] == [
        ("done", "0"),
        ("interrupted", "1"),
        ("not run", ""),
        ("not run", ""),
    ]
    assert _acquisitions(case_dir) == Counter({"C1": 1})
    res = _run(case_dir, "run", str(plan), "--summary", str(summary))
    assert res.returncode == 0, res.stderr
    assert [r["status"] for r in _summary(summary)] == [
        "skipped (done)",
        "resumed",
        "done",
        "done",
    ]
    assert _acquisitions(case_dir) == Counter({"C1": 1, "C2": 1, "C3": 1, "C4": 1})
    # the interrupted attempt was set aside, never deleted
    assert any((case_dir / "evidence" / ".discarded").iterdir())


def test_done_item_whose_seal_was_replaced_is_an_integrity_failure(
    tmp_path: Path, case_dir: Path
) -> None:
    f = tmp_path / "f.txt"
    f.write_text("tệp\n", "utf-8")
    plan = tmp_path / "plan.toml"
    plan.write_text(_toml([{"kind": "seal", "item": "A", "source": str(f)}]), "utf-8")
    invoke = CliRunner().invoke
    assert invoke(cli, ["--case", str(case_dir), "run", str(plan)]).exit_code == 0
    seal = case_dir / "evidence" / "A" / "A.seal.json"
    seal.chmod(0o644)
    seal.write_bytes(seal.read_bytes() + b" ")
    before = _events(case_dir)
    result = invoke(cli, ["--case", str(case_dir), "run", str(plan)])
    assert result.exit_code == 3, result.output
    assert "its published seal is missing or is not the recorded one" in result.stdout
    assert _events(case_dir) == before  # never redone


def test_disk_acquired_by_hand_is_skipped_only_when_its_seal_says_the_same(
    tmp_path: Path, case_dir: Path
) -> None:
    img = _vfat(tmp_path / "usb.img", 2 * MiB, {"A.TXT": "Tùng\n".encode()})
    invoke = CliRunner().invoke
    args = ["--case", str(case_dir), "acquire", "disk", str(img), "--item", "H", "--format"]
    assert invoke(cli, [*args, "split", "--segment-size", "1MiB"]).exit_code == 0
    before = _events(case_dir)
    plan = tmp_path / "plan.toml"
    step = {"kind": "acquire-disk", "item": "H", "source": str(img), "format": "split"}
    # other options than the seal records: refused, naming the option
    plan.write_text(_toml([step]), "utf-8")
    result = invoke(cli, ["--case", str(case_dir), "run", str(plan)])
    assert result.exit_code == 2
    assert "step 1, key 'item'" in result.stderr
    assert "segment-size 1048576" in result.stderr, result.stderr
    # the same options and medium: done, skipped
    plan.write_text(_toml([{**step, "segment-size": "1MiB"}]), "utf-8")
    result = invoke(cli, ["--case", str(case_dir), "run", str(plan)])
    assert result.exit_code == 0, result.stderr
    assert "skipped (done)" in result.stderr
    # another medium at the same path (same size, other content and file identity): refused
    img.unlink()
    _vfat(img, 2 * MiB, {"B.TXT": b"other\n"})
    result = invoke(cli, ["--case", str(case_dir), "run", str(plan)])
    assert result.exit_code == 2
    assert "a source whose" in result.stderr, result.stderr
    assert _events(case_dir) == before


def test_check_runs_nothing_and_reports_are_issued_once(tmp_path: Path, case_dir: Path) -> None:
    need_peer("pdfsig")
    f = tmp_path / "biên bản.txt"
    f.write_text("Biên bản thu giữ\n", "utf-8")
    plan = tmp_path / "plan.toml"
    plan.write_text(
        _toml(
            [
                {"kind": "seal", "item": "A", "source": f.name, "description": "Biên bản"},
                {"kind": "report", "lang": "vi", "output": "báo cáo.pdf"},
                {"kind": "report-verify", "report": "báo cáo.pdf"},
            ]
        ),
        "utf-8",
    )
    invoke = CliRunner().invoke
    before = _events(case_dir)
    result = invoke(cli, ["--case", str(case_dir), "--json", "run", str(plan), "--check"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [(s["step"], s["action"]) for s in doc["steps"]] == [(1, "run"), (2, "run"), (3, "run")]
    assert _events(case_dir) == before and not (tmp_path / "báo cáo.pdf").exists()

    result = invoke(cli, ["--case", str(case_dir), "run", str(plan)])
    assert result.exit_code == 0, result.stderr
    pdf = tmp_path / "báo cáo.pdf"  # relative to the plan's folder
    out = subprocess.run(["pdfsig", str(pdf)], capture_output=True, text=True, check=False).stdout
    assert "Signature Validation: Signature is Valid." in out, out
    issued = [e for e in _events(case_dir) if e["kind"] == "report_issued"]
    assert len(issued) == 1

    # again: the seal and the report are done, the report is verified again
    result = invoke(cli, ["--case", str(case_dir), "--json", "run", str(plan)])
    assert result.exit_code == 0, result.output
    ends = json.loads(result.stdout)["steps"]
    assert [e["status"] for e in ends] == ["skipped (done)", "skipped (done)", "verified"]
    assert len([e for e in _events(case_dir) if e["kind"] == "report_issued"]) == 1

    # a report verification that fails (a byte of the signed PDF changed) is exit 3
    data = bytearray(pdf.read_bytes())
    data[len(data) // 2] ^= 1
    pdf.write_bytes(bytes(data))
    result = invoke(cli, ["--case", str(case_dir), "run", str(plan)])
    # the report step is refused first: its output is no longer a report this case issued
    assert result.exit_code == 2
    assert "step 2, key 'output'" in result.stderr
    plan.write_text(_toml([{"kind": "report-verify", "report": "báo cáo.pdf"}]), "utf-8")
    result = invoke(cli, ["--case", str(case_dir), "run", str(plan)])
    assert result.exit_code == 3, result.output


def test_the_example_plan_in_the_docs_is_valid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from evidencekit.workflows import plan as plan_module

    text = (REPO / "docs" / "plans.md").read_text("utf-8")
    example = text.split("```toml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "PLAN.toml"
    path.write_text(example, "utf-8")
    # its devices and folders are the lab's, not this machine's: only the sources are assumed
    monkeypatch.setattr(plan_module.os.path, "lexists", lambda p: True)
    plan = plan_module.load_plan(path)
    assert [s.kind for s in plan.steps] == [
        "acquire-disk",
        "acquire-disk",
        "acquire-files",
        "acquire-files",
        "seal",
        "verify",
        "report",
        "report-verify",
    ]
    assert plan.steps[1].options["segment-size"] == 640 << 20
    assert plan.steps[2].sources == ("item:USB-01",)


def test_killed_e01_acquisition_is_redone_and_verifies(tmp_path: Path, case_dir: Path) -> None:
    need_peer("ewfverify")
    img = _vfat(tmp_path / "disk.img", 3 * MiB, {"HOSO.TXT": "Hồ sơ vụ án\n".encode()})
    plan = tmp_path / "plan.toml"
    plan.write_text(
        _toml([{"kind": "acquire-disk", "item": "E", "source": str(img), "format": "e01"}]),
        "utf-8",
    )
    paused = Paused(
        tmp_path, "evidencekit.workflows.custody:record_event", case_dir, "run", str(plan)
    )
    paused.kill(signal.SIGKILL)
    assert (case_dir / "evidence" / ".staging" / "E" / "E.E01").is_file()
    assert _acquisitions(case_dir) == Counter()
    summary = tmp_path / "s.csv"
    res = _run(case_dir, "run", str(plan), "--summary", str(summary))
    assert res.returncode == 0, res.stderr
    [row] = _summary(summary)
    assert row["status"] == "resumed" and row["message"].startswith("redone from byte 0")
    assert _acquisitions(case_dir) == Counter({"E": 1})
    ewf = subprocess.run(
        ["ewfverify", "-q", str(case_dir / "evidence" / "E" / "E.E01")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ewf.returncode == 0, ewf.stdout + ewf.stderr
    # the killed attempt's files were set aside, never deleted
    [aside] = (case_dir / "evidence" / ".discarded").iterdir()
    assert (aside / "E.E01").is_file()


def test_killed_between_recording_and_publishing_is_published(
    tmp_path: Path, case_dir: Path
) -> None:
    folder = tmp_path / "thư mục"
    folder.mkdir()
    (folder / "a.txt").write_text("Nguyễn Bá Tùng\n", "utf-8")
    plan = tmp_path / "plan.toml"
    plan.write_text(
        _toml(
            [
                {"kind": "acquire-files", "item": "P", "source": str(folder)},
                {"kind": "verify", "items": ["P"]},
            ]
        ),
        "utf-8",
    )
    paused = Paused(
        tmp_path, "evidencekit.workflows.commit:Reservation.publish", case_dir, "run", str(plan)
    )
    paused.kill(signal.SIGKILL)
    assert _acquisitions(case_dir) == Counter({"P": 1})  # recorded, not published
    assert not (case_dir / "evidence" / "P").exists()
    summary = tmp_path / "s.csv"
    res = _run(case_dir, "run", str(plan), "--summary", str(summary))
    assert res.returncode == 0, res.stderr
    rows = _summary(summary)
    assert (rows[0]["status"], rows[0]["message"]) == (
        "done",
        "recorded before an interruption; published",
    )
    assert rows[1]["status"] == "verified"
    assert _acquisitions(case_dir) == Counter({"P": 1})


@pytest.mark.root
def test_unreadable_sectors_make_the_plan_exit_4_over_a_failed_step(
    tmp_path: Path, case_dir: Path
) -> None:
    from tests.fixtures.faulty import faulty_loop
    from tests.peers import need_root

    need_root()
    need_peer("losetup", "fusermount")
    backing = tmp_path / "backing.bin"
    backing.write_bytes(bytes((i * 31 + 7) % 253 or 1 for i in range(2048 * 512)))
    bad = tmp_path / "bad.E01"
    bad.write_bytes(b"EVF\x09\x0d\x0a\xff\x00" + b"\x00" * 600)
    good = tmp_path / "good.txt"
    good.write_text("Bủng\n", "utf-8")
    summary = tmp_path / "s.csv"
    with faulty_loop(backing, [100, 1500]) as dev:
        plan = tmp_path / "plan.toml"
        plan.write_text(
            _toml(
                [
                    {"kind": "acquire-disk", "item": "FAULTY", "source": dev.device, "retries": 1},
                    {"kind": "acquire-disk", "item": "CORRUPT", "source": str(bad)},
                    {"kind": "seal", "item": "G", "source": str(good)},
                ]
            ),
            "utf-8",
        )
        args = ["--case", str(case_dir), "run", str(plan), "--summary", str(summary)]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 4, result.output
        assert [(r["status"], r["exit_code"]) for r in _summary(summary)] == [
            ("done-with-errors", "4"),
            ("failed", "1"),
            ("done", "0"),
        ]
        # again, with the same device: the complete-with-errors item is done (still exit 4)
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 4, result.output
        assert [(r["status"], r["exit_code"]) for r in _summary(summary)] == [
            ("skipped (done)", "4"),
            ("failed", "1"),
            ("skipped (done)", "0"),
        ]
    seal = load_seal(case_dir / "evidence" / "FAULTY" / "FAULTY.seal.json")
    assert seal.status == "complete-with-errors" and seal.facts["bad_sectors"] == 2
    assert _acquisitions(case_dir) == Counter({"FAULTY": 1, "G": 1})


# the item commit protocol's step boundaries (tests/faults/test_acquire_kills.py), as the Nth
# call within a plan whose first step is a seal (which reserves and records once too)
PLAN_KILL_POINTS = {
    "guarded": "evidencekit.workflows.commit:reserve#2",
    "reserved": "evidencekit.workflows.acquire_disk.run:open_writers",
    "written": "evidencekit.workflows.acquire_disk.record:seal_item",
    "sealed": "evidencekit.workflows.custody:record_event#2",
    "recorded": "evidencekit.workflows.commit:Reservation.publish#2",
    "published": "evidencekit.workflows.acquire_disk.run:_result",
}


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["KILL", "INT"])
@pytest.mark.parametrize("point", list(PLAN_KILL_POINTS))
def test_plan_stopped_at_any_point_of_a_disk_step_ends_complete(
    tmp_path: Path, case_dir: Path, point: str, sig: int
) -> None:
    import hashlib

    src = tmp_path / "source.bin"
    src.write_bytes(bytes((i * 7 + 3) % 251 for i in range(3 * MiB)))
    note = tmp_path / "ghi chú.txt"
    note.write_text("Nguyễn Bá Tùng\n", "utf-8")
    plan = tmp_path / "plan.toml"
    plan.write_text(
        _toml(
            [
                {"kind": "seal", "item": "A", "source": str(note)},
                {"kind": "acquire-disk", "item": "D", "source": str(src)},
                {"kind": "verify"},
            ]
        ),
        "utf-8",
    )
    paused = Paused(tmp_path, PLAN_KILL_POINTS[point], case_dir, "run", str(plan))
    paused.kill(sig)
    assert paused.proc.returncode in (-signal.SIGKILL, 0, 1)
    summary = tmp_path / "s.csv"
    res = _run(case_dir, "run", str(plan), "--summary", str(summary))
    assert res.returncode == 0, res.stderr
    rows = _summary(summary)
    assert rows[0]["status"] == "skipped (done)"
    assert rows[2]["status"] == "verified", rows
    assert _acquisitions(case_dir) == Counter({"A": 1, "D": 1}) or (
        # Ctrl-C while imaging: sealed and recorded `incomplete`, then superseded by the resume
        sig == signal.SIGINT
        and [
            e["details"]["status"]  # type: ignore[index]
            for e in _events(case_dir)
            if e["item_id"] == "D" and e["kind"] == "acquired"
        ]
        == ["incomplete", "complete"]
    )
    image = (case_dir / "evidence" / "D" / "D.raw").read_bytes()
    assert hashlib.sha256(image).digest() == hashlib.sha256(src.read_bytes()).digest()
    assert load_seal(case_dir / "evidence" / "D" / "D.seal.json").status == "complete"


def test_progress_lines_to_stdout_are_not_mixed_with_json(tmp_path: Path, case_dir: Path) -> None:
    f = tmp_path / "f.txt"
    f.write_text("tệp\n", "utf-8")
    plan = tmp_path / "plan.toml"
    plan.write_text(_toml([{"kind": "seal", "item": "A", "source": str(f)}]), "utf-8")
    base = ["--case", str(case_dir)]
    result = CliRunner().invoke(cli, [*base, "--json", "run", str(plan), "--progress-jsonl", "-"])
    assert result.exit_code == 2 and _acquisitions(case_dir) == Counter()
    result = CliRunner().invoke(cli, [*base, "run", str(plan), "--progress-jsonl", "-"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]  # stdout: JSON lines only
    assert [(r["event"], r["status"]) for r in records if r["event"] != "progress"] == [
        ("start", "running"),
        ("end", "done"),
    ]
    assert "plan " in result.stderr and "1 done" in result.stderr
