"""Embedding engines: turn texts into vectors. Not Bedrock's models; see each engine's notes.

Engines register a factory by name in `engines`, so another one plugs in without touching the
backend. `minilm` is imported on first use: its dependencies (tokenizers, safetensors, the
weights) are optional.
"""

from __future__ import annotations

from collections.abc import Callable

from .base import Engine, FloatArray
from .hash import HashEngine


def _minilm() -> Engine:
    from .minilm import MiniLMEngine

    return MiniLMEngine()


engines: dict[str, Callable[[], Engine]] = {"hash": HashEngine, "minilm": _minilm}


def make_engine(name: str) -> Engine:
    try:
        factory = engines[name]
    except KeyError:
        raise ValueError(f"unknown engine {name!r}; choose one of: {', '.join(sorted(engines))}") from None
    return factory()


__all__ = ["Engine", "FloatArray", "HashEngine", "engines", "make_engine"]
