"""README's commands are ones a new user can paste: they name programs and targets that exist."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from embedrock_local import cli

ROOT = Path(__file__).resolve().parents[3]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def command_lines() -> list[str]:
    """Lines of fenced shell blocks and of indented blocks, with comments dropped."""
    lines: list[str] = []
    for block in re.findall(r"^```(?:bash|sh|shell)?\n(.*?)^```", README, flags=re.M | re.S):
        lines += block.splitlines()
    lines += [line[4:] for line in README.splitlines() if line.startswith("    ") and line.strip()]
    return [line.split("  #")[0].strip() for line in lines if line.strip()]


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(actions[0].choices) if actions else {}


def test_readme_never_asks_for_a_bare_embedrock_command():
    # `embedrock` is on PATH only inside the activated virtualenv: "command not found" otherwise.
    bare = [line for line in command_lines() if re.match(r"(\S+=\S+\s+)*embedrock\s", line)]
    assert not bare, f"say .venv/bin/embedrock: {bare}"


def test_every_embedrock_command_in_readme_exists():
    commands = subcommands(cli.build_parser())
    used = [line for line in command_lines() if ".venv/bin/embedrock " in line]
    assert used, "README shows no embedrock command"
    for line in used:
        words = line.split(".venv/bin/embedrock ", 1)[1].split()
        assert words[0] in commands, f"{line}: no subcommand {words[0]!r}"
        actions = subcommands(commands[words[0]])
        if actions and len(words) > 1 and not words[1].startswith("-"):
            assert words[1] in actions, f"{line}: no {words[0]} action {words[1]!r}"


def test_every_make_target_in_readme_exists():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z][\w-]*):", makefile, flags=re.M))
    used = {
        m.group(1) for line in command_lines() for m in [re.match(r"(?:\S+=\S+\s+)*make (\S+)", line)] if m
    }
    assert used, "README shows no make command"
    assert used <= targets, f"README uses make targets the Makefile lacks: {sorted(used - targets)}"
