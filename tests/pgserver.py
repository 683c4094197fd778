"""A real PostgreSQL server for the ledger tests and the ledger benchmark.

Debian's `postgresql` package: `initdb` and `pg_ctl` (under /usr/lib/postgresql/N/bin, which is
not on PATH) into a temporary folder, run as the unprivileged `postgres` user when we are root
(the server refuses to run as root), listening only on a unix socket in that folder. Roles as a
lab's DBA makes them (docs/postgresql.md): a superuser for set-up only, the owner of the ledger
database (`ek_owner`), the group role granted SELECT and INSERT only (`evidencekit_app`) and a
login role in it (`ek_app`) that the examiners' commands use. Passwords (SCRAM) are in a
PGPASSFILE, never in a URL: the code under test finds them the way libpq does.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SUPER, OWNER, APP_GROUP, APP = "ek_super", "ek_owner", "evidencekit_app", "ek_app"
DB = "evidencekit"
PORT = 5432  # only names the socket file: the server listens on no TCP port


def find_bindir() -> Path | None:
    """The folder holding initdb and pg_ctl: PATH, else Debian's /usr/lib/postgresql/N/bin."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(os.path.realpath(found)).parent
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    for pg_ctl in reversed(versions):
        if Path(pg_ctl).with_name("initdb").exists():
            return Path(pg_ctl).parent
    return None


def unavailable() -> str | None:
    """Why no server can be started here, or None."""
    if find_bindir() is None:
        return "PostgreSQL server binaries (initdb, pg_ctl) not installed (Debian: postgresql)"
    if os.geteuid() == 0:
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no `postgres` user to run the server as"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install -e '.[test]')"
    return None


@dataclass
class PGServer:
    root: Path
    bindir: Path
    passwords: dict[str, str]

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def sock(self) -> Path:
        return self.root / "sock"

    @property
    def passfile(self) -> Path:
        return self.root / "pgpass"

    def url(self, role: str = APP, db: str = DB) -> str:
        """A ledger URL as case.toml holds it: no password."""
        return f"postgresql://{role}@/{db}?host={self.sock}&port={PORT}"

    def _as_server_user(self, argv: list[str]) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv

    def _run(self, argv: list[str]) -> None:
        subprocess.run(
            self._as_server_user(argv), check=True, cwd=self.root, capture_output=True, timeout=120
        )

    def start(self) -> None:
        opts = (
            f"-c listen_addresses='' -c unix_socket_directories='{self.sock}' -c port={PORT} "
            "-c max_connections=60 -c shared_buffers=32MB -c fsync=on"
        )
        self._run(
            [str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"),
             "-w", "-t", "120", "-o", opts, "start"]
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._run([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"])

    def connect(self, role: str = OWNER, db: str = DB, **kw: Any) -> Any:
        import psycopg

        return psycopg.connect(self.url(role, db), **kw)

    def create_database(self, name: str) -> str:
        """A new ledger database `name` owned by the owner role, with the schema a DBA creates
        (`pg_store.schema_sql`); returns the app role's URL of it."""
        from evidencekit.chain.pg_store import schema_sql

        with self.connect(SUPER, "postgres", autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name} OWNER {OWNER}")
        with self.connect(OWNER, name, autocommit=True) as conn:
            conn.execute(schema_sql(APP_GROUP))
        return self.url(APP, name)


def start_server() -> PGServer:
    """initdb + pg_ctl start in a new temporary folder, roles and the ledger database made."""
    bindir = find_bindir()
    assert bindir is not None
    root = Path(tempfile.mkdtemp(prefix="ekpg-"))
    passwords = {r: secrets.token_hex(16) for r in (SUPER, OWNER, APP)}
    server = PGServer(root, bindir, passwords)
    server.sock.mkdir()
    pwfile = root / "superpw"
    pwfile.write_text(passwords[SUPER] + "\n")
    server.passfile.write_text("".join(f"*:*:*:{r}:{p}\n" for r, p in passwords.items()))
    server.passfile.chmod(0o600)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        shutil.chown(server.sock, "postgres", "postgres")
        shutil.chown(pwfile, "postgres", "postgres")
    server._run(
        [str(bindir / "initdb"), "-D", str(server.data), "-U", SUPER, "--pwfile", str(pwfile),
         "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", "-E", "UTF8",
         "--locale=C.UTF-8"]
    )  # fmt: skip
    pwfile.unlink()
    os.environ["PGPASSFILE"] = str(server.passfile)
    server.start()
    with server.connect(SUPER, "postgres", autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {OWNER} LOGIN PASSWORD '{passwords[OWNER]}'")
        conn.execute(f"CREATE ROLE {APP_GROUP} NOLOGIN")
        conn.execute(f"CREATE ROLE {APP} LOGIN PASSWORD '{passwords[APP]}' IN ROLE {APP_GROUP}")
    server.create_database(DB)
    return server


def stop_server(server: PGServer) -> None:
    try:
        server.stop("fast")
    finally:
        shutil.rmtree(server.root, ignore_errors=True)
