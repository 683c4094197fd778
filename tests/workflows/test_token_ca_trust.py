"""A token examiner trusted through a CA anchor (issue 17): the RSA-2048 key on the SoftHSM2
token gets its certificate from the test CA hierarchy (tests/identity/ca.py, the `examiner`
extensions: policy, key usage, CRL and OCSP locations); a case that pins only its creator and
trusts the root within limits accepts the token examiner's events, timestamped, with the CA's
CRL kept; oracle: `openssl verify -crl_check` agrees."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization

from evidencekit.case import Case
from evidencekit.cli.main import cli
from evidencekit.workflows.trust import case_trust
from tests.conftest import EXAMINER, PASSPHRASE, need_peer
from tests.identity.ca import ORG, OU, POLICY, make_ca
from tests.report.tsa import local_tsa
from tests.tokens import Token, add_token_args, softhsm, token

__all__ = ["softhsm", "token"]  # fixtures

pytestmark = pytest.mark.peer

TOKEN_EXAMINER = "Hoàng Văn Khánh"


def _ok(*args: str, env: dict[str, str] | None = None) -> Any:
    res = CliRunner().invoke(cli, list(args), env=env)
    assert res.exit_code == 0, (res.stdout, res.stderr)
    return res


def test_token_examiner_trusted_through_the_root(
    case_dir: Path, token: Token, tmp_path: Path
) -> None:
    # case_dir first: it is made by the software examiner before `token` puts the PIN in
    # EVIDENCEKIT_PASSPHRASE (software commands below pass the passphrase explicitly)
    need_peer("openssl")
    ca = make_ca(tmp_path / "ca")
    pub = tmp_path / "token-rsa.pub.pem"
    pub.write_bytes(
        token.rsa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    # the CA issues for the token's key: a CSR signed by a throwaway key, its public key
    # replaced by the token key's (no private key leaves the token)
    throwaway, csr, cert = tmp_path / "t.key", tmp_path / "t.csr", tmp_path / "khanh.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-out", str(throwaway)], check=True)  # fmt: skip
    subj = f"/CN={TOKEN_EXAMINER}/O={ORG}/OU={OU}"
    subprocess.run(["openssl", "req", "-new", "-utf8", "-key", str(throwaway), "-subj", subj,
                    "-out", str(csr)], check=True)  # fmt: skip
    subprocess.run(["openssl", "x509", "-req", "-in", str(csr), "-force_pubkey", str(pub),
                    "-CA", str(ca.issuing), "-CAkey", str(ca.dir / "issuing.key"),
                    "-set_serial", "4242", "-days", "30", "-extfile", str(ca.conf),
                    "-extensions", "examiner", "-out", str(cert)],
                   check=True, capture_output=True)  # fmt: skip
    pin = tmp_path / "pin.txt"
    pin.write_text(token.pin, "utf-8")
    with_pin = ["--passphrase-file", str(pin)]
    sw = {"EVIDENCEKIT_PASSPHRASE": PASSPHRASE}
    _ok(*with_pin, *add_token_args(token, "rsa", "--cert", str(cert), "--chain", str(ca.issuing)))
    on = ["--case", str(case_dir)]
    with local_tsa(tmp_path / "tsa") as url:
        _ok(*on, "--identity", EXAMINER, "case", "trust-ca", str(ca.root), "--org", ORG,
            "--policy", POLICY, "--intermediate", str(ca.issuing), "--reason", "CA của Bộ",
            env=sw)  # fmt: skip
        _ok(*on, "--identity", EXAMINER, "case", "trust-ca", str(tmp_path / "tsa" / "tsa.crt"),
            "--tsa", "--reason", "TSA", env=sw)  # fmt: skip
        _ok(*with_pin, *on, "--identity", TOKEN_EXAMINER, "custody", "note", "-",
            "ghi chú ký bằng token")  # fmt: skip
        crl = ca.crl()
        _ok(*on, "--identity", EXAMINER, "case", "add-revocation", "--crl", str(crl), env=sw)
        _ok(*on, "--identity", EXAMINER, "custody", "timestamp", "--tsa", url, env=sw)
        res = CliRunner().invoke(cli, ["--json", *on, "custody", "verify"])
        assert res.exit_code == 0, res.stdout
    trust = case_trust(Case.open(case_dir))
    assert TOKEN_EXAMINER in {c.name for c in trust.chained}
    assert ca.openssl_verify(cert, crl=crl)
