"""Facts about block devices and the host: ioctls, sysfs/udev identity, vendor tools, mounts,
and the host clock.

Courts ask what exactly was imaged and how the times were obtained, so everything here is
recorded verbatim (the raw output of `hdparm -I`, `smartctl -i`, `nvme id-ctrl`) rather than
interpreted. Nothing here writes to a device except `set_readonly`, which only flips the
kernel's read-only flag (BLKROSET) and is undone by the caller.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import stat
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

# <linux/fs.h>
BLKROSET = 0x125D
BLKROGET = 0x125E
BLKSSZGET = 0x1268
BLKPBSZGET = 0x127B
BLKGETSIZE64 = 0x80081272

TOOL_TIMEOUT = 20


def _ioctl_int(fd: int, request: int, fmt: str) -> int:
    buf = bytearray(struct.calcsize(fmt))
    fcntl.ioctl(fd, request, buf, True)
    return int(struct.unpack(fmt, buf)[0])


def device_size(fd: int) -> int:
    """Bytes on the device (BLKGETSIZE64)."""
    return _ioctl_int(fd, BLKGETSIZE64, "Q")


def sector_sizes(fd: int) -> tuple[int, int]:
    """(logical, physical) sector sizes (BLKSSZGET, BLKPBSZGET)."""
    logical = _ioctl_int(fd, BLKSSZGET, "i")
    try:
        physical = _ioctl_int(fd, BLKPBSZGET, "I")
    except OSError:
        physical = logical
    return logical, physical


def get_readonly(fd: int) -> bool | None:
    """The kernel's read-only flag (BLKROGET), None when it cannot be read."""
    try:
        return bool(_ioctl_int(fd, BLKROGET, "i"))
    except OSError:
        return None


def set_readonly(fd: int, value: bool) -> None:
    """Set the kernel's read-only flag (BLKROSET; needs CAP_SYS_ADMIN).

    Raises:
        OSError: the kernel refused.
    """
    fcntl.ioctl(fd, BLKROSET, struct.pack("i", 1 if value else 0))


def _sysfs_dir(rdev: int) -> Path | None:
    link = Path(f"/sys/dev/block/{os.major(rdev)}:{os.minor(rdev)}")
    try:
        return link.resolve(strict=True)
    except OSError:
        return None


def _read(path: Path) -> str | None:
    try:
        return path.read_text(errors="replace").strip() or None
    except OSError:
        return None


def _udev(path: str) -> dict[str, str]:
    exe = shutil.which("udevadm")
    if exe is None:
        return {}
    try:
        out = subprocess.run(
            [exe, "info", "--query=property", f"--name={path}"],
            capture_output=True,
            text=True,
            timeout=TOOL_TIMEOUT,
        )
    except (OSError, subprocess.TimeoutExpired):
        return {}
    props = {}
    for line in out.stdout.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            props[key] = value
    return props


def sysfs_identity(path: str, rdev: int) -> dict[str, str]:
    """Vendor, model, serial, WWN, transport, removable, rotational… from sysfs and udev."""
    facts: dict[str, str] = {"device": path, "major_minor": f"{os.major(rdev)}:{os.minor(rdev)}"}
    sys_dir = _sysfs_dir(rdev)
    if sys_dir is not None:
        facts["sysfs"] = str(sys_dir)
        wanted = {
            "vendor": "device/vendor",
            "model": "device/model",
            "serial": "device/serial",
            "wwid": "device/wwid",
            "firmware": "device/firmware_rev",
            "removable": "removable",
            "rotational": "queue/rotational",
            "loop_backing_file": "loop/backing_file",
            "loop_direct_io": "loop/dio",
        }
        for key, rel in wanted.items():
            value = _read(sys_dir / rel)
            if value is not None:
                facts[key] = value
    props = _udev(path)
    for key, prop in (
        ("vendor", "ID_VENDOR"),
        ("model", "ID_MODEL"),
        ("serial", "ID_SERIAL_SHORT"),
        ("wwn", "ID_WWN"),
        ("transport", "ID_BUS"),
        ("path_id", "ID_PATH"),
    ):
        if props.get(prop) and key not in facts:
            facts[key] = props[prop]
    return facts


# "label: value" lines worth a summary in the seal (hdparm -I, smartctl -i, nvme id-ctrl)
_SUMMARY_KEYS = {
    "model number": "model",
    "device model": "model",
    "model family": "model_family",
    "mn": "model",
    "serial number": "serial",
    "sn": "serial",
    "firmware revision": "firmware",
    "firmware version": "firmware",
    "fr": "firmware",
    "user capacity": "capacity",
    "logical unit wwn device identifier": "wwn",
    "lu wwn device id": "wwn",
    "sector sizes": "sector_sizes",
    "transport": "transport",
    "sata version is": "sata_version",
    "rotation rate": "rotation_rate",
}


@dataclass(frozen=True, slots=True)
class ToolReport:
    """The verbatim output of a vendor tool run on the device."""

    command: tuple[str, ...]
    returncode: int | None
    output: str

    def summary(self) -> dict[str, str]:
        """The identifying lines (model, serial, firmware, capacity, WWN …) of the output."""
        found: dict[str, str] = {}
        for line in self.output.splitlines():
            label, sep, value = line.partition(":")
            key = _SUMMARY_KEYS.get(" ".join(label.split()).lower())
            if sep and key and value.strip() and key not in found:
                found[key] = " ".join(value.split())
        return found

    def to_dict(self) -> dict[str, object]:
        return {
            "command": list(self.command),
            "returncode": self.returncode,
            "summary": self.summary(),
        }


def _run(argv: list[str]) -> ToolReport | None:
    exe = shutil.which(argv[0])
    if exe is None:
        return None
    try:
        out = subprocess.run(
            [exe, *argv[1:]],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=TOOL_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return ToolReport(tuple(argv), None, f"(timed out after {TOOL_TIMEOUT} s)")
    except OSError as exc:
        return ToolReport(tuple(argv), None, f"(could not run: {exc.strerror})")
    return ToolReport(tuple(argv), out.returncode, out.stdout + out.stderr)


def tool_reports(path: str) -> list[ToolReport]:
    """`hdparm -I`, `smartctl -i`, `nvme id-ctrl` (NVMe only) where installed; read-only."""
    reports = []
    base = os.path.basename(path)
    commands = [["hdparm", "-I", path], ["smartctl", "-i", path]]
    if base.startswith("nvme"):
        commands.append(["nvme", "id-ctrl", path])
    for argv in commands:
        rep = _run(argv)
        if rep is not None:
            reports.append(rep)
    return reports


def hpa_status(path: str) -> dict[str, str]:
    """What `hdparm -N` says about a Host Protected Area; "unknown" when it cannot be checked."""
    rep = _run(["hdparm", "-N", path])
    if rep is None:
        return {"status": "unknown", "reason": "hdparm is not installed"}
    for line in rep.output.splitlines():
        if "max sectors" in line:
            return {"status": line.split("=", 1)[-1].strip(), "raw": line.strip()}
    lines = [ln.strip() for ln in rep.output.splitlines() if ln.strip()]
    text = " ".join(ln for ln in lines if ln.rstrip(":") != path)[:200]
    return {
        "status": "unknown",
        "reason": text
        or f"hdparm -N gave no 'max sectors' line (not an ATA disk?), exit {rep.returncode}",
    }


def _unescape(field: str) -> str:
    return field.encode().decode("unicode_escape") if "\\" in field else field


def mounts_of(rdev: int) -> list[dict[str, str]]:
    """Mounts (from /proc/self/mountinfo) of the device or any of its partitions."""
    numbers = {f"{os.major(rdev)}:{os.minor(rdev)}"}
    sys_dir = _sysfs_dir(rdev)
    if sys_dir is not None:
        for child in sys_dir.iterdir():
            dev = _read(child / "dev") if (child / "partition").exists() else None
            if dev:
                numbers.add(dev)
    found = []
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return []
    for line in lines:
        fields = line.split()
        if len(fields) < 10 or fields[2] not in numbers:
            continue
        sep = fields.index("-", 6)
        opts = set(fields[5].split(",")) | set(fields[sep + 3].split(","))
        found.append(
            {
                "device": fields[2],
                "mountpoint": _unescape(fields[4]),
                "fstype": fields[sep + 1],
                "mode": "ro" if "ro" in opts else "rw",
            }
        )
    return found


def host_clock() -> dict[str, str]:
    """Time zone, NTP synchronisation and offset as the host reports them (`timedatectl`)."""
    facts: dict[str, str] = {}
    rep = _run(["timedatectl", "show"])
    if rep is not None and rep.returncode == 0:
        for line in rep.output.splitlines():
            key, sep, value = line.partition("=")
            if sep and key in ("Timezone", "NTP", "NTPSynchronized", "TimeUSec", "RTCTimeUSec"):
                facts[key] = value
    else:
        facts["timedatectl"] = "unavailable" if rep is None else rep.output.strip()[:200]
    if "Timezone" not in facts:
        tz = os.environ.get("TZ") or _read(Path("/etc/timezone"))
        if tz is None:
            try:
                tz = os.readlink("/etc/localtime").split("zoneinfo/", 1)[-1]
            except OSError:
                tz = None
        facts["Timezone"] = tz or "unknown"
    facts.setdefault("NTPSynchronized", "unknown")
    offset = "unknown"
    chrony = _run(["chronyc", "-n", "tracking"])
    if chrony is not None and chrony.returncode == 0:
        for line in chrony.output.splitlines():
            if line.startswith("System time"):
                offset = line.split(":", 1)[1].strip()
    facts["offset"] = offset
    return facts


def is_block_device(path: str) -> bool:
    try:
        return stat.S_ISBLK(os.stat(path).st_mode)
    except OSError:
        return False
