"""Verify evidence items: find their seals, gather the trusted signers, load the format plug-ins
(E01 media checks …), verify, and optionally record a `verified` custody event."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

from cryptography import x509

from evidencekit.case import Case
from evidencekit.errors import CustodyError, UsageError
from evidencekit.hash.seal import SEAL_SUFFIX, Problem, VerifyStatus, find_seal, verify_seal
from evidencekit.identity import Identity, fingerprint, load_cert_file

log = logging.getLogger(__name__)

# Modules that register media verifiers / item checkers with evidencekit.hash.seal when imported
# (E01 media and chunk checks; the logical collection's tar/DFXML checks). A module that does not
# exist (yet) is skipped; one that fails to import is logged and skipped: the seal, signature and
# every artifact digest are still checked without it.
PLUGIN_MODULES: tuple[str, ...] = (
    "evidencekit.acquire.ewf_reader",
    "evidencekit.acquire.logical",
)
_loaded = False


def load_plugins() -> None:
    """Import the verifier plug-ins once (their import registers them)."""
    global _loaded
    if _loaded:
        return
    for name in PLUGIN_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                log.warning("verifier plug-in %s cannot be loaded: %s", name, exc)
            else:
                log.debug("verifier plug-in %s not available", name)
        except Exception as exc:  # a broken plug-in must not stop the digest checks
            log.warning("verifier plug-in %s cannot be loaded: %s", name, exc)
    _loaded = True


def trusted_signers(case: Case | None, trust: Sequence[Path] = ()) -> dict[str, x509.Certificate]:
    """The case's pinned certificates plus every `--trust` certificate.

    Raises:
        IdentityError: a --trust file is not a certificate.
    """
    trusted = dict(case.trusted()) if case is not None else {}
    for path in trust:
        cert = load_cert_file(path)
        trusted[fingerprint(cert)] = cert
    return trusted


def _looks_like_path(target: str) -> bool:
    return "/" in target or target.endswith(SEAL_SUFFIX) or target in (".", "..")


def resolve_target(case: Case | None, target: str) -> Path:
    """An item id of the case, an item folder, or a seal file -> the seal file's path.

    A missing seal file is returned as is (verification reports it); an item id without a case
    or without a folder raises.

    Raises:
        UsageError: the target names nothing we can verify.
    """
    path = Path(target)
    if path.exists() or _looks_like_path(target):
        return find_seal(path) if path.is_dir() else path
    if case is None:
        raise UsageError(
            f"{target!r} is neither a file nor a folder, and no case is open to look it up",
            hint="give the seal file or item folder, or --case DIR",
        )
    item_dir = case.item_dir(target)
    if not item_dir.is_dir():
        return item_dir / f"{target}{SEAL_SUFFIX}"
    return find_seal(item_dir)


def verify_items(
    case: Case | None,
    targets: Sequence[str],
    *,
    trust: Sequence[Path] = (),
    rehash: bool = True,
    on_progress: Callable[[str, int], None] | None = None,
) -> list[VerifyStatus]:
    """Verify every target (item ids, item folders, seal files); one status each.

    Raises:
        UsageError: a target names nothing.
        IdentityError: a --trust file is not a certificate.
    """
    load_plugins()
    trusted = trusted_signers(case, trust)
    statuses: list[VerifyStatus] = []
    for target in targets:
        try:
            seal_path = resolve_target(case, target)
        except UsageError as exc:  # one target that names no seal does not hide the others
            statuses.append(_not_sealed(case, target, exc))
            continue
        cb = None
        if on_progress is not None:

            def cb(
                n: int, _t: str = target, _report: Callable[[str, int], None] = on_progress
            ) -> None:
                _report(_t, n)

        statuses.append(verify_seal(seal_path, trusted=trusted, rehash=rehash, on_progress=cb))
    return statuses


NOT_SEALED = "not-sealed"
"""The problem kind of a target with no seal to verify (an item folder without one, a name that
is neither a file nor an item): nothing was checked, an operational outcome (exit 1)."""


def _not_sealed(case: Case | None, target: str, exc: UsageError) -> VerifyStatus:
    folder = Path(target)
    if not folder.is_dir() and case is not None and not _looks_like_path(target):
        folder = case.evidence_dir / target
    item = folder.name if folder.is_dir() else None
    message = exc.message + (f"; {exc.hint}" if exc.hint else "")
    problem = Problem(NOT_SEALED, target, message)
    return VerifyStatus(folder / f"{folder.name}{SEAL_SUFFIX}", item, None, None, None, (problem,))


def custody_recorder() -> Callable[..., object] | None:
    """`evidencekit.workflows.custody.record_event`, or None while that module does not exist."""
    try:
        module = importlib.import_module("evidencekit.workflows.custody")
    except ModuleNotFoundError as exc:
        if exc.name != "evidencekit.workflows.custody":
            raise
        return None
    func: Callable[..., object] = module.record_event
    return func


def record_verification(case: Case, identity: Identity, status: VerifyStatus) -> None:
    """Append a `verified` custody event carrying the result.

    Raises:
        CustodyError: the custody ledger is not available or refuses the event.
    """
    if status.item_id is None:
        raise CustodyError(f"cannot record a verification of {str(status.seal_path)!r}: no item")
    record_event = custody_recorder()
    if record_event is None:
        raise CustodyError("the custody ledger is not available in this build")
    problems: list[Problem] = list(status.problems)
    record_event(
        case,
        identity,
        "verified",
        status.item_id,
        description=(
            "verification passed"
            if status.ok
            else f"verification FAILED: {len(problems)} problem(s)"
        ),
        digests={},
        details={
            "ok": status.ok,
            "seal": str(status.seal_path),
            "signer_fingerprint": status.signer_fingerprint,
            "problems": [p.to_dict() for p in problems],
            "bytes_hashed": status.bytes_hashed,
        },
    )
