"""perf's rerank and image measures: the bare call they compare with sends the very body the
handler sends, the zero-latency boto3 client is answered by the emulator's backend (no socket),
and each measure reports both timings, their ratio and the load (no timing is asserted)."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterator
from typing import Any

import pytest

from embedrock import wiring
from embedrock.handlers import embeddings as _embeddings  # noqa: F401 - imported under the tests' settings
from embedrock.handlers import rerank as _rerank  # noqa: F401 - (tracing off: no X-Ray socket)
from embedrock_local.runtime.emulator import InProcessEmulator
from embedrock_local.tools.perf import added_latency, common, image, rerank
from embedrock_local.tools.perf.zero_latency import boto3_runtime


@pytest.fixture(autouse=True)
def _forget_overrides() -> Iterator[None]:
    yield
    wiring.reset()


def test_the_zero_latency_client_is_boto3_answered_by_the_emulator() -> None:
    client = boto3_runtime(InProcessEmulator())
    body = json.dumps({"inputText": "Python is a programming language", "dimensions": 256})
    response = client.invoke_model(modelId="amazon.titan-embed-text-v2:0", body=body)
    payload = json.loads(response["body"].read())
    assert len(payload["embedding"]) == 256
    assert math.isclose(sum(value * value for value in payload["embedding"]), 1.0, rel_tol=1e-3)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200


@pytest.mark.parametrize("measure", [rerank, image], ids=["rerank", "image"])
def test_the_bare_call_sends_the_body_the_handler_sends(measure: Any) -> None:
    case: added_latency.HandlerCase = measure.case()
    sent: list[bytes] = []
    sizes = dataclasses.replace(common.QUICK, handler_requests=3)

    def recording(emulator: InProcessEmulator) -> Any:
        client = boto3_runtime(emulator)
        client.meta.events.register(
            "before-call.bedrock-runtime.InvokeModel", lambda params, **_: sent.append(params["body"])
        )
        return client

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("embedrock_local.tools.perf.zero_latency.boto3_runtime", recording)
        result = added_latency.measure_case(case, sizes)

    # The handler's bodies and the bare calls' alternate; each is the same JSON document.
    assert len(sent) >= 2 * sizes.handler_requests
    assert {json.dumps(json.loads(body), sort_keys=True) for body in sent} == {
        json.dumps(json.loads(case.bedrock_body), sort_keys=True)
    }
    timings = (result.baseline.seconds, result.product.seconds, result.ratio)
    assert all(isinstance(value, float) and math.isfinite(value) and value > 0 for value in timings)
    assert math.isclose(result.ratio, result.product.seconds / result.baseline.seconds)
    assert result.name == case.name and result.goal == "< 2 ms added per request"
    assert result.met == (result.details["added_ms"] < added_latency.BUDGET_MS)
    assert len(result.details["load_average_1min"]) == 2


def test_the_image_case_is_a_png_of_the_stated_size() -> None:
    png = image.noise_png(16)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and png[12:16] == b"IHDR"
    assert int.from_bytes(png[16:20], "big") == int.from_bytes(png[20:24], "big") == 16
