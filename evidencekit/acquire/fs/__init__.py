"""File systems inside images and live folders: the typed model and `open_image`, the Sleuth Kit,
dfvfs and libyal adapters, LUKS, LVM, and how each back-end's times and streams are read."""
