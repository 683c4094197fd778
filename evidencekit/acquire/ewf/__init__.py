"""EWF-E01: the on-disk layout, our own writer (parallel chunk encoding, segments) and our own
reader and verifier (section walk, chunk map, stored digests)."""
