"""One module per command group; `evidencekit/cli/main.py` loads them lazily."""
