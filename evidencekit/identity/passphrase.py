"""The minimum strength of the passphrase that protects a new key (`keys init`, `keys import`).

The rule, simple enough to state in one error line and documented in docs/keys.md:

- at least `MIN_CHARACTERS` characters, counted after Unicode NFC normalisation, so a Vietnamese
  letter such as "ậ" counts once however the keyboard composed it ("mật khẩu thử nghiệm" is 19);
- characters of at least two of the classes letters, digits and others (spaces, punctuation,
  symbols): "several words with spaces" passes, a single long word or a number does not;
- at least `MIN_DISTINCT` different characters ("aaaaaaaaaaa1" does not pass).

It is a floor against the trivially guessable, not an estimate of entropy: the KDF (scrypt) makes
each guess cost ~0.4 s, and this rule keeps the number of guesses out of reach of a dictionary of
short words. Existing keys are never re-checked: the rule applies when a key is encrypted.
"""

from __future__ import annotations

import unicodedata

from evidencekit.errors import UsageError

MIN_CHARACTERS = 12
MIN_DISTINCT = 6
MIN_CLASSES = 2

RULE = (
    f"at least {MIN_CHARACTERS} characters (counted after NFC normalisation), from at least "
    f"{MIN_CLASSES} of: letters, digits, others (space, punctuation, symbols), with at least "
    f"{MIN_DISTINCT} different characters"
)


def char_class(ch: str) -> str:
    """'letter', 'digit' or 'other' (Unicode general category L/M, N, anything else)."""
    category = unicodedata.category(ch)[0]
    if category in "LM":
        return "letter"
    if category == "N":
        return "digit"
    return "other"


def check_new_passphrase(passphrase: bytes) -> None:
    """Refuse a passphrase too weak to protect a new key.

    Raises:
        UsageError: not UTF-8 text, or weaker than `RULE` (the message says which part fails).
    """
    try:
        text = unicodedata.normalize("NFC", passphrase.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise UsageError(
            "the passphrase is not UTF-8 text",
            hint="save the passphrase file as UTF-8 (or type the passphrase at the prompt)",
        ) from exc
    if not text:
        raise UsageError("the passphrase is empty", hint=f"a key must be encrypted at rest: {RULE}")
    problems: list[str] = []
    if len(text) < MIN_CHARACTERS:
        problems.append(f"it has {len(text)} characters")
    classes = {char_class(ch) for ch in text}
    if len(classes) < MIN_CLASSES:
        problems.append(f"it has only {next(iter(classes))}s")
    if len(set(text)) < MIN_DISTINCT:
        problems.append(f"it has {len(set(text))} different characters")
    if problems:
        raise UsageError(
            f"the passphrase is too weak ({'; '.join(problems)}): a new key needs {RULE}",
            hint="several words separated by spaces pass, e.g. four Vietnamese words",
        )
