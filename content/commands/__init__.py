"""Subcommands of `python -m content`, one module per area (see content/cli.py)."""
