"""Sources: a regular file, block device or disk image (E01, VMDK, QCOW2, VHD, split raw, a LUKS
volume) as one media stream; what a source is, device facts, the digests an image stores about
itself, and the containers refused by name."""
