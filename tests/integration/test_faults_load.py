"""A bounded load run on loopback while Bedrock throttles: every answer is a 200 or a clean 429.

Short by default (it is part of `make test`); `make fuzz` runs it longer through
EMBEDROCK_LOAD_REQUESTS. The run is bounded in requests and in time and stops by itself; it
only talks to the local gateway on 127.0.0.1.
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from embedrock_local.runtime.serve import LocalRuntime
from tests.integration.conftest import API_KEY, warm_runtime

pytestmark = pytest.mark.integration

REQUESTS = int(os.environ.get("EMBEDROCK_LOAD_REQUESTS", "80"))
CLIENTS = 8
TIME_LIMIT_SECONDS = max(60.0, REQUESTS / 2)


def _request(url: str, number: int) -> tuple[int, Mapping[str, str], Any, float]:
    chooser = random.Random(number)
    kind = number % 5
    headers = {"x-api-key": API_KEY}
    if kind == 0:
        texts = [f"load text {number} {i}" for i in range(chooser.randint(1, 6))]
        call = ("POST", "/embeddings", {"texts": texts, "dimensions": 256})
    elif kind == 1:
        call = ("POST", "/v1/embeddings", {"input": f"load {number}", "encoding_format": "base64"})
    elif kind == 2:
        call = (
            "POST",
            "/similarity",
            {"query": f"q {number}", "documents": ["a b", "c d", "e f"], "top_k": 2},
        )
    elif kind == 3:
        call = ("POST", "/similarity", {"vectors": [[chooser.random() + 0.1, 1.0], [1.0, 0.5]]})
    else:
        call = ("GET", "/models", None)
    method, path, body = call
    started = time.monotonic()
    response = requests.request(method, f"{url}{path}", json=body, headers=headers, timeout=30)
    return response.status_code, response.headers, response.json(), time.monotonic() - started


@pytest.fixture(scope="module")
def throttled() -> Iterator[LocalRuntime]:
    """Two attempts per call, as in the fault tests, but the default 10 s read timeout: the
    claim here is about throttling, and on a loaded machine the 1 s read timeout of the `faults`
    runtime can turn a slow loopback answer into a (correct) 504."""
    settings = {"EMBEDROCK_MAX_ATTEMPTS": "2", "EMBEDROCK_RETRY_AFTER": "3"}
    with warm_runtime(settings) as started:
        yield started


def test_load_with_throttling_answers_only_200_or_429(throttled: LocalRuntime) -> None:
    # Given Bedrock allowing 30 calls per second, each taking 5 ms
    emulator = throttled.emulator
    assert emulator is not None
    emulator.faults.add("rate_limit", rps=30)
    emulator.faults.add("latency", latency_ms=5)

    # When 8 clients send a bounded number of mixed requests
    started = time.monotonic()
    with ThreadPoolExecutor(CLIENTS) as clients:
        results = list(clients.map(lambda number: _request(throttled.url, number), range(REQUESTS)))
    elapsed = time.monotonic() - started

    # Then every answer is a success or a throttle in the error shape, with Retry-After;
    # never a 5xx, and the run ends in bounded time
    statuses = Counter(status for status, *_ in results)
    assert set(statuses) <= {200, 429}, statuses
    assert statuses[200] >= REQUESTS // 4, statuses
    for status, headers, body, _ in results:
        if status == 429:
            assert body["error"]["type"] == "rate_limit_error" and int(headers["Retry-After"]) >= 1
    assert elapsed < TIME_LIMIT_SECONDS
    assert max(seconds for *_, seconds in results) < 29  # under API Gateway's integration timeout
