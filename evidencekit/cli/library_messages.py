"""The library's most common error messages and hints, in the interface language.

The library speaks English (its messages reach logs, the Python API and JSON alike); the CLI
shows the errors investigators meet most often in Vietnamese when the interface is. Each entry
is a pattern over the library's English text and the catalog's template for it; a message no
pattern knows (or one whose wording changed) is shown as the library wrote it, never wrongly.
tests/cli/test_i18n_errors.py raises the real errors, so a pattern that drifts is noticed.
"""

from __future__ import annotations

import re

from evidencekit.cli.i18n import N_, _, language

_Q = r"(?P<{}>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")"  # a Python repr() of a str

_RULE = (
    r"(?P<rule>at least (?P<chars>\d+) characters \(counted after NFC normalisation\), from at "
    r"least (?P<classes>\d+) of: letters, digits, others \(space, punctuation, symbols\), with "
    r"at least (?P<distinct>\d+) different characters)"
)

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (
        re.compile(
            pattern.format(
                **{
                    k: _Q.format(k)
                    for k in ("path", "name", "item", "selector", "home", "session", "ref")
                }
            )
        ),
        template,
    )
    for pattern, template in (
        (
            r"no case given and the current folder is not a case",
            N_("no case given and the current folder is not a case"),
        ),
        (
            r"{path} is not a case folder \(no case\.toml\)",
            N_("{path} is not a case folder (no case.toml)"),
        ),
        (
            r"wrong passphrase for identity {name} \(or its key file is damaged\)",
            N_("wrong passphrase for identity {name} (or its key file is damaged)"),
        ),
        (r"no examiner identity in {home}", N_("no examiner identity in {home}")),
        (
            r"several identities exist: (?P<names>.*); choose one with --identity "
            r"NAME_OR_FINGERPRINT or EVIDENCEKIT_IDENTITY \(evidencekit keys show --all lists "
            r"them\)",
            N_(
                "several identities exist: {names}; choose one with --identity "
                "NAME_OR_FINGERPRINT or EVIDENCEKIT_IDENTITY (evidencekit keys show --all "
                "lists them)"
            ),
        ),
        (
            r"{selector} matches (?P<n>\d+) identities: (?P<names>.*); give more of the "
            r"fingerprint \(evidencekit keys show --all lists them\)",
            N_(
                "{selector} matches {n} identities: {names}; give more of the fingerprint "
                "(evidencekit keys show --all lists them)"
            ),
        ),
        (r"no identity matches {selector}", N_("no identity matches {selector}")),
        (
            r"item {item} has no custody events yet; its first event must be one of "
            r"(?P<kinds>[a-z_, ]+), not (?P<kind>[a-z_]+)",
            N_(
                "item {item} has no custody events yet; its first event must be one of "
                "{kinds}, not {kind}"
            ),
        ),
        (
            r"item {item} already has its first event; an item is registered only once",
            N_("item {item} already has its first event; an item is registered only once"),
        ),
        (
            r"there is no item or unfinished attempt {item} to resume",
            N_("there is no item or unfinished attempt {item} to resume"),
        ),
        (
            r"pass --case DIR or set EVIDENCEKIT_CASE",
            N_("pass --case DIR or set EVIDENCEKIT_CASE"),
        ),
        (
            r"create one with: evidencekit case init DIR --case-number N --title T",
            N_("create one with: evidencekit case init DIR --case-number N --title T"),
        ),
        (
            r"check EVIDENCEKIT_PASSPHRASE or --passphrase-file",
            N_("check EVIDENCEKIT_PASSPHRASE or --passphrase-file"),
        ),
        (
            r"create one with: evidencekit keys init --name 'YOUR NAME'",
            N_("create one with: evidencekit keys init --name 'YOUR NAME'"),
        ),
        (
            r"choose one with --identity NAME_OR_FINGERPRINT or EVIDENCEKIT_IDENTITY",
            N_("choose one with --identity NAME_OR_FINGERPRINT or EVIDENCEKIT_IDENTITY"),
        ),
        (
            r"list them with: evidencekit keys show --all",
            N_("list them with: evidencekit keys show --all"),
        ),
        (
            r"register it first: evidencekit custody register (?P<id>\S+) --description …",
            N_("register it first: evidencekit custody register {id} --description …"),
        ),
        (
            r"choose a new item id for another object",
            N_("choose a new item id for another object"),
        ),
        (
            r"`evidencekit case show` lists items and unfinished attempts",
            N_("`evidencekit case show` lists items and unfinished attempts"),
        ),
        # what a SOURCE of ls / acquire files names (workflows/sources.py)
        (
            r"{name} is not an item of case (?P<number>.+) \(evidencekit case show lists them\) "
            r"nor a disk image, folder or file",
            N_(
                "{name} is not an item of case {number} (evidencekit case show lists them) nor "
                "a disk image, folder or file"
            ),
        ),
        (
            r"{name} is not a disk image, folder or file \(no such path; an item id needs a "
            r"case: --case DIR\)",
            N_(
                "{name} is not a disk image, folder or file (no such path; an item id needs a "
                "case: --case DIR)"
            ),
        ),
        (
            r"{name} is not a disk image, folder or file \(no such path\)",
            N_("{name} is not a disk image, folder or file (no such path)"),
        ),
        (
            r"{name} is item (?P<item>[A-Za-z0-9._-]+) of the case, which holds no disk image "
            r"\(E01, raw or split raw: a file collection or sealed files are not read again\)",
            N_(
                "{name} is item {item} of the case, which holds no disk image (E01, raw or split "
                "raw: a file collection or sealed files are not read again)"
            ),
        ),
        (
            r"to read the folder {name} here, give (?P<dot>\./\S+)",
            N_("to read the folder {name} here, give {dot}"),
        ),
        (
            r"to read the file {name} here, give (?P<dot>\./\S+)",
            N_("to read the file {name} here, give {dot}"),
        ),
        (r"evidencekit case show lists the items", N_("evidencekit case show lists the items")),
        # verify of an item registered and not imaged yet (workflows/verify.py)
        (
            r"item {item} is registered but not imaged yet: there is no seal to verify",
            N_("item {item} is registered but not imaged yet: there is no seal to verify"),
        ),
        # the keys use cases (workflows/keys.py); a repr() quoted otherwise than '…' (a
        # name with an apostrophe) is left as the library wrote it
        (
            r"give exactly one of --token LABEL and --slot N",
            N_("give exactly one of --token LABEL and --slot N"),
        ),
        (
            r"give --key LABEL or --key-id HEX: which key on the token signs",
            N_("give --key LABEL or --key-id HEX: which key on the token signs"),
        ),
        (
            r"--key-id '(?P<key_id>[^'\\]*)' is not hexadecimal",
            N_("--key-id {key_id!r} is not hexadecimal"),
        ),
        (
            r"identity '(?P<name>[^'\\]*)' keeps its key on a token: change the token's PIN "
            r"with the token's own tool",
            N_(
                "identity {name!r} keeps its key on a token: change the token's PIN "
                "with the token's own tool"
            ),
        ),
        # a new key's passphrase (identity/passphrase.py): the rule, and which part failed
        (r"the passphrase is empty", N_("the passphrase is empty")),
        (
            r"a key must be encrypted at rest: " + _RULE,
            N_("a key must be encrypted at rest: {rule}"),
        ),
        (
            r"the passphrase is too weak \((?P<parts>[^()]*)\): a new key needs " + _RULE,
            N_("the passphrase is too weak ({parts}): a new key needs {rule}"),
        ),
        (r"it has (?P<n>\d+) characters", N_("it has {n} characters")),
        (r"it has (?P<n>\d+) different characters", N_("it has {n} different characters")),
        (r"it has only letters", N_("it has only letters")),
        (r"it has only digits", N_("it has only digits")),
        (r"it has only others", N_("it has only others")),
        (
            r"several words separated by spaces pass, e\.g\. four Vietnamese words",
            N_("several words separated by spaces pass, e.g. four Vietnamese words"),
        ),
        # custody rules met on a seizure (chain/rules.py, workflows/seizure.py)
        (
            r"{name} is not the current custodian of {item} \((?P<holder>.*)\)",
            N_("{name} is not the current custodian of {item} ({holder})"),
        ),
        (r"nobody", N_("nobody")),
        (
            r"(?P<who>.*), who holds no key in this case",
            N_("{who}, who holds no key in this case"),
        ),
        (
            r"only the custodian records (?P<kind>[a-z_]+); anyone else must give "
            r"--override-reason, which the event records",
            N_(
                "only the custodian records {kind}; anyone else must give --override-reason, "
                "which the event records"
            ),
        ),
        (
            r"item {item} has no pending transfer to receive",
            N_("item {item} has no pending transfer to receive"),
        ),
        (
            r"the custodian records it first: evidencekit custody transfer",
            N_("the custodian records it first: evidencekit custody transfer"),
        ),
        (
            r"the physical seal of {item} is open \((?P<seals>[^)]*)\); it must be re-sealed "
            r"before it is (?P<kind>[a-z_]+)",
            N_(
                "the physical seal of {item} is open ({seals}); it must be re-sealed before it "
                "is {kind}"
            ),
        ),
        (
            r"seizure session {session} is not open: a (?P<kind>[a-z_]+) event of {item} "
            r"cannot name it",
            N_("seizure session {session} is not open: a {kind} event of {item} cannot name it"),
        ),
        (
            r"seizure session {session} is not open: a (?P<kind>[a-z_]+) event cannot name it",
            N_("seizure session {session} is not open: a {kind} event cannot name it"),
        ),
        (
            r"seizure session {session} is closed: a (?P<kind>[a-z_]+) event of {item} "
            r"cannot name it",
            N_("seizure session {session} is closed: a {kind} event of {item} cannot name it"),
        ),
        (
            r"seizure session {session} is closed: a (?P<kind>[a-z_]+) event cannot name it",
            N_("seizure session {session} is closed: a {kind} event cannot name it"),
        ),
        (
            r"record it without --session, or in a new session",
            N_("record it without --session, or in a new session"),
        ),
        # acquire disk|files, seal, convert --session: refused before any work
        (
            r"seizure session {session} is not open: nothing was done",
            N_("seizure session {session} is not open: nothing was done"),
        ),
        (
            r"seizure session {session} is closed: nothing was done",
            N_("seizure session {session} is closed: nothing was done"),
        ),
        (
            r"run it without --session, or in a new session",
            N_("run it without --session, or in a new session"),
        ),
        (
            r"open it first: evidencekit custody session open (?P<id>\S+) --place …",
            N_("open it first: evidencekit custody session open {id} --place …"),
        ),
        # case init --participant key=…
        (
            r"(?P<count>\d+) examiner\(s\) pinned by the case match key={name}",
            N_("{count} examiner(s) pinned by the case match key={name}"),
        ),
        (
            r"{item} is an original acquired image: name the working copy examined "
            r"\(--working-copy ITEM_OR_PATH\), or give --on-original REASON \(Art\. 107 "
            r"BLTTHS 2015: examination is done on copies\)",
            N_(
                "{item} is an original acquired image: name the working copy examined "
                "(--working-copy ITEM_OR_PATH), or give --on-original REASON (Art. 107 BLTTHS "
                "2015: examination is done on copies)"
            ),
        ),
        (
            r"working copy item {ref} \(SHA-256 (?P<sha>[0-9a-f]+)…\) is not shown to be a copy "
            r"of {item}: not derived from it, and its SHA-256 is none the ledger records for "
            r"(?P=item) or its copies",
            N_(
                "working copy item {ref} (SHA-256 {sha}…) is not shown to be a copy of {item}: "
                "not derived from it, and its SHA-256 is none the ledger records for {item} or "
                "its copies"
            ),
        ),
        (
            r"working copy file {path} \(SHA-256 (?P<sha>[0-9a-f]+)…\) is not shown to be a copy "
            r"of {item}: not derived from it, and its SHA-256 is none the ledger records for "
            r"(?P=item) or its copies",
            N_(
                "working copy file {path} (SHA-256 {sha}…) is not shown to be a copy of {item}: "
                "not derived from it, and its SHA-256 is none the ledger records for {item} or "
                "its copies"
            ),
        ),
        (
            r"make the working copy with `evidencekit convert (?P<id>\S+) --to raw --item "
            r"NEW_ID` \(or copy its image byte for byte\) and name that",
            N_(
                "make the working copy with `evidencekit convert {id} --to raw --item NEW_ID` "
                "(or copy its image byte for byte) and name that"
            ),
        ),
    )
)

_RULE_TEMPLATE = N_(
    "at least {chars} characters (counted after NFC normalisation), from at least {classes} of: "
    "letters, digits, others (space, punctuation, symbols), with at least {distinct} different "
    "characters"
)


def localized(text: str | None) -> str | None:
    """`text` (a library error's message or hint) in the interface language when a pattern
    knows it, else unchanged."""
    if not text:
        return text
    for pattern, template in _PATTERNS:
        found = pattern.fullmatch(text)
        if found:
            translated = _(template)
            if translated == template:
                return text
            values = found.groupdict()
            if "rule" in values:
                values["rule"] = _(_RULE_TEMPLATE).format(**values)
            if "kind" in values:
                from evidencekit.report.i18n import event_label

                values["kind"] = event_label(language(), values["kind"])
            if "holder" in values:
                values["holder"] = localized(values["holder"]) or values["holder"]
            if "parts" in values:
                values["parts"] = "; ".join(
                    localized(part) or part for part in values["parts"].split("; ")
                )
            return translated.format(**values)
    return text
