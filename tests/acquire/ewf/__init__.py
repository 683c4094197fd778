"""Tests of evidencekit.acquire.ewf (the tree mirrors the package)."""
