"""Pacing of writes under an index's rate limits, so a large upsert is not throttled by design.

S3 Vectors allows per index at most so many write requests (PutVectors + DeleteVectors) and so
many vectors written or deleted per second (limits.WRITE_*). The pacer keeps the writes of the
last second per index and waits, before a write, until it fits both. It paces this process only:
other writers of the index are met by botocore's retries.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from threading import Lock

from embedrock.vector_store import limits

WINDOW_SECONDS = 1.0


class WritePacer:
    def __init__(
        self,
        *,
        vectors_per_second: int = limits.WRITE_VECTORS_PER_SECOND,
        requests_per_second: int = limits.WRITE_REQUESTS_PER_SECOND,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._vectors_per_second = vectors_per_second
        self._requests_per_second = requests_per_second
        self._clock = clock
        self._sleep = sleep
        self._lock = Lock()
        # index name -> (time, vectors) of each write in the last window
        self._writes: dict[str, deque[tuple[float, int]]] = {}

    def wait(self, index: str, vectors: int) -> None:
        """Block until writing `vectors` more to `index` stays under both rates, then count it."""
        if vectors > self._vectors_per_second:
            raise ValueError(f"a write of {vectors} vectors can never fit {self._vectors_per_second}/s")
        with self._lock:
            writes = self._writes.setdefault(index, deque())
            while True:
                now = self._clock()
                # The same sum as the wait below, so a wait of exactly that long always frees a slot.
                while writes and writes[0][0] + WINDOW_SECONDS <= now:
                    writes.popleft()
                written = sum(count for _, count in writes)
                if written + vectors <= self._vectors_per_second and len(writes) < self._requests_per_second:
                    writes.append((now, vectors))
                    return
                # The oldest write leaves the window first: wait until then, then look again.
                self._sleep(writes[0][0] + WINDOW_SECONDS - now)
