"""The Bedrock emulator, driven by real boto3 clients over loopback HTTP.

Every test starts its own Emulator on 127.0.0.1 (a free port) and talks to it only there.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import numpy as np
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ReadTimeoutError

from embedrock import catalog
from embedrock_local.runtime.emulator import (
    Emulator,
    EmulatorOptions,
    Fault,
    FaultKind,
    HashEngine,
    InProcessEmulator,
)
from embedrock_local.runtime.emulator.__main__ import build_parser, main
from embedrock_local.runtime.emulator.server import BedrockHandler

pytestmark = pytest.mark.integration

TITAN_V2 = "amazon.titan-embed-text-v2:0"
TITAN_V1 = "amazon.titan-embed-text-v1"
TITAN_MM = "amazon.titan-embed-image-v1"
COHERE_EN = "cohere.embed-english-v3"
COHERE_MULTI = "cohere.embed-multilingual-v3"
# The smallest valid PNG signature plus padding: the emulator checks the format, not the pixels.
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(32)).decode()

# One session: its loader caches the service models for every client. Any: boto3-stubs types
# clients per literal service name, which a helper taking the name as a parameter cannot use.
_SESSION: Any = boto3.Session()


def model(model_id: str) -> catalog.CatalogModel:
    found = catalog.find(model_id)
    assert found is not None
    return found


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


def client(emulator: Emulator, service: str = "bedrock-runtime", **config: Any) -> Any:
    return _SESSION.client(
        service,
        endpoint_url=emulator.url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        # In a retries dict, max_attempts counts retries (1 would mean two calls); total_max_attempts
        # counts calls: one call, no retry, so every fault reaches the test.
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}, **config),
    )


@pytest.fixture
def runtime(emu: Emulator) -> Any:
    return client(emu)


@pytest.fixture
def control(emu: Emulator) -> Any:
    return client(emu, "bedrock")


def invoke(runtime: Any, model_id: str, body: Any) -> tuple[dict[str, Any], dict[str, str]]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = runtime.invoke_model(
        modelId=model_id, body=raw, contentType="application/json", accept="application/json"
    )
    return json.loads(response["body"].read()), response["ResponseMetadata"]["HTTPHeaders"]


def client_error(call: Callable[[], Any]) -> ClientError:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value


def titan_outcomes(runtime: Any, calls: int) -> list[str]:
    """Make `calls` Titan calls one after another: "ok" or the error code of each."""
    outcomes = []
    for _ in range(calls):
        try:
            invoke(runtime, TITAN_V2, {"inputText": "x"})
            outcomes.append("ok")
        except ClientError as error:
            outcomes.append(error.response["Error"]["Code"])
    return outcomes


def code_status(error: ClientError) -> tuple[str, int]:
    return error.response["Error"]["Code"], error.response["ResponseMetadata"]["HTTPStatusCode"]


def cosine(a: Any, b: Any) -> float:
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(x @ y / (np.linalg.norm(x) * np.linalg.norm(y)))


def admin(emulator: Emulator, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(emulator.url + path, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


# --- InvokeModel, valid bodies ---------------------------------------------------------------


def test_titan_v2_default_is_normalized_at_default_dimensions(runtime: Any) -> None:
    # Given the seed notebook's sentence
    # When it is embedded with Titan Text V2 and no options
    body, headers = invoke(runtime, TITAN_V2, {"inputText": "Python is a programming language"})
    # Then the vector has the default dimensions, unit norm, and the token count in body and header
    assert len(body["embedding"]) == model(TITAN_V2).default_dimensions
    assert np.linalg.norm(body["embedding"]) == pytest.approx(1.0, abs=1e-5)
    assert set(body["embeddingsByType"]) == {"float"}
    assert body["embeddingsByType"]["float"] == pytest.approx(body["embedding"], abs=1e-12)
    assert body["inputTextTokenCount"] == 5
    assert headers["x-amzn-bedrock-input-token-count"] == "5"
    assert headers["content-type"] == "application/json"


@pytest.mark.parametrize("dimensions", model(TITAN_V2).dimensions)
def test_titan_v2_dimensions_and_binary(runtime: Any, dimensions: int) -> None:
    # Given a request for every allowed dimension with float and binary types
    request = {"inputText": "hello world", "dimensions": dimensions, "embeddingTypes": ["float", "binary"]}
    # When it is invoked
    body, _ = invoke(runtime, TITAN_V2, request)
    # Then both types come back at that size; binary is one 0/1 value per dimension
    assert len(body["embeddingsByType"]["float"]) == dimensions
    binary = body["embeddingsByType"]["binary"]
    assert len(binary) == dimensions and set(binary) <= {0, 1}
    assert binary == [int(x > 0) for x in body["embeddingsByType"]["float"]]


def test_titan_v2_normalize_false_is_not_unit_length(runtime: Any) -> None:
    # Given the same text with normalize true and false
    text = {"inputText": "the quick brown fox"}
    normalized, _ = invoke(runtime, TITAN_V2, text)
    raw, _ = invoke(runtime, TITAN_V2, {**text, "normalize": False})
    # Then the unnormalized vector points the same way but is not unit length
    assert abs(np.linalg.norm(raw["embedding"]) - 1.0) > 0.1
    assert cosine(raw["embedding"], normalized["embedding"]) == pytest.approx(1.0, abs=1e-6)


def test_titan_v1_returns_only_embedding_and_count(runtime: Any) -> None:
    # When Titan V1 embeds a text
    body, headers = invoke(runtime, TITAN_V1, {"inputText": "hello, world"})
    # Then the body has exactly its two fields, at its one size, and the header carries the count
    assert set(body) == {"embedding", "inputTextTokenCount"}
    assert len(body["embedding"]) == model(TITAN_V1).default_dimensions
    assert body["inputTextTokenCount"] == 3 == int(headers["x-amzn-bedrock-input-token-count"])


@pytest.mark.parametrize(
    ("request_body", "dimensions", "tokens"),
    [
        ({"inputText": "a red car", "embeddingConfig": {"outputEmbeddingLength": 384}}, 384, 3),
        ({"inputImage": PNG}, None, 0),
        ({"inputText": "a red car", "inputImage": PNG}, None, 3),
    ],
    ids=["text", "image", "text+image"],
)
def test_titan_multimodal(
    runtime: Any, request_body: dict[str, Any], dimensions: int | None, tokens: int
) -> None:
    # When Titan Multimodal embeds a text, an image, or both
    body, _ = invoke(runtime, TITAN_MM, request_body)
    # Then one vector comes back at the asked (or default) length, with the text's token count
    assert set(body) == {"embedding", "inputTextTokenCount"}
    assert len(body["embedding"]) == (dimensions or model(TITAN_MM).default_dimensions)
    assert body["inputTextTokenCount"] == tokens


@pytest.mark.parametrize("model_id", [COHERE_EN, COHERE_MULTI])
def test_cohere_floats(runtime: Any, model_id: str) -> None:
    # Given three texts and no embedding_types
    texts = ["first text", "second text here", "third"]
    # When Cohere embeds them
    body, headers = invoke(
        runtime, model_id, {"texts": texts, "input_type": "search_document", "truncate": "NONE"}
    )
    # Then one unit vector per text, in order, with the texts echoed and the count only in the header
    assert body["response_type"] == "embeddings_floats"
    assert body["texts"] == texts and body["id"]
    assert [len(v) for v in body["embeddings"]] == [model(model_id).default_dimensions] * 3
    assert np.linalg.norm(body["embeddings"], axis=1) == pytest.approx([1.0] * 3, abs=1e-5)
    assert "inputTextTokenCount" not in body
    assert headers["x-amzn-bedrock-input-token-count"] == "6"


def test_cohere_embedding_types(runtime: Any) -> None:
    # Given every embedding type Cohere offers
    types = list(model(COHERE_EN).embedding_types)
    # When they are all asked for
    body, _ = invoke(
        runtime, COHERE_EN, {"texts": ["a", "b c"], "input_type": "search_query", "embedding_types": types}
    )
    # Then the embeddings come by type, quantized within each type's range; bits are packed
    assert body["response_type"] == "embeddings_by_type"
    embeddings = body["embeddings"]
    assert set(embeddings) == set(types)
    dims = model(COHERE_EN).default_dimensions
    ranges = {"int8": (-128, 127, dims), "uint8": (0, 255, dims), "binary": (-128, 127, dims // 8)}
    ranges["ubinary"] = (0, 255, dims // 8)
    for kind, (low, high, size) in ranges.items():
        values = np.asarray(embeddings[kind])
        assert values.shape == (2, size), kind
        assert values.min() >= low and values.max() <= high, kind
        assert np.issubdtype(values.dtype, np.integer), kind
    floats = np.asarray(embeddings["float"])
    assert (np.asarray(embeddings["ubinary"]) == np.packbits(floats > 0, axis=1)).all()
    assert (np.asarray(embeddings["binary"]) == np.asarray(embeddings["ubinary"]) - 128).all()


def test_cohere_truncate_end_accepts_long_texts(runtime: Any) -> None:
    # Given a text over Cohere's token limit but within its character limit
    limit = model(COHERE_EN).max_input_tokens
    text = "a " * (limit + 100)
    assert len(text) <= model(COHERE_EN).max_input_chars
    # When it is sent with truncate END
    body, headers = invoke(
        runtime, COHERE_EN, {"texts": [text], "input_type": "clustering", "truncate": "END"}
    )
    # Then it is embedded and only the kept tokens are counted
    assert len(body["embeddings"]) == 1
    assert headers["x-amzn-bedrock-input-token-count"] == str(limit)


def test_model_arn_is_accepted(runtime: Any) -> None:
    # Given a foundation-model ARN instead of a model id (botocore percent-encodes its '/' and ':')
    arn = f"arn:aws:bedrock:us-east-1::foundation-model/{TITAN_V2}"
    # When it is invoked
    body, _ = invoke(runtime, arn, {"inputText": "hi", "dimensions": 256})
    # Then the model answers
    assert len(body["embedding"]) == 256


# --- InvokeModel, validation ----------------------------------------------------------------

_V2_CHARS = model(TITAN_V2).max_input_chars
_V2_TOKENS = model(TITAN_V2).max_input_tokens
_COHERE_MAX_TEXTS = model(COHERE_EN).max_texts_per_call
_COHERE_CHARS = model(COHERE_EN).max_input_chars


@pytest.mark.parametrize(
    ("model_id", "body", "message"),
    [
        (TITAN_V2, {"inputText": "x", "dimensions": 384}, "#/dimensions: 384 is not a valid enum value"),
        (TITAN_V2, {"inputText": "x", "foo": 1}, "#: extraneous key [foo] is not permitted"),
        (TITAN_V2, {"dimensions": 256}, "#: required key [inputText] not found"),
        (TITAN_V2, {"inputText": ""}, "#/inputText: expected minLength: 1, actual: 0"),
        (TITAN_V2, {"inputText": 5}, "#/inputText: expected type: String, found: Integer"),
        (
            TITAN_V2,
            {"inputText": "x", "normalize": "yes"},
            "#/normalize: expected type: Boolean, found: String",
        ),
        (
            TITAN_V2,
            {"inputText": "x", "dimensions": True},
            "#/dimensions: expected type: Integer, found: Boolean",
        ),
        (
            TITAN_V2,
            {"inputText": "x", "embeddingTypes": ["int8"]},
            "#/embeddingTypes/0: int8 is not a valid enum",
        ),
        (
            TITAN_V2,
            {"inputText": "x" * (_V2_CHARS + 1)},
            f"expected maxLength: {_V2_CHARS}, actual: {_V2_CHARS + 1}",
        ),
        (
            TITAN_V2,
            {"inputText": "a " * (_V2_TOKENS + 1)},
            f"Too many input tokens. Max input tokens: {_V2_TOKENS}",
        ),
        (TITAN_V2, {"inputText": "x", "a": 1, "b": 2}, "Malformed input request: 2 schema violations found"),
        (TITAN_V1, {"inputText": "x", "dimensions": 1024}, "#: extraneous key [dimensions] is not permitted"),
        (
            TITAN_MM,
            {"inputText": "x", "embeddingConfig": {"outputEmbeddingLength": 512}},
            "512 is not a valid enum",
        ),
        (TITAN_MM, {}, "required key [inputText] or [inputImage] not found"),
        (TITAN_MM, {"inputImage": "bm90IGFuIGltYWdl"}, "must be a JPEG or PNG image"),
        (COHERE_EN, {"texts": ["x"]}, "#: required key [input_type] not found"),
        (
            COHERE_EN,
            {"inputText": "x"},
            "required key [texts] not found#: required key [input_type] not found",
        ),
        (
            COHERE_EN,
            {"texts": ["x"] * (_COHERE_MAX_TEXTS + 1), "input_type": "search_query"},
            f"#/texts: expected maximum item count: {_COHERE_MAX_TEXTS}, found: {_COHERE_MAX_TEXTS + 1}",
        ),
        (COHERE_EN, {"texts": [], "input_type": "search_query"}, "#/texts: expected minimum item count: 1"),
        (COHERE_EN, {"texts": ["x"], "input_type": "query"}, "#/input_type: query is not a valid enum value"),
        (
            COHERE_EN,
            {"texts": ["x"], "input_type": "clustering", "truncate": "LEFT"},
            "LEFT is not a valid enum",
        ),
        (
            COHERE_EN,
            {"texts": ["x"], "input_type": "clustering", "embedding_types": ["f16"]},
            "f16 is not a valid",
        ),
        (
            COHERE_EN,
            {"texts": ["x" * (_COHERE_CHARS + 1)], "input_type": "clustering"},
            f"#/texts/0: expected maxLength: {_COHERE_CHARS}",
        ),
        (
            COHERE_EN,
            {"texts": ["a " * 600], "input_type": "clustering", "truncate": "NONE"},
            "Input is too long for requested model.",
        ),
        (TITAN_V2, b"{not json", "Malformed input request, please reformat your input and try again."),
        (TITAN_V2, b"[1, 2]", "#: expected type: JSONObject, found: JSONArray"),
        ("amazon.titan-embed-text-v9", {"inputText": "x"}, "The provided model identifier is invalid."),
        (
            "amazon.titan-embed-text-v2:0:8k",
            {"inputText": "x"},
            # Bedrock's text has a typographic apostrophe (U+2019), as its users quote it.
            "with on-demand throughput isn\u2019t supported",
        ),
    ],
)
def test_validation_errors(runtime: Any, model_id: str, body: Any, message: str) -> None:
    # When an invalid request is sent
    error = client_error(lambda: invoke(runtime, model_id, body))
    # Then Bedrock's ValidationException comes back, 400, with Bedrock's wording
    assert code_status(error) == ("ValidationException", 400)
    assert message in error.response["Error"]["Message"]
    assert isinstance(error, runtime.exceptions.ValidationException)


def test_validation_failure_keeps_the_connection_usable(runtime: Any) -> None:
    # Given a rejected request on a keep-alive connection
    client_error(lambda: invoke(runtime, TITAN_V2, {"inputText": "x", "dimensions": 384}))
    # When the next request follows on it
    body, _ = invoke(runtime, TITAN_V2, {"inputText": "x"})
    # Then it is answered normally
    assert len(body["embedding"]) == 1024


# --- ListFoundationModels / GetFoundationModel ------------------------------------------------


def test_list_embedding_models(control: Any) -> None:
    # When the embedding models are listed
    summaries = control.list_foundation_models(byOutputModality="EMBEDDING")["modelSummaries"]
    ids = {s["modelId"] for s in summaries}
    # Then every catalog model is there, with models the catalog lacks, and no text models
    assert set(catalog.model_ids()) <= ids
    assert "amazon.titan-embed-text-v2:0:8k" in ids
    assert "anthropic.claude-3-haiku-20240307-v1:0" not in ids
    for summary in summaries:
        assert summary["outputModalities"] == ["EMBEDDING"]
        assert summary["modelArn"] == f"arn:aws:bedrock:us-east-1::foundation-model/{summary['modelId']}"
        assert summary["responseStreamingSupported"] is False
        assert summary["modelLifecycle"] == {"status": "ACTIVE"}
        assert {"modelName", "providerName", "inputModalities", "customizationsSupported"} <= set(summary)
    v2 = next(s for s in summaries if s["modelId"] == TITAN_V2)
    assert v2["inferenceTypesSupported"] == ["ON_DEMAND"]
    assert v2["modelName"] == model(TITAN_V2).name and v2["inputModalities"] == ["TEXT"]


def test_list_filters(control: Any) -> None:
    # When the listing is filtered by provider, inference type and customization
    everything = {s["modelId"] for s in control.list_foundation_models()["modelSummaries"]}
    cohere = control.list_foundation_models(byProvider="cohere")["modelSummaries"]
    on_demand = {
        s["modelId"] for s in control.list_foundation_models(byInferenceType="ON_DEMAND")["modelSummaries"]
    }
    tunable = control.list_foundation_models(byCustomizationType="FINE_TUNING")["modelSummaries"]
    # Then each filter narrows the listing as Bedrock's does
    assert "anthropic.claude-3-haiku-20240307-v1:0" in everything
    assert {s["providerName"] for s in cohere} == {"Cohere"}
    assert {COHERE_EN, COHERE_MULTI} <= {s["modelId"] for s in cohere}
    assert TITAN_V2 in on_demand and "amazon.titan-embed-text-v2:0:8k" not in on_demand
    assert tunable and all("FINE_TUNING" in s["customizationsSupported"] for s in tunable)
    bad = client_error(lambda: control.list_foundation_models(byOutputModality="AUDIO"))
    assert code_status(bad) == ("ValidationException", 400)


def test_get_foundation_model(control: Any) -> None:
    # When one model is read by id and by ARN, and an unknown one is asked for
    by_id = control.get_foundation_model(modelIdentifier=COHERE_EN)["modelDetails"]
    arn = f"arn:aws:bedrock:us-east-1::foundation-model/{COHERE_EN}"
    by_arn = control.get_foundation_model(modelIdentifier=arn)["modelDetails"]
    missing = client_error(lambda: control.get_foundation_model(modelIdentifier="amazon.nothing-v1"))
    # Then both reads agree and the unknown one is a 404 ResourceNotFoundException
    assert by_id == by_arn and by_id["modelId"] == COHERE_EN and by_id["providerName"] == "Cohere"
    assert code_status(missing) == ("ResourceNotFoundException", 404)


def test_model_arns_use_the_signing_region(emu: Emulator) -> None:
    # Given a client signing for another region
    west = _SESSION.client(
        "bedrock",
        endpoint_url=emu.url,
        region_name="us-west-2",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    # When a model is read
    details = west.get_foundation_model(modelIdentifier=TITAN_V2)["modelDetails"]
    # Then its ARN names that region
    assert details["modelArn"].startswith("arn:aws:bedrock:us-west-2::")


# --- the hash engine --------------------------------------------------------------------------


def test_hash_engine_is_deterministic_across_processes(runtime: Any) -> None:
    # Given a vector computed here, through the emulator
    text = "Determinism matters for tests"
    here, _ = invoke(runtime, TITAN_V2, {"inputText": text, "dimensions": 256})
    again, _ = invoke(runtime, TITAN_V2, {"inputText": text, "dimensions": 256})
    # When another process, with another hash seed, computes it
    code = (
        "import json; from embedrock_local.runtime.emulator import HashEngine; "
        f"print(json.dumps(HashEngine().embed([{text!r}], 256)[0].round(7).tolist()))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    other = json.loads(
        subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, check=True).stdout
    )
    # Then all three are the same vector
    assert here["embedding"] == pytest.approx(again["embedding"], abs=1e-12)
    assert np.allclose(here["embedding"], other, atol=1e-6)


def test_hash_engine_shared_words_raise_cosine() -> None:
    # Given a sentence, a paraphrase sharing its words, and sentences sharing none
    engine = HashEngine()
    base, related, unrelated, other = engine.embed(
        [
            "The cat sat on the mat",
            "A cat sat on a mat today",
            "Quarterly revenue grew strongly",
            "i have to go to the market",
        ],
        1024,
    )
    # Then the shared-words pair is far closer than the others
    assert base @ related > 0.6
    assert abs(base @ unrelated) < 0.2 and abs(base @ other) < 0.2
    assert np.linalg.norm([base, related], axis=1) == pytest.approx([1.0, 1.0])


# --- faults -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "code", "status"),
    [
        (FaultKind.THROTTLE, "ThrottlingException", 429),
        (FaultKind.NOT_READY, "ModelNotReadyException", 429),
        (FaultKind.TIMEOUT, "ModelTimeoutException", 408),
        (FaultKind.ACCESS_DENIED, "AccessDeniedException", 403),
        (FaultKind.NOT_FOUND, "ResourceNotFoundException", 404),
        (FaultKind.MODEL_ERROR, "ModelErrorException", 424),
        (FaultKind.QUOTA_EXCEEDED, "ServiceQuotaExceededException", 400),
        (FaultKind.INTERNAL, "InternalServerException", 500),
        (FaultKind.UNAVAILABLE, "ServiceUnavailableException", 503),
    ],
)
def test_each_fault_gives_its_client_error(
    emu: Emulator, runtime: Any, kind: FaultKind, code: str, status: int
) -> None:
    # Given a fault on every call
    emu.faults.add(kind)
    # When a valid request is sent
    error = client_error(lambda: invoke(runtime, TITAN_V2, {"inputText": "hello"}))
    # Then boto3 raises that modelled exception with Bedrock's status code
    assert code_status(error) == (code, status)
    assert isinstance(error, getattr(runtime.exceptions, code))
    assert error.response["Error"]["Message"]
    assert emu.stats.errors(code) == 1


def test_faults_from_the_constructor() -> None:
    # Given an emulator started with a throttle on every 3rd call
    with Emulator(EmulatorOptions(throttle_every=3)) as emulator:
        rt = client(emulator)
        # When four calls are made
        outcomes = titan_outcomes(rt, 4)
        # Then only the third is throttled, and the stats count every call
        assert outcomes == ["ok", "ok", "ThrottlingException", "ok"]
        assert emulator.stats.calls("InvokeModel", TITAN_V2) == 4
        assert emulator.stats.errors("ThrottlingException") == 1


def test_rate_limit(emu: Emulator, runtime: Any) -> None:
    # Given a limit of 5 calls per second
    emu.faults.add("rate_limit", rps=5)
    # When 8 calls are made at once-ish
    codes = titan_outcomes(runtime, 8)
    # Then the burst passes and the rest are throttled
    assert codes[:5] == ["ok"] * 5
    assert "ThrottlingException" in codes[5:]


def test_access_denied_scoped_to_one_model(emu: Emulator, runtime: Any) -> None:
    # Given access denied on Cohere English only
    emu.faults.add("access_denied", model=COHERE_EN)
    # When both Cohere models and Titan are called
    denied = client_error(lambda: invoke(runtime, COHERE_EN, {"texts": ["x"], "input_type": "search_query"}))
    invoke(runtime, COHERE_MULTI, {"texts": ["x"], "input_type": "search_query"})
    invoke(runtime, TITAN_V2, {"inputText": "x"})
    # Then only the scoped model is refused, with Bedrock's message
    assert code_status(denied) == ("AccessDeniedException", 403)
    assert (
        denied.response["Error"]["Message"]
        == "You don't have access to the model with the specified model ID."
    )


def test_times_limits_a_fault(emu: Emulator, runtime: Any) -> None:
    # Given a model that is not ready for its first two calls
    emu.faults.add("not_ready", times=2)
    # When three calls are made
    first = client_error(lambda: invoke(runtime, TITAN_V2, {"inputText": "x"}))
    second = client_error(lambda: invoke(runtime, TITAN_V2, {"inputText": "x"}))
    body, _ = invoke(runtime, TITAN_V2, {"inputText": "x"})
    # Then the third succeeds
    assert code_status(first) == code_status(second) == ("ModelNotReadyException", 429)
    assert len(body["embedding"]) == 1024


def test_latency_is_injected_per_model(emu: Emulator, runtime: Any) -> None:
    # Given 150 ms of latency on Titan V2 only
    emu.faults.add("latency", latency_ms=150, model=TITAN_V2)
    # When Titan V2 and Titan V1 are called
    started = time.perf_counter()
    _, headers = invoke(runtime, TITAN_V2, {"inputText": "x"})
    slow = time.perf_counter() - started
    started = time.perf_counter()
    invoke(runtime, TITAN_V1, {"inputText": "x"})
    fast = time.perf_counter() - started
    # Then only the scoped call is slower, by about the latency
    assert 0.15 <= slow < 1.0
    assert fast < slow - 0.1
    assert int(headers["x-amzn-bedrock-invocation-latency"]) >= 150


def test_timeout_holds_then_answers_408(emu: Emulator, runtime: Any) -> None:
    # Given a timeout fault holding each request 0.3 s
    emu.faults.add("timeout", seconds=0.3)
    # When a call is made
    started = time.perf_counter()
    error = client_error(lambda: invoke(runtime, TITAN_V2, {"inputText": "x"}))
    # Then it answers ModelTimeoutException after the hold
    assert code_status(error) == ("ModelTimeoutException", 408)
    assert time.perf_counter() - started >= 0.3


def test_timeout_longer_than_the_client_read_timeout(emu: Emulator) -> None:
    # Given a hold far longer than the client's read timeout
    emu.faults.add("timeout", seconds=30)
    impatient = client(emu, read_timeout=0.3, connect_timeout=1)
    # When a call is made
    started = time.perf_counter()
    with pytest.raises(ReadTimeoutError):
        invoke(impatient, TITAN_V2, {"inputText": "x"})
    # Then the client gives up on its own, and closing the emulator does not wait for the hold
    assert time.perf_counter() - started < 2
    started = time.perf_counter()
    emu.close()
    assert time.perf_counter() - started < 2


def test_fault_on_control_plane(emu: Emulator, control: Any) -> None:
    # Given a throttle on every operation of a model glob
    emu.faults.add("throttle", operation="*", model="cohere.*")
    # When Cohere and Titan models are read
    error = client_error(lambda: control.get_foundation_model(modelIdentifier=COHERE_EN))
    control.get_foundation_model(modelIdentifier=TITAN_V2)
    # Then only the matching call is throttled
    assert code_status(error) == ("ThrottlingException", 429)


def test_admin_endpoints(emu: Emulator, runtime: Any) -> None:
    # Given a fault added over HTTP
    status, added = admin(emu, "POST", "/_emulator/faults", {"kind": "unavailable", "model": TITAN_V1})
    assert status == 200 and added["faults"][0]["kind"] == "unavailable"
    # When calls are made, then stats are read
    error = client_error(lambda: invoke(runtime, TITAN_V1, {"inputText": "x"}))
    invoke(runtime, TITAN_V2, {"inputText": "x y"})
    _, stats = admin(emu, "GET", "/_emulator/stats")
    # Then the fault acted, and the stats show calls per model, errors and tokens
    assert code_status(error) == ("ServiceUnavailableException", 503)
    assert stats["calls"]["InvokeModel"] == {TITAN_V1: 1, TITAN_V2: 1}
    assert stats["errors"]["InvokeModel"][TITAN_V1] == {"ServiceUnavailableException": 1}
    assert stats["input_tokens"][TITAN_V2] == 2
    assert admin(emu, "GET", "/_emulator/faults")[1]["faults"][0]["fired"] == 1
    # And PUT replaces, DELETE clears, bad faults are refused
    status, replaced = admin(emu, "PUT", "/_emulator/faults", [{"kind": "throttle", "every": 2}])
    assert status == 200 and [f["kind"] for f in replaced["faults"]] == ["throttle"]
    assert admin(emu, "DELETE", "/_emulator/faults") == (200, {"faults": []})
    status, refused = admin(emu, "POST", "/_emulator/faults", {"kind": "meteor"})
    assert status == 400 and "unknown fault kind" in refused["message"]
    assert admin(emu, "DELETE", "/_emulator/stats")[1]["calls"] == {}
    assert admin(emu, "GET", "/_emulator/health")[1]["engine"] == "hash"
    invoke(runtime, TITAN_V1, {"inputText": "x"})


def test_unknown_path_is_an_aws_style_404(emu: Emulator) -> None:
    # When a path Bedrock does not have is requested
    status, body = admin(emu, "GET", "/model/x/converse-nothing")
    # Then it is a 404 with a message, not an HTML page
    assert status == 404 and "No operation matches" in body["message"]


# --- the server -------------------------------------------------------------------------------


def test_accepted_sockets_set_tcp_nodelay(emu: Emulator) -> None:
    # Given a keep-alive connection that has been answered once
    connection = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=5)
    connection.request("GET", "/_emulator/health")
    response = connection.getresponse()
    response.read()
    # When the server's side of it is inspected
    server_sockets = list(emu._server._connections)
    # Then it stays open (HTTP/1.1) and has Nagle disabled
    assert response.version == 11 and not response.will_close
    assert BedrockHandler.disable_nagle_algorithm is True
    assert len(server_sockets) == 1
    assert server_sockets[0].getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    connection.close()


def test_keep_alive_calls_are_fast(runtime: Any) -> None:
    # Given a warm keep-alive connection
    invoke(runtime, TITAN_V2, {"inputText": "warm up"})
    # When 50 calls run one after another on one keep-alive connection
    took = []
    for i in range(50):
        started = time.perf_counter()
        invoke(runtime, TITAN_V2, {"inputText": f"call {i}", "dimensions": 256})
        took.append(time.perf_counter() - started)
    # Then the typical call takes far less than the 40 ms Nagle plus delayed ACK would add to each
    # (the median: a loaded machine may stall a few calls, never most of them)
    median = statistics.median(took)
    assert median < 0.02, f"median call {median * 1000:.1f} ms"


def test_concurrent_calls_are_served_in_parallel(emu: Emulator, runtime: Any) -> None:
    # Given 200 ms of latency per call
    emu.faults.add("latency", latency_ms=200)
    fast = client(emu, max_pool_connections=8)
    # When 8 calls run at once
    started = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda i: invoke(fast, TITAN_V2, {"inputText": str(i)}), range(8)))
    # Then they overlap, and the stats saw them in flight together
    assert len(results) == 8
    assert time.perf_counter() - started < 1.0
    assert emu.stats.max_in_flight >= 4


def test_close_is_prompt_and_idempotent() -> None:
    # Given an emulator with an open keep-alive connection
    emulator = Emulator()
    invoke(client(emulator), TITAN_V2, {"inputText": "x"})
    # When it is closed twice
    started = time.perf_counter()
    emulator.close()
    emulator.close()
    # Then it stops at once and its port no longer answers
    assert time.perf_counter() - started < 1.0
    with pytest.raises(OSError):
        urllib.request.urlopen(emulator.url + "/_emulator/health", timeout=1)


def test_env_points_boto3_at_the_emulator(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the endpoint variables the emulator suggests
    for name, value in emu.env().items():
        monkeypatch.setenv(name, value)
    # When plain clients are made without endpoint_url
    session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1")
    runtime, control = session.client("bedrock-runtime"), session.client("bedrock")
    # Then they reach the emulator
    body, _ = invoke(runtime, TITAN_V2, {"inputText": "x"})
    assert len(body["embedding"]) == 1024
    assert control.get_foundation_model(modelIdentifier=TITAN_V2)["modelDetails"]["modelId"] == TITAN_V2


# --- command line -----------------------------------------------------------------------------


def test_cli_help_explains_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    # When --help is asked for
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    out = capsys.readouterr().out
    # Then it exits cleanly and names every option and fault kind
    assert exited.value.code == 0
    for option in (
        "--port",
        "--host",
        "--engine",
        "--latency-ms",
        "--throttle-every",
        "--max-rps",
        "--deny-model",
    ):
        assert option in out
    assert all(kind.value in out for kind in FaultKind)


def test_cli_parses_faults() -> None:
    # When fault options are given on the command line
    args = build_parser().parse_args(
        [
            "--port",
            "0",
            "--latency-ms",
            "50",
            "--throttle-every",
            "5",
            "--fault",
            "timeout:seconds=2,every=3,model=cohere.*",
        ]
    )
    # Then they become faults
    assert (args.port, args.throttle_every) == (0, 5) and args.latency_ms == pytest.approx(50.0)
    assert args.fault == [Fault(FaultKind.TIMEOUT, seconds=2, every=3, model="cohere.*")]
    with pytest.raises(ValueError, match="unknown fault kind"):
        Fault.parse("meteor")


def test_cli_runs_until_interrupted() -> None:
    # Given the emulator started as a program on a free port
    process = subprocess.Popen(
        [sys.executable, "-m", "embedrock_local.runtime.emulator", "--port", "0", "--latency-ms", "1"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        # Then it says it is an emulator, not Bedrock, and serves on the printed URL
        assert "EMULATOR, not Amazon Bedrock" in banner
        url = banner.split(" on ", 1)[1].split()[0]
        with urllib.request.urlopen(url + "/_emulator/health", timeout=5) as response:
            assert json.loads(response.read())["status"] == "ok"
    finally:
        # And Ctrl-C (SIGINT) stops it cleanly
        process.send_signal(2)
        assert process.wait(timeout=30) == 0


def test_threads_do_not_leak() -> None:
    # Given the threads before
    before = threading.active_count()
    # When an emulator serves a call and closes
    with Emulator() as emulator:
        invoke(client(emulator), TITAN_V2, {"inputText": "x"})
    time.sleep(0.2)
    # Then no server or connection thread is left behind
    assert threading.active_count() <= before


def test_a_body_cut_short_of_its_content_length_is_refused_not_invoked(emu: Emulator) -> None:
    # Given a valid InvokeModel body whose Content-Length promises more, and the client ends
    body = json.dumps({"inputText": "hello"}).encode()
    head = (
        f"POST /model/amazon.titan-embed-text-v2:0/invoke HTTP/1.1\r\nHost: local\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body) + 10}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", emu.port), timeout=10) as connection:
        connection.sendall(head + body)
        connection.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := connection.recv(4096):
            answer += chunk
    # Then it is a ValidationException, and the model never ran
    assert answer.startswith(b"HTTP/1.1 400") and b"Content-Length" in answer
    assert emu.stats.calls("InvokeModel") == 0


# --- in-process mode: the same backends, no socket ---------------------------------------------

PARITY_REQUESTS: list[tuple[str, Any]] = [
    (TITAN_V2, {"inputText": "hello world", "dimensions": 256}),
    (TITAN_V2, {"inputText": "hello", "dimensions": 7}),  # not an allowed dimension
    (TITAN_V2, {"inputText": ""}),  # below minLength
    (TITAN_V2, b"not json"),
    (COHERE_EN, {"texts": ["a", "b"], "input_type": "search_document", "embedding_types": ["int8"]}),
    (COHERE_EN, {"texts": ["a"]}),  # input_type missing
    (COHERE_MULTI, {"texts": ["a"], "input_type": "search_query"}),  # denied below
    ("no.such-model", {"inputText": "x"}),
]


def outcome(runtime: Any, model_id: str, body: Any) -> tuple[int, Any, str | None]:
    try:
        answer, headers = invoke(runtime, model_id, body)
    except ClientError as error:
        _, status = code_status(error)
        return status, (error.response["Error"]["Code"], error.response["Error"]["Message"]), None
    return 200, answer, headers["x-amzn-bedrock-input-token-count"]


@pytest.mark.parametrize(("model_id", "body"), PARITY_REQUESTS)
def test_in_process_answers_as_the_http_server_does(emu: Emulator, model_id: str, body: Any) -> None:
    # Given the same options over HTTP and in process
    options = EmulatorOptions(deny_models=[COHERE_MULTI])
    emu.faults.extend(options.all_faults())
    in_process = InProcessEmulator(options).runtime_client()
    # When the same request is sent to both
    status, answer, tokens = outcome(client(emu), model_id, body)
    same_status, same_answer, same_tokens = outcome(in_process, model_id, body)
    # Then the status, error code and message, token header and vectors agree
    assert (same_status, same_tokens) == (status, tokens)
    if status != 200:
        assert same_answer == answer
    elif "embedding" in answer:
        assert np.allclose(same_answer["embedding"], answer["embedding"], atol=1e-6)
    else:
        assert same_answer["embeddings"] == answer["embeddings"]  # int8: integers
