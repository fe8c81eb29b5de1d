"""What every `embedrock` subcommand's parser shares: one call adds it with its texts and formatter."""

from __future__ import annotations

import argparse

Subcommands = argparse._SubParsersAction  # the object `add_subparsers()` returns


def add_command(
    subcommands: Subcommands[argparse.ArgumentParser],
    name: str,
    texts: tuple[str, str],
    formatter: type[argparse.HelpFormatter] = argparse.ArgumentDefaultsHelpFormatter,
) -> argparse.ArgumentParser:
    """`texts` is (the one-line help in `embedrock --help`, the description in `embedrock NAME --help`)."""
    summary, description = texts
    return subcommands.add_parser(name, help=summary, description=description, formatter_class=formatter)
