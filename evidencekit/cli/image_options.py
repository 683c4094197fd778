"""The options `ls` and `acquire files` share to open a disk image: keys for encrypted volumes,
the file-system type of an ambiguous partition, and the E01 stored-digest check."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

_OPTIONS = (
    click.option(
        "--password-env", metavar="VAR", help="Variable holding an encrypted volume's password."
    ),
    click.option("--recovery-key-env", metavar="VAR", help="Variable holding a recovery key."),
    click.option(
        "--key-file",
        type=click.Path(path_type=Path, dir_okay=False, exists=True),
        help="BitLocker startup key (.BEK), or LUKS key file.",
    ),
    click.option(
        "--fs-type",
        type=click.Choice(["ntfs", "fat", "exfat", "ext", "ufs", "hfs", "iso9660"]),
        help="Read image partitions as this file system (when one holds several signatures).",
    ),
    click.option(
        "--no-stored-digest-check",
        is_flag=True,
        help="Do not read an E01's whole media to compare it with its stored MD5/SHA-1.",
    ),
)


def image_options(func: F) -> F:
    """--password-env, --recovery-key-env, --key-file, --fs-type, --no-stored-digest-check."""
    for option in reversed(_OPTIONS):
        func = option(func)
    return func


def secret_from_env(var: str | None, what: str) -> str | None:
    """The value of environment variable `var` (a password or key), or None without `var`.

    Raises:
        UsageError: `var` is named but not set.
    """
    from evidencekit.cli.i18n import _
    from evidencekit.errors import UsageError

    if var is None:
        return None
    value = os.environ.get(var)
    if value is None:
        raise UsageError(
            _("environment variable {var} (for the {what}) is not set").format(
                var=repr(var), what=_(what)
            ),
            hint=_("export {var}=... before running, or name another variable").format(var=var),
        )
    return value
