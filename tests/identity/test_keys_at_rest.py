"""Keys at rest (issue 13): new keys are PKCS#8 PBES2 with scrypt at the default parameters, keys
written before keep loading, a key file cannot make the tool spend minutes or GiBs, and a key is
unlocked once per process.

Oracles: OpenSSL (`asn1parse` reads the parameters out of our files, `kdf SCRYPT` + `enc` +
`pkey` decrypt them without our code, `pkcs8 -topk8` writes files we must read), the
`cryptography` serializer that wrote every key before this change, and a committed identity
folder made by the pre-change code (tests/data/identity-pre-scrypt, passphrase in its README).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from evidencekit.cli.main import cli
from evidencekit.errors import IdentityError
from evidencekit.identity import IdentityStore, forget_unlocked_keys, pkcs8, verify_signature
from evidencekit.identity.keyfile import read_key, write_key
from evidencekit.identity.pkcs8 import DEFAULT_SCRYPT, Pbkdf2, Scrypt
from tests.conftest import EXAMINER, PASSPHRASE, need_peer

PW = PASSPHRASE.encode()
OLD_IDENTITY = Path(__file__).parent.parent / "data" / "identity-pre-scrypt"
TINY = Scrypt(n=2**10, r=8, p=1)  # for tests of the mechanics, not of the cost
OLD_FINGERPRINT = "4c4c17fe2bb0d26132ec3acae068ae9e4b93db46f0cf6b9e31a1391784274d55"


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    # each test starts as a new process would: nothing unlocked
    forget_unlocked_keys()


def asn1(path: Path) -> list[tuple[str, str]]:
    """(type, value) of every primitive in the file, as `openssl asn1parse` reads them."""
    out = subprocess.run(
        ["openssl", "asn1parse", "-in", str(path)], capture_output=True, text=True, check=True
    ).stdout
    rows = []
    for line in out.splitlines():
        if "prim:" not in line:
            continue
        rest = line.split("prim:", 1)[1]
        if "[HEX DUMP]:" in rest:
            kind, value = rest.split("[HEX DUMP]:")
        else:
            kind, _, value = rest.partition(":")
        rows.append((kind.strip(), value.strip()))
    return rows


def openssl_pubkey_der(args: list[str], stdin: bytes | None = None) -> bytes:
    return subprocess.run(
        ["openssl", *args, "-pubout", "-outform", "DER"],
        input=stdin,
        capture_output=True,
        check=True,
    ).stdout


def cert_pubkey_der(cert_pem: Path) -> bytes:
    pem = subprocess.run(
        ["openssl", "x509", "-in", str(cert_pem), "-pubkey", "-noout"],
        capture_output=True,
        check=True,
    ).stdout
    return openssl_pubkey_der(["pkey", "-pubin"], pem)


# -- the format of new keys ------------------------------------------------------------------
def test_keys_init_writes_scrypt_pkcs8_that_openssl_decrypts(
    runner: CliRunner, ek_home: Path
) -> None:
    need_peer("openssl")
    res = runner.invoke(cli, ["keys", "init", "--name", EXAMINER])
    assert res.exit_code == 0, res.output
    (folder,) = (ek_home / "identities").iterdir()
    key = folder / "key.pem"
    assert key.stat().st_mode & 0o777 == 0o600
    rows = asn1(key)
    kinds = [v for k, v in rows if k == "OBJECT"]
    assert kinds == ["PBES2", "scrypt", "aes-256-cbc"]
    ints = [int(v, 16) for k, v in rows if k == "INTEGER"]
    assert ints == [2**17, 8, 1]
    octets = [v for k, v in rows if k == "OCTET STRING"]
    salt, iv, ciphertext = octets
    assert len(bytes.fromhex(salt)) == 16 and len(bytes.fromhex(iv)) == 16
    # decrypt with OpenSSL alone, from the parameters OpenSSL read out of the file
    derived = subprocess.run(
        [
            "openssl", "kdf", "-keylen", "32", "-kdfopt", f"pass:{PASSPHRASE}",
            "-kdfopt", f"hexsalt:{salt}", "-kdfopt", "n:131072", "-kdfopt", "r:8",
            "-kdfopt", "p:1", "-kdfopt", "maxmem_bytes:300000000", "SCRYPT",
        ],
        capture_output=True, text=True, check=True,
    ).stdout.strip().replace(":", "")  # fmt: skip
    plain = subprocess.run(
        ["openssl", "enc", "-d", "-aes-256-cbc", "-K", derived, "-iv", iv],
        input=bytes.fromhex(ciphertext),
        capture_output=True,
        check=True,
    ).stdout
    assert openssl_pubkey_der(["pkey", "-inform", "DER"], plain) == cert_pubkey_der(
        folder / "cert.pem"
    )


def test_openssl_reads_our_file_and_we_read_openssls(tmp_path: Path) -> None:
    # OpenSSL caps scrypt at 32 MiB when it decrypts PKCS#8, so this round trip uses 16 MiB; the
    # structure is the same as the default's (previous test).
    need_peer("openssl")
    key = ec.generate_private_key(ec.SECP256R1())
    ours = tmp_path / "ours.pem"
    write_key(ours, key, PW, Scrypt(n=2**14, r=8, p=1))
    theirs_pub = subprocess.run(
        ["openssl", "pkey", "-in", str(ours), "-passin", f"pass:{PASSPHRASE}", "-pubout"],
        capture_output=True,
        check=True,
    ).stdout
    assert serialization.load_pem_public_key(theirs_pub).public_numbers() == (
        key.public_key().public_numbers()
    )
    plain = tmp_path / "plain.pem"
    plain.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    for name, opts in {
        "scrypt": ["-scrypt", "-scrypt_N", "16384", "-scrypt_r", "8", "-scrypt_p", "1"],
        "pbkdf2": ["-v2", "aes-128-cbc", "-v2prf", "hmacWithSHA512", "-iter", "600000"],
    }.items():
        out = tmp_path / f"{name}.pem"
        subprocess.run(
            [
                "openssl",
                "pkcs8",
                "-topk8",
                "-in",
                str(plain),
                "-out",
                str(out),
                *opts,
                "-passout",
                f"pass:{PASSPHRASE}",
            ],
            check=True,
            capture_output=True,
        )
        loaded = read_key(out, PW, name)
        assert loaded.private_numbers() == key.private_numbers(), name
        with pytest.raises(IdentityError, match="wrong passphrase"):
            read_key(out, b"wrong passphrase 1", name)


# -- keys written before ---------------------------------------------------------------------
def test_identity_written_by_the_pre_change_code_unlocks_and_signs(ek_home: Path) -> None:
    folder = ek_home / "identities" / OLD_FINGERPRINT[:16]
    shutil.copytree(OLD_IDENTITY, folder, ignore=shutil.ignore_patterns("README*"))
    (folder / "key.pem").chmod(0o600)
    store = IdentityStore(ek_home)
    info = store.find("Trần Thị Khoá Cũ")
    assert info.fingerprint == OLD_FINGERPRINT
    ident = store.unlock(info, PW)
    signature = ident.sign(b"bien ban")
    assert verify_signature(ident.certificate, b"bien ban", signature)
    forget_unlocked_keys()
    with pytest.raises(IdentityError, match="wrong passphrase"):
        store.unlock(info, b"sai mat khau roi")
    # the file itself is not rewritten by unlocking: old files stay as they were
    assert (folder / "key.pem").read_bytes() == (OLD_IDENTITY / "key.pem").read_bytes()


def test_key_written_with_the_old_code_path_loads(tmp_path: Path) -> None:
    # what keyfile.write_key did before: cryptography's BestAvailableEncryption PKCS#8 PEM
    key = ec.generate_private_key(ec.SECP256R1())
    old = tmp_path / "old.pem"
    old.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(PW),
        )
    )
    parsed = pkcs8.parse_pem(old.read_bytes())
    assert isinstance(parsed.kdf, Pbkdf2) and parsed.kdf.prf == "sha256"
    assert read_key(old, PW, "old").private_numbers() == key.private_numbers()
    with pytest.raises(IdentityError, match="wrong passphrase"):
        read_key(old, PW + b"x", "old")


def test_new_key_loads_with_our_reader_and_not_a_wrong_passphrase(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    path = tmp_path / "key.pem"
    write_key(path, key, PW)
    assert pkcs8.parse_pem(path.read_bytes()).kdf == DEFAULT_SCRYPT
    assert read_key(path, PW, "k").private_numbers() == key.private_numbers()
    with pytest.raises(IdentityError, match="wrong passphrase"):
        read_key(path, "mật khẩu thử nghiệm.".encode(), "k")
    with pytest.raises(FileExistsError):
        write_key(path, key, PW)


# -- hostile or damaged key files ------------------------------------------------------------
def _der_int(value: int) -> bytes:
    return pkcs8._int(value)


def _forge(tmp_path: Path, kdf_params: bytes, kdf_oid: str = pkcs8.OID_SCRYPT) -> Path:
    """A key file whose KDF parameters are `kdf_params` (DER content of the SEQUENCE)."""
    alg = pkcs8._seq(
        pkcs8._oid(pkcs8.OID_PBES2),
        pkcs8._seq(
            pkcs8._seq(pkcs8._oid(kdf_oid), pkcs8._seq(kdf_params)),
            pkcs8._seq(pkcs8._oid("2.16.840.1.101.3.4.1.42"), pkcs8._octets(bytes(16))),
        ),
    )
    der = pkcs8._seq(alg, pkcs8._octets(bytes(144)))
    import base64

    path = tmp_path / "hostile.pem"
    path.write_bytes(
        b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
        + base64.encodebytes(der)
        + b"-----END ENCRYPTED PRIVATE KEY-----\n"
    )
    return path


SALT = pkcs8._octets(bytes(16))


@pytest.mark.parametrize(
    ("params", "oid", "message"),
    [
        (SALT + _der_int(2**30) + _der_int(8) + _der_int(1), pkcs8.OID_SCRYPT, "N=1073741824"),
        (SALT + _der_int(2**17) + _der_int(1024) + _der_int(1), pkcs8.OID_SCRYPT, "r=1024"),
        (SALT + _der_int(2**17) + _der_int(8) + _der_int(64), pkcs8.OID_SCRYPT, "p=64"),
        (SALT + _der_int(2**17 + 1) + _der_int(8) + _der_int(1), pkcs8.OID_SCRYPT, "power of two"),
        # p alone can ask for the memory (scrypt's B is 128·r·p bytes)
        (SALT + _der_int(2) + _der_int(1) + _der_int(2**21), pkcs8.OID_SCRYPT, "p=2097152"),
        (SALT + _der_int(0) + _der_int(8) + _der_int(1), pkcs8.OID_SCRYPT, "N=0"),
        (SALT + _der_int(2**31 - 1), pkcs8.OID_PBKDF2, "2147483647 PBKDF2 iterations"),
        (SALT + _der_int(0), pkcs8.OID_PBKDF2, "0 PBKDF2 iterations"),
        (pkcs8._octets(b"1234") + _der_int(2048), pkcs8.OID_PBKDF2, "salt of 4 bytes"),
        (SALT + _der_int(2048), "1.2.3.4", "key derivation 1.2.3.4"),
        (SALT + pkcs8._tlv(0x02, bytes(9) + b"\x01") + _der_int(8) + _der_int(1), pkcs8.OID_SCRYPT,
         "too large"),
    ],
)  # fmt: skip
def test_out_of_bounds_parameters_are_refused_before_any_work(
    tmp_path: Path,
    ek_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    params: bytes,
    oid: str,
    message: str,
) -> None:
    def no_work(*_a: object, **_k: object) -> bytes:
        raise AssertionError("a key derivation ran for a refused key file")

    monkeypatch.setattr(pkcs8.hashlib, "scrypt", no_work)
    monkeypatch.setattr(pkcs8.hashlib, "pbkdf2_hmac", no_work)
    path = _forge(tmp_path, params, oid)
    with pytest.raises(IdentityError, match=message):
        read_key(path, PW, "hostile")


def test_parameters_inside_the_bounds_never_fail_inside_the_kdf(tmp_path: Path) -> None:
    # a large p with a small N needs memory beyond N·r: the bound and hashlib's maxmem agree
    key = ec.generate_private_key(ec.SECP256R1())
    path = tmp_path / "k.pem"
    write_key(path, key, PW, Scrypt(n=2**8, r=1, p=2**12))
    assert read_key(path, PW, "k").private_numbers() == key.private_numbers()


def test_a_hostile_key_file_in_an_identity_folder_is_exit_1_naming_it(
    runner: CliRunner, ek_home: Path, tmp_path: Path, identity: object
) -> None:
    (folder,) = (ek_home / "identities").iterdir()
    forged = _forge(tmp_path, SALT + _der_int(2**20) + _der_int(64) + _der_int(16))
    (folder / "key.pem").write_bytes(forged.read_bytes())
    forget_unlocked_keys()
    res = runner.invoke(
        cli, ["case", "init", str(tmp_path / "c"), "--case-number", "1", "--title", "t"]
    )
    assert res.exit_code == 1, res.output
    assert "N=1048576, r=64, p=16" in res.output and "damaged or hostile" in res.output
    assert f"identity {EXAMINER!r}" in res.output


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "no PEM block"),
        (b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "'PRIVATE KEY'"),
        (b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n!!!!\n-----END ENCRYPTED PRIVATE KEY-----\n",
         "not base64"),
        (b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n",
         "not valid DER"),
        (b"x" * (pkcs8.MAX_KEY_FILE_BYTES + 1), "larger than"),
        (b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n", "no END line"),
        (b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n" * 1700, "no END line"),
    ],
)  # fmt: skip
def test_damaged_key_files_are_named(tmp_path: Path, data: bytes, message: str) -> None:
    path = tmp_path / "key.pem"
    path.write_bytes(data)
    with pytest.raises(IdentityError, match=message):
        read_key(path, PW, "damaged")


def test_trailing_bytes_and_pbes1_are_refused(tmp_path: Path) -> None:
    need_peer("openssl")
    key = ec.generate_private_key(ec.SECP256R1())
    good = tmp_path / "good.pem"
    write_key(good, key, PW, TINY)
    der = pkcs8.parse_pem(good.read_bytes())
    assert der.kdf == Scrypt(n=2**10, r=8, p=1)
    body = subprocess.run(
        ["openssl", "base64", "-d", "-in", "/dev/stdin"],
        input=b"".join(good.read_bytes().splitlines(keepends=True)[1:-1]),
        capture_output=True,
        check=True,
    ).stdout
    with pytest.raises(IdentityError, match="trailing"):
        pkcs8.parse_der(body + b"\x00")
    plain = tmp_path / "plain.pem"
    plain.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    pbes1 = tmp_path / "pbes1.pem"
    subprocess.run(
        ["openssl", "pkcs8", "-topk8", "-in", str(plain), "-out", str(pbes1), "-v1",
         "PBE-SHA1-3DES", "-passout", f"pass:{PASSPHRASE}"],
        check=True, capture_output=True,
    )  # fmt: skip
    with pytest.raises(IdentityError, match="not PBES2"):
        read_key(pbes1, PW, "pbes1")


def test_a_fifo_or_device_as_key_file_is_refused_not_waited_on(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "key.pem"
    os.mkfifo(fifo)
    with pytest.raises(IdentityError, match="not a regular file"):
        read_key(fifo, PW, "fifo")
    with pytest.raises(IdentityError, match="not a regular file"):
        read_key(Path("/dev/zero"), PW, "zero")


# -- unlock once per process -----------------------------------------------------------------
class KdfCounter:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        real = hashlib.scrypt

        def counting(*args: object, **kwargs: object) -> bytes:
            self.calls += 1
            return real(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(pkcs8.hashlib, "scrypt", counting)


def test_one_derivation_per_identity_and_process(
    ek_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = IdentityStore(ek_home)
    created = store.create(EXAMINER, PW, kdf=TINY)
    counter = KdfCounter(monkeypatch)
    # created in this process: unlocking it needs no derivation
    first = store.unlock(created.info, PW)
    assert counter.calls == 0
    forget_unlocked_keys()
    for _ in range(5):
        again = IdentityStore(ek_home).load(None, lambda _name: PW)
    assert counter.calls == 1
    assert again.private_key.private_numbers() == first.private_key.private_numbers()
    # a wrong passphrase is never answered from the cache
    with pytest.raises(IdentityError, match="wrong passphrase"):
        store.unlock(created.info, b"mat khau sai 123")
    assert counter.calls == 2
    # nothing about the unlocked key is written anywhere
    files = {p: p.read_bytes() for p in ek_home.rglob("*") if p.is_file()}
    assert sorted(p.name for p in files) == ["cert.pem", "identity.json", "key.pem"]


def test_a_replaced_key_file_is_derived_again(
    ek_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = IdentityStore(ek_home)
    created = store.create(EXAMINER, PW, kdf=TINY)
    key_path = created.info.path / "key.pem"
    other_pw = "mật khẩu mới của tôi".encode()
    key_path.unlink()
    write_key(key_path, created.private_key, other_pw, TINY)
    counter = KdfCounter(monkeypatch)
    with pytest.raises(IdentityError, match="wrong passphrase"):
        store.unlock(created.info, PW)  # the cached key belongs to the old file's bytes
    assert counter.calls == 2  # the wrong Vietnamese passphrase is tried as NFC and as NFD
    assert store.unlock(created.info, other_pw).fingerprint == created.fingerprint
    assert counter.calls == 3


def test_many_signing_commands_in_one_process_derive_once(
    runner: CliRunner, ek_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    res = runner.invoke(cli, ["keys", "init", "--name", EXAMINER])
    assert res.exit_code == 0, res.output
    forget_unlocked_keys()
    counter = KdfCounter(monkeypatch)
    case = tmp_path / "case"
    res = runner.invoke(
        cli, ["case", "init", str(case), "--case-number", "VKS-1", "--title", "Vụ án"]
    )
    assert res.exit_code == 0, res.output
    for i in range(3):
        res = runner.invoke(cli, ["--case", str(case), "custody", "note", "-", f"ghi chú {i}"])
        assert res.exit_code == 0, res.output
    assert counter.calls == 1


def test_a_passphrase_opens_its_key_whether_typed_composed_or_decomposed(
    runner: CliRunner, ek_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nfd = unicodedata.normalize("NFD", PASSPHRASE)
    assert nfd != PASSPHRASE
    monkeypatch.delenv("EVIDENCEKIT_PASSPHRASE")
    typed = tmp_path / "typed-on-a-mac.txt"
    typed.write_text(nfd + "\n", "utf-8")
    res = runner.invoke(cli, ["--passphrase-file", str(typed), "keys", "init", "--name", EXAMINER])
    assert res.exit_code == 0, res.output
    (folder,) = (ek_home / "identities").iterdir()
    forget_unlocked_keys()
    # encrypted under the NFC form, whatever form was typed
    plain = pkcs8.decrypt(pkcs8.parse_pem((folder / "key.pem").read_bytes()), PW)
    assert plain is not None
    assert serialization.load_der_private_key(plain, None)
    # both forms open it, through the CLI
    for form in (PASSPHRASE, nfd):
        forget_unlocked_keys()
        monkeypatch.setenv("EVIDENCEKIT_PASSPHRASE", form)
        res = runner.invoke(cli, ["keys", "show"])
        assert res.exit_code == 0
        assert read_key(folder / "key.pem", form.encode(), "k")
    # a key made before, under the NFC bytes, opens with the NFD form too
    old = tmp_path / "old.pem"
    shutil.copy(OLD_IDENTITY / "key.pem", old)
    assert read_key(old, nfd.encode(), "old")
    # and a passphrase that is not UTF-8 is used as it is
    weird = tmp_path / "latin1.pem"
    write_key(weird, ec.generate_private_key(ec.SECP256R1()), b"m\xe2t kh\xe2u 1234", TINY)
    assert read_key(weird, b"m\xe2t kh\xe2u 1234", "latin1")


def test_the_test_hook_is_used_by_no_production_code() -> None:
    # IdentityStore.create(kdf=...) exists for the suite's fixture only (docs/keys.md)
    import ast

    import evidencekit

    root = Path(evidencekit.__file__).parent
    offenders = []
    for source in root.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text("utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "create"
                and any(k.arg == "kdf" for k in node.keywords)
            ):
                offenders.append(f"{source.relative_to(root)}:{node.lineno}")
    assert offenders == []


def test_signature_from_cached_key_verifies(ek_home: Path) -> None:
    store = IdentityStore(ek_home)
    store.create(EXAMINER, PW, kdf=TINY)
    ident = store.load(None, lambda _n: PW)
    sig = ident.sign(b"data")
    ident.certificate.public_key().verify(sig, b"data", ec.ECDSA(hashes.SHA256()))
