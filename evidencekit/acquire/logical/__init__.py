"""Logical collection: entries of file systems into one PAX tar, hashed as written, with DFXML and
JSON manifests, and the verification of a sealed collection."""
