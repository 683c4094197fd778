"""Hashing: algorithm table, one-pass multi-hasher, window hashes, seals, canonical JSON."""
