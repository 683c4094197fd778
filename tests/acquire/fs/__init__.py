"""Tests of evidencekit.acquire.fs (the tree mirrors the package)."""
