"""Tests of evidencekit.acquire.imaging (the tree mirrors the package)."""
