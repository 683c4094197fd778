"""`evidencekit keys init|import|add-token|show|passwd|export-cert`."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from evidencekit.cli.i18n import _
from evidencekit.cli.runtime import App, pass_app

if TYPE_CHECKING:
    from evidencekit.workflows.keys import RsaPadding, ShownIdentity


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
    from evidencekit.workflows.keys import CreateIdentityRequest, create_identity

    request = CreateIdentityRequest(name, email=email, org=org)
    identity = create_identity(
        app.identity_store(), request, lambda who: app.passphrase(who, confirm=True)
    )
    app.emit(
        "evidencekit/identity/1",
        {"identity": identity.info.to_dict()},
        [
            _("Created identity {name}").format(name=identity.name),
            _("  fingerprint: sha256:{fingerprint}").format(fingerprint=identity.fingerprint),
            _("  folder: {path}").format(path=identity.info.path),
        ],
    )


RSA_PADDING = click.option(
    "--rsa-padding",
    type=click.Choice(["pkcs1v15", "pss"]),
    default=None,
    help="For an RSA key: sign with PKCS#1 v1.5 (default) or PSS, both with SHA-256.",
)


@keys.command("import")
@click.argument("p12", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option(
    "--p12-passphrase-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="File holding the PKCS#12 password (else EVIDENCEKIT_P12_PASSPHRASE).",
)
@RSA_PADDING
@pass_app
def import_cmd(
    app: App, p12: Path, p12_passphrase_file: Path | None, rsa_padding: RsaPadding | None
) -> None:
    """Adopt a CA-issued identity from a PKCS#12 (.p12/.pfx) file.

    Its key is re-encrypted with your passphrase (the same rule as `keys init`). Refused
    before anything is derived: files over 1 MiB, more than 1,000,000 key-derivation
    iterations; then keys other than RSA 2048/3072/4096 and ECDSA P-256/P-384, and
    certificates not valid now.
    """
    p12_password: bytes | None
    if p12_passphrase_file is not None:
        p12_password = p12_passphrase_file.read_bytes().splitlines()[0]
    elif "EVIDENCEKIT_P12_PASSPHRASE" in os.environ:
        p12_password = os.environ["EVIDENCEKIT_P12_PASSPHRASE"].encode("utf-8")
    else:
        p12_password = None
    from evidencekit.workflows.keys import ImportIdentityRequest, import_identity

    request = ImportIdentityRequest(p12, p12_password, rsa_padding)
    identity = import_identity(
        app.identity_store(), request, lambda what: app.passphrase(what, confirm=True)
    )
    app.emit(
        "evidencekit/identity/1",
        {"identity": identity.info.to_dict()},
        [
            _("Imported identity {name}").format(name=identity.name),
            _("  fingerprint: sha256:{fingerprint}").format(fingerprint=identity.fingerprint),
        ],
    )


@keys.command("add-token")
@click.option(
    "--module",
    "module",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="The token vendor's PKCS#11 library (.so); docs/signing.md.",
)
@click.option("--token", "token_label", help="Token label (see: pkcs11-tool --module M -L).")
@click.option("--slot", type=int, help="Slot number, instead of --token.")
@click.option("--key", "key_label", help="Label of the private key on the token.")
@click.option("--key-id", help="CKA_ID of the private key, hex (instead of or with --key).")
@click.option(
    "--cert",
    "cert_path",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="The key's certificate (PEM or DER), when it is not stored on the token.",
)
@click.option(
    "--chain",
    "chain_path",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="PEM file of the CA certificates above the key's (carried in seals and reports).",
)
@click.option("--name", help="Examiner name (default: the certificate's common name).")
@RSA_PADDING
@pass_app
def add_token(
    app: App,
    module: Path,
    token_label: str | None,
    slot: int | None,
    key_label: str | None,
    key_id: str | None,
    cert_path: Path | None,
    chain_path: Path | None,
    name: str | None,
    rsa_padding: RsaPadding | None,
) -> None:
    """Register a signing key that lives on a PKCS#11 token (USB token, smart card, HSM).

    Only where the key is (module path, token label or slot, key label or id), the signature
    algorithm and the certificate are stored: the private key never leaves the token, and the
    PIN is not kept. The PIN comes from --passphrase-file, EVIDENCEKIT_PASSPHRASE or a prompt,
    now and whenever the identity signs. The token signs a test challenge before anything is
    stored, checked against the certificate.
    """
    from evidencekit.workflows.keys import AddTokenRequest, add_token

    request = AddTokenRequest(
        module,
        token_label=token_label,
        slot=slot,
        key_label=key_label,
        key_id=key_id,
        cert=cert_path,
        chain=chain_path,
        name=name,
        rsa_padding=rsa_padding,
    )
    identity = add_token(
        app.identity_store(), request, lambda label: app.passphrase(label, what="PIN")
    )
    token = identity.info.token
    app.emit(
        "evidencekit/identity/1",
        {"identity": identity.info.to_dict()},
        [
            _("Registered token identity {name}").format(name=identity.name),
            _("  fingerprint: sha256:{fingerprint}").format(fingerprint=identity.fingerprint),
            _("  key: {describe}").format(describe=token.describe() if token else "?"),
            _("  signs: {algorithm}").format(algorithm=identity.algorithm),
            _("  folder: {path}").format(path=identity.info.path),
        ],
    )


@keys.command("show")
@click.option("--all", "show_all", is_flag=True, help="List every identity.")
@pass_app
def show(app: App, show_all: bool) -> None:
    """Print the identity's name, certificate fingerprint and how its key is protected."""
    from evidencekit.workflows.keys import ShowIdentitiesRequest, show_identities

    request = ShowIdentitiesRequest(app.identity_selector, all=show_all)
    docs, lines = [], []
    for shown in show_identities(app.identity_store(), request):
        info = shown.info
        if info.token is not None:
            protection = _("on token: {describe}").format(describe=info.token.describe())
            docs.append({**info.to_dict(), "key_protection": protection})
            lines.append(
                _("{name}  sha256:{fingerprint}  key: {protection}").format(
                    name=info.name, fingerprint=info.fingerprint, protection=protection
                )
            )
            continue
        protection, weaker = _protection(shown)
        docs.append({**info.to_dict(), "key_protection": protection})
        lines.append(
            _("{name}  sha256:{fingerprint}  key: {protection}").format(
                name=info.name, fingerprint=info.fingerprint, protection=protection
            )
        )
        if weaker:
            lines.append(
                _(
                    "  (weaker than today's scrypt default: "
                    "`evidencekit keys passwd` re-encrypts it)"
                )
            )
    app.emit("evidencekit/identities/1", {"identities": docs}, lines or [_("(no identities)")])


def _protection(shown: ShownIdentity) -> tuple[str, bool]:
    """("scrypt N=… r=… p=…", weaker than the default) or the reason it cannot be read."""
    if shown.key_file is None:
        return _("unreadable ({message})").format(message=shown.unreadable), False
    return shown.key_file, shown.weaker


@keys.command("passwd")
@click.option(
    "--new-passphrase-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="File holding the new passphrase (else EVIDENCEKIT_NEW_PASSPHRASE, else a prompt).",
)
@pass_app
def passwd(app: App, new_passphrase_file: Path | None) -> None:
    """Re-encrypt the identity's key under a new passphrase with today's KDF (scrypt).

    This is how a key made before scrypt became the default moves to it; the certificate and
    fingerprint stay the same. The current passphrase comes from --passphrase-file,
    EVIDENCEKIT_PASSPHRASE or a prompt; the new one must follow the `keys init` rule (giving the
    same one again is allowed when it does).
    """
    from evidencekit.workflows.keys import (
        ChangePassphraseRequest,
        change_passphrase,
        shown_identity,
    )

    def new_passphrase(name: str) -> bytes:
        return _new_passphrase(new_passphrase_file, name)

    store = app.identity_store()
    request = ChangePassphraseRequest(app.identity_selector)
    identity = change_passphrase(store, request, app.passphrase, new_passphrase)
    protection, _weaker = _protection(shown_identity(identity.info))
    app.emit(
        "evidencekit/identity/1",
        {"identity": {**identity.info.to_dict(), "key_protection": protection}},
        [
            _("Re-encrypted the key of {name} ({protection})").format(
                name=identity.name, protection=protection
            ),
            _("  fingerprint: sha256:{fingerprint} (unchanged)").format(
                fingerprint=identity.fingerprint
            ),
        ],
    )


def _new_passphrase(new_passphrase_file: Path | None, name: str) -> bytes:
    """The new passphrase for identity `name`: the file, else EVIDENCEKIT_NEW_PASSPHRASE, else
    a prompt on a terminal."""
    from evidencekit.errors import IdentityError

    new: bytes
    if new_passphrase_file is not None:
        try:
            text = new_passphrase_file.read_bytes()
        except OSError as exc:
            raise IdentityError(
                _("cannot read passphrase file {new_passphrase_file!r}: {strerror}").format(
                    new_passphrase_file=str(new_passphrase_file), strerror=exc.strerror
                )
            ) from exc
        new = text.splitlines()[0] if text.strip() else b""
    elif "EVIDENCEKIT_NEW_PASSPHRASE" in os.environ:
        new = os.environ["EVIDENCEKIT_NEW_PASSPHRASE"].encode("utf-8")
    elif sys.stdin.isatty() and sys.stderr.isatty():
        value = click.prompt(
            _("New passphrase for {name}").format(name=name),
            hide_input=True,
            confirmation_prompt=True,
            err=True,
        )
        new = str(value).encode("utf-8")
    else:
        raise IdentityError(
            _("no new passphrase for identity {name!r} and no terminal to ask on").format(
                name=name
            ),
            hint=_("set EVIDENCEKIT_NEW_PASSPHRASE or pass --new-passphrase-file FILE"),
        )
    return new


@keys.command("export-cert")
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the PEM certificate here instead of stdout.",
)
@pass_app
def export_cert(app: App, out: Path | None) -> None:
    """Write the certificate (PEM) for the people who verify this examiner's work."""
    from evidencekit.workflows.keys import export_certificate

    exported = export_certificate(app.identity_store(), app.identity_selector)
    if out is None:
        click.echo(exported.pem, nl=False)
        return
    out.write_text(exported.pem, "ascii")
    app.info(_("Wrote certificate of {name} to {out}").format(name=exported.info.name, out=out))
