"""The keys use cases' refusals moved into the library (workflows/keys.py) and are still shown
in Vietnamese by the CLI, word for word as when the command wrote them itself. Oracle: the real
process's stderr in both languages; an apostrophe in the value leaves the English text."""

from __future__ import annotations

from pathlib import Path

import pytest

from evidencekit.cli import i18n
from evidencekit.cli.library_messages import localized
from evidencekit.errors import IdentityError, UsageError
from evidencekit.workflows.keys import AddTokenRequest
from tests.cli.test_i18n_errors import run


@pytest.mark.parametrize(
    ("args", "vi", "en"),
    [
        (
            ("--token", "T", "--slot", "0", "--key", "k"),
            "hãy nêu đúng một trong hai: --token LABEL hoặc --slot N",
            "give exactly one of --token LABEL and --slot N",
        ),
        (
            ("--slot", "0"),
            "hãy nêu --key LABEL hoặc --key-id HEX: khoá nào trên token dùng để ký",
            "give --key LABEL or --key-id HEX: which key on the token signs",
        ),
        (
            ("--slot", "0", "--key-id", "zz"),
            "--key-id 'zz' không phải số hex",
            "--key-id 'zz' is not hexadecimal",
        ),
    ],
)
def test_token_request_refusals(
    tmp_path: Path, ek_home: Path, args: tuple[str, ...], vi: str, en: str
) -> None:
    module = tmp_path / "libvendor.so"
    module.write_bytes(b"\x7fELF")
    cmd = ("keys", "add-token", "--module", str(module), *args)
    got_vi = run(*cmd, cwd=tmp_path, EVIDENCEKIT_LANG="vi")
    got_en = run(*cmd, cwd=tmp_path, EVIDENCEKIT_LANG="en")
    assert got_vi.returncode == got_en.returncode == 2
    assert f"evidencekit: lỗi: {vi}\n" in got_vi.stderr
    assert f"{en}\n" in got_en.stderr


def test_the_token_passwd_refusal_and_odd_values() -> None:
    token = IdentityError(
        "identity 'Nguyễn Bá Tùng' keeps its key on a token: change the token's PIN "
        "with the token's own tool"
    )
    with pytest.raises(UsageError) as odd:
        AddTokenRequest(Path("/m.so"), slot=1, key_id="it's").token_ref()
    try:
        i18n.install("vi")
        assert localized(token.message) == (
            "danh tính 'Nguyễn Bá Tùng' giữ khoá trên token: hãy đổi mã PIN của token bằng "
            "công cụ riêng của token"
        )
        # repr() quotes this value with "…": left as the library wrote it, never mistranslated
        assert (
            localized(odd.value.message)
            == odd.value.message
            == ('--key-id "it\'s" is not hexadecimal')
        )
    finally:
        i18n.install("en")
