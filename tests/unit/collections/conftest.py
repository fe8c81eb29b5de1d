"""The collections handler over the in-process emulator: Bedrock runtime and S3 Vectors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from embedrock.handlers import collections
from embedrock.vector_store.s3vectors import S3VectorsStore
from tests.events import LambdaContext, api_event, response_json
from tests.fakes import FakeBedrockRuntime

Call = Callable[..., tuple[int, Any]]


@pytest.fixture
def call(bedrock: FakeBedrockRuntime, vector_store: S3VectorsStore) -> Call:
    """`call("POST", "/collections", {...})` -> (status, JSON body), through the handler."""

    def send(method: str, path: str, body: Any = None, **kwargs: Any) -> tuple[int, Any]:
        response = collections.handler(api_event(method, path, body, **kwargs), LambdaContext())
        return response["statusCode"], response_json(response)

    return send


@pytest.fixture
def docs(call: Call) -> str:
    """A cosine collection `docs` of Titan Text V2 at 256 dimensions, with text search in English."""
    status, body = call(
        "POST", "/collections", {"name": "docs", "dimensions": 256, "text_search": {"language": "en"}}
    )
    assert status == 201, body
    return "docs"
