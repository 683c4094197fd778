"""The demo: a complete sample case built from the sample image shipped with the package.

Everything it makes lives inside one folder: two examiner identities (with their passphrase
written beside them in passphrase.txt, mode 0600, since this is sample data), the sample "USB
stick" image, the case, and its outputs. The steps are the real workflows, called as a lab
script would call them:

1. identities for the examiner (Nguyễn Bá Tùng) and the receiving examiner (Trương Đình Bủng);
2. `case init`, and the receiver pinned in the case;
3. a seizure session (`demo_seizure`): the USB stick registered in it with a photo, physically
   sealed before two witnesses, the session closed with the owner's refusal to sign;
4. the seal opened (intact), disk acquisition of the sample image to E01 (item USB01);
5. logical collection of the files inside that E01, deleted entries included (item FILES01),
   or inside the sample image itself when disk acquisition is not in the build;
6. a working copy of the image (USB01-WC), the stick re-sealed, the analysis on the copy;
7. custody: the examiner transfers both items to the receiver before a witness, the receiver
   receives them (signed with the receiver's own key);
8. verification of every item (re-hash, seal signatures), recorded in the ledger;
9. signed PDF reports in Vietnamese and English and the Biên bản of the seizure session, each
   verified.
"""

from __future__ import annotations

import gzip
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from evidencekit.case import Case
from evidencekit.errors import CaseError, IntegrityError, PartialReadError
from evidencekit.identity import Identity, IdentityStore
from evidencekit.timeutil import compact, utcnow
from evidencekit.workflows.casework import add_examiner, init_case

DEMO_PASSPHRASE = b"demo-passphrase-not-secret"
DEMO_EXAMINER = "Nguyễn Bá Tùng"
DEMO_RECEIVER = "Trương Đình Bủng"
SAMPLE_IMAGE = "usb-sample.img.gz"
DISK_ITEM = "USB01"
FILES_ITEM = "FILES01"
LOCATION = "Phòng giám định kỹ thuật số, Công an tỉnh (demo)"
DISK_DESCRIPTION = "Ổ USB thu giữ của Trương Đình Bủng (mẫu)"


@dataclass
class DemoResult:
    """Where the demo put everything."""

    folder: Path
    case_dir: Path
    identity_home: Path
    steps: list[str] = field(default_factory=list)
    reports: list[Path] = field(default_factory=list)
    verify_commands: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "folder": str(self.folder),
            "case": str(self.case_dir),
            "identity_home": str(self.identity_home),
            "steps": self.steps,
            "reports": [str(p) for p in self.reports],
            "verify_commands": self.verify_commands,
        }

    def summary_lines(self) -> list[str]:
        lines = [f"Demo case built in {self.folder}", ""]
        lines += [f"  - {s}" for s in self.steps]
        if self.reports:
            lines += ["", "Reports:"]
            lines += [f"  {p}" for p in self.reports]
        if self.verify_commands:
            lines += ["", "Verify it yourself:"]
            lines += [f"  {c}" for c in self.verify_commands]
        return lines


def write_secret(path: Path, data: bytes) -> None:
    """Create `path` holding `data`, readable by its owner only from the moment it exists.

    The mode is given to open() (O_EXCL: never an existing file, never through a symlink), not
    set by chmod afterwards, which would leave the passphrase world-readable between the two calls
    under the usual umask 022.

    Raises:
        CaseError: `path` exists or cannot be created.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        raise CaseError(f"cannot create {str(path)!r}: {exc.strerror}") from exc
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def extract_sample(dest: Path) -> Path:
    """Decompress the shipped sample image to `dest` (read-only, like a seized medium)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    src = resources.files("evidencekit") / "data" / "sample" / SAMPLE_IMAGE
    with src.open("rb") as raw, gzip.open(raw) as fh, dest.open("wb") as out:
        shutil.copyfileobj(fh, out, 1 << 20)
    dest.chmod(0o444)
    return dest


def _acquire_disk(
    case: Case, examiner: Identity, source: Path, result: DemoResult, say: Callable[[str], None]
) -> Path:
    """Image the sample to E01 with the disk-acquisition workflow; the E01's path."""
    from evidencekit.workflows.acquire_disk import (
        AcquireDiskRequest,
        AcquireOptions,
        AcquireResult,
        acquire_disk,
    )

    say(f"imaging {source.name} to E01 as item {DISK_ITEM}")
    try:
        options = AcquireOptions(
            format="e01",
            evidence_number="VC-01/2024",
            description="Ổ USB thu giữ của Phạm Thị Lan (mẫu)",
            notes="Ảnh đĩa mẫu của bản trình diễn evidencekit",
        )
        res = acquire_disk(case, examiner, AcquireDiskRequest(source, DISK_ITEM, options))
    except PartialReadError as exc:
        assert isinstance(exc.result, AcquireResult)
        res = exc.result
    result.steps.append(
        f"disk image {DISK_ITEM}: {source.name} imaged to E01 ({', '.join(res.files)}), read "
        f"back and sealed; sha256 {res.digests.get('sha256', '?')}"
    )
    return case.item_dir(DISK_ITEM) / f"{DISK_ITEM}.E01"


def _collect(
    case: Case, examiner: Identity, source: Path, result: DemoResult, say: Callable[[str], None]
) -> bool:
    from evidencekit.acquire.logical.options import CollectOptions
    from evidencekit.workflows.collect import CollectRequest, collect_item

    say(f"collecting the files inside {source.name} as item {FILES_ITEM}")
    options = CollectOptions(include_deleted=True, source_timezone=case.info.timezone)
    res: Any
    try:
        request = CollectRequest(
            FILES_ITEM,
            (source,),
            options,
            description="Các tệp trong ổ USB thu giữ (gồm cả tệp đã xoá)",
        )
        res = collect_item(case, examiner, request)
    except PartialReadError as exc:
        res = exc.result
    files = res.collection.summary()["files"] if res is not None else "?"
    result.steps.append(
        f"logical collection {FILES_ITEM}: {files} files from {source.name} into "
        f"{case.item_dir(FILES_ITEM) / (FILES_ITEM + '.tar')} (PAX tar + DFXML + manifest, sealed)"
    )
    return True


def _custody(
    case: Case,
    examiner: Identity,
    receiver: Identity,
    items: list[str],
    result: DemoResult,
    say: Callable[[str], None],
) -> None:
    from evidencekit.workflows.custody import record_event
    from evidencekit.workflows.demo_seizure import SEALS, WITNESSES
    from evidencekit.workflows.seizure import event_details

    for item in items:
        say(f"transferring {item} to {receiver.name}")
        # the stick in its bag under the second seal; the collected files are data only
        seal = SEALS[1] if item == DISK_ITEM else None
        record_event(
            case,
            examiner,
            "transferred",
            item,
            counterpart=receiver.name,
            purpose="Phân tích, giám định",
            location=LOCATION,
            seal_number=seal,
            details=event_details(case, WITNESSES[1:]),
        )
        record_event(
            case,
            receiver,
            "received",
            item,
            counterpart=examiner.fingerprint,
            location="Kho vật chứng, Công an tỉnh (demo)",
            condition="Niêm phong nguyên vẹn" if seal else "Nguyên vẹn",
            seal_number=seal,
        )
    result.steps.append(
        f"custody: {', '.join(items)} transferred by {examiner.name} before a witness and "
        f"received by {receiver.name} (each event signed by its actor)"
    )


def _verify(
    case: Case, receiver: Identity, items: list[str], result: DemoResult, say: Callable[[str], None]
) -> None:
    from evidencekit.workflows.verify import record_verification, verify_items

    say("verifying every item (re-hash, seal signatures)")
    statuses = verify_items(case, items)
    bad = [s for s in statuses if not s.ok]
    for status in statuses:
        record_verification(case, receiver, status)
    if bad:
        raise IntegrityError(
            f"demo: verification failed for {', '.join(str(s.item_id) for s in bad)}"
        )
    result.steps.append(f"verified {', '.join(items)}: all digests and seal signatures hold")


def run_demo(directory: Path | None, progress: Callable[[str], None] | None = None) -> DemoResult:
    """Build the sample case.

    Raises:
        CaseError: an explicit `directory` exists and is not empty.
        IntegrityError: a verification in the demo failed (a bug, or a broken install).
    """
    say = progress or (lambda _m: None)
    if directory is None:
        directory = Path.cwd() / "reports" / f"demo-{compact(utcnow())}"
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise CaseError(
            f"demo folder {str(directory)!r} is not empty",
            hint="give a new folder, or none to get a fresh reports/demo-<time>/",
        )
    directory.mkdir(parents=True, exist_ok=True)
    directory = directory.resolve()
    home = directory / "identities"
    store = IdentityStore(home)
    write_secret(directory / "passphrase.txt", DEMO_PASSPHRASE + b"\n")
    say(f"creating demo identities {DEMO_EXAMINER} and {DEMO_RECEIVER}")
    examiner = store.create(DEMO_EXAMINER, DEMO_PASSPHRASE, org="Công an tỉnh (demo)")
    receiver = store.create(DEMO_RECEIVER, DEMO_PASSPHRASE, org="Công an tỉnh (demo)")
    result = DemoResult(folder=directory, case_dir=directory / "case", identity_home=home)
    for ident in (examiner, receiver):
        cert_path = directory / f"{ident.fingerprint[:16]}.pem"
        cert_path.write_text(ident.cert_pem(), "ascii")
        result.steps.append(
            f"identity {ident.name} sha256:{ident.fingerprint[:16]}… (certificate {cert_path})"
        )
    say("initialising the case")
    case = init_case(
        result.case_dir,
        examiner,
        number="VKS-2024-06",
        title="Vụ án trộm cắp tài sản",
        agency="Cơ quan Cảnh sát điều tra, Công an tỉnh (demo)",
        language="vi",
        timezone="Asia/Ho_Chi_Minh",
        participants=(  # the case's standing participants (case init --participant)
            f"role=investigator,key={examiner.fingerprint},unit=Đội Cảnh sát hình sự (demo)",
            "role=clerk,name=Võ Thị Thu,cccd=046195001122,unit=Đội Cảnh sát hình sự (demo)",
        ),
    )
    add_examiner(case, examiner, receiver.certificate)
    result.steps.append(
        f"case {case.info.number} «{case.info.title}» in {case.path}; "
        f"pinned examiners: {examiner.name}, {receiver.name}"
    )
    source = extract_sample(directory / "source" / "usb-sample.img")
    result.steps.append(f"sample USB image (FAT16, Vietnamese file names): {source}")

    from evidencekit.workflows import demo_seizure

    photo = demo_seizure.sample_photo(directory / "source" / "ảnh ổ USB.jpg")
    demo_seizure.seize(case, examiner, DISK_ITEM, photo, result.steps, say)
    demo_seizure.open_for_imaging(case, examiner, DISK_ITEM)
    image = _acquire_disk(case, examiner, source, result, say)
    _collect(case, examiner, image, result, say)
    demo_seizure.after_imaging(case, examiner, DISK_ITEM, result.steps, say)
    items = [DISK_ITEM, FILES_ITEM]
    _custody(case, examiner, receiver, items, result, say)
    _verify(case, receiver, [*items, demo_seizure.WORKING_COPY], result, say)

    from evidencekit.workflows.report import build_report, verify_report

    for lang in ("vi", "en"):
        say(f"building the signed report ({lang})")
        built = build_report(case, examiner, lang=lang)
        check = verify_report(built.path, case=case)
        if not check.ok:
            shown = "; ".join(p.text() for p in check.problems)
            raise IntegrityError(f"demo: report {built.path} does not verify: {shown}")
        result.reports.append(built.path)
    say(f"building the Biên bản of seizure session {demo_seizure.SESSION}")
    record = build_report(case, examiner, form="bien-ban", session=demo_seizure.SESSION)
    check = verify_report(record.path, case=case)
    if not check.ok:
        shown = "; ".join(p.text() for p in check.problems)
        raise IntegrityError(f"demo: record {record.path} does not verify: {shown}")
    result.reports.append(record.path)
    result.steps.append(
        "signed reports (PAdES) in Vietnamese and English and the Biên bản (seizure record) of "
        f"session {demo_seizure.SESSION}, each recorded in the ledger (report_issued) and verified"
    )
    env = f"EVIDENCEKIT_HOME={home} EVIDENCEKIT_PASSPHRASE=$(cat {directory / 'passphrase.txt'})"
    cert = directory / f"{examiner.fingerprint[:16]}.pem"
    for report in result.reports:
        result.verify_commands.append(f"pdfsig {report}")
    result.verify_commands += [
        f"evidencekit report verify {result.reports[0]} --case {case.path}",
        f"evidencekit report verify {result.reports[1]} --trust {cert}",
        f"pdfdetach -list {result.reports[0]}",
        f"evidencekit --case {case.path} verify {' '.join(items)} {demo_seizure.WORKING_COPY}",
        f"evidencekit --case {case.path} custody verify",
        f"evidencekit --case {case.path} custody log",
        f"cd {case.item_dir(FILES_ITEM)} && sha256sum -c {FILES_ITEM}.sha256",
        f"{env} evidencekit --case {case.path} case show",
    ]
    if DISK_ITEM in items:
        result.verify_commands.append(f"ewfverify {case.item_dir(DISK_ITEM) / DISK_ITEM}.E01")
    return result
