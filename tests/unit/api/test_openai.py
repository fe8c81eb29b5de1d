"""POST /v1/embeddings: the OpenAI shape, float and base64, and the official client unchanged."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import numpy as np
import openai
import pytest

from embedrock.handlers import embeddings
from tests.events import LambdaContext, api_event, response_json
from tests.fakes import FakeBedrockRuntime
from tests.fakes import fake_unit_vector as unit

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

SEED = "Python is a programming language"
TITAN_V2 = "amazon.titan-embed-text-v2:0"


def post(body: Any) -> dict[str, Any]:
    response: dict[str, Any] = embeddings.handler(api_event("POST", "/v1/embeddings", body), LambdaContext())
    return response


def test_float_response_has_the_openai_shape(bedrock: FakeBedrockRuntime) -> None:
    # Given an OpenAI-style request with one string and no model
    # When it is posted
    response = post({"input": SEED, "encoding_format": "float"})

    # Then Titan V2 answered, in OpenAI's shape
    assert response["statusCode"] == 200
    body = response_json(response)
    assert bedrock.calls == [(TITAN_V2, {"inputText": SEED, "dimensions": 1024, "normalize": True})]
    assert body["object"] == "list" and body["model"] == TITAN_V2
    assert body["usage"] == {"prompt_tokens": 5, "total_tokens": 5}
    (item,) = body["data"]
    assert (item["object"], item["index"]) == ("embedding", 0)
    np.testing.assert_allclose(item["embedding"], unit(SEED, 1024))


def test_base64_decodes_as_float32_in_order(bedrock: FakeBedrockRuntime) -> None:
    # Given a list input asking for base64 at 256 dimensions
    texts = ["first text", "second text", "third"]

    # When it is posted
    body = response_json(post({"input": texts, "encoding_format": "base64", "dimensions": 256}))

    # Then each embedding decodes with numpy float32 to the text's vector, indexed in order
    assert [item["index"] for item in body["data"]] == [0, 1, 2]
    for text, item in zip(texts, body["data"], strict=True):
        decoded = np.frombuffer(base64.b64decode(item["embedding"]), dtype="float32")
        np.testing.assert_allclose(decoded, unit(text, 256), rtol=1e-6)


def test_cohere_defaults_to_search_document(bedrock: FakeBedrockRuntime) -> None:
    # Given a Cohere model id
    # When texts are posted
    post({"input": ["a", "b"], "model": "cohere.embed-english-v3"})

    # Then one call carries both texts as documents
    ((model, request),) = bedrock.calls
    assert model == "cohere.embed-english-v3"
    assert request["texts"] == ["a", "b"] and request["input_type"] == "search_document"


def test_unknown_fields_and_user_are_ignored(bedrock: FakeBedrockRuntime) -> None:
    # Given the fields newer OpenAI clients add
    # When they are posted
    response = post({"input": "a", "user": "u-1", "some_new_option": {"x": 1}})

    # Then the request succeeds
    assert response["statusCode"] == 200


@pytest.mark.parametrize(
    ("body", "param", "words"),
    [
        ({"input": [1, 2, 3]}, "input", "token arrays are not supported"),
        ({"input": [[1, 2], [3]]}, "input[0]", "token arrays are not supported"),
        ({"input": 5}, "input", "must be a string or a list"),
        ({}, "input", "input is required"),
        ({"input": "a", "model": "text-embedding-3-small"}, "model", TITAN_V2),
        ({"input": "a", "dimensions": 384}, "dimensions", "256, 512, 1024"),
        ({"input": "a", "encoding_format": "hex"}, "encoding_format", "'float' or 'base64'"),
        ({"input": ""}, "input", "is empty"),
        ({"input": ["ok", ""]}, "input[1]", "is empty"),
        ({"input": []}, "input", "at least one text"),
    ],
)
def test_bad_requests_are_400(
    bedrock: FakeBedrockRuntime, body: dict[str, Any], param: str, words: str
) -> None:
    # Given an invalid OpenAI request
    # When it is posted
    response = post(body)

    # Then the 400 names the field and nothing was sent to Bedrock
    assert response["statusCode"] == 400
    error = response_json(response)["error"]
    assert error["param"] == param and words in error["message"]
    assert bedrock.calls == []


def handler_transport() -> httpx.MockTransport:
    """Serve httpx requests with the Lambda handler, as API Gateway would (no sockets)."""

    def serve(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/prod")
        event = api_event(
            request.method,
            path,
            raw_body=request.content.decode(),
            headers={"Content-Type": request.headers.get("content-type", "")},
        )
        result = embeddings.handler(event, LambdaContext())
        headers = {name: values[0] for name, values in result["multiValueHeaders"].items()}
        return httpx.Response(result["statusCode"], headers=headers, content=result["body"].encode())

    return httpx.MockTransport(serve)


def openai_client() -> openai.OpenAI:
    return openai.OpenAI(
        api_key="unused",
        base_url="https://abcdef1234.execute-api.us-east-1.amazonaws.com/prod/v1",
        http_client=httpx.Client(transport=handler_transport()),
        max_retries=0,
    )


def test_the_official_openai_client_works_unchanged(bedrock: FakeBedrockRuntime) -> None:
    # Given the official OpenAI client pointed at the API (it asks for base64 by default)
    client = openai_client()

    # When it asks for embeddings of two texts at 512 dimensions
    result = client.embeddings.create(input=[SEED, "other"], model=TITAN_V2, dimensions=512)

    # Then it decodes the float vectors itself, in order, with the usage
    sent = json.loads(json.dumps(bedrock.calls[0][1]))
    assert sent["dimensions"] == 512
    assert [item.index for item in result.data] == [0, 1]
    np.testing.assert_allclose(result.data[0].embedding, unit(SEED, 512), rtol=1e-6)
    assert result.usage.prompt_tokens == 5 + 1 and result.model == TITAN_V2


def test_the_official_client_raises_on_api_errors(bedrock: FakeBedrockRuntime) -> None:
    # Given the official client and a dimension Titan V2 does not offer
    client = openai_client()

    # When it asks for 384 dimensions
    with pytest.raises(openai.BadRequestError) as raised:
        client.embeddings.create(input="a", model=TITAN_V2, dimensions=384)

    # Then the client surfaces our error body
    assert raised.value.status_code == 400
    assert "256, 512, 1024" in str(raised.value)
