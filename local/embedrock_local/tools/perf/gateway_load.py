"""gateway_load: the local runtime (gateway, function workers, emulator) under bounded
concurrent load on loopback, against the same requests sent one at a time.

The load comes from a separate process, so the client's threads do not compete with the
gateway's for this interpreter's GIL. Every request is bounded by a timeout; the run stops
after the fixed count.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import statistics
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from embedrock_local.runtime.serve import LocalRuntime
from embedrock_local.tools.perf.common import Result, Sizes, Timing, seconds_text
from embedrock_local.tools.perf.isolated import run_isolated

REQUEST_TIMEOUT_SECONDS = 30.0


def describe(sizes: Sizes) -> str:
    return f"{sizes.load_requests:,} POST /embeddings at concurrency {sizes.load_concurrency} on loopback"


@dataclass(frozen=True)
class Load:
    seconds: float
    latencies: list[float]
    errors: dict[str, int]  # what failed: an HTTP status or an exception's name, and how often

    def percentile(self, share: int) -> float:
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[share - 1]


def _post(connection: http.client.HTTPConnection, index: int) -> str | None:
    """One POST /embeddings; what went wrong (an HTTP status or an exception's name), if anything."""
    body = json.dumps({"texts": [f"Load test request {index}: embed this sentence"], "dimensions": 256})
    try:
        connection.request("POST", "/embeddings", body.encode(), {"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
    except (OSError, http.client.HTTPException) as error:
        connection.close()  # reconnects on the next request
        return type(error).__name__
    return None if response.status == 200 else f"HTTP {response.status}"


def drive(url: str, count: int, concurrency: int) -> Load:
    """`count` requests from `concurrency` threads, each on its own keep-alive connection."""
    address = urlsplit(url)
    indices = iter(range(count))
    lock = threading.Lock()
    latencies: list[float] = []
    errors: Counter[str] = Counter()

    def worker() -> None:
        host, port = address.hostname or "127.0.0.1", address.port
        with contextlib.closing(
            http.client.HTTPConnection(host, port, timeout=REQUEST_TIMEOUT_SECONDS)
        ) as connection:
            while (index := _next(indices, lock)) is not None:
                started = time.perf_counter()
                failure = _post(connection, index)
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    if failure:
                        errors[failure] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Load(time.perf_counter() - started, latencies, dict(errors))


def _next(indices: Iterator[int], lock: threading.Lock) -> int | None:
    with lock:
        return next(indices, None)


def _drive_both(url: str, sizes: Sizes) -> tuple[Load, Load]:
    drive(url, sizes.load_concurrency, sizes.load_concurrency)  # untimed: connections, warm workers
    sequential = drive(url, sizes.load_sequential, 1)
    concurrent = drive(url, sizes.load_requests, sizes.load_concurrency)
    return sequential, concurrent


def _kinds(failures: Counter[str]) -> str:
    return f" ({', '.join(f'{kind}: {count}' for kind, count in failures.items())})" if failures else ""


def measure(sizes: Sizes) -> Result:
    with LocalRuntime(containers=sizes.load_containers) as runtime:
        sequential, concurrent = run_isolated(_drive_both, runtime.url, sizes)
    count = sizes.load_requests
    one_at_a_time = sequential.seconds * count / len(sequential.latencies)
    failures = Counter(sequential.errors) + Counter(concurrent.errors)
    errors = sum(failures.values())
    rps = count / concurrent.seconds
    p50, p95, p99 = (concurrent.percentile(share) for share in (50, 95, 99))
    return Result(
        name="gateway_load",
        baseline=Timing(f"1 at a time ({len(sequential.latencies)} sent, scaled)", one_at_a_time),
        product=Timing(f"{count:,} at concurrency {sizes.load_concurrency}", concurrent.seconds),
        ratio=one_at_a_time / concurrent.seconds,
        ratio_means="throughput under load / one request at a time",
        goal="0 errors",
        met=errors == 0,
        verdict=f"{rps:.0f} req/s; p50 {seconds_text(p50)}, p95 {seconds_text(p95)}, p99 {seconds_text(p99)}; {errors} errors{_kinds(failures)}",
        details={
            "requests": count,
            "concurrency": sizes.load_concurrency,
            "containers_per_function": sizes.load_containers,
            "requests_per_second": rps,
            "p50_seconds": p50,
            "p95_seconds": p95,
            "p99_seconds": p99,
            "errors": errors,
            "error_kinds": dict(failures),
            "sequential_p50_seconds": statistics.median(sequential.latencies),
        },
    )
