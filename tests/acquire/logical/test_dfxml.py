"""Every DFXML we write validates against the DFXML schema (`xmllint --schema`); hostile names
keep their exact bytes in base64; NTFS alternate data streams are members of their own."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from evidencekit.acquire.logical.collect import collect
from evidencekit.acquire.logical.dfxml import DFXML_NS, EK_NS
from evidencekit.acquire.logical.options import CollectOptions
from tests.conftest import need_peer, need_root
from tests.images import image

# vendored from dfxml-working-group/dfxml_schema (tests/data/README.md)
DFXML = Path(__file__).resolve().parents[3] / "tests" / "data" / "dfxml"
XSD = DFXML / "dfxml.xsd"
NS = {"d": DFXML_NS, "ek": EK_NS}


def validate(path: Path) -> subprocess.CompletedProcess[str]:
    need_peer("xmllint")
    return subprocess.run(
        ["xmllint", "--noout", "--schema", str(XSD), str(path)], capture_output=True, text=True
    )


def assert_valid(path: Path) -> None:
    res = validate(path)
    assert res.returncode == 0, res.stderr


def run(sources: list[Path], out: Path, **kw: object):  # type: ignore[no-untyped-def]
    out.mkdir(parents=True, exist_ok=True)
    return collect(sources, out, "ITEM", CollectOptions(**kw))  # type: ignore[arg-type]


@pytest.mark.peer
def test_schema_itself_accepts_the_minimal_document() -> None:
    assert_valid(DFXML / "tests" / "minimal.dfxml")


@pytest.mark.peer
def test_live_collection_with_hostile_names_validates(tmp_path: Path) -> None:
    live = tmp_path / "live"
    live.mkdir()
    hostile = [b"new\nline", b"bell\x07", b"\xff\xfe not utf-8", "Đà Lạt".encode(), b"amp&<lt>"]
    for raw in hostile:
        with open(os.path.join(os.fsencode(live), raw), "wb") as fh:
            fh.write(raw)
    os.setxattr(live / "Đà Lạt", "user.bin", b"\x00\xff\x01")
    (live / "lnk").symlink_to(b"\xfe\x0atarget".decode("utf-8", "surrogateescape"))
    _c, outputs = run([live], tmp_path / "out")
    assert_valid(outputs.dfxml)
    root = ET.parse(outputs.dfxml).getroot()
    names = {}
    for fo in root.iterfind("d:fileobject", NS):
        el = fo.find("d:filename", NS)
        assert el is not None
        b64 = el.get(f"{{{EK_NS}}}b64")
        raw = base64.b64decode(b64) if b64 else (el.text or "").encode()
        names[raw] = fo
    for raw in hostile:
        assert raw in names
    assert names["Đà Lạt".encode()].find("d:filename", NS).get(f"{{{EK_NS}}}b64") is None  # type: ignore[union-attr]
    link = names[b"lnk"].find("d:link_target", NS)
    assert link is not None and base64.b64decode(link.get(f"{{{EK_NS}}}b64", "")) == b"\xfe\ntarget"
    digest = names[b"amp&<lt>"].find("d:hashdigest[@type='sha256']", NS)
    assert digest is not None and digest.text == hashlib.sha256(b"amp&<lt>").hexdigest()


RAW_IMAGES = ["ímynd.dd", "iso9660.raw", "hfsplus.raw", "apfs.raw"]


@pytest.mark.peer
@pytest.mark.parametrize("name", RAW_IMAGES)
def test_image_collections_validate(tmp_path: Path, name: str) -> None:
    _c, outputs = run([image(name)], tmp_path / "out", include_deleted=True)
    assert_valid(outputs.dfxml)
    root = ET.parse(outputs.dfxml).getroot()
    volumes = root.findall("d:volume", NS)
    assert len(volumes) == 1 and volumes[0].findall("d:fileobject", NS)
    if name == "ímynd.dd":
        deleted = [
            fo.find("d:filename", NS).text  # type: ignore[union-attr]
            for fo in volumes[0].iterfind("d:fileobject", NS)
            if fo.find("d:alloc", NS).text == "0"  # type: ignore[union-attr]
        ]
        assert sorted(deleted) == ["a_directory/.another_file.swp", "a_directory/another_file~"]


@pytest.mark.peer
def test_invalid_documents_are_rejected(tmp_path: Path) -> None:
    """Negative: the validator catches what the schema forbids (so the positives mean something)."""
    _c, outputs = run([image("ímynd.dd")], tmp_path / "out")
    text = outputs.dfxml.read_text("utf-8")
    for bad in (
        text.replace("version='2.0.0'", ""),
        text.replace("<name_type>r</name_type>", "<name_type>regular</name_type>", 1),
        text.replace("<alloc>1</alloc>", "<alloc>yes</alloc>", 1),
        text.replace("<filesize>", "<filesize>x", 1),
    ):
        assert bad != text
        path = tmp_path / "bad.dfxml"
        path.write_text(bad, "utf-8")
        assert validate(path).returncode != 0


@pytest.mark.peer
@pytest.mark.root
def test_ntfs_alternate_data_stream(tmp_path: Path) -> None:
    need_root()
    need_peer("mkntfs", "ntfs-3g", "icat", "fusermount")
    img = tmp_path / "ntfs.img"
    with open(img, "wb") as fh:
        fh.truncate(8 << 20)
    subprocess.run(["mkntfs", "-F", "-q", "-f", str(img)], check=True, capture_output=True)
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    subprocess.run(["ntfs-3g", "-o", "streams_interface=windows", str(img), str(mnt)], check=True)
    try:
        (mnt / "tài liệu.txt").write_text("nội dung chính\n", encoding="utf-8")
        (mnt / "tài liệu.txt:Zone.Identifier").write_bytes(b"[ZoneTransfer]\r\nZoneId=3\r\n")
    finally:
        subprocess.run(["fusermount", "-u", str(mnt)], check=True)
    collection, outputs = run([img], tmp_path / "out")
    assert not collection.errors
    assert_valid(outputs.dfxml)
    recs = {(f.entry.path, f.entry.stream): f for f in collection.files}
    main = recs[("tài liệu.txt".encode(), None)]
    ads = recs[("tài liệu.txt".encode(), b"Zone.Identifier")]
    assert ads.member == "ntfs.img/tài liệu.txt:Zone.Identifier".encode()
    fls = subprocess.run(["fls", str(img)], capture_output=True, check=True, text=True).stdout
    addr = next(
        line.split()[1].rstrip(":") for line in fls.splitlines() if "Zone.Identifier" in line
    )
    icat = subprocess.run(["icat", str(img), addr], capture_output=True, check=True).stdout
    assert icat == b"[ZoneTransfer]\r\nZoneId=3\r\n"
    assert ads.digests["sha256"] == hashlib.sha256(icat).hexdigest()
    assert main.digests["sha256"] == hashlib.sha256("nội dung chính\n".encode()).hexdigest()
    root = ET.parse(outputs.dfxml).getroot()
    streams = [el.text for el in root.iter(f"{{{EK_NS}}}stream")]
    assert "Zone.Identifier" in streams
    assert shutil.which("xmllint")
