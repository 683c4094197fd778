"""`python -m evidencekit` is the same as the `evidencekit` command."""

from evidencekit.cli.main import main

if __name__ == "__main__":
    main()
