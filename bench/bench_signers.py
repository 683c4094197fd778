"""Signature rate of each signer and algorithm: software keys, and keys on a SoftHSM2 token.

    .venv/bin/python bench/bench_signers.py [--n 300] [--module /usr/lib/softhsm/libsofthsm2.so]

Makes a throwaway SoftHSM2 token in a temp folder (`softhsm2-util`, keys by `pkcs11-tool`),
then signs N messages of 600 bytes (the size of a custody event) through `TokenSigner.sign` and
`SoftwareSigner.sign` for each algorithm. A real USB token is slower than SoftHSM2 (every
signature is a round trip to its chip); see docs/signing.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from evidencekit.identity import algorithms
from evidencekit.identity.signer import Signer, SoftwareSigner, TokenRef

PIN = "24680135"
DATA = b"e" * 600


def _rate(signer: Signer, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        signer.sign(DATA)
    return n / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--module", default="/usr/lib/softhsm/libsofthsm2.so")
    args = ap.parse_args()
    print(f"{os.cpu_count()} CPU(s); load average {os.getloadavg()}")
    for alg, key in (
        (algorithms.RSA_PKCS1V15_SHA256, rsa.generate_private_key(65537, 2048)),
        (algorithms.RSA_PSS_SHA256, rsa.generate_private_key(65537, 2048)),
        (algorithms.ECDSA_P256_SHA256, ec.generate_private_key(ec.SECP256R1())),
        (algorithms.ECDSA_P384_SHA384, ec.generate_private_key(ec.SECP384R1())),
    ):
        print(f"software {alg}: {_rate(SoftwareSigner(key, alg), args.n):,.0f} signatures/s")
    with tempfile.TemporaryDirectory(prefix="bench-signers-") as tmp:
        folder = Path(tmp)
        (folder / "tokens").mkdir()
        conf = folder / "softhsm2.conf"
        conf.write_text(f"directories.tokendir = {folder / 'tokens'}\n")
        os.environ["SOFTHSM2_CONF"] = str(conf)
        subprocess.run(
            ["softhsm2-util", "--init-token", "--free", "--label", "bench", "--pin", PIN,
             "--so-pin", "13572468"],
            check=True, capture_output=True,
        )  # fmt: skip
        tool = ["pkcs11-tool", "--module", args.module, "--token-label", "bench", "--login",
                "--pin", PIN]  # fmt: skip
        for label, key_type in (("rsa", "rsa:2048"), ("p256", "EC:prime256v1"),
                                ("p384", "EC:secp384r1")):  # fmt: skip
            subprocess.run(
                [*tool, "--keypairgen", "--key-type", key_type, "--label", label],
                check=True, capture_output=True,
            )  # fmt: skip
        from evidencekit.identity import _pkcs11

        for label, alg in (
            ("rsa", algorithms.RSA_PKCS1V15_SHA256),
            ("rsa", algorithms.RSA_PSS_SHA256),
            ("p256", algorithms.ECDSA_P256_SHA256),
            ("p384", algorithms.ECDSA_P384_SHA384),
        ):
            ref = TokenRef(args.module, token_label="bench", key_label=label)
            signer = _pkcs11.open_signer(ref, PIN.encode(), alg)
            print(f"SoftHSM2 {alg}: {_rate(signer, args.n):,.0f} signatures/s")
        _pkcs11.close_sessions()


if __name__ == "__main__":
    main()
