"""Integration tests: the local gateway and the emulator on free loopback ports, real clients."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from embedrock_local.runtime.serve import LocalRuntime

API_KEY = "integration-test-key"


@pytest.fixture(scope="session")
def runtime() -> Iterator[LocalRuntime]:
    """The service as `make run` starts it, started once per test process."""
    with LocalRuntime(containers=1) as started:
        yield started


@pytest.fixture(scope="session")
def faulty_runtime() -> Iterator[LocalRuntime]:
    """A runtime with short Bedrock timeouts and two attempts, for fault injection."""
    settings = {"EMBEDROCK_READ_TIMEOUT": "1", "EMBEDROCK_MAX_ATTEMPTS": "2", "EMBEDROCK_RETRY_AFTER": "3"}
    with LocalRuntime(containers=1, settings=settings, api_key=API_KEY) as started:
        yield started


@pytest.fixture
def faults(faulty_runtime: LocalRuntime) -> Iterator[LocalRuntime]:
    emulator = faulty_runtime.emulator
    assert emulator is not None
    emulator.faults.clear()
    emulator.stats.reset()
    yield faulty_runtime
    emulator.faults.clear()
