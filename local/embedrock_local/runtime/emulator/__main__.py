"""python -m embedrock_local.runtime.emulator: the same command as `embedrock emulator`."""

from .command import build_parser, main

__all__ = ["build_parser", "main"]

if __name__ == "__main__":
    raise SystemExit(main())
