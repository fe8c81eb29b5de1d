"""POST /embeddings through the Lambda handler: Bedrock bodies, responses, every error row."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ReadTimeoutError

from embedrock import catalog, settings, wiring
from embedrock.handlers import embeddings
from embedrock.observability import logger
from tests.events import LambdaContext, api_event, load, response_json
from tests.fakes import FakeBedrockRuntime, client_error, fake_vector
from tests.fakes import fake_unit_vector as unit

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

SEED = "Python is a programming language"
TITAN_V2 = "amazon.titan-embed-text-v2:0"
# USD per input token, from the catalog: usage.cost_usd is tokens x price.
TITAN_V2_PRICE = next(m.price_per_million_tokens for m in catalog.MODELS if m.id == TITAN_V2) / 1e6
COHERE = "cohere.embed-english-v3"


def post(body: Any = None, *, path: str = "/embeddings", **kwargs: Any) -> dict[str, Any]:
    response: dict[str, Any] = embeddings.handler(api_event("POST", path, body, **kwargs), LambdaContext())
    return response


def test_seed_scenario_sends_exactly_input_text_dimensions_and_normalize(bedrock: FakeBedrockRuntime) -> None:
    # Given the recorded API Gateway event of the seed request (Titan V2, 1024, normalized)
    event = load("api_gateway_rest.json")

    # When the embeddings function handles it
    response = embeddings.handler(event, LambdaContext())

    # Then Bedrock got exactly the seed notebook's body, once
    assert bedrock.calls == [(TITAN_V2, {"inputText": SEED, "dimensions": 1024, "normalize": True})]
    # And the response holds one unit-length 1024-dim vector and the usage
    assert response["statusCode"] == 200
    body = response_json(response)
    assert body["model"] == TITAN_V2 and body["dimensions"] == 1024
    assert (body["embedding_type"], body["encoding"]) == ("float", "float")
    assert body["usage"] == {"input_tokens": 5, "requests": 1, "cost_usd": pytest.approx(5 * TITAN_V2_PRICE)}
    (vector,) = body["embeddings"]
    assert len(vector) == 1024
    assert np.linalg.norm(vector) == pytest.approx(1.0)
    np.testing.assert_allclose(vector, unit(SEED, 1024))


def test_defaults_are_titan_v2_at_1024_normalized(bedrock: FakeBedrockRuntime) -> None:
    # Given only a text
    # When it is embedded
    body = response_json(post({"text": SEED}))

    # Then the catalog's default model and dimensions are used
    assert bedrock.calls == [(TITAN_V2, {"inputText": SEED, "dimensions": 1024, "normalize": True})]
    assert body["model"] == TITAN_V2 and len(body["embeddings"]) == 1


def test_vectors_come_back_in_input_order(bedrock: FakeBedrockRuntime) -> None:
    # Given several texts at 256 dimensions (Titan: one concurrent call per text)
    texts = [f"text number {i}" for i in range(20)]

    # When they are embedded
    body = response_json(post({"texts": texts, "dimensions": 256}))

    # Then vector i is text i's, whatever order the calls finished in
    assert body["usage"]["requests"] == 20
    for text, vector in zip(texts, body["embeddings"], strict=True):
        np.testing.assert_allclose(vector, unit(text, 256))
    assert sorted(request["inputText"] for _, request in bedrock.calls) == sorted(texts)


def test_cohere_texts_go_in_calls_of_96_with_the_default_input_type(bedrock: FakeBedrockRuntime) -> None:
    # Given 100 texts for Cohere and no input_type
    texts = [f"doc {i}" for i in range(100)]

    # When they are embedded
    body = response_json(post({"texts": texts, "model": COHERE}))

    # Then two calls carry 96 and 4 texts as search_document, and order is kept
    sizes = sorted(len(request["texts"]) for _, request in bedrock.calls)
    assert sizes == [4, 96]
    assert {request["input_type"] for _, request in bedrock.calls} == {"search_document"}
    assert body["usage"]["requests"] == 2
    np.testing.assert_allclose(body["embeddings"][97], unit("doc 97", 1024))


def test_int8_embeddings_are_json_integers(bedrock: FakeBedrockRuntime) -> None:
    # Given a Cohere request for int8 vectors
    # When it is embedded
    body = response_json(post({"texts": ["a b", "c"], "model": COHERE, "embedding_type": "int8"}))

    # Then the vectors are integers, and Bedrock was asked for int8
    assert bedrock.calls[0][1]["embedding_types"] == ["int8"]
    assert body["embedding_type"] == "int8"
    assert all(isinstance(value, int) for value in body["embeddings"][0])
    assert body["embeddings"][0][:5] == [int(v * 10) for v in fake_vector("a b", 1024)[:5]]
    # And they are Bedrock's int8 values, unchanged (the emulator's, asked directly)
    direct = bedrock.emulator.runtime_client().invoke_model(
        modelId=COHERE, body=json.dumps(bedrock.calls[0][1]), contentType="application/json", accept="*/*"
    )
    expected = json.loads(direct["body"].read())["embeddings"]["int8"][0]
    assert body["embeddings"][0] == expected and any(expected)


@pytest.mark.parametrize("model", [TITAN_V2, COHERE])
def test_binary_is_packed_bits_for_every_model(bedrock: FakeBedrockRuntime, model: str) -> None:
    # Given a binary request to Titan V2 (which answers one 0/1 per dimension) and to Cohere
    # When it is embedded, as JSON and as base64
    listed = response_json(post({"text": SEED, "model": model, "embedding_type": "binary"}))
    packed = response_json(
        post({"text": SEED, "model": model, "embedding_type": "binary", "encoding": "base64"})
    )

    # Then both are 1024 dimensions packed 8 per byte, first dimension in the top bit, as int8
    bits = unit(SEED, 1024) > 0
    expected = (np.packbits(bits).astype(np.int16) - 128).tolist()
    assert listed["dimensions"] == 1024 and listed["embeddings"] == [expected]
    assert base64.b64decode(packed["embeddings"][0]) == np.array(expected, dtype=np.int8).tobytes()


def test_base64_encoding_is_little_endian_float32_per_vector(bedrock: FakeBedrockRuntime) -> None:
    # Given a request for base64 vectors
    # When two texts are embedded
    body = response_json(post({"texts": [SEED, "other"], "dimensions": 512, "encoding": "base64"}))

    # Then each vector is a base64 string of 512 float32 values, as numpy decodes it
    assert body["encoding"] == "base64"
    decoded = [np.frombuffer(base64.b64decode(item), dtype="<f4") for item in body["embeddings"]]
    assert [vector.shape for vector in decoded] == [(512,), (512,)]
    np.testing.assert_allclose(decoded[1], unit("other", 512), rtol=1e-6)


def test_not_normalized_is_passed_to_titan(bedrock: FakeBedrockRuntime) -> None:
    # Given normalize false
    # When the text is embedded
    post({"text": SEED, "normalize": False, "dimensions": 256})

    # Then Titan is asked not to normalize
    assert bedrock.calls == [(TITAN_V2, {"inputText": SEED, "dimensions": 256, "normalize": False})]


@pytest.mark.parametrize(
    ("body", "param", "words"),
    [
        ({"texts": "abc"}, "texts", "must be a list"),
        ({"texts": [SEED, 7]}, "texts[1]", "must be a string"),
        ({"text": SEED, "dimensions": "1024"}, "dimensions", "must be an integer"),
        ({"text": SEED, "normalize": "yes"}, "normalize", "true or false"),
        ({"text": SEED, "encoding": "hex"}, "encoding", "'float' or 'base64'"),
        ({"text": SEED, "embedding_type": "int4"}, "embedding_type", "'binary'"),
        ({"text": SEED, "input_type": "query"}, "input_type", "'search_query'"),
        ({"text": SEED, "colour": "blue"}, "colour", "allowed fields: model, texts, text"),
        ({"text": SEED, "texts": [SEED]}, "texts", 'exactly one of "texts"'),
        ({}, "texts", 'exactly one of "texts"'),
        ({"text": SEED, "model": "text-embedding-3-small"}, "model", TITAN_V2),
        ({"text": SEED, "dimensions": 384}, "dimensions", "256, 512, 1024"),
        ({"text": SEED, "input_type": "search_query"}, "input_type", "not supported by"),
        ({"texts": []}, "texts", "at least one text"),
        ({"texts": [SEED, "  "]}, "texts[1]", "is empty"),
        ({"text": ""}, "text", "is empty"),
        ({"texts": ["x" * 50_001]}, "texts[0]", "at most 50000 characters"),
        ({"texts": ["x"] * 2049}, "texts", "at most 2048"),
    ],
)
def test_bad_requests_are_400_naming_the_field_and_cost_nothing(
    bedrock: FakeBedrockRuntime, body: dict[str, Any], param: str, words: str
) -> None:
    # Given a request with one problem
    # When it is posted
    response = post(body)

    # Then it is a 400 naming the field, and Bedrock was never called
    assert response["statusCode"] == 400
    error = response_json(response)["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    assert words in error["message"]
    assert bedrock.calls == []


def test_384_dimensions_for_titan_v2_lists_the_allowed_values(bedrock: FakeBedrockRuntime) -> None:
    # Given the seed document's wrong dimension
    # When it is requested
    response = post({"text": SEED, "dimensions": 384})

    # Then the 400 lists 256, 512, 1024
    assert response["statusCode"] == 400
    assert response_json(response) == {
        "error": {
            "type": "invalid_request_error",
            "message": f"dimensions 384 is not allowed for {TITAN_V2}; allowed values: 256, 512, 1024.",
            "param": "dimensions",
            "code": "invalid_dimensions",
        }
    }


@pytest.mark.parametrize("raw_body", ["{not json", '{"texts": ["a"]', "texts=a"])
def test_invalid_json_is_400(bedrock: FakeBedrockRuntime, raw_body: str) -> None:
    # Given a body that is not JSON
    # When it is posted
    response = post(raw_body=raw_body)

    # Then the 400 says so
    assert response["statusCode"] == 400
    error = response_json(response)["error"]
    assert error["message"].startswith("body is not valid JSON") and error["code"] == "invalid_json"


@pytest.mark.parametrize("body", [None, [SEED], SEED, 3])
def test_a_body_that_is_not_an_object_is_400(bedrock: FakeBedrockRuntime, body: Any) -> None:
    # Given no body, or JSON that is not an object
    # When it is posted
    response = post(body)

    # Then the 400 says a JSON object is expected, with its fields
    assert response["statusCode"] == 400
    assert (
        "must be a JSON object with the fields: model, texts" in response_json(response)["error"]["message"]
    )


def test_curl_form_content_type_is_read_as_json(bedrock: FakeBedrockRuntime) -> None:
    # Given curl -d's default content type on a JSON body
    headers = {"Content-Type": "application/x-www-form-urlencoded"}

    # When it is posted
    response = post({"text": SEED}, headers=headers)

    # Then it is embedded like any JSON request
    assert response["statusCode"] == 200


def test_base64_encoded_event_body_is_decoded(bedrock: FakeBedrockRuntime) -> None:
    # Given API Gateway delivering the body base64-encoded
    event = api_event("POST", "/embeddings", raw_body=base64.b64encode(b'{"text": "hello"}').decode())
    event["isBase64Encoded"] = True

    # When it is handled
    response = embeddings.handler(event, LambdaContext())

    # Then the text was read
    assert response["statusCode"] == 200 and bedrock.calls[0][1]["inputText"] == "hello"


def test_a_response_over_the_lambda_limit_is_413_before_any_call(bedrock: FakeBedrockRuntime) -> None:
    # Given 300 texts at 1024 floats (about 7 MB of JSON, over Lambda's 6 MB)
    texts = [f"t{i}" for i in range(300)]

    # When they are posted
    response = post({"texts": texts})

    # Then a 413 suggests base64 and smaller dimensions, and nothing was paid for
    assert response["statusCode"] == 413
    error = response_json(response)["error"]
    assert error["code"] == "response_too_large"
    assert "base64" in error["message"] and "256, 512" in error["message"]
    assert bedrock.calls == []


def test_the_response_limit_comes_from_settings(bedrock: FakeBedrockRuntime) -> None:
    # Given a deployment with a 100 kB response limit
    wiring.override(settings=settings.load({"EMBEDROCK_MAX_RESPONSE_BYTES": "100000"}))

    # When 10 vectors of 1024 floats are asked for as JSON, then as base64
    too_big = post({"texts": ["a"] * 10})
    fits = post({"texts": ["a"] * 10, "encoding": "base64"})

    # Then JSON is refused and base64 fits
    assert (too_big["statusCode"], fits["statusCode"]) == (413, 200)


def test_too_many_texts_follows_settings(bedrock: FakeBedrockRuntime) -> None:
    # Given a deployment allowing 3 texts per request
    wiring.override(settings=settings.load({"EMBEDROCK_MAX_TEXTS": "3"}))

    # When 4 are sent
    response = post({"texts": ["a", "b", "c", "d"]})

    # Then the 400 names the limit
    assert response["statusCode"] == 400
    assert "at most 3" in response_json(response)["error"]["message"]


@pytest.mark.parametrize(
    ("failure", "status", "words"),
    [
        (client_error("AccessDeniedException", 403), 403, "aws-marketplace:Subscribe"),
        (client_error("ThrottlingException", 429), 429, "retry after"),
        (client_error("ModelNotReadyException", 429), 429, "not ready"),
        (client_error("ModelErrorException", 424, "boom"), 502, "failed to process"),
        (client_error("ServiceUnavailableException", 503), 503, "unavailable"),
        (client_error("InternalServerException", 500), 503, "internal error"),
        (client_error("ModelTimeoutException", 408), 504, "timed out"),
        (ReadTimeoutError(endpoint_url="https://bedrock-runtime"), 504, "in time"),
        (client_error("ValidationException", 400, "Malformed input request"), 400, "Malformed input"),
    ],
)
def test_bedrock_failures_map_to_api_errors(
    bedrock: FakeBedrockRuntime, failure: Exception, status: int, words: str
) -> None:
    # Given Bedrock failing for Titan V2
    bedrock.failures[TITAN_V2] = failure  # type: ignore[assignment]

    # When a text is embedded
    response = post({"text": SEED})

    # Then the status and message are the API's, with no stack trace
    assert response["statusCode"] == status
    error = response_json(response)["error"]
    assert words in error["message"]
    assert "Traceback" not in response["body"]


def test_throttling_answers_429_with_retry_after(bedrock: FakeBedrockRuntime) -> None:
    # Given Bedrock throttling after botocore's retries
    bedrock.failures[TITAN_V2] = client_error("ThrottlingException", 429)

    # When a text is embedded
    response = post({"text": SEED})

    # Then the 429 carries Retry-After from settings
    assert response["statusCode"] == 429
    assert response["multiValueHeaders"]["Retry-After"] == [str(settings.get().retry_after_seconds)]
    assert response_json(response)["error"]["type"] == "rate_limit_error"


def test_an_unexpected_exception_is_a_500_without_details(bedrock: FakeBedrockRuntime) -> None:
    # Given an embedder that fails in an unforeseen way
    class Broken:
        def embed(self, spec: Any, texts: Any) -> Any:
            raise RuntimeError("secret internals")

    wiring.override(embedder=Broken())

    # When a text is embedded
    response = post({"text": SEED})

    # Then the client sees a 500 in the error shape, without the exception text
    assert response["statusCode"] == 500
    error = response_json(response)["error"]
    assert error["type"] == "internal_error" and "request id" in error["message"]
    assert "secret" not in response["body"] and "Traceback" not in response["body"]


def test_texts_never_reach_logs_or_metrics(
    bedrock: FakeBedrockRuntime, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    # Given a distinctive text, and every log level recorded
    text = "zebra-quartz-sentinel 9481"
    caplog.set_level(logging.DEBUG)

    # When it is embedded, fails validation, and fails in Bedrock
    post({"texts": [text]})
    post({"texts": [text], "dimensions": 7})
    bedrock.failures[TITAN_V2] = client_error("ModelErrorException", 424, "bad input")
    post({"texts": [text]})

    # Then logs (as Powertools formats them, extras included) and metrics never hold the text
    logs = "\n".join(logger.registered_formatter.format(record) for record in caplog.records)
    metrics_out, err = capfd.readouterr()
    assert '"message":"embedded"' in logs and '"text_count":1' in logs
    assert '"Texts":[1.0]' in metrics_out
    assert text not in logs + metrics_out + err


class TestDirectInvocation:
    def test_the_event_is_the_body_and_the_result_a_dict(self, bedrock: FakeBedrockRuntime) -> None:
        # Given a plain event, as another Lambda or Step Functions would send it
        event = load("direct_embeddings.json")

        # When the function is invoked directly
        result = embeddings.handler(event, LambdaContext())

        # Then it returns the POST /embeddings body as a dict
        assert result["model"] == TITAN_V2 and result["dimensions"] == 256
        assert len(result["embeddings"]) == 2 and len(result["embeddings"][0]) == 256
        assert result["usage"] == {
            "input_tokens": 12,
            "requests": 2,
            "cost_usd": pytest.approx(12 * TITAN_V2_PRICE),
        }
        json.dumps(result)

    @pytest.mark.parametrize(
        ("event", "status", "param"),
        [
            ({"texts": ["a"], "dimensions": 384}, 400, "dimensions"),
            ({"texts": [1]}, 400, "texts[0]"),
            ({"text": "a", "extra": True}, 400, "extra"),
            (["not", "an", "object"], 400, None),
        ],
    )
    def test_errors_are_returned_not_raised(
        self, bedrock: FakeBedrockRuntime, event: Any, status: int, param: str | None
    ) -> None:
        # Given an invalid direct event
        # When the function is invoked
        result = embeddings.handler(event, LambdaContext())

        # Then the error shape comes back with its status
        assert result["status"] == status and result["error"]["param"] == param
        assert bedrock.calls == []

    def test_bedrock_errors_are_returned_too(self, bedrock: FakeBedrockRuntime) -> None:
        # Given Bedrock denying access
        bedrock.failures[TITAN_V2] = client_error("AccessDeniedException", 403)

        # When the function is invoked directly
        result = embeddings.handler({"text": SEED}, LambdaContext())

        # Then the 403 is a value
        assert result["status"] == 403 and "aws-marketplace:Subscribe" in result["error"]["message"]
