"""Tests of evidencekit.acquire.source (the tree mirrors the package)."""
