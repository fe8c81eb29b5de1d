"""PutVectors bodies with the floats written by orjson: what reaches the wire (after signing) means
the same as botocore's own body, calls it should not touch are left to botocore whole, retries
resend the floats, and the parameters are still validated."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

import boto3
import numpy as np
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import ParamValidationError

from embedrock.settings import Settings
from embedrock.vector_store.client import s3vectors_client
from embedrock.vector_store.put_body import write_floats_with_orjson
from tests.fakes import RawBody


class Wire:
    """A boto3 s3vectors client whose PutVectors bodies are kept as sent, answered without a network."""

    def __init__(self, *, orjson_floats: bool, statuses: tuple[int, ...] = (200,)) -> None:
        self.client = boto3.client(
            "s3vectors",
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(retries={"mode": "standard", "total_max_attempts": 3}),
        )
        if orjson_floats:
            write_floats_with_orjson(self.client)
        self.bodies: list[bytes] = []
        self._statuses = list(statuses)
        self.client.meta.events.register("before-send.s3vectors.PutVectors", self._answer)

    def _answer(self, request: Any, **_: Any) -> AWSResponse:
        self.bodies.append(bytes(request.body))
        status = self._statuses.pop(0) if len(self._statuses) > 1 else self._statuses[0]
        body = b"{}" if status == 200 else b'{"message": "try again"}'
        headers = {} if status == 200 else {"x-amzn-ErrorType": "ServiceUnavailableException"}
        return AWSResponse(request.url, status, headers, RawBody(body))

    def put(self, vectors: list[dict[str, Any]]) -> None:
        self.client.put_vectors(vectorBucketName="team-vectors", indexName="docs", vectors=vectors)


def _vectors(count: int = 3, dimensions: int = 64) -> list[dict[str, Any]]:
    rows = np.random.default_rng(3).standard_normal((count, dimensions)).astype(np.float32).tolist()
    return [
        {"key": f"doc-{i}", "data": {"float32": row}, "metadata": {"lang": "fr", "_text": f"café n°{i}"}}
        for i, row in enumerate(rows)
    ]


def _same_json(left: Any, right: Any) -> bool:
    """Equal JSON values, numbers compared within a relative 1e-12 (never exactly)."""
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_same_json(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(_same_json(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, float) or isinstance(right, float):
        return (
            isinstance(left, int | float)
            and isinstance(right, int | float)
            and math.isclose(left, right, rel_tol=1e-12)
        )
    return bool(left == right) and type(left) is type(right)


def test_the_body_sent_means_what_botocore_would_send() -> None:
    vectors = _vectors()
    plain, fast = Wire(orjson_floats=False), Wire(orjson_floats=True)
    plain.put(vectors)
    fast.put(vectors)
    assert _same_json(json.loads(fast.bodies[0]), json.loads(plain.bodies[0]))
    # orjson's compact spelling (and UTF-8 text, where json.dumps escapes): a smaller request
    assert len(fast.bodies[0]) < len(plain.bodies[0])
    assert b'"float32":[' in fast.bodies[0]
    # The caller's parameters are left as they were
    assert vectors == _vectors()


@pytest.mark.parametrize(
    "odd",
    [[float("nan"), 1.0], [float("inf"), 0.0], [1.0, "2.5"], [1.0, None]],
    ids=["nan", "infinity", "string", "null"],
)
def test_a_call_with_other_than_finite_numbers_is_left_to_botocore(odd: list[Any]) -> None:
    vectors = [*_vectors(2, 2), {"key": "odd", "data": {"float32": odd}}]
    plain, fast = Wire(orjson_floats=False), Wire(orjson_floats=True)
    outcomes = []
    for wire in (plain, fast):
        try:
            wire.put(vectors)
            outcomes.append(wire.bodies[0])
        except ParamValidationError as error:
            outcomes.append(str(error).encode())
    # Byte for byte what botocore sends (or the same validation error), e.g. "NaN" as a string
    assert outcomes[0] == outcomes[1]


def test_numbers_orjson_does_not_write_are_written_as_botocore_writes_them() -> None:
    vectors = [{"key": "dec", "data": {"float32": [Decimal("0.25"), 1.5]}}]
    plain, fast = Wire(orjson_floats=False), Wire(orjson_floats=True)
    plain.put(vectors)
    fast.put(vectors)
    assert _same_json(json.loads(fast.bodies[0]), json.loads(plain.bodies[0]))


def test_a_retried_call_sends_the_floats_again() -> None:
    wire = Wire(orjson_floats=True, statuses=(503, 200))
    vectors = _vectors(2, 8)
    wire.put(vectors)
    assert len(wire.bodies) == 2 and wire.bodies[0] == wire.bodies[1]
    sent = json.loads(wire.bodies[1])["vectors"]
    assert all(len(vector["data"]["float32"]) == 8 for vector in sent)


def test_the_other_members_are_still_validated_by_botocore() -> None:
    wire = Wire(orjson_floats=True)
    with pytest.raises(ParamValidationError, match="indexName"):
        wire.client.put_vectors(vectorBucketName="team-vectors", indexName="d", vectors=_vectors(1, 4))
    assert wire.bodies == []


def test_the_configured_client_writes_put_vectors_floats_with_orjson(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    client = s3vectors_client(Settings())
    sent: list[bytes] = []

    def answer(request: Any, **_: Any) -> AWSResponse:
        sent.append(bytes(request.body))
        return AWSResponse(request.url, 200, {}, RawBody(b"{}"))

    client.meta.events.register("before-send.s3vectors.PutVectors", answer)
    client.put_vectors(vectorBucketName="team-vectors", indexName="docs", vectors=_vectors(1, 4))
    # json.dumps (botocore) separates list items with ", "; orjson writes them compact
    assert b'"float32":[' in sent[0] and b", " not in sent[0]
