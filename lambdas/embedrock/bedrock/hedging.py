"""When to send hedged attempts of a Bedrock call that is slower than usual.

A call still unanswered after the hedge delay gets a twin with the same body; a call whose
attempts are all still unanswered one more delay after the latest was sent gets another, up to
`max_hedges` per call (the "tail at scale" answer to a twin that itself draws a slow latency).
The first answer wins and the others are ignored. The delay is a percentile of the latencies
recently seen (a call slower than most) or a fixed threshold, and it is counted from the call's
start for its first hedge. A hedge is another InvokeModel: it counts against the model's
"On-demand InvokeModel requests per minute" and "tokens per minute" quotas (AWS, Amazon Bedrock
User Guide, "Request an increase for Amazon Bedrock quotas" and "Quotas for the bedrock-runtime
endpoint"), and on demand Bedrock charges for the tokens it processes (AWS re:Post, "Bedrock
pricing: is there any additional cost..."; the pricing page itself was not readable offline).
Whether Bedrock bills a call whose caller stopped waiting is not documented: this layer assumes
it does, so usage counts every hedge sent as a request, and its tokens again unless it failed
before the winner answered (embedder.py). So hedges are bounded by a budget: each first attempt
earns `budget` of a hedge (0.05: one hedge per 20 calls), every hedge (a call's second or third
attempt alike) spends a whole one, and the balance is capped so that a quiet spell cannot save up
a burst. A hedge is never sent when the request's deadline would pass before a typical call could
answer.

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
# Hedges one call may send: a twin, and another if the twin is slow too. With 1 % slow calls a twin
# is slow about once per 100 hedges, often enough to show in a request's p99; a third hedge would be
# needed about once per 10,000, and every hedge adds to the quota's requests per minute.
MAX_HEDGES_PER_CALL = 2


@dataclass(frozen=True)
class HedgeStats:
    first_attempts: int
    hedges: int
    refused_budget: int  # slow calls left unhedged because the budget held no hedge
    refused_deadline: int  # slow calls left unhedged because the deadline was too close


class HedgeSchedule:
    """One call's attempts: when its next hedge is due, and whether it may be sent."""

    def __init__(self, policy: HedgePolicy, started: float) -> None:
        self._policy = policy
        self.started = started  # the call's start, on the policy's clock
        self._latest = started  # when the latest attempt was sent
        self.hedges = 0

    def due(self) -> float | None:
        """When to hedge if no attempt has answered by then (policy clock); None: never."""
        delay = self._policy.delay()
        if delay is None or self.hedges >= self._policy.max_hedges:
            return None
        return self._latest + delay

    def hedge(self, deadline: float | None) -> bool:
        """Send one more attempt now? Within the bound, the budget and the deadline."""
        if self.hedges >= self._policy.max_hedges or not self._policy.try_hedge(deadline):
            return False
        self.hedges += 1
        self._latest = self._policy.now()
        return True


class HedgePolicy:
    def __init__(
        self,
        *,
        percentile: float | None = None,
        after_seconds: float | None = None,
        budget: float = 0.05,
        max_hedges: int = MAX_HEDGES_PER_CALL,
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
        if max_hedges < 1:
            raise ValueError("max_hedges must be 1 or more")
        self.max_hedges = max_hedges
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

    def begin(self) -> HedgeSchedule:
        """A call's first attempt is being sent: it earns its share, and its hedges are scheduled."""
        self.started()
        return HedgeSchedule(self, self.now())

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
