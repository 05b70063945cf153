"""Subcommands of `tinygrad-edu`; each module has `register(subparsers)` (see `tinygrad_edu.cli`)."""
