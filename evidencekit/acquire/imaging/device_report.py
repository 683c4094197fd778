"""What an acquisition records about its source device: mounts (refusing a read-write mounted
device), vendor-tool reports and HPA status in ID.log and the seal, and the ID.device.txt report."""

from __future__ import annotations

import os

from evidencekit import __version__
from evidencekit.acquire.imaging.acqlog import AcquisitionLog
from evidencekit.acquire.source import device
from evidencekit.acquire.source.adapter import MediaSource, SourceInfo
from evidencekit.errors import SourceError


def device_facts(
    info: SourceInfo, allow_mounted: bool, lg: AcquisitionLog
) -> tuple[list[device.ToolReport], dict[str, str], list[dict[str, str]]]:
    """Mounts (refusing a read-write mounted device), vendor-tool reports and HPA status.

    Raises:
        SourceError: the device (or a partition) is mounted read-write, without --allow-mounted.
    """
    reports: list[device.ToolReport] = []
    hpa: dict[str, str] = {"status": "unknown", "reason": "not an ATA device"}
    mounts: list[dict[str, str]] = []
    if info.kind == "block-device":
        rdev = os.stat(info.path).st_rdev
        mounts = device.mounts_of(rdev)
        rw = [m for m in mounts if m["mode"] == "rw"]
        if rw and not allow_mounted:
            where = ", ".join(m["mountpoint"] for m in rw)
            raise SourceError(
                f"source {info.path!r} is mounted read-write at {where}",
                hint="unmount it (or remount read-only) first; --allow-mounted images it anyway",
            )
        reports = device.tool_reports(info.path)
        hpa = device.hpa_status(info.path)
        lg.add(f"Read-only flag:  BLKROGET = {info.read_only_flag}")
        lg.add(f"Mounts:          {mounts or 'none'}")
        lg.add(f"HPA (hdparm -N): {hpa.get('status')} {hpa.get('reason', '')}".rstrip())
        for rep in reports:
            found = ", ".join(f"{k} {v}" for k, v in rep.summary().items())
            lg.add(f"{' '.join(rep.command[:2]):16} {found or f'nothing (exit {rep.returncode})'}")
    elif info.kind == "image":
        lg.add(f"Container files: {', '.join(info.segments)}")
    return reports, hpa, mounts


def render_device_report(
    src: MediaSource, reports: list[device.ToolReport], hpa: dict[str, str]
) -> str:
    """The text of ID.device.txt: the source's facts, its identity and each tool's full output."""
    info = src.info
    out = [f"Device report for {info.path} (evidencekit {__version__})", ""]
    for key, value in info.to_dict().items():
        if key != "identity":
            out.append(f"{key:22} {value}")
    out.append("")
    out.append("Identity (sysfs/udev, image headers, file metadata):")
    for key, value in info.identity.items():
        out.append(f"  {key:20} {value}")
    out.append("")
    out.append(f"HPA/DCO (hdparm -N): {hpa.get('status', 'unknown')}  {hpa.get('reason', '')}")
    for rep in reports:
        out.append("")
        out.append(f"=== {' '.join(rep.command)} (exit {rep.returncode}) ===")
        out.append(rep.output.rstrip())
    return "\n".join(out) + "\n"
