"""The Bedrock client layer: exact request bodies, fan-out order, Cohere batching, errors."""

from __future__ import annotations

import io
import json
from typing import Any

import boto3
import numpy as np
import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse, HTTPHeaders
from botocore.exceptions import ParamValidationError, ReadTimeoutError
from botocore.stub import Stubber

from embedrock import errors, settings
from embedrock.bedrock import clients
from embedrock.bedrock.embedder import BedrockEmbedder
from embedrock.embed_spec import resolve_spec
from tests.fakes import FakeBedrockRuntime, client_error, fake_vector, streaming

SEED_TEXT = "Python is a programming language"


def stubbed_runtime() -> tuple[Any, Stubber]:
    runtime = boto3.client("bedrock-runtime", region_name="us-east-1")
    return runtime, Stubber(runtime)


def test_seed_request_sends_exactly_input_text_dimensions_and_normalize() -> None:
    # Given a stubbed bedrock-runtime expecting the seed notebook's exact call
    runtime, stubber = stubbed_runtime()
    vector = np.array(fake_vector(SEED_TEXT, 1024))
    vector = (vector / np.linalg.norm(vector)).tolist()
    stubber.add_response(
        "invoke_model",
        {
            "body": streaming({"embedding": vector, "inputTextTokenCount": 6}),
            "contentType": "application/json",
        },
        expected_params={
            "modelId": "amazon.titan-embed-text-v2:0",
            "body": json.dumps(
                {"inputText": SEED_TEXT, "dimensions": 1024, "normalize": True}, separators=(",", ":")
            ).encode(),
            "contentType": "application/json",
            "accept": "application/json",
        },
    )
    embedder = BedrockEmbedder(runtime, max_concurrency=4)
    spec = resolve_spec(model_id="amazon.titan-embed-text-v2:0", dimensions=1024)

    # When the seed sentence is embedded
    with stubber:
        result = embedder.embed(spec, [SEED_TEXT])
        stubber.assert_no_pending_responses()

    # Then one call was made, the vector has 1024 unit-norm dimensions and tokens are counted
    assert result.vectors.shape == (1, 1024)
    assert np.linalg.norm(result.vectors[0]) == pytest.approx(1.0)
    assert (result.input_tokens, result.bedrock_calls) == (6, 1)


def test_titan_texts_fan_out_concurrently_and_come_back_in_input_order() -> None:
    # Given 40 texts and a fake Bedrock that takes 20 ms per call
    texts = [f"text number {i}" for i in range(40)]
    fake = FakeBedrockRuntime(latency_seconds=0.02)
    embedder = BedrockEmbedder(fake, max_concurrency=8)  # type: ignore[arg-type]

    # When they are embedded with Titan V2 at 256 dimensions
    result = embedder.embed(resolve_spec(model_id="amazon.titan-embed-text-v2:0", dimensions=256), texts)

    # Then there is one call per text, each vector is the one of its own text, in order
    assert result.bedrock_calls == 40 and len(fake.calls) == 40
    assert sorted(request["inputText"] for _, request in fake.calls) == sorted(texts)
    for text, row in zip(texts, result.vectors, strict=True):
        expected = np.array(fake_vector(text, 256))
        assert np.allclose(row, expected / np.linalg.norm(expected))
    assert result.input_tokens == 3 * 40


def test_cohere_texts_go_in_calls_of_at_most_96_with_input_type_and_explicit_truncate() -> None:
    # Given 200 texts for Cohere English v3
    texts = [f"document {i}" for i in range(200)]
    fake = FakeBedrockRuntime()
    embedder = BedrockEmbedder(fake, max_concurrency=4)  # type: ignore[arg-type]
    spec = resolve_spec(model_id="cohere.embed-english-v3", input_type="search_query")

    # When they are embedded
    result = embedder.embed(spec, texts)

    # Then three calls carry 96, 96 and 8 texts, in order, and token counts come from the header
    bodies = sorted((request for _, request in fake.calls), key=lambda body: texts.index(body["texts"][0]))
    assert [len(body["texts"]) for body in bodies] == [96, 96, 8]
    assert [text for body in bodies for text in body["texts"]] == texts
    assert all(body["input_type"] == "search_query" and body["truncate"] == "NONE" for body in bodies)
    assert "embedding_types" not in bodies[0]
    assert result.bedrock_calls == 3 and result.input_tokens == 400
    assert result.vectors.shape == (200, 1024)
    # Cohere does not normalize on request: the client layer does
    assert np.allclose(np.linalg.norm(result.vectors, axis=1), 1.0)
    expected = np.array(fake_vector(texts[150], 1024))
    assert np.allclose(result.vectors[150], expected / np.linalg.norm(expected))


def test_cohere_defaults_to_search_document_and_asks_for_int8_by_type() -> None:
    fake = FakeBedrockRuntime()
    embedder = BedrockEmbedder(fake, max_concurrency=2)  # type: ignore[arg-type]
    spec = resolve_spec(model_id="cohere.embed-multilingual-v3", embedding_type="int8")

    result = embedder.embed(spec, ["hola", "mundo"])

    ((_, body),) = fake.calls
    assert body == {
        "texts": ["hola", "mundo"],
        "input_type": "search_document",
        "truncate": "NONE",
        "embedding_types": ["int8"],
    }
    assert result.vectors.dtype == np.int8 and result.vectors.shape == (2, 1024)


def test_titan_v1_is_normalized_by_the_client_layer_unless_asked_not_to() -> None:
    fake = FakeBedrockRuntime()
    embedder = BedrockEmbedder(fake, max_concurrency=2)  # type: ignore[arg-type]

    normalized = embedder.embed(resolve_spec(model_id="amazon.titan-embed-text-v1"), ["a b c"])
    raw = embedder.embed(resolve_spec(model_id="amazon.titan-embed-text-v1", normalize=False), ["a b c"])

    assert fake.calls[0][1] == {"inputText": "a b c"}
    assert np.linalg.norm(normalized.vectors[0]) == pytest.approx(1.0)
    assert np.allclose(raw.vectors[0], fake_vector("a b c", 1536))


def test_titan_v2_binary_and_multimodal_request_bodies() -> None:
    fake = FakeBedrockRuntime()
    embedder = BedrockEmbedder(fake, max_concurrency=2)  # type: ignore[arg-type]

    binary = embedder.embed(
        resolve_spec(model_id="amazon.titan-embed-text-v2:0", dimensions=512, embedding_type="binary"),
        ["x y"],
    )
    multimodal = embedder.embed(resolve_spec(model_id="amazon.titan-embed-image-v1", dimensions=384), ["x y"])

    assert fake.calls[0][1] == {
        "inputText": "x y",
        "dimensions": 512,
        "normalize": True,
        "embeddingTypes": ["binary"],
    }
    # Titan V2's one 0/1 per dimension comes back packed, as every model's binary: 512 / 8 bytes
    bits = np.array(fake_vector("x y", 512)) / np.linalg.norm(fake_vector("x y", 512)) > 0
    assert binary.vectors.shape == (1, 64) and binary.vectors.dtype == np.int8
    assert binary.vectors.tolist() == [(np.packbits(bits).astype(np.int16) - 128).tolist()]
    assert fake.calls[1][1] == {"inputText": "x y", "embeddingConfig": {"outputEmbeddingLength": 384}}
    assert multimodal.vectors.shape == (1, 384)


@pytest.mark.parametrize(
    ("code", "status", "expected", "http_status"),
    [
        ("ValidationException", 400, errors.InvalidRequest, 400),
        ("ServiceQuotaExceededException", 400, errors.InvalidRequest, 400),
        ("AccessDeniedException", 403, errors.ModelAccessDenied, 403),
        ("ResourceNotFoundException", 404, errors.NotFound, 404),
        ("ModelTimeoutException", 408, errors.UpstreamTimeout, 504),
        ("ModelErrorException", 424, errors.ModelFailed, 502),
        ("ThrottlingException", 429, errors.Throttled, 429),
        ("ModelNotReadyException", 429, errors.Throttled, 429),
        ("InternalServerException", 500, errors.BedrockUnavailable, 503),
        ("ServiceUnavailableException", 503, errors.BedrockUnavailable, 503),
    ],
)
def test_bedrock_errors_map_to_the_documented_statuses(
    code: str, status: int, expected: type[errors.ApiError], http_status: int
) -> None:
    # Given Bedrock answers every call to Titan V2 with this error
    fake = FakeBedrockRuntime(failures={"amazon.titan-embed-text-v2:0": client_error(code, status)})
    embedder = BedrockEmbedder(fake, max_concurrency=2, retry_after_seconds=7)  # type: ignore[arg-type]

    # When a request is made, Then the API error has the documented type and status
    with pytest.raises(expected) as raised:
        embedder.embed(resolve_spec(model_id=None), ["hello"])
    assert raised.value.status == http_status
    if http_status == 429:
        assert raised.value.headers == {"Retry-After": "7"}
    if code == "AccessDeniedException":
        assert "aws-marketplace:Subscribe" in raised.value.message
        assert "enable model access" not in raised.value.message  # the retired console page


def test_a_read_timeout_becomes_504() -> None:
    runtime, stubber = stubbed_runtime()
    stubber.add_client_error("invoke_model", "ModelTimeoutException", http_status_code=408)
    with stubber, pytest.raises(errors.UpstreamTimeout):
        BedrockEmbedder(runtime, max_concurrency=1).embed(resolve_spec(model_id=None), ["x"])

    class TimingOut:
        def invoke_model(self, **_: Any) -> Any:
            raise ReadTimeoutError(endpoint_url="https://bedrock-runtime.us-east-1.amazonaws.com")

    with pytest.raises(errors.UpstreamTimeout) as raised:
        BedrockEmbedder(TimingOut(), max_concurrency=1).embed(resolve_spec(model_id=None), ["x"])  # type: ignore[arg-type]
    assert raised.value.status == 504


def test_one_failed_text_fails_the_whole_fan_out() -> None:
    # Given the 7th of 20 texts is throttled
    texts = [f"t{i}" for i in range(20)]
    fake = FakeBedrockRuntime(fail_on_text={"t6": client_error("ThrottlingException", 429)})

    # When embedded, Then the request fails as a whole: no partial vectors come back
    with pytest.raises(errors.Throttled):
        BedrockEmbedder(fake, max_concurrency=4).embed(resolve_spec(model_id=None), texts)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "payload",
    [
        {"embeddings": []},
        {"embedding": [0.1, 0.2]},
        {"embedding": "nope"},
        {"embedding": [float("nan")] * 1024},
    ],
)
def test_a_malformed_model_response_is_a_502_not_a_crash(payload: dict[str, Any]) -> None:
    runtime, stubber = stubbed_runtime()
    stubber.add_response("invoke_model", {"body": streaming(payload), "contentType": "application/json"})
    with stubber, pytest.raises(errors.ModelFailed) as raised:
        BedrockEmbedder(runtime, max_concurrency=1).embed(resolve_spec(model_id=None), ["x"])
    assert raised.value.status == 502


def test_clients_use_standard_retries_and_a_pool_as_large_as_the_cap() -> None:
    config = settings.load({"EMBEDROCK_MAX_CONCURRENCY": "48", "EMBEDROCK_MAX_ATTEMPTS": "4"})
    runtime = clients.runtime_client(config)
    control = clients.control_client(config)
    # InvokeModel is retried by the embedder, within the request's deadline (test_deadline.py).
    assert runtime.meta.config.retries == {"mode": "standard", "total_max_attempts": 1}
    assert control.meta.config.retries == {"mode": "standard", "total_max_attempts": 4}
    for client in (runtime, control):
        assert client.meta.config.max_pool_connections == 48


def test_only_the_runtime_client_skips_botocore_parameter_validation() -> None:
    # InvokeModel's inputs are built by the codecs from validated requests: botocore's check is
    # CPU spent on every call for nothing; the control plane's rare calls keep it.
    config = settings.load({})
    runtime, control = clients.runtime_client(config), clients.control_client(config)
    with Stubber(runtime) as runtime_stub, Stubber(control) as control_stub:
        runtime_stub.add_response("invoke_model", {"body": streaming({}), "contentType": "application/json"})
        control_stub.add_response("get_foundation_model", {})
        # An empty model id is under botocore's minimum length: only a validating client refuses it.
        runtime.invoke_model(modelId="", body="{}")
        with pytest.raises(ParamValidationError):
            control.get_foundation_model(modelIdentifier="")


def _sent_headers(client: Any) -> dict[str, str]:
    """The headers of one InvokeModel as botocore would put them on the wire (never sent)."""
    sent: dict[str, str] = {}

    def capture(request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        sent.update({name.lower(): value for name, value in request.headers.items()})
        return AWSResponse(request.url, 200, HTTPHeaders(), io.BytesIO(b"{}"))

    client.meta.events.register("before-send.bedrock-runtime.InvokeModel", capture)
    client.invoke_model(modelId="amazon.titan-embed-text-v2:0", body="{}")
    return sent


def _needs_retry_handlers(client: Any) -> list[Any]:
    operation = client.meta.service_model.operation_model("InvokeModel")
    responses = client.meta.events.emit(
        "needs-retry.bedrock-runtime.InvokeModel",
        response=(None, {}),
        endpoint=None,
        operation=operation,
        attempts=1,
        caught_exception=None,
        request_dict={"context": {}},
    )
    return [handler for handler, _ in responses]


def test_the_runtime_client_leaves_retry_decisions_and_their_headers_to_the_embedder() -> None:
    # InvokeModel gets one botocore attempt: its standard retry handler would only spend CPU
    # deciding, on every call, not to retry, and the retry headers would tie no retries together.
    runtime = clients.runtime_client(settings.load({}))
    # A client built the default way (after it, so the removal is this client's alone) still has
    # both, which shows the event and the headers below are the ones in question.
    default = boto3.client("bedrock-runtime", region_name="us-east-1")
    assert _needs_retry_handlers(default)
    assert {"amz-sdk-invocation-id", "amz-sdk-request"} <= _sent_headers(default).keys()

    assert _needs_retry_handlers(runtime) == []
    sent = _sent_headers(runtime)
    assert not {"amz-sdk-invocation-id", "amz-sdk-request"} & sent.keys()
    assert {"authorization", "x-amz-date", "user-agent"} <= sent.keys()  # still signed as before


@pytest.mark.parametrize(
    "bits",
    [[0, 1, 2, 0, 0, 0, 0, 0] * 32, [0, 1] * 100, "01" * 128],
    ids=["not-a-bit", "too-few", "a-string"],
)
def test_titan_v2_binary_that_is_not_one_bit_per_dimension_is_a_model_error(bits: Any) -> None:
    from embedrock.bedrock import codecs

    spec = resolve_spec(model_id="amazon.titan-embed-text-v2:0", dimensions=256, embedding_type="binary")
    with pytest.raises(errors.ModelFailed):
        codecs.decode(spec, {"embeddingsByType": {"binary": bits}}, expected=1)


def test_titan_v2_bits_pack_most_significant_first_as_cohere_does() -> None:
    from embedrock.bedrock import codecs

    spec = resolve_spec(model_id="amazon.titan-embed-text-v2:0", dimensions=256, embedding_type="binary")
    bits = [1, 0, 0, 0, 0, 0, 0, 1] + [0] * 248  # 0b10000001 = 129 unsigned, 1 signed
    decoded = codecs.decode(spec, {"embeddingsByType": {"binary": bits}}, expected=1)
    assert decoded.shape == (1, 32) and decoded[0, 0] == 1 and (decoded[0, 1:] == -128).all()


@pytest.mark.parametrize(
    ("text", "sent"),
    [("caf\u00e9 \U0001f600", '"caf\u00e9 \U0001f600"'), ("lone \ud800 half", '"lone \\ud800 half"')],
    ids=["unicode as UTF-8", "unpaired surrogate escaped"],
)
def test_request_bodies_are_compact_json_and_keep_every_text(text: str, sent: str) -> None:
    runtime, stubber = stubbed_runtime()
    bodies: list[bytes] = []
    runtime.meta.events.register(
        "provide-client-params.bedrock-runtime.InvokeModel", lambda params, **_: bodies.append(params["body"])
    )
    vector = [1.0] + [0.0] * 255
    answer = {
        "body": streaming({"embedding": vector, "inputTextTokenCount": 3}),
        "contentType": "application/json",
    }
    stubber.add_response("invoke_model", answer)
    spec = resolve_spec(model_id="amazon.titan-embed-text-v2:0", dimensions=256)
    with stubber:
        BedrockEmbedder(runtime, max_concurrency=2).embed(spec, [text])
    (body,) = bodies
    assert isinstance(body, bytes)  # what botocore sends, never copied through a str
    assert json.loads(body) == {"inputText": text, "dimensions": 256, "normalize": True}
    assert f'"inputText":{sent}'.encode() in body
