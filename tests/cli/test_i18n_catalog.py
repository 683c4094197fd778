"""The interface's catalogs are fresh and complete (evidencekit/cli/i18n.py).

Oracles: a fresh Babel extraction of the CLI's source and click's (what `make i18n` runs), and
Babel's own .po reader and .mo writer. These fail when someone adds a message without running
`make i18n`, or leaves one without a Vietnamese translation."""

from __future__ import annotations

import io
import re
import string
import unicodedata
from pathlib import Path

import pytest

pytest.importorskip("babel")

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from evidencekit.cli.i18n import DOMAIN, LOCALE_DIR
from evidencekit.cli.i18n_extract import fresh_catalog

PO = LOCALE_DIR / "vi" / "LC_MESSAGES" / f"{DOMAIN}.po"
MO = PO.with_suffix(".mo")
POT = LOCALE_DIR / f"{DOMAIN}.pot"


def _ids(catalog: object) -> set[str]:
    out = set()
    for m in catalog:  # type: ignore[attr-defined]
        if m.id:
            out.add(m.id[0] if isinstance(m.id, tuple) else m.id)
    return out


def _read(path: Path) -> object:
    with open(path, "rb") as fh:
        return read_po(fh, locale="vi" if path.suffix == ".po" else None, domain=DOMAIN)


@pytest.fixture(scope="module")
def fresh() -> set[str]:
    return _ids(fresh_catalog())


def test_the_template_is_a_fresh_extraction(fresh: set[str]) -> None:
    kept = _ids(_read(POT))
    assert fresh - kept == set(), "new messages: run `make i18n` and translate them"
    assert kept - fresh == set(), "messages no longer in the source: run `make i18n`"


def test_the_vietnamese_catalog_holds_every_message(fresh: set[str]) -> None:
    catalog = _ids(_read(PO))
    assert fresh - catalog == set(), "new messages: run `make i18n` and translate them"


def test_every_message_has_a_vietnamese_translation() -> None:
    missing, not_nfc, fuzzy = [], [], []
    for m in _read(PO):  # type: ignore[attr-defined]
        if not m.id:
            continue
        text = m.string[0] if isinstance(m.string, tuple) else m.string
        if not text or not text.strip():
            missing.append(m.id)
        elif unicodedata.normalize("NFC", text) != text:
            not_nfc.append(m.id)
        if m.fuzzy:
            fuzzy.append(m.id)
    assert missing == [], f"{len(missing)} message(s) without a Vietnamese translation"
    assert not_nfc == [] and fuzzy == []


def _fields(text: str) -> list[str]:
    braces = sorted(
        f"{name}!{conv}"
        for _lit, name, _spec, conv in string.Formatter().parse(text)
        if name is not None
    )
    percents = sorted(re.findall(r"%\([a-z_]+\)[sdr]", text))
    return braces + percents


def test_translations_keep_every_placeholder() -> None:
    """A translation that drops or renames `{name}` would raise KeyError (or lose the value)
    at the moment the message is shown."""
    wrong = []
    for m in _read(PO):  # type: ignore[attr-defined]
        if not m.id:
            continue
        msgid = m.id[0] if isinstance(m.id, tuple) else m.id
        text = m.string[0] if isinstance(m.string, tuple) else m.string
        if text and _fields(msgid) != _fields(text):
            wrong.append(msgid)
    assert wrong == []


def test_the_compiled_catalog_is_the_po_compiled() -> None:
    """An editable install runs no build: the committed .mo is what the CLI reads."""
    out = io.BytesIO()
    write_mo(out, _read(PO))  # type: ignore[arg-type]
    assert MO.read_bytes() == out.getvalue(), "stale .mo: run `make i18n`"


def test_the_checks_above_can_fail(tmp_path: Path) -> None:
    """The completeness check sees a message missing from a catalog (a test that cannot fail
    is a defect)."""
    from babel.messages.catalog import Catalog

    catalog = Catalog(locale="vi", domain=DOMAIN)
    catalog.add("Usage:", "Cách dùng:")
    assert "Options" not in _ids(catalog)
    assert _fields("{name!r} x {n}") != _fields("{name} x")


def _help_texts() -> set[str]:
    """Every help text the loaded command tree shows (built at run time too: a help string
    joined from a list, a docstring made in a loop), as `localize` looks them up."""
    import click

    from evidencekit.cli.i18n import help_msgid
    from evidencekit.cli.main import COMMANDS, cli

    ctx = click.Context(cli)
    out: set[str] = {COMMANDS[name][2] for name in COMMANDS}

    def walk(command: click.Command) -> None:
        originals = command.__dict__.get("_evidencekit_msgid", {})
        for attr in ("help", "short_help", "epilog"):
            text = originals.get(attr, getattr(command, attr, None))
            if text:
                out.add(help_msgid(text))
        for param in command.params:
            if isinstance(param, click.Option):
                text = param.__dict__.get("_evidencekit_msgid", {}).get("help", param.help)
                if text:
                    out.add(help_msgid(text))
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                if sub is not None:
                    walk(sub)

    walk(cli)
    return out


def test_every_help_text_of_the_command_tree_is_in_the_catalog() -> None:
    """The extractor reads literals; a help text computed at import time is only seen here."""
    catalog = _ids(_read(PO))
    missing = sorted(_help_texts() - catalog)
    assert missing == [], "help texts the catalog lacks (mark them with N_): " + repr(missing)
