"""`evidencekit verify ITEM|SEAL_FILE…|--all [--trust CERT.pem] [--record|--no-record]
[--sizes-only]`."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

import click

from evidencekit.cli.i18n import _, status_text
from evidencekit.cli.options import reader_trust_options
from evidencekit.cli.runtime import App, pass_app

if TYPE_CHECKING:
    from evidencekit.hash.seal.status import VerifyStatus
    from evidencekit.workflows.reader_trust import ReaderTrust
    from evidencekit.workflows.verify import VerifyResult
    from evidencekit.workflows.verify_record import RecordPlan


@click.command("verify")
@click.argument("targets", nargs=-1)
@click.option(
    "--all",
    "every_item",
    is_flag=True,
    help="Verify every item of the case (no ITEM with it): one line each, the worst exit code.",
)
@reader_trust_options
@click.option(
    "--record/--no-record",
    default=None,
    help="Append a `verified` custody event per item (asks for the passphrase if it must). "
    "Default in a case: recorded when a pinned identity unlocks without a prompt.",
)
@click.option("--sizes-only", is_flag=True, help="Check signatures and sizes without re-hashing.")
@pass_app
def verify(
    app: App,
    targets: tuple[str, ...],
    every_item: bool,
    reader: ReaderTrust,
    record: bool | None,
    sizes_only: bool,
) -> None:
    """Re-hash evidence items and check their seals and signers.

    TARGETS are item ids of the case, item folders, or ITEM.seal.json files; --all checks
    every item of the case instead. A --trust file that is a CA certificate trusts the
    examiners whose chain goes to it (within the --trust-* limits, against --crl /
    --ocsp-response data: docs/trust.md). Every problem is printed (file, byte range,
    expected vs found); exit 3 if any, 4 if a seal is not complete, 1 if a target has no
    seal, 0 when everything holds.

    Inside a case the result is recorded as a `verified` custody event per item when your
    pinned identity unlocks without a prompt (EVIDENCEKIT_PASSPHRASE or --passphrase-file);
    otherwise one line says it was not recorded and why. --record insists (and asks for the
    passphrase), --no-record never records.
    """
    from evidencekit.cli.progress import TickBar
    from evidencekit.errors import CaseError, UsageError
    from evidencekit.workflows.verify import VerifyRequest, verify_evidence
    from evidencekit.workflows.verify_record import NOT_ASKED, RecordPlan, plan_recording

    if every_item and targets:
        raise UsageError(
            _("--all verifies every item of the case: give no ITEM with it ({targets})").format(
                targets=" ".join(targets)
            ),
            hint=_("evidencekit verify --all, or evidencekit verify ITEM…"),
        )
    if not every_item and not targets:
        raise UsageError(
            _("say what to verify: ITEM… (item ids, item folders, seal files) or --all"),
            hint=_("evidencekit verify --all checks every item of the case"),
        )
    try:
        case = app.case()
    except CaseError:
        if record or every_item:
            raise
        case = None
    plan: RecordPlan | None = None
    if case is not None and record is None:
        plan = plan_recording(
            case,
            app.identity_store(),
            app.identity_selector,
            secret_given=app.secret_without_prompt(),
        )
    elif case is not None and record is False:
        plan = RecordPlan(None, NOT_ASKED)
    recording = bool(record) or (plan is not None and plan.examiner is not None)
    bar = TickBar(enabled=app.verbosity >= 0, transient=True)
    request = VerifyRequest(
        targets=targets,
        trust=reader.trust,
        rehash=not sizes_only,
        record=recording,
        record_quietly=record is None,
        progress=bar if bar.enabled else None,
        limits=reader.limits,
        crls=reader.crls,
        ocsps=reader.ocsps,
        every_item=every_item,
    )
    try:
        # the examiner's key is unlocked (a passphrase asked for) only after the re-hashing
        result = verify_evidence(case, request, app.identity if recording else None)
    finally:
        bar.finish()
    lines: list[str] = []
    for st in result.statuses:
        lines += _status_lines(st)
    if every_item:
        lines += _summary(result, case)
    doc = result.to_dict()
    if case is not None:
        said = _record_line(result, plan, targets, every_item)
        if said:
            lines.append(said)
        if plan is not None and plan.examiner is None and doc["not_recorded"] is None:
            doc["not_recorded"] = plan.to_dict()
    app.emit("evidencekit/verify/1", doc, lines)
    if result.exit_code:
        app.exit(result.exit_code)


def _status_lines(st: VerifyStatus) -> list[str]:
    from evidencekit.cli.library_messages import localized
    from evidencekit.sizes import human
    from evidencekit.workflows.verify import NOT_IMAGED, not_sealed

    name = st.item_id or str(st.seal_path)
    signer = (
        _("signed by {signer} ({value})").format(
            signer=st.signer, value=(st.signer_fingerprint or "")[:16]
        )
        if st.signer
        else ""
    )
    lines: list[str] = []
    if st.ok and st.status == NOT_IMAGED:
        lines.append(_("{name}: NOT IMAGED YET: registered, no seal to verify").format(name=name))
    elif st.ok:
        lines.append(
            _(
                "{name}: OK: {count} file(s), {bytes_hashed} re-hashed; {signer}; status {status}"
            ).format(
                name=name,
                count=len(st.checked_files),
                bytes_hashed=human(st.bytes_hashed),
                signer=signer,
                status=status_text(st.status),
            )
        )
    elif not_sealed(st):
        lines += [
            _("{name}: NOT SEALED: {message}").format(
                name=name, message=localized(p.message) or p.message
            )
            for p in st.problems
        ]
    else:
        lines.append(
            _("{name}: FAILED: {count} problem(s) in {seal_path}").format(
                name=name, count=len(st.problems), seal_path=st.seal_path
            )
        )
        lines += [f"  {p.text()}" for p in st.problems]
    lines += [_("  note: {n}").format(n=n) for n in st.notes]
    return lines


def _summary(result: VerifyResult, case: object) -> list[str]:
    """`verify --all`'s last lines: how many items held, and the unfinished attempts (which
    are not items yet: `case show`, `case recover`)."""
    from evidencekit.workflows.commit import unfinished
    from evidencekit.workflows.verify import NOT_IMAGED, not_sealed

    total = len(result.statuses)
    if not total:
        lines = [_("The case has no items to verify.")]
    else:
        unimaged = sum(1 for st in result.statuses if st.ok and st.status == NOT_IMAGED)
        held = sum(1 for st in result.statuses if st.ok) - unimaged
        failed = sum(1 for st in result.statuses if st.problems and not not_sealed(st))
        lines = [
            _(
                "{total} item(s): {held} verified, {failed} failed, "
                "{unimaged} registered and not imaged yet; exit code {code}"
            ).format(
                total=total, held=held, failed=failed, unimaged=unimaged, code=result.exit_code
            )
        ]
    attempts = unfinished(case)  # type: ignore[arg-type]
    if attempts:
        lines.append(
            _(
                "Unfinished attempts, not verified: {items} (see evidencekit case show; "
                "evidencekit case recover ITEM)"
            ).format(items=", ".join(a.item_id for a in attempts))
        )
    return lines


def _record_line(
    result: VerifyResult,
    plan: RecordPlan | None,
    targets: tuple[str, ...],
    every_item: bool,
) -> str | None:
    """The one line that says whether the verification was recorded in the case's ledger."""
    from evidencekit.cli.library_messages import localized
    from evidencekit.workflows import verify_record as vr

    if result.events:
        seqs = sorted(result.events.values())
        line = _("Recorded in the custody ledger: {count} `verified` event(s), #{seqs}").format(
            count=len(seqs), seqs=", #".join(str(s) for s in seqs)
        )
        if result.not_recorded is not None:
            line += "; " + _("not recorded: {message}").format(
                message=localized(result.not_recorded[1]) or result.not_recorded[1]
            )
        return line
    again = shlex.join(
        ["evidencekit", "verify", "--record", *(["--all"] if every_item else targets)]
    )
    if result.not_recorded is not None:
        reason, message = result.not_recorded
        why = localized(message) or message
        if reason == vr.UNLOCK_FAILED:
            return _(
                "Not recorded in the custody ledger: {why}; check EVIDENCEKIT_PASSPHRASE or "
                "--passphrase-file, or run {command} to be asked"
            ).format(why=why, command=again)
        return _("Not recorded in the custody ledger: {why}").format(why=why)
    if plan is None or plan.examiner is not None or plan.reason == vr.NOT_ASKED:
        return None
    if not any(st.item_id for st in result.statuses):
        return None  # nothing of the case was verified: nothing to record
    name = plan.detail or ""
    why = {
        vr.NO_IDENTITY: _("there is no examiner identity here (evidencekit keys init)"),
        vr.SEVERAL_IDENTITIES: _(
            "several identities could sign; choose one with --identity "
            "(evidencekit keys show --all lists them)"
        ),
        vr.UNKNOWN_IDENTITY: _(
            "no identity matches --identity/EVIDENCEKIT_IDENTITY "
            "(evidencekit keys show --all lists them)"
        ),
        vr.NOT_PINNED: _("{name} is not an examiner this case pins").format(name=repr(name)),
        vr.REVOKED: _("the case revoked {name}").format(name=repr(name)),
        vr.NEEDS_PASSPHRASE: _(
            "the key of {name} needs its passphrase and verify does not ask for it "
            "(set EVIDENCEKIT_PASSPHRASE or --passphrase-file)"
        ).format(name=repr(name)),
    }.get(plan.reason or "", plan.reason or "")
    return _("Not recorded in the custody ledger: {why}; to record it: {command}").format(
        why=why, command=again
    )
