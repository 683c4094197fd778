"""The barrier of the fault suite is tests/paused.py (one for every test); this name is kept for
commands and branches that still run `python -m tests.faults._paused`."""

from tests.paused import main

if __name__ == "__main__":
    main()
