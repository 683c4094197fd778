"""The command-line interface: click commands, output formatting, exit codes, progress."""
