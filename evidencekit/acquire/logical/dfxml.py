"""The DFXML 2.0 manifest of a logical collection (`ITEM.dfxml`).

Valid against the DFXML schema (dfxml-working-group/dfxml_schema, `dfxml.xsd`): one `volume`
per file system read inside an image (with its partition offset), one `fileobject` per entry,
live files as top-level `fileobject`s. Names that are not valid UTF-8 or hold characters XML
cannot carry (control characters) appear escaped (`\\xNN`) with the exact bytes in base64 in an
`ek:b64` attribute. Facts DFXML has no element for (the tar member, the stream name, notes) go
in our own namespace at the end of each `fileobject`, where the schema allows them.
"""

from __future__ import annotations

import getpass
import os
import platform
import re
from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from evidencekit import __version__
from evidencekit.acquire.fs.names import escape_name, name_is_plain, ns_to_text
from evidencekit.acquire.logical.manifest import CollectedFile, Collection
from evidencekit.fsutil import atomic_write
from evidencekit.fsutil import command_line as fs_command_line

DFXML_NS = "http://www.forensicswiki.org/wiki/Category:Digital_Forensics_XML"
DC_NS = "http://purl.org/dc/elements/1.1/"
EK_NS = "https://evidencekit.invalid/ns/dfxml/1"
DFXML_VERSION = "2.0.0"
_HASH_TYPES = {"md5": "md5", "sha1": "sha1", "sha256": "sha256", "sha512": "sha512"}
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value: str) -> str:
    """XML character data for any text: characters XML cannot carry become `\\xNN`."""
    if value.isascii() and value.isprintable() and not any(c in value for c in "<>&"):
        return value
    cleaned = _XML_ILLEGAL.sub(
        lambda m: "".join(f"\\x{b:02x}" for b in m.group().encode("utf-8", "surrogatepass")), value
    )
    return escape(cleaned)


def _name_element(tag: str, raw: bytes, indent: str) -> str:
    if name_is_plain(raw):
        return f"{indent}<{tag}>{escape(raw.decode('utf-8'))}</{tag}>\n"
    import base64

    b64 = base64.b64encode(raw).decode("ascii")
    return f'{indent}<{tag} ek:b64="{b64}">{_text(escape_name(raw))}</{tag}>\n'


def _el(tag: str, value: object, indent: str) -> str:
    text = str(value) if isinstance(value, int) else _text(str(value))
    return f"{indent}<{tag}>{text}</{tag}>\n"


def fileobject(item: CollectedFile, indent: str = "    ") -> str:
    """One `<fileobject>` in the schema's element order."""
    e = item.entry
    inner = indent + "  "
    out = [f"{indent}<fileobject>\n"]
    name = e.path + (b":" + e.stream if e.stream is not None else b"")
    out.append(_name_element("filename", name, inner))
    error = item.error or e.error
    if error:
        out.append(_el("error", error, inner))
    if item.partition:
        out.append(_el("partition", item.partition, inner))
    out.append(_el("name_type", e.kind if e.kind in "-pcdbrlshwvV" else "-", inner))
    out.append(_el("filesize", e.size, inner))
    out.append(_el("alloc", 1 if e.allocated else 0, inner))
    if e.inode is not None:
        out.append(_el("inode", e.inode, inner))
    if e.mode is not None:
        out.append(_el("mode", e.mode, inner))
    if e.nlink is not None:
        out.append(_el("nlink", e.nlink, inner))
    if e.uid is not None:
        out.append(_el("uid", e.uid, inner))
    if e.gid is not None:
        out.append(_el("gid", e.gid, inner))
    for tag, ns in (
        ("mtime", e.mtime_ns),
        ("ctime", e.ctime_ns),
        ("atime", e.atime_ns),
        ("crtime", e.crtime_ns),
    ):
        text = ns_to_text(ns)
        if text and not text.startswith("-"):
            out.append(_el(tag, text, inner))
    dtext = ns_to_text(e.dtime_ns)
    if dtext:
        out.append(_el("dtime", dtext, inner))
    if e.link_target is not None:
        out.append(_name_element("link_target", e.link_target, inner))
    for algo, hexdigest in item.digests.items():
        kind = _HASH_TYPES.get(algo)
        if kind:
            out.append(f'{inner}<hashdigest type="{kind}">{hexdigest}</hashdigest>\n')
        else:
            out.append(
                f'{inner}<hashdigest type="other" ek:algorithm="{algo}">{hexdigest}</hashdigest>\n'
            )
    if item.member is not None:
        out.append(_name_element("ek:member", item.member, inner))
    if item.renamed:
        out.append(f"{inner}<ek:renamed>1</ek:renamed>\n")
    if e.stream is not None:
        out.append(_name_element("ek:stream", e.stream, inner))
    if e.note:
        out.append(_el("ek:note", e.note, inner))
    for key, value in e.xattrs:
        import base64

        out.append(
            f"{inner}<ek:xattr name={quoteattr(escape_name(key))} "
            f'b64="{base64.b64encode(value).decode("ascii")}"/>\n'
        )
    out.append(f"{indent}</fileobject>\n")
    return "".join(out)


def _header(c: Collection, command_line: str | None) -> Iterator[str]:
    yield "<?xml version='1.0' encoding='UTF-8'?>\n"
    yield (
        f"<dfxml xmlns='{DFXML_NS}' xmlns:dc='{DC_NS}' xmlns:ek='{EK_NS}' "
        f"version='{DFXML_VERSION}'>\n"
    )
    yield "  <metadata>\n"
    yield "    <dc:type>Logical evidence collection</dc:type>\n"
    yield f"    <dc:identifier>{_text(c.item_id)}</dc:identifier>\n"
    yield "  </metadata>\n"
    yield "  <creator>\n"
    yield "    <program>evidencekit</program>\n"
    yield f"    <version>{_text(__version__)}</version>\n"
    yield "    <execution_environment>\n"
    uname = platform.uname()
    yield _el("os_sysname", uname.system, "      ")
    yield _el("os_release", uname.release, "      ")
    yield _el("host", uname.node, "      ")
    yield _el("arch", uname.machine, "      ")
    yield _el("command_line", command_line or fs_command_line(), "      ")
    yield _el("uid", os.getuid(), "      ")
    try:
        user = getpass.getuser()
    except Exception:  # no user name on some containers
        user = str(os.getuid())
    yield _el("username", user, "      ")
    yield _el("start_time", ns_to_text(int(c.started.timestamp() * 1_000_000) * 1000), "      ")
    yield "    </execution_environment>\n"
    yield "  </creator>\n"
    yield "  <source>\n"
    for s in c.sources:
        yield _name_element("image_filename", os.fsencode(s.path), "    ")
    yield "  </source>\n"


def write_dfxml(c: Collection, path: Path, *, command_line: str | None = None) -> Path:
    """Write the DFXML manifest of `c` to `path` (durably).

    Image entries go into a `volume` per (source, partition); live entries are top-level.
    """

    def chunks() -> Iterator[bytes]:
        for line in _header(c, command_line):
            yield line.encode("utf-8")
        volumes: dict[tuple[int, int | None], list[CollectedFile]] = {}
        live: list[CollectedFile] = []
        kinds = {s.index: s for s in c.sources}
        for f in c.files:
            if kinds[f.source].kind == "image":
                volumes.setdefault((f.source, f.partition), []).append(f)
            else:
                live.append(f)
        for (src, part), files in volumes.items():
            info = kinds[src]
            offset = 0
            ftype = ""
            for p in info.partitions:
                if p.number == part:
                    offset = p.start
                    ftype = p.filesystem or ""
            if not ftype and info.filesystems:
                ftype = info.filesystems[0]
            yield f"  <volume offset='{offset}'>\n".encode()
            yield _el("partition_offset", offset, "    ").encode()
            if ftype:
                yield _el("ftype_str", ftype, "    ").encode()
            for f in files:
                yield fileobject(f).encode("utf-8")
            yield b"  </volume>\n"
        for f in live:
            yield fileobject(f, "  ").encode("utf-8")
        yield b"</dfxml>\n"

    atomic_write(path, chunks())
    return path
