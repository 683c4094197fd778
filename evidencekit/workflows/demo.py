"""The demo: a complete sample case built from the sample image shipped with the package.

Everything it makes lives inside one folder: its own examiner identity (with a passphrase
written beside it, since this is sample data), the case, and the outputs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from evidencekit.errors import CaseError
from evidencekit.identity import IdentityStore
from evidencekit.timeutil import compact, utcnow
from evidencekit.workflows.casework import init_case

DEMO_PASSPHRASE = b"demo-passphrase-not-secret"
DEMO_EXAMINER = "Nguyễn Bá Tùng"
DEMO_RECEIVER = "Trương Đình Bủng"


@dataclass
class DemoResult:
    """Where the demo put everything."""

    folder: Path
    case_dir: Path
    identity_home: Path
    steps: list[str] = field(default_factory=list)
    verify_commands: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "folder": str(self.folder),
            "case": str(self.case_dir),
            "identity_home": str(self.identity_home),
            "steps": self.steps,
            "verify_commands": self.verify_commands,
        }

    def summary_lines(self) -> list[str]:
        lines = [f"Demo case built in {self.folder}", ""]
        lines += [f"  - {s}" for s in self.steps]
        if self.verify_commands:
            lines += ["", "Verify it yourself:"]
            lines += [f"  {c}" for c in self.verify_commands]
        return lines


def run_demo(directory: Path | None, progress: Callable[[str], None] | None = None) -> DemoResult:
    """Build the sample case.

    Raises:
        CaseError: an explicit `directory` exists and is not empty.
    """
    say = progress or (lambda _m: None)
    if directory is None:
        directory = Path.cwd() / "reports" / f"demo-{compact(utcnow())}"
    if directory.exists() and any(directory.iterdir()):
        raise CaseError(
            f"demo folder {str(directory)!r} is not empty",
            hint="give a new folder, or none to get a fresh reports/demo-<time>/",
        )
    directory.mkdir(parents=True, exist_ok=True)
    home = directory / "identities"
    store = IdentityStore(home)
    (directory / "passphrase.txt").write_bytes(DEMO_PASSPHRASE + b"\n")
    say(f"creating demo identity {DEMO_EXAMINER}")
    examiner = store.create(DEMO_EXAMINER, DEMO_PASSPHRASE, org="Công an tỉnh (demo)")
    result = DemoResult(folder=directory, case_dir=directory / "case", identity_home=home)
    result.steps.append(f"identity {examiner.name} sha256:{examiner.fingerprint[:16]}… in {home}")
    say("initialising the case")
    case = init_case(
        result.case_dir,
        examiner,
        number="VKS-2024-06",
        title="Vụ án trộm cắp tài sản",
        agency="Cơ quan Cảnh sát điều tra (demo)",
        language="vi",
        timezone="Asia/Ho_Chi_Minh",
    )
    result.steps.append(f"case {case.info.number} «{case.info.title}» in {case.path}")
    env = f"EVIDENCEKIT_HOME={home} EVIDENCEKIT_PASSPHRASE=$(cat {directory / 'passphrase.txt'})"
    result.verify_commands.append(f"{env} evidencekit --case {case.path} case show")
    return result
