"""One `--trust` option (issue 15): every command that takes it takes the same one — the same
help, a certificate file that must exist, repeatable — so a reader learns it once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
from click.testing import CliRunner

from evidencekit.cli.main import cli


def _commands(
    group: click.Group, path: tuple[str, ...] = ()
) -> Iterator[tuple[str, click.Command]]:
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        assert cmd is not None
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, (*path, name))
        else:
            yield " ".join((*path, name)), cmd


def test_every_trust_option_is_the_shared_one() -> None:
    found = {}
    for name, cmd in _commands(cli):
        for param in cmd.params:
            if "--trust" in getattr(param, "opts", ()):
                assert isinstance(param, click.Option)
                found[name] = (param.help, param.multiple, param.callback, param.metavar)
    # the commands that check signatures for a reader outside the case
    assert {"verify", "report verify", "custody verify"} <= set(found), sorted(found)
    assert len(set(found.values())) == 1, found
    _help, multiple, callback, metavar = next(iter(found.values()))
    assert multiple and callback is not None and metavar == "CERT.pem|sha256:HEX"


def test_a_missing_trust_file_is_a_usage_error(tmp_path: Path) -> None:
    missing = tmp_path / "không có.pem"
    for args in (["verify", str(tmp_path)], ["custody", "verify"]):
        result = CliRunner().invoke(cli, [*args, "--trust", str(missing)])
        assert result.exit_code == 2, result.output
        assert "does not exist" in result.output
