"""The time a request may still spend on Bedrock, so that it answers before anyone gives up.

API Gateway stops waiting after 29 s (its integration timeout) and Lambda stops the function
at its timeout; either way the client would get a bare 504 and the function would be billed
for retries nobody waits for. Each invocation therefore starts a deadline: the Lambda's
remaining time, capped at the request timeout, minus a margin to build the response. The
Bedrock client layer never sleeps past it, never starts an attempt after it, and answers
504 when it is reached.

The deadline lives in a context variable set by the handler around one invocation; code
outside an invocation (tests, scripts) has none and waits as long as botocore does.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar

# API Gateway's REST integration timeout: nothing answers a client later than this.
INTEGRATION_TIMEOUT_SECONDS = 29.0

_deadline: ContextVar[float | None] = ContextVar("embedrock_deadline", default=None)


def budget_seconds(context: object, *, request_timeout: float, margin: float) -> float:
    """Seconds this invocation may spend: min(Lambda's remaining time, request_timeout) - margin."""
    remaining = request_timeout
    get_remaining = getattr(context, "get_remaining_time_in_millis", None)
    if callable(get_remaining):
        # A context without a usable clock (some test doubles): the cap alone applies.
        with suppress(TypeError, ValueError):
            remaining = min(remaining, float(get_remaining()) / 1000)
    return max(0.0, remaining - margin)


@contextmanager
def running(budget: float) -> Iterator[float]:
    """Set the deadline `budget` seconds from now for the code inside the block."""
    deadline = time.monotonic() + budget
    token = _deadline.set(deadline)
    try:
        yield deadline
    finally:
        _deadline.reset(token)


def current() -> float | None:
    """The deadline of the running invocation (time.monotonic() seconds), or None."""
    return _deadline.get()


def remaining() -> float | None:
    """Seconds left before the deadline (0 when passed), or None outside an invocation."""
    deadline = _deadline.get()
    return None if deadline is None else max(0.0, deadline - time.monotonic())
