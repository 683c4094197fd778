"""Seals: `ITEM.seal.json`, a signed statement of what an evidence item's files hold.

A seal (`evidencekit/seal/2`) names the case (its identity) and the item it belongs to, lists
every artifact file of the item (its exact name, size, digests: the media's with the chosen
algorithms, a derived file's SHA-256 only), the digests of the item's logical content
(`combined`: e.g. the media of a split or E01 image, with per-window digests so a later check
names the byte ranges that changed), the caller's acquisition facts (read errors included), tool,
host and UTC times, and the examiner's certificate chain. It is encoded as RFC 8785 canonical
JSON and signed (with the examiner identity's algorithm, named in `signature.algorithm`: ECDSA
P-256/SHA-256 for a `keys init` key; RSA or P-384 from a CA or a token, docs/signing.md) over the
canonical bytes of the document without its `signature` member. Beside it, plain sums files
(`ITEM.sha256` listing every artifact, `ITEM.md5` … listing those that carry that digest) let
anyone check the artifacts with coreutils alone
(`cd evidence/ITEM && sha256sum -c ITEM.sha256`). Seals written before (`evidencekit/seal/1`)
keep verifying.

Threat model: the seal proves the files have not changed since the examiner signed; it does not
prove who holds the files now (that is the custody ledger's job). Verification therefore rejects
any edit (the file must be exactly its canonical encoding, so duplicate keys or a re-ordered copy
cannot show different values to different readers), any signer not pinned by the case or given
with `--trust`, and hostile artifact names that climb out of the item folder.

Verification never raises for a mismatch: it returns a :class:`~.status.VerifyStatus` listing
every problem precisely. Artifact formats whose logical content is not the plain concatenation of
files (E01) plug a checker in with :func:`~.plugins.register_media_verifier`; kinds that need
extra checks (a tar against its DFXML) use :func:`~.plugins.register_item_checker`.

The package exports nothing; import each name from its module. Each module imports only those on
the lines below it, and modules on one line do not import each other (the `seal-layers`
contract in setup.cfg):

- :mod:`.write` (sign and write a seal and its sums files), :mod:`.verify` (the order of checks);
- :mod:`.artifacts` (files, media windows, swaps), :mod:`.signature` (form, certificate chain,
  signature, signer; the bytes signed), :mod:`.sums` (the sums files' bytes and their check);
- :mod:`.read` (parse, load, find: nothing checked), :mod:`.plugins` (media verifiers, item
  checkers, :func:`~.plugins.compare_media`);
- :mod:`.document` (value types, schemas, name encoding, artifact locations), :mod:`.status`
  (:class:`~.status.VerifyStatus`, holding `evidencekit.problems.Problem`s).
"""
