"""The report model takes the typed seal (`hash.seal.document.Seal`) and custody event
(`chain.events.Event`), and shows exactly what it showed when it read them as dicts.

One case is built with the real writers: the demo (an E01 acquired by `acquire disk`, a logical
collection of it with deleted entries, custody transfers and receipts signed by each actor,
recorded verifications), then through the CLI: `seal` of files with an NFD, a Vietnamese and a
non-UTF-8 name; raw and split acquisitions (evidence number, window digests); a conversion;
a live-folder collection with an NFD name and description; a seal/1 item made by the seal
workflow with the former schema; a seal/1 disk item with unreadable extents made by the real
seal writer and recorded by a real custody append; a release to a recipient who holds no key.
As root, a disk with unreadable sectors (FUSE behind a loop device) is imaged for real as well.

The oracle is the former dict-reading builder, frozen in tests/report/legacy_model.py: every
item section and custody entry, the whole model `build_model` gives and its rendered text must
equal what that builder gave from the raw JSON documents.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import os
import shutil
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from evidencekit.acquire.imaging.reader import BadExtent
from evidencekit.case import Case
from evidencekit.cli.main import cli
from evidencekit.hash.seal.document import SCHEMA_V1
from evidencekit.hash.seal.read import parse_seal
from evidencekit.hash.seal.write import artifact_from_file
from evidencekit.hash.seal.write import seal_item as real_seal_item
from evidencekit.identity import Identity, IdentityStore
from evidencekit.report.model import ItemSection, custody_from_events, item_from_seal
from evidencekit.report.render import render_pdf
from evidencekit.workflows.custody import list_events, open_ledger, record_event
from evidencekit.workflows.demo import DEMO_EXAMINER, DEMO_PASSPHRASE, DEMO_RECEIVER, run_demo
from evidencekit.workflows.report.build import build_model
from tests.conftest import need_peer, need_root
from tests.fixtures.faulty import faulty_loop
from tests.report import legacy_model
from tests.report.conftest import pdftotext

NOW = dt.datetime(2026, 12, 5, 15, 0, tzinfo=dt.UTC)
NFD_NAME = unicodedata.normalize("NFD", "Trương Đình Bủng.txt")
NFD_TEXT = unicodedata.normalize("NFD", "Thư mục của Trương Đình Bủng")


@dataclasses.dataclass(frozen=True)
class Built:
    case_dir: Path
    home: Path
    examiner: Identity


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    root = tmp_path_factory.mktemp("typed")
    demo = run_demo(root / "demo")
    home, case_dir = demo.identity_home, demo.case_dir
    env = {
        "EVIDENCEKIT_HOME": str(home),
        "EVIDENCEKIT_PASSPHRASE": DEMO_PASSPHRASE.decode(),
        "EVIDENCEKIT_IDENTITY": DEMO_EXAMINER,
        "EVIDENCEKIT_CASE": None,
    }
    runner = CliRunner()

    def ek(*args: str) -> None:
        res = runner.invoke(cli, ["--case", str(case_dir), *args], env=env)
        assert res.exit_code == 0, (args, res.output, res.exception)

    docs = root / "docs"
    docs.mkdir()
    (docs / "Biên bản.txt").write_text("biên bản\n", "utf-8")
    (docs / NFD_NAME).write_text("nfd\n", "utf-8")
    with open(os.fsencode(docs) + b"/bad\xff.bin", "wb") as fh:
        fh.write(b"x" * 7)
    ek("seal", "--item", "DOCS01", "--description", NFD_TEXT, str(docs))
    sample = demo.folder / "source" / "usb-sample.img"
    ek("acquire", "disk", str(sample), "--item", "RAW01", "--format", "raw", "--window", "1MiB",
       "--evidence-number", "VC-01/2024", "--description", "Ổ USB (raw)")  # fmt: skip
    ek("acquire", "disk", str(sample), "--item", "SPL01", "--format", "split",
       "--segment-size", "1MiB", "--window", "0")  # fmt: skip
    ek("convert", "USB01", "--to", "raw", "--item", "USB01-RAW")
    ek("acquire", "files", str(docs), "--item", "COL01", "--description", NFD_TEXT)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(
            "evidencekit.workflows.seal.seal_item",
            functools.partial(real_seal_item, schema=SCHEMA_V1),
        )
        old = root / "old"
        old.mkdir()
        (old / "Biên bản cũ.txt").write_text("Trương Đình Bủng\n", "utf-8")
        ek("seal", "--item", "OLD01", str(old))
    examiner = IdentityStore(home).unlock(IdentityStore(home).find(DEMO_EXAMINER), DEMO_PASSPHRASE)
    _seal1_disk_with_extents(case_dir, examiner)
    ek("custody", "release", "DOCS01", "--reason", "trả chủ sở hữu", "--to", "Trần Thị Bình",
       "--to-role", "owner", "--to-id", "cccd:001203004567", "--location", "Phòng 3")  # fmt: skip
    ek("custody", "register", "HDD01", "--description", "Ổ cứng Seagate 1TB",
       "--seal-number", "NP-0001")  # fmt: skip
    yield Built(case_dir, home, examiner)


def _seal1_disk_with_extents(case_dir: Path, examiner: Identity) -> None:
    """A seal/1 raw image whose facts list unreadable extents as `acquire disk` writes them
    (`BadExtent.to_dict()`), signed by the real seal writer and recorded by a real append
    (a faulty disk needs root and FUSE: tests/report/test_faulty_disk.py has that one)."""
    folder = case_dir / "evidence" / "OLD02"
    folder.mkdir(parents=True)
    (folder / "OLD02.raw").write_bytes(bytes(range(256)) * 4096)
    art, result = artifact_from_file(folder, "OLD02.raw", ("md5", "sha1", "sha256"), window=1 << 16)
    sealed = real_seal_item(
        folder,
        "OLD02",
        examiner,
        kind="raw",
        artifacts=[art],
        status="complete-with-errors",
        combined=result,
        facts={
            "source": {"path": "/dev/sdz", "model": "Kingston", "serial": "ABC123"},
            "size": 1 << 20,
            "read_errors": [
                BadExtent(700000, 1024, 5).to_dict(),
                BadExtent(4096, 512, 5).to_dict(),
            ],
        },
        description="Ổ USB niêm phong theo định dạng cũ",
        schema=SCHEMA_V1,
    )
    record_event(
        Case.open(case_dir),
        examiner,
        "sealed",
        "OLD02",
        description="niêm phong (seal/1)",
        details={"seal_sha256": sealed.seal_sha256, "status": sealed.status},
    )


def _both_ways(case_dir: Path) -> tuple[list[ItemSection], list[ItemSection], Any, Any]:
    """Every item's section and the custody entries, by the typed builders and by the former
    dict-reading ones, from the same files."""
    case = Case.open(case_dir)
    with open_ledger(case) as ledger:
        typed_custody = custody_from_events(se.event for se in ledger.events())
    legacy_custody = legacy_model.custody_from_events(list_events(case))
    typed: list[ItemSection] = []
    legacy: list[ItemSection] = []
    for item in case.items():
        folder = case.item_dir(item)
        seal_path = folder / f"{item}.seal.json"
        raw = seal_path.read_bytes()
        manifest_path = folder / f"{item}.manifest.json"
        manifest = json.loads(manifest_path.read_bytes()) if manifest_path.exists() else None
        per_typed = tuple(e for e in typed_custody if e.item_id == item)
        per_legacy = tuple(e for e in legacy_custody if e.item_id == item)
        typed.append(item_from_seal(item, parse_seal(seal_path, raw), manifest, per_typed, "x"))
        legacy.append(
            legacy_model.item_from_documents(item, json.loads(raw), manifest, per_legacy, "x")
        )
    return typed, legacy, typed_custody, legacy_custody


def test_every_section_and_custody_entry_equals_the_former_dict_path(built: Built) -> None:
    typed, legacy, typed_custody, legacy_custody = _both_ways(built.case_dir)
    assert typed_custody == legacy_custody
    for new, old in zip(typed, legacy, strict=True):
        assert new == old, new.item_id
    # the case covers what the builders switch on, so the comparison means something
    by_id = {s.item_id: s for s in typed}
    assert {s.kind for s in typed} == {"disk", "logical"}
    assert {s.status for s in typed} == {"complete", "complete-with-errors"}
    assert by_id["OLD02"].read_errors[0].offset == 4096  # sorted
    assert [e.error for e in by_id["OLD02"].read_errors] == ["EIO (5)", "EIO (5)"]
    assert by_id["OLD02"].window_count == 16 and by_id["OLD02"].window_algorithms == ("sha256",)
    assert by_id["OLD02"].media_size == 1 << 20 and by_id["OLD02"].sealed_at is not None
    assert by_id["OLD01"].sealed_by == DEMO_EXAMINER and by_id["OLD01"].kind == "logical"
    assert by_id["RAW01"].evidence_number == "VC-01/2024"
    assert by_id["RAW01"].window_size == 1 << 20 and by_id["RAW01"].window_count == 16
    assert by_id["RAW01"].verifications and by_id["RAW01"].verifications[0].ok is True
    assert by_id["SPL01"].window_count == 0 and len(by_id["SPL01"].artifacts) > 3
    assert by_id["USB01"].host and by_id["USB01"].tool.startswith("evidencekit ")
    assert any(f.note == "deleted" for f in by_id["FILES01"].files)
    assert "docs/bad\\xff.bin" in [a.name for a in by_id["DOCS01"].artifacts]
    released = [e for e in typed_custody if e.event_type == "released"]
    assert released[0].counterpart_party is not None
    assert released[0].counterpart_party.document_number == "001203004567"
    verified = [e for e in typed_custody if e.event_type == "verified"]
    assert verified and all(e.result is True and e.actor == DEMO_RECEIVER for e in verified)


def test_typed_text_is_nfc_but_file_names_stay_as_stored(built: Built) -> None:
    typed, _legacy, _c, _lc = _both_ways(built.case_dir)
    col = next(s for s in typed if s.item_id == "COL01")
    assert col.description == unicodedata.normalize("NFC", NFD_TEXT)
    paths = [f.path for f in col.files]
    assert any(p.endswith(NFD_NAME) for p in paths)
    assert not any(p.endswith(unicodedata.normalize("NFC", NFD_NAME)) for p in paths)


def test_the_built_model_and_its_text_equal_the_former_path(built: Built, tmp_path: Path) -> None:
    case = Case.open(built.case_dir)
    model = build_model(case, built.examiner, lang="vi", now=NOW)
    _typed, legacy, _c, legacy_custody = _both_ways(built.case_dir)
    by_id = {s.item_id: s for s in legacy}
    # build_model passes each item's seal sha256; the former path got the same bytes
    # the photos and the device registered with an item are read from its `registered` event
    # (fields the former path did not have, not compared): given to the former sections to
    # render the same
    legacy_items = tuple(
        dataclasses.replace(
            by_id[s.item_id],
            seal_sha256=s.seal_sha256,
            photos=s.photos,
            registered_device=s.registered_device,
            registered_capacity=s.registered_capacity,
            device_differences=s.device_differences,
        )
        for s in model.items
    )
    # the sentences of the custody section are worded from the signed event itself (not a
    # compared field): the former entries are given their event to render the same text
    legacy_custody = tuple(
        dataclasses.replace(old, event=new.event, description_typed=new.description_typed)
        for old, new in zip(legacy_custody, model.custody, strict=True)
    )
    former = dataclasses.replace(model, items=legacy_items, custody=legacy_custody)
    assert model == former
    texts = []
    for name, m in (("typed", model), ("former", former)):
        pdf = tmp_path / f"{name}.pdf"
        pdf.write_bytes(render_pdf(m))
        texts.append(pdftotext(pdf))
    assert texts[0] == texts[1]
    assert "docs/bad\\xff.bin" in texts[0] and "EIO (5)" in texts[0]


def test_a_tampered_seal_reads_the_same_and_no_report_is_built_on_it(
    built: Built, tmp_path: Path
) -> None:
    copy = tmp_path / "case"
    shutil.copytree(built.case_dir, copy, symlinks=True)
    seal = copy / "evidence" / "RAW01" / "RAW01.seal.json"
    seal.write_bytes(seal.read_bytes().replace("Ổ USB (raw)".encode(), "Ổ USB (sửa)".encode()))
    typed, legacy, _c, _lc = _both_ways(copy)
    assert typed == legacy
    assert next(s for s in typed if s.item_id == "RAW01").description == "Ổ USB (sửa)"
    env = {
        "EVIDENCEKIT_HOME": str(built.home),
        "EVIDENCEKIT_PASSPHRASE": DEMO_PASSPHRASE.decode(),
        "EVIDENCEKIT_IDENTITY": DEMO_EXAMINER,
    }
    reports = sorted((copy / "reports").iterdir())
    res = CliRunner().invoke(cli, ["--json", "--case", str(copy), "report", "build"], env=env)
    assert res.exit_code == 3, res.output
    assert "RAW01" in res.output and "no report was built" in res.output
    assert sorted((copy / "reports").iterdir()) == reports  # nothing new


def test_a_status_that_is_not_a_seal_status_is_not_shown_as_one(
    built: Built, tmp_path: Path
) -> None:
    """The one place the typed model differs from the former one, on purpose: a seal whose
    status is not one of STATUSES (no writer writes one; a changed seal can hold any) has no
    status in the report, where the former model echoed the text. Such a seal still parses, and
    verification still names what is wrong with it (its signature), as before."""
    copy = tmp_path / "case"
    shutil.copytree(built.case_dir, copy, symlinks=True)
    path = copy / "evidence" / "RAW01" / "RAW01.seal.json"
    assert parse_seal(path, path.read_bytes()).known_status == "complete"
    path.write_bytes(path.read_bytes().replace(b'"status":"complete"', b'"status":"done"', 1))
    seal = parse_seal(path, path.read_bytes())
    assert seal.status == "done" and seal.known_status is None
    typed, legacy, _c, _lc = _both_ways(copy)
    raw01 = [n for n, s in enumerate(typed) if s.item_id == "RAW01"]
    assert typed[raw01[0]].status is None and legacy[raw01[0]].status == "done"
    assert dataclasses.replace(typed[raw01[0]], status="done") == legacy[raw01[0]]
    others = [(t, o) for t, o in zip(typed, legacy, strict=True) if t.item_id != "RAW01"]
    assert all(t == o for t, o in others)
    env = {
        "EVIDENCEKIT_HOME": str(built.home),
        "EVIDENCEKIT_PASSPHRASE": DEMO_PASSPHRASE.decode(),
    }
    res = CliRunner().invoke(cli, ["--case", str(copy), "verify", "RAW01"], env=env)
    assert res.exit_code == 3, res.output
    assert "bad-signature" in res.output and "changed after signing" in res.output


@pytest.mark.root
@pytest.mark.slow
def test_a_disk_imaged_with_unreadable_sectors_reads_the_same(
    runner: CliRunner, case_dir: Path, identity: Identity, tmp_path: Path
) -> None:
    """Unreadable extents as the imager records them (a FUSE disk failing sectors 100, 101 and
    3000 behind a loop device), read by both builders."""
    need_root()
    need_peer("losetup", "fusermount")
    backing = tmp_path / "backing.bin"
    backing.write_bytes(bytes((i * 7 + 3) % 251 for i in range(2 << 20)))
    with faulty_loop(backing, [100, 101, 3000]) as dev:
        res = runner.invoke(
            cli,
            ["--case", str(case_dir), "acquire", "disk", dev.device, "--item", "HDD01",
             "--format", "e01", "--retries", "1", "--evidence-number", "VC-02"],
        )  # fmt: skip
    assert res.exit_code == 4, res.output
    typed, legacy, typed_custody, legacy_custody = _both_ways(case_dir)
    assert typed == legacy and typed_custody == legacy_custody
    (hdd,) = typed
    assert hdd.kind == "disk" and hdd.status == "complete-with-errors"
    assert [(e.offset, e.length, e.error) for e in hdd.read_errors] == [
        (51200, 1024, "EIO (5)"),
        (1536000, 512, "EIO (5)"),
    ]
    assert hdd.evidence_number == "VC-02" and hdd.media_size == 2 << 20
