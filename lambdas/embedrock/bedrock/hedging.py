"""When to send a second, hedged attempt of a Bedrock call that is slower than usual.

A call still unanswered after the hedge delay gets a twin with the same body; the first answer
wins and the other is ignored. The delay is a percentile of the latencies recently seen (a call
slower than most) or a fixed threshold. A hedge is a second InvokeModel: it counts against the
model's "On-demand InvokeModel requests per minute" and "tokens per minute" quotas (AWS, Amazon
Bedrock User Guide, "Request an increase for Amazon Bedrock quotas" and "Quotas for the
bedrock-runtime endpoint"), and on demand Bedrock charges for the tokens it processes (AWS
re:Post, "Bedrock pricing: is there any additional cost..."; the pricing page itself was not
readable offline). Whether Bedrock bills a call whose caller stopped waiting is not documented:
this layer assumes it does. So hedges are bounded by a budget: each first attempt earns
`budget` of a hedge (0.05: one hedge per 20 calls), a hedge spends a whole one, and the balance
is capped so that a quiet spell cannot save up a burst. A hedge is never sent when the request's
deadline would pass before a typical call could answer.

The policy is shared by the threads of a warm container, so it locks around its state; its clock
is injectable so that tests drive it without waiting.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from threading import Lock

# Latencies kept for the percentile: enough that a short run of very slow calls cannot become
# the percentile itself (at 1 % slow calls a p98 of 1,024 holds ~10 of them, 20 would be needed),
# few enough to follow a change in Bedrock's latency within a few requests.
WINDOW = 1024
# The percentiles are sorted out of the window again after this many new latencies, not on every
# call: sorting 1,024 floats per call would cost more CPU than the call's own bookkeeping.
REFRESH_EVERY = 32
# Below this many samples a percentile says little: the fixed threshold applies, if any.
MIN_SAMPLES = 20
# The most hedges the budget may hold at once: enough for a burst of slow calls within one large
# fan-out (256 calls earn 12.8 at 5 %), while the long-run share stays the budget.
MAX_BALANCE = 32.0


@dataclass(frozen=True)
class HedgeStats:
    first_attempts: int
    hedges: int
    refused_budget: int  # slow calls left unhedged because the budget held no hedge
    refused_deadline: int  # slow calls left unhedged because the deadline was too close


class HedgePolicy:
    def __init__(
        self,
        *,
        percentile: float | None = None,
        after_seconds: float | None = None,
        budget: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if percentile is None and after_seconds is None:
            raise ValueError("a hedge policy needs a percentile, a fixed threshold, or both")
        if percentile is not None and not 0 < percentile < 100:
            raise ValueError("percentile must be between 0 and 100")
        if after_seconds is not None and after_seconds <= 0:
            raise ValueError("after_seconds must be positive")
        if not 0 < budget <= 1:
            raise ValueError("budget must be more than 0 and at most 1")
        self._percentile = percentile
        self._after = after_seconds
        self._budget = budget
        self._clock = clock
        self._lock = Lock()
        self._latencies: deque[float] = deque(maxlen=WINDOW)
        self._since_refresh = 0
        self._cached: tuple[float | None, float | None] = (None, None)  # (percentile, median)
        self._balance = 0.0
        self._first_attempts = 0
        self._hedges = 0
        self._refused_budget = 0
        self._refused_deadline = 0

    def now(self) -> float:
        return self._clock()

    def record(self, seconds: float) -> None:
        """A first attempt's latency (from its start to its answer, or its failure)."""
        with self._lock:
            self._latencies.append(seconds)
            self._since_refresh += 1
            if self._since_refresh >= REFRESH_EVERY or len(self._latencies) == MIN_SAMPLES:
                self._refresh()

    def started(self) -> None:
        """A first attempt was sent: it earns its share of a hedge."""
        with self._lock:
            self._first_attempts += 1
            self._balance = min(MAX_BALANCE, self._balance + self._budget)

    def delay(self) -> float | None:
        """Seconds to wait for a first attempt before hedging it; None: do not hedge (yet).

        With both a percentile and a threshold, the larger: the threshold is a floor that keeps
        a run of fast answers from making every ordinary call look slow.
        """
        with self._lock:
            learned = self._cached[0]
        candidates = [value for value in (learned, self._after) if value is not None]
        return max(candidates) if candidates else None

    def try_hedge(self, deadline: float | None) -> bool:
        """Spend a hedge if the budget holds one and a typical call still fits before `deadline`."""
        with self._lock:
            if self._balance < 1.0:
                self._refused_budget += 1
                return False
            typical = self._cached[1] or self._after or 0.0
            if deadline is not None and self._clock() + typical >= deadline:
                self._refused_deadline += 1
                return False
            self._balance -= 1.0
            self._hedges += 1
            return True

    def stats(self) -> HedgeStats:
        with self._lock:
            return HedgeStats(
                self._first_attempts, self._hedges, self._refused_budget, self._refused_deadline
            )

    def _refresh(self) -> None:
        """Recompute the hedge percentile and the median from the window; under the lock."""
        self._since_refresh = 0
        if len(self._latencies) < MIN_SAMPLES:
            self._cached = (None, None)
            return
        ordered = sorted(self._latencies)
        wanted = None if self._percentile is None else _nearest_rank(ordered, self._percentile)
        self._cached = (wanted, _nearest_rank(ordered, 50.0))


def _nearest_rank(ordered: list[float], percentile: float) -> float:
    # Nearest-rank percentile: an observed latency, never an interpolation past the data.
    return ordered[max(1, math.ceil(percentile / 100 * len(ordered))) - 1]
