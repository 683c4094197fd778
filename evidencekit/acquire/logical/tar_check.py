"""Verification of a sealed logical collection: every tar member against the manifest.

:func:`check_tar_item` is the `tar` item checker of seals (`hash.seal.plugins.ItemChecker`),
registered by `evidencekit.workflows.verifiers`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from evidencekit.hash.seal.document import Seal
    from evidencekit.problems import Problem


def check_tar_item(seal: Seal) -> list[Problem]:
    """Re-read ITEM.tar and compare every member with `ITEM.manifest.json` (digests, sizes, and
    that each listed member is there and nothing else is).

    Returns problems (`member-mismatch`, `member-missing`, `member-extra`, `malformed-manifest`).
    """
    import base64
    import json
    import tarfile

    from evidencekit.hash.multihash import MultiHasher
    from evidencekit.problems import Problem

    item = seal.item_id
    tar_name, manifest_name = f"{item}.tar", f"{item}.manifest.json"
    try:
        doc = json.loads(seal.artifact_path(manifest_name).read_bytes())
        listed: dict[bytes, dict[str, Any]] = {}
        for rec in doc["files"]:
            if "member" not in rec:
                continue
            raw = (
                base64.b64decode(rec["member_b64"])
                if "member_b64" in rec
                else rec["member"].encode("utf-8")
            )
            listed[raw] = rec
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return [
            Problem.of_file("malformed-manifest", manifest_name, f"cannot read the manifest: {exc}")
        ]
    problems: list[Problem] = []
    seen: set[bytes] = set()
    try:
        with tarfile.open(
            seal.artifact_path(tar_name), mode="r|", encoding="utf-8", errors="surrogateescape"
        ) as tar:
            for member in tar:
                name = member.name.encode("utf-8", "surrogateescape").rstrip(b"/")
                rec = listed.get(name)
                shown = name.decode("utf-8", "backslashreplace")
                if rec is None:
                    problems.append(
                        Problem.of_file("member-extra", tar_name, f"{shown!r} is not listed")
                    )
                    continue
                seen.add(name)
                if not member.isfile():
                    continue
                digests = {
                    k: v.split(":", 1)[1] for k, v in rec.get("digests", {}).items() if ":" in v
                }
                if not digests:
                    continue
                hasher = MultiHasher(list(digests))
                fh = tar.extractfile(member)
                if fh is None:
                    continue
                while chunk := fh.read(4 << 20):
                    hasher.update(chunk)
                found = hasher.result()
                for algo, want in digests.items():
                    if found.digests.get(algo) != want:
                        problems.append(
                            Problem.of_file(
                                "member-mismatch",
                                tar_name,
                                f"member {shown!r} does not hold what the manifest lists",
                                expected=f"{algo}:{want}",
                                found=f"{algo}:{found.digests.get(algo)}",
                            )
                        )
                        break
    except (OSError, tarfile.TarError) as exc:
        problems.append(Problem.of_file("unreadable-file", tar_name, f"cannot read the tar: {exc}"))
        return problems
    for name in listed.keys() - seen:
        shown = name.decode("utf-8", "backslashreplace")
        problems.append(
            Problem.of_file("member-missing", tar_name, f"{shown!r} is listed but absent")
        )
    return problems
