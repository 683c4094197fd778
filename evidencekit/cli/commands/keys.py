"""`evidencekit keys init|import|add-token|show|passwd|export-cert`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from evidencekit.cli.i18n import _
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


def _algorithm(rsa_padding: str | None) -> str | None:
    return None if rsa_padding is None else f"rsa-{rsa_padding}-sha256"


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
    app: App, p12: Path, p12_passphrase_file: Path | None, rsa_padding: str | None
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
    from evidencekit.identity.keyfile import read_p12_bundle

    store = app.identity_store()
    # checked (size, iteration counts, key type, validity) before a passphrase is asked
    key, cert, chain = read_p12_bundle(p12, p12_password)
    algorithm = _algorithm(rsa_padding)
    if algorithm is not None:
        from evidencekit.identity.algorithms import choose

        choose(key, algorithm, repr(str(p12)))  # before the passphrase is asked
    identity = store.import_key(
        key, cert, app.passphrase(str(p12), confirm=True), algorithm=algorithm, chain=chain
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
    rsa_padding: str | None,
) -> None:
    """Register a signing key that lives on a PKCS#11 token (USB token, smart card, HSM).

    Only where the key is (module path, token label or slot, key label or id), the signature
    algorithm and the certificate are stored: the private key never leaves the token, and the
    PIN is not kept. The PIN comes from --passphrase-file, EVIDENCEKIT_PASSPHRASE or a prompt,
    now and whenever the identity signs. The token signs a test challenge before anything is
    stored, checked against the certificate.
    """
    from evidencekit.errors import UsageError
    from evidencekit.identity import TokenRef, load_cert_bundle, load_cert_file

    if (token_label is None) == (slot is None):
        raise UsageError(_("give exactly one of --token LABEL and --slot N"))
    if key_label is None and key_id is None:
        raise UsageError(_("give --key LABEL or --key-id HEX: which key on the token signs"))
    if key_id is not None:
        try:
            key_id = bytes.fromhex(key_id.replace(":", "")).hex()
        except ValueError as exc:
            raise UsageError(
                _("--key-id {key_id!r} is not hexadecimal").format(key_id=key_id)
            ) from exc
    ref = TokenRef(
        module=str(module.absolute()),
        token_label=token_label,
        slot=slot,
        key_label=key_label,
        key_id=key_id,
    )
    cert = load_cert_file(cert_path) if cert_path is not None else None
    chain = load_cert_bundle(chain_path) if chain_path is not None else ()
    store = app.identity_store()
    pin = app.passphrase(token_label or f"slot {slot}", what="PIN")
    identity = store.add_token(
        ref, pin, cert=cert, name=name, algorithm=_algorithm(rsa_padding), chain=chain
    )
    app.emit(
        "evidencekit/identity/1",
        {"identity": identity.info.to_dict()},
        [
            _("Registered token identity {name}").format(name=identity.name),
            _("  fingerprint: sha256:{fingerprint}").format(fingerprint=identity.fingerprint),
            _("  key: {describe}").format(describe=ref.describe()),
            _("  signs: {algorithm}").format(algorithm=identity.algorithm),
            _("  folder: {path}").format(path=identity.info.path),
        ],
    )


@keys.command("show")
@click.option("--all", "show_all", is_flag=True, help="List every identity.")
@pass_app
def show(app: App, show_all: bool) -> None:
    """Print the identity's name, certificate fingerprint and how its key is protected."""
    store = app.identity_store()
    infos = store.list() if show_all else [store.find(app.identity_selector)]
    docs, lines = [], []
    for info in infos:
        if info.token is not None:
            protection = _("on token: {describe}").format(describe=info.token.describe())
            docs.append({**info.to_dict(), "key_protection": protection})
            lines.append(
                _("{name}  sha256:{fingerprint}  key: {protection}").format(
                    name=info.name, fingerprint=info.fingerprint, protection=protection
                )
            )
            continue
        protection, weaker = _protection(info.path / "key.pem")
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


def _protection(key_path: Path) -> tuple[str, bool]:
    """("scrypt N=… r=… p=…", weaker than the default) or the reason it cannot be read."""
    from evidencekit.errors import IdentityError
    from evidencekit.identity.keyfile import describe_key_file, is_default_protection

    try:
        return describe_key_file(key_path), not is_default_protection(key_path)
    except IdentityError as exc:
        return _("unreadable ({message})").format(message=exc.message), False


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
    from evidencekit.errors import IdentityError

    store = app.identity_store()
    info = store.find(app.identity_selector)
    if info.token is not None:
        raise IdentityError(
            _(
                "identity {name!r} keeps its key on a token: change the token's PIN "
                "with the token's own tool"
            ).format(name=info.name)
        )
    current = app.passphrase(info.name)
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
            _("New passphrase for {name}").format(name=info.name),
            hide_input=True,
            confirmation_prompt=True,
            err=True,
        )
        new = str(value).encode("utf-8")
    else:
        raise IdentityError(
            _("no new passphrase for identity {name!r} and no terminal to ask on").format(
                name=info.name
            ),
            hint=_("set EVIDENCEKIT_NEW_PASSPHRASE or pass --new-passphrase-file FILE"),
        )
    identity = store.change_passphrase(info, current, new)
    protection, _weaker = _protection(info.path / "key.pem")
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
    app.info(_("Wrote certificate of {name} to {out}").format(name=info.name, out=out))
