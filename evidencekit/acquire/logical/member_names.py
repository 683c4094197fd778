"""Member names in the logical container: safe, unique, and never below a non-folder.

Naming (see docs/logical.md):
- `ROOT/PATH` where ROOT is the source's folder in the container and PATH the stored path.
- An NTFS alternate data stream or an HFS+ resource fork is its own member `ROOT/PATH:STREAM`
  (`report.doc:Zone.Identifier`, `photo:rsrc`); NTFS forbids `:` in names, so this is unambiguous
  there, and the manifest says which member is a stream of which file.
- A hostile name component (empty, `.`, `..`, a `/` or NUL inside, control characters, more than
  255 bytes) is stored under a safe name: the offending bytes become `%XX`, an over-long component
  is cut and ends with `~` and 16 hex digits of its sha256; a name still clashing gets `~2`, `~3`…
  The manifest keeps the original bytes. Nothing can be extracted outside the target folder.
"""

from __future__ import annotations

import hashlib

_MAX_COMPONENT = 255
_MAX_NAME = 4000


def _component_is_safe(comp: bytes) -> bool:
    if comp in (b"", b".", b"..") or len(comp) > _MAX_COMPONENT:
        return False
    return not any(b < 0x20 or b == 0x7F or b == 0x2F for b in comp)


def safe_component(comp: bytes) -> bytes:
    """`comp` if it is a safe member name component, else its safe stand-in."""
    if _component_is_safe(comp):
        return comp
    if comp == b"":
        return b"%"
    if comp in (b".", b".."):
        return b"%2E" * len(comp)
    out = bytearray()
    for b in comp:
        if b < 0x20 or b in (0x7F, 0x2F, 0x25):
            out += b"%%%02X" % b
        else:
            out.append(b)
    if len(out) > _MAX_COMPONENT:
        digest = hashlib.sha256(comp).hexdigest()[:16].encode()
        out = out[:200] + b"~" + digest
    return bytes(out)


class MemberNames:
    """Hands out unique, safe member names; says when one differs from the original.

    A folder renamed to keep names unique (a corrupt file system can hold a link and a folder
    of the same name) takes its contents with it, and nothing is ever named below a member that
    is not a folder, so no extraction can go through a symbolic link.
    """

    def __init__(self) -> None:
        self._used: set[bytes] = set()
        self._dirs: dict[tuple[bytes, bytes], bytes] = {}  # (root, path) -> folder member
        self._others: set[bytes] = set()  # members that are not folders

    def assign(
        self, root: bytes, path: bytes, stream: bytes | None = None, kind: str = "r"
    ) -> tuple[bytes, bool]:
        parts = path.split(b"/") if path else []
        safe = [safe_component(p) for p in parts]
        renamed = safe != parts
        if stream is not None:
            safe_stream = safe_component(stream)
            renamed = renamed or safe_stream != stream
            last = (safe[-1] if safe else b"") + b":" + safe_stream
            safe = [*safe[:-1], last] if safe else [last]
        parent = self._dirs.get((root, b"/".join(parts[:-1]))) if len(parts) > 1 else None
        if parent is not None:
            name = parent + b"/" + safe[-1]
            renamed = renamed or parent != b"/".join([root, *safe[:-1]])
        else:
            name = b"/".join([root, *safe]) if safe else root
        prefixes = [name[:i] for i in range(len(name)) if name[i : i + 1] == b"/"]
        if len(name) > _MAX_NAME or any(p in self._others for p in prefixes):
            digest = hashlib.sha256(path + b":" + (stream or b"")).hexdigest().encode()
            name = root + b"/_long/" + digest
            renamed = True
        candidate, n = name, 1
        while candidate in self._used:
            n += 1
            candidate = name + b"~%d" % n
            renamed = True
        self._used.add(candidate)
        if kind == "d" and stream is None:
            self._dirs[(root, path)] = candidate
        else:
            self._others.add(candidate)
        return candidate, renamed
