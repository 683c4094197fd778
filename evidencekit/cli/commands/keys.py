"""`evidencekit keys init|import|show|export-cert`."""

from __future__ import annotations

import os
from pathlib import Path

import click

from evidencekit.cli.runtime import App, pass_app


@click.group()
def keys() -> None:
    """Manage examiner identities (signing key and certificate)."""


@keys.command("init")
@click.option("--name", required=True, help='Examiner name, e.g. "Nguyễn Bá Tùng".')
@click.option("--email", help="E-mail address put in the certificate.")
@click.option("--org", help="Organisation put in the certificate.")
@pass_app
def init(app: App, name: str, email: str | None, org: str | None) -> None:
    """Create an ECDSA P-256 key and a self-signed signing certificate.

    The key is encrypted with the passphrase (scrypt, ~0.4 s to unlock). The passphrase needs at
    least 12 characters (counted after NFC normalisation) from at least two of letters, digits
    and others (space, punctuation), with at least 6 different characters; several words with
    spaces pass. It comes from --passphrase-file, EVIDENCEKIT_PASSPHRASE or a prompt.
    """
    store = app.identity_store()
    passphrase = app.passphrase(name, confirm=True)
    identity = store.create(name, passphrase, email=email, org=org)
    app.emit(
        "evidencekit/identity/1",
        {"identity": identity.info.to_dict()},
        f"Created identity {identity.name}\n  fingerprint: sha256:{identity.fingerprint}\n"
        f"  folder: {identity.info.path}",
    )


@keys.command("import")
@click.argument("p12", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option(
    "--p12-passphrase-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="File holding the PKCS#12 password (else EVIDENCEKIT_P12_PASSPHRASE).",
)
@pass_app
def import_cmd(app: App, p12: Path, p12_passphrase_file: Path | None) -> None:
    """Adopt a CA-issued identity from a PKCS#12 (.p12/.pfx) file.

    Its key is re-encrypted with your passphrase (the same rule as `keys init`).
    """
    p12_password: bytes | None
    if p12_passphrase_file is not None:
        p12_password = p12_passphrase_file.read_bytes().splitlines()[0]
    elif "EVIDENCEKIT_P12_PASSPHRASE" in os.environ:
        p12_password = os.environ["EVIDENCEKIT_P12_PASSPHRASE"].encode("utf-8")
    else:
        p12_password = None
    store = app.identity_store()
    identity = store.import_p12(p12, p12_password, app.passphrase(str(p12), confirm=True))
    app.emit(
        "evidencekit/identity/1",
        {"identity": identity.info.to_dict()},
        f"Imported identity {identity.name}\n  fingerprint: sha256:{identity.fingerprint}",
    )


@keys.command("show")
@click.option("--all", "show_all", is_flag=True, help="List every identity.")
@pass_app
def show(app: App, show_all: bool) -> None:
    """Print the identity's name and certificate fingerprint."""
    store = app.identity_store()
    infos = store.list() if show_all else [store.find(app.identity_selector)]
    app.emit(
        "evidencekit/identities/1",
        {"identities": [i.to_dict() for i in infos]},
        [f"{i.name}  sha256:{i.fingerprint}" for i in infos] or ["(no identities)"],
    )


@keys.command("export-cert")
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the PEM certificate here instead of stdout.",
)
@pass_app
def export_cert(app: App, out: Path | None) -> None:
    """Write the certificate (PEM) for the people who verify this examiner's work."""
    store = app.identity_store()
    info = store.find(app.identity_selector)
    pem = (info.path / "cert.pem").read_text("ascii")
    if out is None:
        click.echo(pem, nl=False)
        return
    out.write_text(pem, "ascii")
    app.info(f"Wrote certificate of {info.name} to {out}")
