"""A test CA hierarchy made with `openssl` (issue 17): root -> issuing CA -> examiner certificates
with EC P-256 keys, as PKCS#12 files; CRLs by `openssl ca -gencrl`; an OCSP responder
`openssl ocsp -port` on loopback, started by the test and stopped after it.

Examiner certificates name the issuing CA's CRL (distribution point) and OCSP responder (AIA) on
127.0.0.1 at a port chosen when the hierarchy is made; the issuing CA's own certificate names
none (so only the examiners' status needs revocation data).
"""

from __future__ import annotations

import datetime as dt
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

P12_PASSWORD = "mật khẩu p12"
POLICY = "1.3.6.1.4.1.55555.1.17"
"""The test CA's certificate policy for examiners."""
OTHER_POLICY = "1.3.6.1.4.1.55555.1.99"
ORG = "Công an tỉnh Thử nghiệm"
OU = "Phòng PC04"

CA_CONF = """\
[ ca ]
default_ca = issuing

[ issuing ]
dir = {dir}
database = $dir/index.txt
new_certs_dir = $dir/newcerts
serial = $dir/serial
crlnumber = $dir/crlnumber
certificate = $dir/issuing.pem
private_key = $dir/issuing.key
default_md = sha256
default_days = 365
default_crl_days = 30
policy = anything
unique_subject = no
copy_extensions = none
utf8 = yes
string_mask = utf8only

[ anything ]
commonName = supplied
organizationName = optional
organizationalUnitName = optional

[ examiner ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
extendedKeyUsage = emailProtection
certificatePolicies = {policy}
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
crlDistributionPoints = URI:http://127.0.0.1:{port}/issuing.crl
authorityInfoAccess = OCSP;URI:http://127.0.0.1:{port}

[ encipher_only ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,keyEncipherment
certificatePolicies = {policy}
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
crlDistributionPoints = URI:http://127.0.0.1:{port}/issuing.crl
authorityInfoAccess = OCSP;URI:http://127.0.0.1:{port}

[ ocsp_signer ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,OCSPSigning
noCheck = ignored

[ crl_ext ]
authorityKeyIdentifier = keyid
"""


def run(*args: str, cwd: Path | None = None) -> str:
    proc = subprocess.run(list(args), check=True, capture_output=True, text=True, cwd=cwd)
    return proc.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _key(path: Path) -> Path:
    run(
        "openssl",
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
        str(path),
    )
    return path


@dataclass
class CaHierarchy:
    """The hierarchy's files; `issue` makes more examiners, `revoke` and `crl` act as the CA."""

    dir: Path
    port: int
    root: Path
    issuing: Path

    @property
    def conf(self) -> Path:
        return self.dir / "ca.cnf"

    def issue(
        self,
        name: str,
        *,
        cn: str,
        org: str = ORG,
        ou: str = OU,
        ext: str = "examiner",
        start: str | None = None,
        end: str | None = None,
    ) -> tuple[Path, Path]:
        """An examiner key and certificate issued by the issuing CA: (cert.pem, key.pem)."""
        key = _key(self.dir / f"{name}.key")
        csr = self.dir / f"{name}.csr"
        subj = f"/CN={cn}" + (f"/O={org}" if org else "") + (f"/OU={ou}" if ou else "")
        run("openssl", "req", "-new", "-key", str(key), "-out", str(csr), "-subj", subj, "-utf8")
        cert = self.dir / f"{name}.pem"
        dates = ["-startdate", start, "-enddate", end] if start and end else []
        run(
            "openssl",
            "ca",
            "-batch",
            "-config",
            str(self.conf),
            "-extensions",
            ext,
            "-in",
            str(csr),
            "-out",
            str(cert),
            "-notext",
            *dates,
        )
        return cert, key

    def p12(self, name: str) -> Path:
        """The PKCS#12 file of an issued examiner (key and certificate)."""
        out = self.dir / f"{name}.p12"
        run(
            "openssl",
            "pkcs12",
            "-export",
            "-inkey",
            str(self.dir / f"{name}.key"),
            "-in",
            str(self.dir / f"{name}.pem"),
            "-out",
            str(out),
            "-passout",
            f"pass:{P12_PASSWORD}",
        )
        return out

    def revoke(self, cert: Path, reason: str = "keyCompromise") -> None:
        run("openssl", "ca", "-config", str(self.conf), "-revoke", str(cert), "-crl_reason", reason)

    def crl(self, name: str = "issuing.crl") -> Path:
        """A CRL of the issuing CA now (PEM), by `openssl ca -gencrl`."""
        out = self.dir / name
        run(
            "openssl",
            "ca",
            "-config",
            str(self.conf),
            "-gencrl",
            "-crlexts",
            "crl_ext",
            "-out",
            str(out),
        )
        return out

    def chain_file(self) -> Path:
        """root + issuing CA in one file: `openssl verify -CAfile`'s trust store."""
        out = self.dir / "chain.pem"
        out.write_text(self.root.read_text() + self.issuing.read_text())
        return out

    def openssl_verify(self, cert: Path, *, crl: Path | None = None, at: int | None = None) -> bool:
        """The oracle: `openssl verify` of `cert` against the root, through the issuing CA
        (untrusted), with `-crl_check` against `crl` when given, at epoch `at` when given."""
        args = [
            "openssl",
            "verify",
            "-CAfile",
            str(self.root),
            "-untrusted",
            str(self.issuing),
            "-purpose",
            "any",
        ]
        if crl is not None:
            args += ["-crl_check", "-CRLfile", str(crl)]
        if at is not None:
            args += ["-attime", str(at)]
        proc = subprocess.run([*args, str(cert)], capture_output=True, text=True)
        return proc.returncode == 0

    @contextmanager
    def ocsp_responder(self) -> Iterator[str]:
        """`openssl ocsp -port` on 127.0.0.1 at the hierarchy's port, answering from the CA's
        database as it is when started (start it after a revocation for it to be seen)."""
        signer, key = self.dir / "ocsp.pem", self.dir / "ocsp.key"
        proc = subprocess.Popen(
            [
                "openssl",
                "ocsp",
                "-port",
                str(self.port),
                "-index",
                str(self.dir / "index.txt"),
                "-CA",
                str(self.issuing),
                "-rsigner",
                str(signer),
                "-rkey",
                str(key),
                "-nrequest",
                "1000",
                "-ndays",
                "7",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            # ready when it says so (a probe connection would block the one-at-a-time responder)
            assert proc.stderr is not None
            seen = b""
            while b"waiting for OCSP client connections" not in seen:
                line = proc.stderr.readline()
                if not line:
                    raise RuntimeError(f"openssl ocsp did not start: {seen.decode()}")
                seen += line
            url = f"http://127.0.0.1:{self.port}"
            yield url
        finally:
            proc.terminate()
            proc.wait()

    def ocsp_response(self, cert: Path, out: Path) -> Path:
        """Ask the running responder about `cert` with `openssl ocsp` and keep the DER answer."""
        run(
            "openssl",
            "ocsp",
            "-issuer",
            str(self.issuing),
            "-cert",
            str(cert),
            "-url",
            f"http://127.0.0.1:{self.port}",
            "-respout",
            str(out),
            "-noverify",
        )
        return out


def make_ca(folder: Path) -> CaHierarchy:
    """root -> issuing CA, in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    root_key = _key(folder / "root.key")
    root = folder / "root.pem"
    run(
        "openssl",
        "req",
        "-x509",
        "-new",
        "-key",
        str(root_key),
        "-out",
        str(root),
        "-days",
        "3650",
        "-subj",
        "/CN=Test Root CA evidencekit/O=Bộ Công an Thử nghiệm",
        "-utf8",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    )
    issuing_key = _key(folder / "issuing.key")
    csr = folder / "issuing.csr"
    run(
        "openssl",
        "req",
        "-new",
        "-key",
        str(issuing_key),
        "-out",
        str(csr),
        "-utf8",
        "-subj",
        "/CN=Test Issuing CA evidencekit/O=Bộ Công an Thử nghiệm",
    )
    ext = folder / "issuing.ext"
    ext.write_text(
        "basicConstraints=critical,CA:TRUE,pathlen:0\n"
        "keyUsage=critical,keyCertSign,cRLSign\n"
        "certificatePolicies=2.5.29.32.0\n"
        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
    )
    issuing = folder / "issuing.pem"
    run(
        "openssl",
        "x509",
        "-req",
        "-in",
        str(csr),
        "-CA",
        str(root),
        "-CAkey",
        str(root_key),
        "-CAcreateserial",
        "-out",
        str(issuing),
        "-days",
        "1825",
        "-extfile",
        str(ext),
    )
    (folder / "newcerts").mkdir()
    (folder / "index.txt").write_text("")
    (folder / "serial").write_text("1000\n")
    (folder / "crlnumber").write_text("01\n")
    (folder / "ca.cnf").write_text(CA_CONF.format(dir=folder, port=port, policy=POLICY))
    ca = CaHierarchy(folder, port, root, issuing)
    # the OCSP responder's certificate, from the start: its answers are checked at the time
    # of the signatures they are about
    ca.issue("ocsp", cn="OCSP Test evidencekit", org="", ou="", ext="ocsp_signer")
    return ca


def lookalike(folder: Path, cn: str, org: str = ORG, ou: str = OU) -> tuple[Path, Path]:
    """A self-signed certificate with the same subject name as a CA-issued examiner."""
    key = _key(folder / "lookalike.key")
    cert = folder / "lookalike.pem"
    run(
        "openssl",
        "req",
        "-x509",
        "-new",
        "-key",
        str(key),
        "-out",
        str(cert),
        "-days",
        "30",
        "-subj",
        f"/CN={cn}/O={org}/OU={ou}",
        "-utf8",
        "-addext",
        "keyUsage=critical,digitalSignature,nonRepudiation",
        "-addext",
        f"certificatePolicies={POLICY}",
    )
    return cert, key


def epoch(when: dt.datetime) -> int:
    return int(when.timestamp())
