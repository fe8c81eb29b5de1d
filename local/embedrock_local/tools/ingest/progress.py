"""A progress bar over lines: rich if installed, else tqdm, else a line on stderr now and then."""

from __future__ import annotations

import sys
import time
from typing import Any, Protocol


class Bar(Protocol):
    def start(self, total: int) -> None: ...

    def advance(self, lines: int) -> None: ...

    def close(self) -> None: ...


def make_bar(description: str, *, enabled: bool = True) -> Bar:
    if not enabled:
        return _Silent()
    try:
        return _Rich(description)
    except ImportError:
        pass
    try:
        return _Tqdm(description)
    except ImportError:
        return _Plain(description)


class _Silent:
    def start(self, total: int) -> None:
        pass

    def advance(self, lines: int) -> None:
        pass

    def close(self) -> None:
        pass


class _Rich:
    def __init__(self, description: str) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("lines"),
            TimeRemainingColumn(),
            transient=False,
        )
        self._description = description
        self._task: Any = None

    def start(self, total: int) -> None:
        if self._task is None:
            self._progress.start()
            self._task = self._progress.add_task(self._description, total=total)

    def advance(self, lines: int) -> None:
        if self._task is not None:
            self._progress.advance(self._task, lines)

    def close(self) -> None:
        if self._task is not None:
            self._progress.stop()


class _Tqdm:
    def __init__(self, description: str) -> None:
        import tqdm

        self._tqdm = tqdm.tqdm
        self._description = description
        self._bar: Any = None

    def start(self, total: int) -> None:
        if self._bar is None:
            self._bar = self._tqdm(total=total, desc=self._description, unit="line")

    def advance(self, lines: int) -> None:
        if self._bar is not None:
            self._bar.update(lines)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


class _Plain:
    def __init__(self, description: str) -> None:
        self._description = description
        self._done = self._total = 0
        self._last = 0.0

    def start(self, total: int) -> None:
        self._total = total

    def advance(self, lines: int) -> None:
        self._done += lines
        if time.monotonic() - self._last >= 1 or self._done >= self._total:
            self._last = time.monotonic()
            print(f"{self._description}: {self._done}/{self._total} lines", file=sys.stderr, flush=True)

    def close(self) -> None:
        pass
