"""POST /v1/embeddings: the OpenAI shape, float and base64, and the official client unchanged."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import numpy as np
import openai
import pytest

from embedrock import catalog
from embedrock.api import token_ids
from embedrock.handlers import embeddings
from tests.events import LambdaContext, api_event, response_json
from tests.fakes import FakeBedrockRuntime
from tests.fakes import fake_unit_vector as unit

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

SEED = "Python is a programming language"
TITAN_V2 = "amazon.titan-embed-text-v2:0"
# USD per input token, from the catalog: usage.cost_usd is tokens x price.
TITAN_V2_PRICE = next(m.price_per_million_tokens for m in catalog.MODELS if m.id == TITAN_V2) / 1e6


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
    assert body["usage"] == {
        "prompt_tokens": 5,
        "total_tokens": 5,
        "cost_usd": pytest.approx(5 * TITAN_V2_PRICE),
    }
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


# "hello world" in cl100k_base, as tiktoken encodes it; 9468, 239, 233 are the four bytes of one emoji.
HELLO_WORLD = [15339, 1917]
WAVE = [9468, 239, 233]


def test_the_shipped_cl100k_base_decodes_known_token_ids() -> None:
    # Given the encoding shipped with the code (its sha256 is checked as it loads)
    # When known ids are decoded
    # Then they give their text, a character split over several tokens included
    assert token_ids.decode(HELLO_WORLD) == "hello world"
    assert token_ids.decode(WAVE) == "\N{WAVING HAND SIGN}"
    assert token_ids.decode([token_ids.MAX_TOKEN_ID]) == " Conveyor"


def test_a_token_array_gets_the_vector_of_its_text(bedrock: FakeBedrockRuntime) -> None:
    # Given "hello world" sent as token ids, and as text
    by_tokens = response_json(post({"input": HELLO_WORLD, "encoding_format": "float"}))
    by_text = response_json(post({"input": "hello world", "encoding_format": "float"}))

    # Then Bedrock was sent the decoded text both times, and the vectors match
    assert [request["inputText"] for _, request in bedrock.calls] == ["hello world", "hello world"]
    assert [item["index"] for item in by_tokens["data"]] == [0]
    np.testing.assert_allclose(by_tokens["data"][0]["embedding"], by_text["data"][0]["embedding"])
    assert by_tokens["usage"]["prompt_tokens"] == by_text["usage"]["prompt_tokens"]


def test_a_list_of_token_arrays_is_a_list_of_texts_in_order(bedrock: FakeBedrockRuntime) -> None:
    # Given two token arrays for Cohere
    # When they are posted
    body = response_json(post({"input": [WAVE, HELLO_WORLD], "model": "cohere.embed-english-v3"}))

    # Then one call carries both decoded texts, in order, and two vectors come back
    ((_, request),) = bedrock.calls
    assert request["texts"] == ["\N{WAVING HAND SIGN}", "hello world"]
    assert [item["index"] for item in body["data"]] == [0, 1]


def test_ids_that_cut_a_character_decode_with_the_replacement_character(bedrock: FakeBedrockRuntime) -> None:
    # Given an emoji's tokens split over two arrays, as a client cutting a long text into windows does
    # When they are posted
    response = post({"input": [[*HELLO_WORLD, *WAVE[:2]], WAVE[2:]]})

    # Then each half becomes U+FFFD (as tiktoken decodes), and the rest of the text is kept
    assert response["statusCode"] == 200
    sent = sorted(request["inputText"] for _, request in bedrock.calls)  # Titan's calls run concurrently
    assert sent == ["hello world\ufffd", "\ufffd"]


_RANGE = "integers from 0 to 100,255 (cl100k_base token ids)"


@pytest.mark.parametrize(
    ("input_", "param", "code", "words"),
    [
        ([-1], "input[0]", "invalid_value", f"input[0] is -1, not a token id; token ids are {_RANGE}"),
        ([15339, 100_256], "input[1]", "invalid_value", "is 100256, not a token id"),
        ([100_257], "input[0]", "invalid_value", _RANGE),  # <|endoftext|>: a special token, no text
        ([10**150], "input[0]", "invalid_value", "(151 characters)"),
        ([15339, 2.5], "input[1]", "invalid_type", "must be a token id, not a number"),
        ([15339, "world"], "input[1]", "invalid_type", "not a string"),
        ([[15339], [1917, True]], "input[1][1]", "invalid_type", "not true"),
        ([[15339], [1917, -5]], "input[1][1]", "invalid_value", "is -5"),
        ([[15339], []], "input[1]", "empty_text", "empty token array"),
        ([[15339], "world"], "input[1]", "invalid_type", "must be a token array, like input[0]"),
        (["hello", [1917]], "input[1]", "invalid_type", "must be a string, like input[0]"),
        ([None], "input[0]", "invalid_request", "must be a string or a token array"),
        ([True, 1], "input[0]", "invalid_request", "must be a string or a token array"),
    ],
)
def test_bad_token_ids_are_a_400_naming_the_item_and_the_allowed_range(
    bedrock: FakeBedrockRuntime, input_: list[Any], param: str, code: str, words: str
) -> None:
    # Given a token input with one bad item
    # When it is posted
    response = post({"input": input_})

    # Then the 400 names that item (and the allowed ids), and nothing was sent to Bedrock
    assert response["statusCode"] == 400
    error = response_json(response)["error"]
    assert (error["param"], error["code"]) == (param, code)
    assert words in error["message"]
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
    assert result.usage.model_extra == {"cost_usd": pytest.approx(6 * TITAN_V2_PRICE)}


def test_the_official_client_sends_token_arrays(bedrock: FakeBedrockRuntime) -> None:
    # Given the official client and token ids, as langchain-openai passes them to it
    client = openai_client()

    # When it embeds a list of token arrays
    result = client.embeddings.create(input=[HELLO_WORLD, WAVE], model=TITAN_V2)

    # Then the decoded texts were embedded, and their vectors come back in input order
    assert sorted(request["inputText"] for _, request in bedrock.calls) == [
        "hello world",
        "\N{WAVING HAND SIGN}",
    ]
    np.testing.assert_allclose(result.data[0].embedding, unit("hello world", 1024), rtol=1e-6)
    np.testing.assert_allclose(result.data[1].embedding, unit("\N{WAVING HAND SIGN}", 1024), rtol=1e-6)


def test_the_official_client_raises_on_api_errors(bedrock: FakeBedrockRuntime) -> None:
    # Given the official client and a dimension Titan V2 does not offer
    client = openai_client()

    # When it asks for 384 dimensions
    with pytest.raises(openai.BadRequestError) as raised:
        client.embeddings.create(input="a", model=TITAN_V2, dimensions=384)

    # Then the client surfaces our error body
    assert raised.value.status_code == 400
    assert "256, 512, 1024" in str(raised.value)


# --- input_type and truncate: extra fields, as the client's extra_body sends them ---------------


def test_the_official_client_sends_a_query_input_type_in_extra_body(bedrock: FakeBedrockRuntime) -> None:
    # Given the official client and a Cohere model
    client = openai_client()

    # When a query is embedded with extra_body={"input_type": "search_query", "truncate": "RIGHT"}
    client.embeddings.create(
        input="what is python",
        model="cohere.embed-english-v3",
        extra_body={"input_type": "search_query", "truncate": "RIGHT"},
    )

    # Then Bedrock got the query purpose and Cohere v3's word for cutting the end
    ((_, request),) = bedrock.calls
    assert request["input_type"] == "search_query" and request["truncate"] == "END"


def test_nova_takes_its_own_purpose_on_v1(bedrock: FakeBedrockRuntime) -> None:
    post({"input": "q", "model": "amazon.nova-2-multimodal-embeddings-v1:0", "input_type": "TEXT_RETRIEVAL"})
    ((_, request),) = bedrock.calls
    assert request["singleEmbeddingParams"]["embeddingPurpose"] == "TEXT_RETRIEVAL"


@pytest.mark.parametrize(
    ("body", "param", "code", "words"),
    [
        (
            {"input": "a", "input_type": "search_query"},
            "input_type",
            "unsupported_parameter",
            "cohere.embed-v4:0",
        ),
        (
            {"input": "a", "model": "cohere.embed-english-v3", "input_type": "TEXT_RETRIEVAL"},
            "input_type",
            "invalid_input_type",
            "search_document, search_query, classification, clustering",
        ),
        ({"input": "a", "input_type": "query"}, "input_type", "invalid_value", "'search_query'"),
        ({"input": "a", "truncate": "LEFT"}, "truncate", "unsupported_parameter", "cohere.embed-english-v3"),
        (
            {"input": "a", "model": "cohere.embed-v4:0", "truncate": "END"},
            "truncate",
            "invalid_value",
            "'RIGHT'",
        ),
        ({"input": "a", "input_type": 3}, "input_type", "invalid_value", "'search_document'"),
    ],
)
def test_an_extra_field_the_model_cannot_use_is_a_400(
    bedrock: FakeBedrockRuntime, body: dict[str, Any], param: str, code: str, words: str
) -> None:
    response = post(body)
    error = response_json(response)["error"]
    assert response["statusCode"] == 400
    assert (error["param"], error["code"]) == (param, code) and words in error["message"]
    assert bedrock.calls == []
