"""The emulator's in-process clients: Bedrock's bodies, errors and faults, with sockets blocked."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError

from embedrock_local.runtime.emulator import EmulatorOptions, FaultKind, InProcessEmulator

TITAN_V2 = "amazon.titan-embed-text-v2:0"


def invoke(client: Any, body: dict[str, Any], model_id: str = TITAN_V2) -> dict[str, Any]:
    response: dict[str, Any] = client.invoke_model(
        modelId=model_id, body=json.dumps(body), contentType="application/json", accept="application/json"
    )
    return response


def code_status(error: ClientError) -> tuple[str, int]:
    return error.response["Error"]["Code"], error.response["ResponseMetadata"]["HTTPStatusCode"]


def test_invoke_model_answers_titan_with_the_token_header() -> None:
    # Given the in-process emulator's bedrock-runtime client
    emulator = InProcessEmulator()
    # When a Titan V2 body is sent
    response = invoke(emulator.runtime_client(), {"inputText": "hello world", "dimensions": 256})
    # Then the body, content type and token header are Bedrock's, and the call is counted
    payload = json.loads(response["body"].read())
    assert len(payload["embedding"]) == 256 and np.linalg.norm(payload["embedding"]) == pytest.approx(1.0)
    assert response["contentType"] == "application/json"
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-bedrock-input-token-count"] == "2"
    assert emulator.stats.calls("InvokeModel", TITAN_V2) == 1 and emulator.stats.input_tokens() == 2


def test_validation_is_bedrock_worded_with_botocore_status() -> None:
    # When a dimension Titan V2 does not allow is asked for
    with pytest.raises(ClientError) as caught:
        invoke(InProcessEmulator().runtime_client(), {"inputText": "x", "dimensions": 7})
    # Then it is Bedrock's ValidationException, 400
    assert code_status(caught.value) == ("ValidationException", 400)
    assert "#/dimensions: 7 is not a valid enum value" in caught.value.response["Error"]["Message"]


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (EmulatorOptions(throttle_every=1), ("ThrottlingException", 429)),
        (EmulatorOptions(deny_models=["amazon.*"]), ("AccessDeniedException", 403)),
    ],
)
def test_fault_options_raise_the_http_codes(options: EmulatorOptions, expected: tuple[str, int]) -> None:
    emulator = InProcessEmulator(options)
    client = emulator.runtime_client()
    with pytest.raises(getattr(client.exceptions, expected[0])) as caught:
        invoke(client, {"inputText": "x"})
    assert code_status(caught.value) == expected
    assert emulator.stats.errors(expected[0]) == 1


def test_faults_change_at_run_time() -> None:
    emulator = InProcessEmulator()
    client = emulator.runtime_client()
    emulator.faults.add(FaultKind.TIMEOUT, seconds=0, times=1)
    with pytest.raises(ClientError) as caught:
        invoke(client, {"inputText": "x"})
    assert code_status(caught.value) == ("ModelTimeoutException", 408)
    assert invoke(client, {"inputText": "x"})["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_control_plane_lists_and_gets_models() -> None:
    control = InProcessEmulator().control_client(region="eu-west-1")
    listed = control.list_foundation_models(byOutputModality="EMBEDDING")["modelSummaries"]
    assert TITAN_V2 in {summary["modelId"] for summary in listed}
    details = control.get_foundation_model(modelIdentifier=TITAN_V2)["modelDetails"]
    assert details["modelArn"] == f"arn:aws:bedrock:eu-west-1::foundation-model/{TITAN_V2}"
    with pytest.raises(ClientError) as caught:
        control.get_foundation_model(modelIdentifier="no.such-model")
    assert code_status(caught.value) == ("ResourceNotFoundException", 404)


def test_botocore_events_hooked_on_the_client_fire() -> None:
    # Given hooks on the client's events, as code that wraps an injected boto3 client adds them
    client = InProcessEmulator(EmulatorOptions(throttle_every=2)).runtime_client()
    seen: list[tuple[str, int]] = []

    def after_call(parsed: dict[str, Any], model: Any, **_: Any) -> None:
        seen.append((model.name, parsed["ResponseMetadata"]["HTTPStatusCode"]))

    client.meta.events.register("after-call.bedrock-runtime.InvokeModel", after_call)
    # When one call succeeds and the next is throttled
    invoke(client, {"inputText": "x"})
    with pytest.raises(ClientError):
        invoke(client, {"inputText": "x"})
    # Then the hook saw both, with their status codes
    assert seen == [("InvokeModel", 200), ("InvokeModel", 429)]
    assert client.meta.region_name == "us-east-1"


def test_the_emulator_keeps_the_last_request_bodies_per_model() -> None:
    from embedrock_local.runtime.emulator.stats import KEPT_BODIES

    # Given more calls than the emulator keeps bodies of
    emulator = InProcessEmulator()
    client = emulator.runtime_client()
    for index in range(KEPT_BODIES + 3):
        invoke(client, {"inputText": f"text {index}", "dimensions": 256})

    # Then the newest are kept, oldest first, each as sent
    bodies = emulator.stats.bodies(TITAN_V2)
    assert len(bodies) == KEPT_BODIES
    assert bodies[0] == {"inputText": "text 3", "dimensions": 256}
    assert bodies[-1]["inputText"] == f"text {KEPT_BODIES + 2}"
    assert emulator.stats.bodies("cohere.embed-v4:0") == []
    # And a reset forgets them
    emulator.stats.reset()
    assert emulator.stats.bodies() == []
