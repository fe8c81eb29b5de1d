"""Integration tests: the local gateway and the emulator on free loopback ports, real clients."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests

from embedrock_local.runtime.serve import LocalRuntime

API_KEY = "integration-test-key"

# One cheap request per function the integration tests time, each answered once by a warm worker.
_WARM_UPS = (
    ("POST", "/embeddings", {"text": "warm up"}),
    ("POST", "/similarity", {"vectors": [[1.0, 0.0], [0.0, 1.0]]}),
    ("GET", "/models", None),
)


def warm_up(runtime: LocalRuntime, attempts: int = 5) -> LocalRuntime:
    """Send each function one request until it answers 200, then reset the emulator's counts.

    The gateway starts every worker and imports its handler, but a handler defers numpy, the
    embedder and its client to its first request. On a loaded machine that first request can take
    longer than a short deadline or integration timeout; the tests that time requests are about
    those limits, not about cold imports. A deadline 504 to a cold request is retried here.
    """
    for method, path, body in _WARM_UPS:
        for _ in range(attempts):
            response = requests.request(
                method, f"{runtime.url}{path}", json=body, headers={"x-api-key": API_KEY}, timeout=60
            )
            if response.status_code == 200:
                break
        else:
            pytest.fail(f"{method} {path} never answered 200 while warming up: {response.text}")
    if runtime.emulator is not None:
        runtime.emulator.stats.reset()
    return runtime


@contextmanager
def warm_runtime(
    settings: dict[str, str] | None = None, api_key: str | None = API_KEY
) -> Iterator[LocalRuntime]:
    """A one-container runtime with these function settings, warmed up (warm_up) before use."""
    with LocalRuntime(containers=1, settings=settings, api_key=api_key) as started:
        yield warm_up(started)


@pytest.fixture(scope="session")
def runtime() -> Iterator[LocalRuntime]:
    """The service as `make run` starts it, started once per test process."""
    with warm_runtime(api_key=None) as started:
        yield started


@pytest.fixture(scope="session")
def faulty_runtime() -> Iterator[LocalRuntime]:
    """A runtime with short Bedrock timeouts and two attempts, for fault injection."""
    settings = {"EMBEDROCK_READ_TIMEOUT": "1", "EMBEDROCK_MAX_ATTEMPTS": "2", "EMBEDROCK_RETRY_AFTER": "3"}
    with warm_runtime(settings) as started:
        yield started


@pytest.fixture
def faults(faulty_runtime: LocalRuntime) -> Iterator[LocalRuntime]:
    emulator = faulty_runtime.emulator
    assert emulator is not None
    emulator.faults.clear()
    emulator.stats.reset()
    yield faulty_runtime
    emulator.faults.clear()
