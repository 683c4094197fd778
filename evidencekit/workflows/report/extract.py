"""Save a report's attachments into a folder, safely, whatever names the PDF carries.

`pdfdetach -saveall` writes each attachment under the name the PDF gives it: a report edited by
someone else can name an attachment `../../.bashrc` or `/etc/cron.d/x`, and a planted symlink in
the folder redirects a write. Here every name must be a plain file name (no separator, no `..`,
no control or bidi character, no leading `.` or `-`), all of them are checked before anything is
written, nothing is overwritten, and no symlink is followed: the folder is opened with
`O_NOFOLLOW`, each file is created in it with `O_CREAT | O_EXCL` (which never follows a link).
Extraction does not check the signature: `report verify` does.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from evidencekit.errors import IntegrityError, ReportError
from evidencekit.report.attachments import shown
from evidencekit.report.sign import read_attachment_entries


@dataclass(frozen=True, slots=True)
class ExtractedFile:
    """One attachment written to the folder."""

    name: str
    size: int
    sha256: str

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "size": self.size, "sha256": self.sha256}


@dataclass(frozen=True, slots=True)
class ExtractResult:
    """What `extract_attachments` wrote."""

    pdf: Path
    out: Path
    files: tuple[ExtractedFile, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "pdf": str(self.pdf),
            "out": str(self.out),
            "files": [f.to_dict() for f in self.files],
        }


def extract_attachments(pdf: Path, out: Path) -> ExtractResult:
    """Write every attachment of `pdf` into the folder `out` (created if missing).

    Raises:
        IntegrityError: an attachment name is not a plain file name, two attachments share a
            name, or an entry embeds no file; nothing was written.
        ReportError: the PDF cannot be read; `out` is a symlink or not a folder; a file of
            that name already exists there (nothing was written); or a write failed.
    """
    try:
        data = pdf.read_bytes()
    except OSError as exc:
        raise ReportError(f"cannot read report {str(pdf)!r}: {exc.strerror}") from exc
    entries = read_attachment_entries(data)
    problems: list[str] = []
    seen: set[str] = set()
    for entry in entries:
        problems.extend(entry.problems())
        if entry.key in seen:
            problems.append(f"two attachments are named {shown(entry.key)}")
        seen.add(entry.key)
    if problems:
        raise IntegrityError(
            f"{pdf}: {'; '.join(problems)}; nothing was written",
            hint="run `evidencekit report verify` on it; a report evidencekit built has none",
        )
    dir_fd = _open_folder(out)
    try:
        for entry in entries:
            try:
                os.stat(entry.key, dir_fd=dir_fd, follow_symlinks=False)
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise ReportError(f"cannot check {str(out / entry.key)!r}: {exc.strerror}") from exc
            raise ReportError(
                f"{str(out / entry.key)!r} already exists; nothing was written",
                hint="extract into an empty folder",
            )
        files = [_write(dir_fd, out, e.key, e.data or b"") for e in entries]
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return ExtractResult(pdf=pdf, out=out, files=tuple(files))


def _open_folder(out: Path) -> int:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportError(f"cannot create folder {str(out)!r}: {exc.strerror}") from exc
    try:
        st = os.lstat(out)
    except OSError as exc:
        raise ReportError(f"cannot open folder {str(out)!r}: {exc.strerror}") from exc
    if stat.S_ISLNK(st.st_mode):
        raise ReportError(f"{str(out)!r} is a symlink; refusing to write through it")
    if not stat.S_ISDIR(st.st_mode):
        raise ReportError(f"{str(out)!r} is not a folder")
    try:
        return os.open(out, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        raise ReportError(f"cannot open folder {str(out)!r}: {exc.strerror}") from exc


def _write(dir_fd: int, out: Path, name: str, data: bytes) -> ExtractedFile:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(name, flags, 0o644, dir_fd=dir_fd)
    except FileExistsError as exc:  # appeared since the check (or a link was planted)
        raise ReportError(f"{str(out / name)!r} already exists; refusing to overwrite") from exc
    except OSError as exc:
        raise ReportError(f"cannot create {str(out / name)!r}: {exc.strerror}") from exc
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    except OSError as exc:
        raise ReportError(f"cannot write {str(out / name)!r}: {exc.strerror}") from exc
    finally:
        os.close(fd)
    return ExtractedFile(name=name, size=len(data), sha256=hashlib.sha256(data).hexdigest())
