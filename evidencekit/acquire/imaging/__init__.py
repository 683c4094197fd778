"""Imaging: the resilient reader, the imager (reader -> hashers + writers), the raw and split
writers, the ddrescue map file, the acquisition log, device reports and the free-space check."""
