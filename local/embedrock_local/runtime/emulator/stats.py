"""Call counts per operation and model, errors per code, tokens, and peak concurrency.

Tests read these to check what a client really sent: how many Bedrock calls, how many
retries after a throttle, whether a concurrency cap held (max_in_flight).
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from typing import Any

ANY_MODEL = "*"  # the model key of calls that name no model (ListFoundationModels)
# InvokeModel request bodies kept, the newest last: enough for a test to read what one request
# sent, bounded so a long `embedrock emulator` run holds no more than this.
KEPT_BODIES = 32


class Stats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._calls: Counter[tuple[str, str]] = Counter()
            self._errors: Counter[tuple[str, str, str]] = Counter()
            self._tokens: Counter[str] = Counter()
            self._in_flight = 0
            self._max_in_flight = 0
            self._bodies: deque[tuple[str, dict[str, Any]]] = deque(maxlen=KEPT_BODIES)

    def begin(self) -> None:
        with self._lock:
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)

    def end(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def record(
        self, operation: str, model: str | None, error_code: str | None = None, tokens: int = 0
    ) -> None:
        key = model or ANY_MODEL
        with self._lock:
            self._calls[operation, key] += 1
            if error_code:
                self._errors[operation, key, error_code] += 1
            if tokens:
                self._tokens[key] += tokens

    def record_body(self, model: str, body: dict[str, Any]) -> None:
        with self._lock:
            self._bodies.append((model, body))

    def bodies(self, model: str | None = None) -> list[dict[str, Any]]:
        """The last InvokeModel request bodies (of `model`, if given), oldest first."""
        with self._lock:
            return [body for m, body in self._bodies if model in (None, m)]

    def calls(self, operation: str = "InvokeModel", model: str | None = None) -> int:
        with self._lock:
            return sum(n for (op, m), n in self._calls.items() if op == operation and model in (None, m))

    def errors(self, code: str | None = None, model: str | None = None) -> int:
        with self._lock:
            return sum(n for (_, m, c), n in self._errors.items() if code in (None, c) and model in (None, m))

    def input_tokens(self, model: str | None = None) -> int:
        with self._lock:
            return sum(n for m, n in self._tokens.items() if model in (None, m))

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def max_in_flight(self) -> int:
        return self._max_in_flight

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            calls: dict[str, dict[str, int]] = {}
            for (op, model), n in sorted(self._calls.items()):
                calls.setdefault(op, {})[model] = n
            errors: dict[str, dict[str, dict[str, int]]] = {}
            for (op, model, code), n in sorted(self._errors.items()):
                errors.setdefault(op, {}).setdefault(model, {})[code] = n
            return {
                "calls": calls,
                "errors": errors,
                "input_tokens": dict(sorted(self._tokens.items())),
                "in_flight": self._in_flight,
                "max_in_flight": self._max_in_flight,
            }
