"""The interface language of the CLI: English or Vietnamese, from standard gettext catalogs.

The language is chosen, first match wins, by the global `--lang`, `EVIDENCEKIT_LANG`, the
case's language (`language` in `case.toml`), then `LANGUAGE`, `LC_ALL`, `LC_MESSAGES`, `LANG`
as read from the environment (the vi_VN locale is often not generated, so the C library's
locale is never consulted), else English. It is the interface only: `report build --lang` and
`case init --lang` still choose the language of a report and of a case.

Messages are marked `_("…")` / `ngettext(…)` in the CLI's code and `N_("…")` where they must
stay untranslated until shown; `--help` texts (docstrings and `help=`) are found by the
extractor in `evidencekit/cli/i18n_extract.py` and translated when a command is loaded
(`localize`). Click's own strings ("Usage:", "Missing argument …") come from the same catalog:
click calls `gettext.gettext` through names it imported, which `install` points at ours.

Catalogs: `evidencekit/locale/vi/LC_MESSAGES/evidencekit.po`, compiled to `.mo` and committed
(an editable install runs no build step); `make i18n` extracts and compiles, and
tests/cli/test_i18n_catalog.py fails when they are stale or a message lacks a translation.
JSON output never changes with the language.
"""

from __future__ import annotations

import gettext as _gettext
import inspect
import os
import sys
from pathlib import Path
from typing import Any

import click

DOMAIN = "evidencekit"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LANGUAGES = ("en", "vi")
DEFAULT = "en"

_current: _gettext.NullTranslations = _gettext.NullTranslations()
_language = DEFAULT


def _(message: str) -> str:
    """`message` in the interface language."""
    return _current.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form of a message for `n`, in the interface language."""
    return _current.ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark `message` for the catalog without translating it now (it is shown through `_`)."""
    return message


def language() -> str:
    """The interface language in use ("en" or "vi")."""
    return _language


def status_text(status: str | None) -> str:
    """A seal's status (`complete`, `complete-with-errors`, `incomplete`) as the report names it in
    the interface language; the status itself in English (scripts and tests read it)."""
    if _language == DEFAULT:
        return str(status)
    from evidencekit.report.i18n import status_label

    return status_label(_language, status)


def normalize(value: str | None) -> str | None:
    """ "vi", "vi_VN.UTF-8", "vi-VN", "VI" -> "vi"; "en_US" -> "en"; C/POSIX -> "en";
    anything else (or empty) -> None (not a language we speak)."""
    if not value:
        return None
    text = value.strip()
    if text in ("C", "POSIX") or text.startswith("C."):
        return "en"
    base = text.split(".", 1)[0].split("@", 1)[0].replace("-", "_").split("_", 1)[0].lower()
    return base if base in LANGUAGES else None


def from_environment(env: dict[str, str] | os._Environ[str] | None = None) -> str | None:
    """The language the environment asks for: `LANGUAGE` (a colon-separated list: its first
    language we speak), then the first set of `LC_ALL`, `LC_MESSAGES`, `LANG`."""
    env = os.environ if env is None else env
    for entry in env.get("LANGUAGE", "").split(":"):
        found = normalize(entry)
        if found:
            return found
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(var)
        if value:
            return normalize(value)
    return None


def case_language(
    case_dir: Path | None, env: dict[str, str] | os._Environ[str] | None = None
) -> str | None:
    """The `language` of the case named by `--case`, `EVIDENCEKIT_CASE` or the current folder,
    read straight from `case.toml` (None when there is no case or it cannot be read: the command
    reports that itself, in the language chosen without it)."""
    import tomllib

    env = os.environ if env is None else env
    folder = case_dir if case_dir is not None else Path(env.get("EVIDENCEKIT_CASE") or ".")
    try:
        with open(folder / "case.toml", "rb") as fh:
            doc = tomllib.load(fh)
    except (OSError, ValueError):
        return None
    case = doc.get("case")
    value = case.get("language") if isinstance(case, dict) else None
    return normalize(value) if isinstance(value, str) else None


def choose(option: str | None, case_dir: Path | None) -> str:
    """The interface language: `--lang`, `EVIDENCEKIT_LANG`, the case, the environment, English."""
    for candidate in (option, os.environ.get("EVIDENCEKIT_LANG")):
        found = normalize(candidate)
        if found:
            return found
    return case_language(case_dir) or from_environment() or DEFAULT


def translations(lang: str) -> _gettext.NullTranslations:
    """The catalog for `lang` (a NullTranslations for English, the language of the source)."""
    if lang == DEFAULT:
        return _gettext.NullTranslations()
    # fallback: an install that lost its catalogs speaks English rather than failing
    return _gettext.translation(DOMAIN, localedir=str(LOCALE_DIR), languages=[lang], fallback=True)


def install(lang: str) -> None:
    """Speak `lang` from now on, in our messages and in click's."""
    global _current, _language
    _current = translations(lang)
    _language = lang
    _patch_click()


# click's strings that it passes to gettext through a variable (no extractor sees them)
_CLICK_DYNAMIC = (N_("required"),)

_CLICK_MODULES = (
    "click.core",
    "click.decorators",
    "click.exceptions",
    "click.formatting",
    "click.parser",
    "click.termui",
    "click.types",
    "click.shell_completion",
    "click._termui_impl",
)


def _patch_click() -> None:
    """Point the `_` and `ngettext` that click's modules imported from `gettext` at ours: click
    looks its strings up in the process-wide "messages" domain of the C library's locale, which
    neither knows our catalog nor the `--lang` option."""
    for name in _CLICK_MODULES:
        module = sys.modules.get(name)
        if module is None:
            continue
        if getattr(module, "_", None) in (_gettext.gettext, _):
            module._ = _  # type: ignore[attr-defined]
        if getattr(module, "ngettext", None) in (_gettext.ngettext, ngettext):
            module.ngettext = ngettext  # type: ignore[attr-defined]


# -- --help texts ---------------------------------------------------------------------------

_ORIGINAL = "_evidencekit_msgid"


def help_msgid(text: str) -> str:
    """The catalog key of a help text: as click shows it (`inspect.cleandoc`, up to `\\f`)."""
    return inspect.cleandoc(text).partition("\f")[0].strip()


def _translated(obj: Any, attr: str) -> None:
    originals: dict[str, str | None] = obj.__dict__.setdefault(_ORIGINAL, {})
    if attr not in originals:
        originals[attr] = getattr(obj, attr, None)
    text = originals[attr]
    if not text:
        return
    msgid = help_msgid(text)
    translated = _(msgid)
    setattr(obj, attr, text if translated == msgid else translated)


def localize(command: click.Command) -> click.Command:
    """`command` (and its parameters and subcommands) with its help in the interface language.
    The English texts are kept, so a later call in another language starts from them."""
    _translated(command, "help")
    _translated(command, "short_help")
    _translated(command, "epilog")
    for param in command.params:
        if isinstance(param, click.Option):
            _translated(param, "help")
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            localize(sub)
    return command
