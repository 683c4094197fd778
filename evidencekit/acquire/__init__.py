"""Acquisition: sources (files, block devices, images), the resilient reader, writers (raw, split,
E01), logical collection (PAX tar + DFXML), manifests. Imports `hash` only, never `chain`."""
