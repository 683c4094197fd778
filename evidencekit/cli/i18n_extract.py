"""A Babel extractor for the CLI's `--help` texts (named in babel.cfg).

Babel's Python extractor finds `_("…")`, `N_("…")` and `ngettext(…)`; this one adds what click
shows in `--help` without a call to mark it: the docstring of every function decorated as a
command or group, and every `help=` / `short_help=` / `epilog=` string given to a click decorator.
The message ids are what `evidencekit.cli.i18n.localize` looks up (`help_msgid`), so a new option
from anyone lands in the catalog at the next `make i18n`, and the completeness test fails until
it is translated.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO, Any

from babel.messages.extract import extract_python

from evidencekit.cli.i18n import help_msgid

_HELP_KEYWORDS = ("help", "short_help", "epilog")


def _is_command_decorator(node: ast.expr) -> bool:
    target = node.func if isinstance(node, ast.Call) else node
    name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
    return name in ("command", "group")


def _strings(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and any(
            _is_command_decorator(d) for d in node.decorator_list
        ):
            doc = ast.get_docstring(node, clean=False)
            if doc:
                yield node.lineno, doc
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg in _HELP_KEYWORDS:
                    value = _constant(keyword.value)
                    if value:
                        yield keyword.value.lineno, value


def _constant(node: ast.expr) -> str | None:
    """A string constant, or implicitly concatenated ones ("a " "b" is one Constant already)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def extract(fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any) -> Iterator[Any]:
    """Babel's Python messages, then the CLI's help texts."""
    source = fileobj.read()
    fileobj.seek(0)
    yield from extract_python(fileobj, keywords, comment_tags, options)
    tree = ast.parse(source)
    for lineno, text in _strings(tree):
        msgid = help_msgid(text)
        if msgid:
            yield lineno, None, msgid, []


# -- the catalog: extraction, update, compilation (`make i18n`; the tests use the same) ------

BABEL_CFG = "babel.cfg"
CLICK_METHOD_MAP = [("**.py", "python")]
CLICK_SKIP = ("_winconsole.py",)
FIXED_DATE = datetime(2026, 12, 5, tzinfo=UTC)


def _babel_cfg() -> tuple[Any, Any]:
    """The method and options maps of babel.cfg at the top of the checkout."""
    from pathlib import Path

    from babel.messages.frontend import parse_mapping_cfg

    path = Path(__file__).resolve().parents[2] / BABEL_CFG
    with open(path, encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh, filename=str(path))  # type: ignore[no-untyped-call]
    return method_map, options_map


def fresh_catalog() -> Any:
    """The messages the CLI's source (and click's) hold now, as a Babel catalog without
    locations (so an edit elsewhere in a file does not churn the catalog)."""
    from pathlib import Path

    import click
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir

    catalog = Catalog(project="evidencekit", domain="evidencekit", charset="utf-8")
    cli_dir = Path(__file__).resolve().parent
    click_dir = Path(click.__file__).resolve().parent
    for folder, method_map, options in (
        (cli_dir, *_babel_cfg()),
        (click_dir, CLICK_METHOD_MAP, {}),
    ):
        for filename, _lineno, message, comments, context in extract_from_dir(
            str(folder), method_map, options_map=options
        ):
            if folder == click_dir and filename in CLICK_SKIP:
                continue
            catalog.add(message, None, auto_comments=comments, context=context)
    return catalog


def main() -> None:
    """Write evidencekit.pot, merge it into each language's .po, compile the .mo files."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po, write_po

    from evidencekit.cli.i18n import DOMAIN, LANGUAGES, LOCALE_DIR

    template = fresh_catalog()
    with open(LOCALE_DIR / f"{DOMAIN}.pot", "wb") as fh:
        write_po(fh, template, omit_header=True, no_location=True, sort_output=True)
    for lang in LANGUAGES[1:]:
        po_path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
        po_path.parent.mkdir(parents=True, exist_ok=True)
        if po_path.exists():
            with open(po_path, "rb") as fh:
                catalog = read_po(fh, locale=lang, domain=DOMAIN)
        else:
            from babel.messages.catalog import Catalog

            catalog = Catalog(locale=lang, domain=DOMAIN, project="evidencekit", charset="utf-8")
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        # a fixed header: running `make i18n` twice gives the same bytes (the freshness test)
        catalog.fuzzy = False
        catalog.creation_date = catalog.revision_date = FIXED_DATE
        catalog.last_translator = "evidencekit developers"
        catalog.language_team = "Vietnamese"
        catalog.version = "1"
        catalog.project = "evidencekit"
        catalog.copyright_holder = "evidencekit developers"
        with open(po_path, "wb") as fh:
            write_po(fh, catalog, no_location=True, sort_output=True, width=100)
        with open(po_path.with_suffix(".mo"), "wb") as fh:
            write_mo(fh, catalog)


if __name__ == "__main__":
    main()
