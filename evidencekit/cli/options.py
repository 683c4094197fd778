"""Options several commands share, each defined once."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast, overload

import click

from evidencekit.cli.i18n import N_, _

F = TypeVar("F", bound=Callable[..., Any])

_CASE_IDENTITY = re.compile(r"sha256:[0-9a-f]{64}")


def _trust_values(ctx: click.Context, param: click.Parameter, values: Any) -> tuple[Path, ...]:
    """Certificates (examiner or CA root) stay `--trust` files; a case identity (`sha256:HEX`,
    what `case show` and every report print) pins the ledger as the global `--case-identity`
    does, so the folder's own list of examiners is not consulted."""
    paths: list[Path] = []
    for value in values or ():
        text = str(value).strip().lower()
        if _CASE_IDENTITY.fullmatch(text) and not Path(value).exists():
            app = ctx.obj
            held = getattr(app, "case_identity", None)
            if held is not None and held != text:
                raise click.BadParameter(
                    _("two case identities given ({held} and {text}): trust one case").format(
                        held=held, text=text
                    ),
                    ctx=ctx,
                    param=param,
                )
            if app is not None:
                app.case_identity = text
            continue
        path = Path(value)
        if not path.exists():
            raise click.BadParameter(
                _(
                    "{value!r} does not exist (give a certificate file or a case identity "
                    "sha256:HEX)"
                ).format(value=str(value)),
                ctx=ctx,
                param=param,
            )
        if path.is_dir():
            raise click.BadParameter(
                _("{value!r} is a folder, not a certificate file").format(value=str(value))
            )
        paths.append(path)
    return tuple(paths)


trust_option = click.option(
    "--trust",
    "trust",
    multiple=True,
    callback=_trust_values,
    metavar="CERT.pem|sha256:HEX",
    help="Also trust the signer with this certificate (PEM/DER), the signers a CA root issued, "
    "or only the ledger of this case identity; repeatable.",
)
"""`--trust` (repeatable): a signer's certificate or a CA root trusted beside those the case's
ledger pins, or instead of them for a reader outside the case (`verify`, `report verify`,
`custody verify`…); or a case identity `sha256:HEX`, which pins the ledger (as
`--case-identity` does)."""

_FILE = click.Path(path_type=Path, dir_okay=False, exists=True)

_READER_TRUST = [
    trust_option,
    click.option(
        "--trust-org", "trust_orgs", multiple=True, help="A --trust CA: allowed signer O."
    ),
    click.option("--trust-ou", "trust_ous", multiple=True, help="A --trust CA: allowed signer OU."),
    click.option(
        "--trust-policy",
        "trust_policies",
        multiple=True,
        metavar="OID",
        help="A --trust CA: policy.",
    ),
    click.option(
        "--trust-eku", "trust_ekus", multiple=True, metavar="OID", help="A --trust CA: needed EKU."
    ),
    click.option(
        "--crl",
        "trust_crls",
        multiple=True,
        type=_FILE,
        help="Revocation data for a --trust CA: a CRL file (repeatable).",
    ),
    click.option(
        "--ocsp-response",
        "trust_ocsps",
        multiple=True,
        type=_FILE,
        help="Revocation data for a --trust CA: a DER OCSP response (repeatable).",
    ),
]


def reader_trust_options(f: F) -> F:
    """The one group of a reader's trust options: `--trust CERT.pem|ROOT.pem` and, for a CA
    root, its limits (`--trust-org/-ou/-policy/-eku`) and revocation data (`--crl`,
    `--ocsp-response`). The command receives them as one `reader` argument (a
    `workflows.reader_trust.ReaderTrust`): docs/trust.md, "A reader's own CA root"."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from evidencekit.identity.validation import Limits
        from evidencekit.workflows.reader_trust import ReaderTrust

        kwargs["reader"] = ReaderTrust(
            tuple(kwargs.pop("trust")),
            Limits(
                tuple(kwargs.pop("trust_orgs")),
                tuple(kwargs.pop("trust_ous")),
                tuple(kwargs.pop("trust_policies")),
                tuple(kwargs.pop("trust_ekus")),
            ),
            tuple(kwargs.pop("trust_crls")),
            tuple(kwargs.pop("trust_ocsps")),
        )
        return f(*args, **kwargs)

    out: Any = wrapper
    for opt in reversed(_READER_TRUST):
        out = opt(out)
    return cast(F, out)


PARTICIPANT_HELP = N_(
    "A person present, as key=value pairs separated by commas: role=ROLE,name=NAME and their "
    "identity document (cccd=…, cmnd=…, passport=…, other=…) or key=EXAMINER for a pinned "
    "examiner; optional yob=YEAR, address=…, unit=…. Quote a value holding commas with "
    'double quotes (address="Số 5, Hàng Bài"). Repeatable.'
)
SESSION_HELP = N_("The seizure session this event belongs to (opened with `custody session open`).")


@overload
def participant_options(f: F, *, session: bool = True) -> F: ...
@overload
def participant_options(f: None = None, *, session: bool = True) -> Callable[[F], F]: ...
def participant_options(f: F | None = None, *, session: bool = True) -> Any:
    """The one option block for who was present and when: `--participant SPEC` (repeatable,
    the command receives `participants: tuple[str, ...]`) and, unless `session` is false,
    `--session ID` (`session: str | None`): the seizure session the event belongs to
    (docs/custody.md, "Seizure records"). Used bare (`@participant_options`) or called
    (`@participant_options(session=False)` where a session makes no sense: `case init`,
    `custody session open`)."""

    def decorate(g: F) -> F:
        if session:
            g = click.option("--session", "session", metavar="ID", help=SESSION_HELP)(g)
        return click.option(
            "--participant", "participants", multiple=True, metavar="SPEC", help=PARTICIPANT_HELP
        )(g)

    return decorate if f is None else decorate(f)
