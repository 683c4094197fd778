"""Examiner identities: a signing key (encrypted at rest, from a CA's PKCS#12 file, or on a
PKCS#11 token) and an X.509 certificate.

An identity signs seals, custody events, checkpoints and PDF reports. Identities live under
`EVIDENCEKIT_HOME`, one folder each (the layout is in `store`).

The library never prompts: callers pass the passphrase (bytes) they obtained.

- `certs`: reading, naming and fingerprinting certificates, checking a signature against one,
  making the self-signed one;
- `keyfile`: the private key in a file: ours encrypted at rest, a CA's PKCS#12;
- `pkcs8`: the encrypted PKCS#8 format of ours (PBES2 with scrypt or PBKDF2), with the bounds on
  what a key file may ask for;
- `passphrase`: the minimum strength of a new key's passphrase;
- `algorithms`: the signature algorithms (ECDSA P-256/P-384, RSA PKCS#1 v1.5 and PSS), the key
  whitelist, and the check that an algorithm fits a certificate's key;
- `signer`: `IdentityInfo` (the public part), `Identity` (unlocked, signs) and the `Signer`
  interface behind it (`SoftwareSigner`; `_pkcs11.TokenSigner`, python-pkcs11's only home);
- `pdfsigner`: a pyhanko signer backed by an `Identity`, for the report layer;
- `store`: the folders under the home: choosing, unlocking (once per process), creating,
  importing.

Import the names from here (`evidencekit.identity`); the modules are how it is arranged.
"""

from __future__ import annotations

from evidencekit.identity.certs import (
    cert_pem,
    display_name_key,
    fingerprint,
    load_cert_bundle,
    load_cert_file,
    load_cert_pem,
    subject_name,
    verify_signature,
)
from evidencekit.identity.passphrase import RULE as PASSPHRASE_RULE
from evidencekit.identity.passphrase import check_new_passphrase
from evidencekit.identity.signer import Identity, IdentityInfo, Signer, SoftwareSigner, TokenRef
from evidencekit.identity.store import (
    IdentityStore,
    PassphraseSource,
    forget_unlocked_keys,
    home_dir,
)

__all__ = [
    "PASSPHRASE_RULE",
    "Identity",
    "IdentityInfo",
    "IdentityStore",
    "PassphraseSource",
    "Signer",
    "SoftwareSigner",
    "TokenRef",
    "cert_pem",
    "check_new_passphrase",
    "display_name_key",
    "fingerprint",
    "forget_unlocked_keys",
    "home_dir",
    "load_cert_bundle",
    "load_cert_file",
    "load_cert_pem",
    "subject_name",
    "verify_signature",
]
