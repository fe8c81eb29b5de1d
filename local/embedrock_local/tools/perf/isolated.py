"""Run a measure in a fresh interpreter, so the environment it sets, the modules it imports
and the state it leaves (dependency overrides, loggers) never reach the caller.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def run_isolated(function: Callable[..., T], *args: object) -> T:
    """function(*args) in a spawned process (it must be importable at module level)."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(function, args)
