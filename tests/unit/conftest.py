"""Unit tests run offline: every socket is blocked."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_socket import disable_socket, enable_socket

from tests.fakes import FakeBedrockRuntime, serving


@pytest.fixture(autouse=True)
def _no_network() -> Iterator[None]:
    disable_socket(allow_unix_socket=True)
    yield
    enable_socket()


@pytest.fixture
def bedrock() -> Iterator[FakeBedrockRuntime]:
    """The handlers' Bedrock runtime client: the emulator's in-process backend, recording calls."""
    with serving(FakeBedrockRuntime()) as fake:
        yield fake
