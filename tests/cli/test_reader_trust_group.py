"""One group of a reader's trust options: every command that checks signers for a reader
(`verify`, `custody verify`, `custody witness check`, `report verify`) takes the same
`--trust`, `--trust-org/-ou/-policy/-eku`, `--crl` and `--ocsp-response`."""

from __future__ import annotations

import click

from evidencekit.cli.main import cli

GROUP = ("--trust", "--trust-org", "--trust-ou", "--trust-policy", "--trust-eku", "--crl",
         "--ocsp-response")  # fmt: skip


def _command(*path: str) -> click.Command:
    cmd: click.Command = cli
    for name in path:
        assert isinstance(cmd, click.Group)
        found = cmd.get_command(click.Context(cmd), name)
        assert found is not None, path
        cmd = found
    return cmd


def test_the_reader_trust_group_is_one_and_the_same() -> None:
    seen = []
    for path in (("verify",), ("custody", "verify"), ("custody", "witness", "check"),
                 ("report", "verify")):  # fmt: skip
        options = {
            o: (p.help, p.multiple, type(p.type).__name__)
            for p in _command(*path).params
            if isinstance(p, click.Option)
            for o in p.opts
            if o in GROUP
        }
        assert sorted(options) == sorted(GROUP), (path, sorted(options))
        seen.append(options)
    assert all(s == seen[0] for s in seen)
