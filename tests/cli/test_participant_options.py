"""One `--participant SPEC` / `--session ID` option block (cli/options.participant_options) on
every command that records who was present: the same name, help, metavar and multiplicity
everywhere, so a command cannot drift from the others (issue 16)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from evidencekit.cli.main import cli
from evidencekit.cli.options import PARTICIPANT_HELP, SESSION_HELP
from evidencekit.identity import Identity

# command path -> whether it takes --session too
EXPECTED = {
    "custody register": True,
    "custody transfer": True,
    "custody receive": True,
    "custody note": True,
    "custody access": True,
    "custody analyse": True,
    "custody release": True,
    "custody return": True,
    "custody destroy": True,
    "custody session open": False,
    "custody seal-apply": True,
    "custody seal-open": True,
    "custody reseal": True,
    "custody attach": True,
    "case init": False,
    "acquire disk": True,
    "acquire files": True,
    "seal": True,
    "convert": True,
}


def _commands(group: click.Group, prefix: str = "") -> Iterator[tuple[str, click.Command]]:
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        assert cmd is not None
        path = f"{prefix}{name}"
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, path + " ")
        else:
            yield path, cmd


def _option(cmd: click.Command, flag: str) -> click.Option | None:
    for p in cmd.params:
        if isinstance(p, click.Option) and flag in p.opts:
            return p
    return None


def test_every_participant_option_is_the_one_definition() -> None:
    found = {}
    for path, cmd in _commands(cli):
        part = _option(cmd, "--participant")
        sess = _option(cmd, "--session")
        if part is None:
            continue
        assert part.name == "participants" and part.multiple and part.metavar == "SPEC", path
        assert part.help == PARTICIPANT_HELP, path
        if sess is not None:
            assert sess.name == "session" and not sess.multiple and sess.metavar == "ID", path
            assert sess.help == SESSION_HELP, path
        found[path] = sess is not None
    missing = {k: v for k, v in EXPECTED.items() if found.get(k) != v}
    assert not missing, f"commands without the one block (or with the wrong --session): {missing}"


def test_no_command_defines_its_own_participant_or_session_option() -> None:
    """A --session that is not the participant block's (report build's --session selects a
    session's Biên bản: it is a different option, and says so in its help)."""
    for path, cmd in _commands(cli):
        sess = _option(cmd, "--session")
        if sess is not None and _option(cmd, "--participant") is None:
            assert path == "report build", path


def test_a_bad_request_is_refused_before_the_passphrase_is_asked_for(
    case_dir: Path, identity: Identity, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The custody commands build their request, check it, and only then unlock the key: a
    mistyped participant, recipient or capacity is named without a passphrase prompt."""
    from click.testing import CliRunner

    monkeypatch.delenv("EVIDENCEKIT_PASSPHRASE")
    runner = CliRunner()
    c = ["--case", str(case_dir), "custody"]
    for args, said in (
        (["note", "X1", "n", "--participant", "role=witness,name=A"], "holds no key"),
        (["register", "X1", "--description", "d", "--capacity", "8 XB"], "capacity"),
        (["seal-apply", "X1", "--seal-number", "1", "--method", "m", "--session", ".bad"],
         "invalid session id"),
        (["transfer", "X1", "--to", "Không Ai", "--purpose", "p", "--to-role", "court"],
         "no examiner pinned"),
    ):  # fmt: skip
        res = runner.invoke(cli, [*c, *args], input="")
        assert res.exit_code == 2, (args, res.output)
        assert said in res.output, (args, res.output)
        assert "assphrase" not in res.output, (args, res.output)  # never prompted
    # with a good request the passphrase is what is missing (and nothing was recorded)
    res = runner.invoke(cli, [*c, "note", "-", "ghi chú"], input="")
    assert res.exit_code != 0 and "assphrase" in res.output, res.output
