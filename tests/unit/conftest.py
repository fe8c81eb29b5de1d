"""Unit tests run offline: every socket is blocked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_socket import disable_socket, enable_socket

from embedrock import wiring
from embedrock.vector_store.s3vectors import S3VectorsStore
from tests.fakes import FakeBedrockRuntime, emulated_vector_store, serving


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


@pytest.fixture
def vector_store(tmp_path: Path) -> Iterator[S3VectorsStore]:
    """The collections' store (the S3 Vectors adapter over the in-process emulator), as wiring's."""
    with emulated_vector_store(tmp_path / "s3vectors") as store:
        wiring.override(vector_store=store)
        try:
            yield store
        finally:
            wiring.reset()
