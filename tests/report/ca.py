"""A test CA made with `openssl`: a root, an examiner certificate it issues (EC P-256, as a
PKCS#12 file `keys import` reads), and the root's CRL; and an NSS database trusting the root,
for `pdfsig -nssdir`."""

from __future__ import annotations

import functools
import http.server
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

P12_PASSWORD = "mật khẩu p12 thử"
EXAMINER_CN = "Lê Thị Hoa"

CA_CNF = """\
[ ca ]
default_ca = root

[ root ]
dir = {dir}
database = $dir/index.txt
crlnumber = $dir/crlnumber
certificate = $dir/root.pem
private_key = $dir/root.key
default_md = sha256
default_crl_days = 7
"""

EXAMINER_EXT = """\
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


@dataclass(frozen=True)
class TestCA:
    root: Path  # root.pem
    examiner_cert: Path
    examiner_p12: Path
    p12_password_file: Path
    crl: Path


def _run(*args: str, cwd: Path) -> None:
    res = subprocess.run(list(args), cwd=cwd, capture_output=True, text=True)
    assert res.returncode == 0, f"{args}: {res.stderr}"


def make_ca(folder: Path, crl_url: str | None = None) -> TestCA:
    """`crl_url`: put it in the examiner's certificate as its CRL distribution point."""
    folder.mkdir(parents=True, exist_ok=True)
    _run(
        "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-nodes", "-keyout", "root.key", "-out", "root.pem", "-days", "30", "-utf8",
        "-subj", "/CN=Test Root CA evidencekit/O=Bộ Công an",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        "-addext", "subjectKeyIdentifier=hash",
        cwd=folder,
    )  # fmt: skip
    _run(
        "openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-nodes", "-keyout", "examiner.key", "-out", "examiner.csr", "-utf8",
        "-subj", f"/CN={EXAMINER_CN}/O=Công an tỉnh",
        cwd=folder,
    )  # fmt: skip
    ext = EXAMINER_EXT + (f"crlDistributionPoints = URI:{crl_url}\n" if crl_url else "")
    (folder / "examiner.ext").write_text(ext)
    _run(
        "openssl", "x509", "-req", "-in", "examiner.csr", "-CA", "root.pem", "-CAkey",
        "root.key", "-CAcreateserial", "-out", "examiner.pem", "-days", "20",
        "-extfile", "examiner.ext",
        cwd=folder,
    )  # fmt: skip
    _run(
        "openssl", "pkcs12", "-export", "-inkey", "examiner.key", "-in", "examiner.pem",
        "-out", "examiner.p12", "-passout", f"pass:{P12_PASSWORD}",
        cwd=folder,
    )  # fmt: skip
    (folder / "p12pass").write_text(P12_PASSWORD + "\n")
    (folder / "index.txt").write_text("")
    (folder / "crlnumber").write_text("01\n")
    (folder / "ca.cnf").write_text(CA_CNF.format(dir=folder))
    _run("openssl", "ca", "-gencrl", "-config", "ca.cnf", "-out", "root.crl", cwd=folder)
    return TestCA(
        root=folder / "root.pem",
        examiner_cert=folder / "examiner.pem",
        examiner_p12=folder / "examiner.p12",
        p12_password_file=folder / "p12pass",
        crl=folder / "root.crl",
    )


def nss_db(folder: Path, *roots: Path) -> str:
    """An NSS database (`certutil -N`) trusting `roots` as CAs; returns `sql:DIR`."""
    folder.mkdir(parents=True, exist_ok=True)
    _run("certutil", "-N", "-d", f"sql:{folder}", "--empty-password", cwd=folder)
    for n, root in enumerate(roots):
        _run(
            "certutil", "-A", "-n", f"root{n}", "-t", "C,C,C", "-i", str(root),
            "-d", f"sql:{folder}",
            cwd=folder,
        )  # fmt: skip
    return f"sql:{folder}"


def ocsp_response(ca: TestCA) -> Path:
    """A DER OCSP response of the root saying "good" for the examiner's certificate, made
    offline with `openssl ocsp` (its index lists the certificate as valid)."""
    folder = ca.root.parent

    def field(*opts: str) -> str:
        res = subprocess.run(
            ["openssl", "x509", "-in", str(ca.examiner_cert), "-noout", *opts],
            capture_output=True,
            text=True,
            check=True,
        )
        return res.stdout.strip().split("=", 1)[1]

    import datetime as dt

    end = dt.datetime.strptime(field("-enddate"), "%b %d %H:%M:%S %Y %Z")
    line = f"V\t{end:%y%m%d%H%M%S}Z\t\t{field('-serial')}\tunknown\t/CN=examiner\n"
    (folder / "index.txt").write_text(line)
    _run(
        "openssl", "ocsp", "-issuer", "root.pem", "-cert", "examiner.pem", "-no_nonce",
        "-reqout", "req.der",
        cwd=folder,
    )  # fmt: skip
    _run(
        "openssl", "ocsp", "-index", "index.txt", "-rsigner", "root.pem", "-rkey", "root.key",
        "-CA", "root.pem", "-reqin", "req.der", "-respout", "ocsp.der", "-ndays", "7",
        cwd=folder,
    )  # fmt: skip
    return folder / "ocsp.der"


@contextmanager
def serve_folder(folder: Path) -> Iterator[str]:
    """Serve `folder` over HTTP on 127.0.0.1 (a CA's CRL distribution point); yields the base
    URL."""
    folder.mkdir(parents=True, exist_ok=True)
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self) -> None:
        QuietHandler.requests.append(self.path)
        super().do_GET()

    def log_message(self, *args: object) -> None:
        pass
