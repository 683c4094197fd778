"""A local RFC 3161 timestamp authority for tests: `openssl ts -reply` behind http.server."""

from __future__ import annotations

import http.server
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CONFIG = """\
[ tsa ]
default_tsa = tsa_config1

[ tsa_config1 ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.crt
certs = $dir/tsa.crt
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def make_tsa(folder: Path) -> Path:
    """Create a self-signed TSA certificate/key and openssl's TSA config in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            str(folder / "tsa.key"),
            "-out",
            str(folder / "tsa.crt"),
            "-subj",
            "/CN=Test TSA evidencekit",
            "-days",
            "30",
            "-addext",
            "extendedKeyUsage=critical,timeStamping",
            "-addext",
            "keyUsage=critical,digitalSignature",
        ],
        check=True,
        capture_output=True,
    )
    (folder / "serial").write_text("01\n")
    cnf = folder / "tsa.cnf"
    cnf.write_text(CONFIG.format(dir=folder))
    return cnf


@contextmanager
def local_tsa(folder: Path) -> Iterator[str]:
    """Serve a TSA on 127.0.0.1 for the duration; yields its URL."""
    cnf = make_tsa(folder)
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            query = self.rfile.read(length)
            with lock, tempfile.TemporaryDirectory() as tmp:
                qf, rf = Path(tmp) / "q.tsq", Path(tmp) / "r.tsr"
                qf.write_bytes(query)
                res = subprocess.run(
                    [
                        "openssl",
                        "ts",
                        "-reply",
                        "-config",
                        str(cnf),
                        "-queryfile",
                        str(qf),
                        "-out",
                        str(rf),
                    ],
                    capture_output=True,
                )
                body = rf.read_bytes() if res.returncode == 0 and rf.exists() else b""
            if not body:
                self.send_response(500)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/tsa"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
