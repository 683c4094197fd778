"""Options several commands share, each defined once."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import click

F = TypeVar("F", bound=Callable[..., Any])

trust_option = click.option(
    "--trust",
    "trust",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    metavar="CERT.pem",
    help="Also trust the signer with this certificate (PEM/DER); repeatable.",
)
"""`--trust CERT.pem` (repeatable): a signer trusted beside those the case's ledger pins, or
instead of them for a reader outside the case (`verify`, `report verify`, `custody verify`…)."""

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
