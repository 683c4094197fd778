"""Device facts: vendor-tool summaries, HPA status, mounts, host clock."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from evidencekit.acquire.source import device
from tests.conftest import need_root
from tests.fixtures.faulty import loop_device

HDPARM_I = """
/dev/sda:

ATA device, with non-removable media
\tModel Number:       Samsung SSD 860 EVO 500GB
\tSerial Number:      S3Z1NB0K123456A
\tFirmware Revision:  RVT02B6Q
\tTransport:          Serial, ATA8-AST, SATA 1.0a, SATA II Extensions, SATA Rev 2.5
"""

SMARTCTL_I = """=== START OF INFORMATION SECTION ===
Device Model:     WDC WD10EZEX-08WN4A0
Serial Number:    WD-WCC6Y0000000
LU WWN Device Id: 5 0014ee 2b5a1b2c3
Firmware Version: 01.01A01
User Capacity:    1,000,204,886,016 bytes [1.00 TB]
Sector Sizes:     512 bytes logical, 4096 bytes physical
Rotation Rate:    7200 rpm
"""


def test_tool_summaries() -> None:
    rep = device.ToolReport(("hdparm", "-I", "/dev/sda"), 0, HDPARM_I)
    assert rep.summary() == {
        "model": "Samsung SSD 860 EVO 500GB",
        "serial": "S3Z1NB0K123456A",
        "firmware": "RVT02B6Q",
        "transport": "Serial, ATA8-AST, SATA 1.0a, SATA II Extensions, SATA Rev 2.5",
    }
    rep = device.ToolReport(("smartctl", "-i", "/dev/sdb"), 0, SMARTCTL_I)
    summary = rep.summary()
    assert summary["model"] == "WDC WD10EZEX-08WN4A0"
    assert summary["wwn"] == "5 0014ee 2b5a1b2c3"
    assert summary["capacity"] == "1,000,204,886,016 bytes [1.00 TB]"
    assert rep.to_dict()["summary"] == summary


def test_host_clock_has_the_facts() -> None:
    clock = device.host_clock()
    assert {"Timezone", "NTPSynchronized", "offset"} <= set(clock)


@pytest.mark.root
def test_loop_device_hpa_unknown_and_not_mounted(tmp_path: Path) -> None:
    need_root()
    path = tmp_path / "d.bin"
    path.write_bytes(bytes(1 << 20))
    with loop_device(path) as dev:
        assert device.hpa_status(dev)["status"] == "unknown"  # not an ATA disk
        assert device.mounts_of(os.stat(dev).st_rdev) == []
        assert device.is_block_device(dev)
