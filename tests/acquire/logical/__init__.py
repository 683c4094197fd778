"""Tests of evidencekit.acquire.logical (the tree mirrors the package)."""
