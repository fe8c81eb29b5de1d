"""The time a request may still spend on Bedrock, so that it answers before anyone gives up.

API Gateway stops waiting after 29 s (its integration timeout) and Lambda stops the function
at its timeout; either way the client would get a bare 504 and the function would be billed
for retries nobody waits for. Each invocation therefore starts a deadline: the Lambda's
remaining time, capped at the request timeout, minus a margin to build the response. The
Bedrock client layer never sleeps past it, never starts an attempt after it, and answers
504 when it is reached.

API Gateway's 29 s run from when it received the request, not from when the handler starts:
a cold start (init) and the gateway's own work come first. A REST proxy event carries that
moment as `requestContext.requestTimeEpoch` (ms since the epoch; AWS, "Lambda proxy integrations
in API Gateway", input format of a Lambda function for proxy integration), so the time already
spent is taken off the request timeout. Direct invocations have no such field and start the
clock at the handler.

The deadline lives in a context variable set by the handler around one invocation; code
outside an invocation (tests, scripts) has none and waits as long as botocore does.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from contextvars import ContextVar

# API Gateway's REST integration timeout: nothing answers a client later than this.
INTEGRATION_TIMEOUT_SECONDS = 29.0

_deadline: ContextVar[float | None] = ContextVar("embedrock_deadline", default=None)


def budget_seconds(
    context: object,
    *,
    request_timeout: float,
    margin: float,
    event: object = None,
    now: float | None = None,
) -> float:
    """Seconds this invocation may spend:
    min(Lambda's remaining time, request_timeout - time since API Gateway received it) - margin.

    `now` is the wall clock (time.time()) the event's epoch is compared with; tests pass it.
    """
    remaining = request_timeout - _elapsed_seconds(
        event, request_timeout, time.time() if now is None else now
    )
    get_remaining = getattr(context, "get_remaining_time_in_millis", None)
    if callable(get_remaining):
        # A context without a usable clock (some test doubles): the cap alone applies.
        with suppress(TypeError, ValueError):
            remaining = min(remaining, float(get_remaining()) / 1000)
    return max(0.0, remaining - margin)


def _elapsed_seconds(event: object, request_timeout: float, now: float) -> float:
    """Seconds since API Gateway received the request, in [0, request_timeout]; 0 when unknown."""
    if not isinstance(event, Mapping):
        return 0.0
    request_context = event.get("requestContext")
    epoch_ms = request_context.get("requestTimeEpoch") if isinstance(request_context, Mapping) else None
    # Only a positive finite number is a time; anything else (absent, a string, a bool) is ignored.
    if isinstance(epoch_ms, bool) or not isinstance(epoch_ms, int | float):
        return 0.0
    if not math.isfinite(epoch_ms) or epoch_ms <= 0:
        return 0.0
    # A future epoch (clocks a little apart) counts as no time spent; a very old one as all of it,
    # which only costs that request a 504 that API Gateway would have sent anyway.
    return min(max(0.0, now - epoch_ms / 1000), request_timeout)


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
