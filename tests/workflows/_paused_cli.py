"""The barrier for race and kill tests is tests/paused.py (one for every test); this name is kept
for commands and branches that still run `python -m tests.workflows._paused_cli`."""

from tests.paused import main

if __name__ == "__main__":
    main()
