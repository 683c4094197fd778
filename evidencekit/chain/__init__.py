"""Chain of custody: events, ledger storage, Merkle tree, checkpoints, proofs, exports.
Imports `hash` only, never `acquire`."""
