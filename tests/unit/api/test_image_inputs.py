"""POST /embeddings `inputs`: images (data URIs) and text+image pairs, the bodies each image model
gets, and every per-model refusal (with the item named) before any call."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from embedrock import catalog
from embedrock.cache import cache_key
from embedrock.embed_input import EmbedInput, ImageData, check_items
from embedrock.embed_spec import resolve_spec
from embedrock.errors import InvalidRequest
from embedrock.handlers import embeddings
from tests.events import LambdaContext, api_event, response_json
from tests.fakes import FakeBedrockRuntime
from tests.fixtures.images import data_uri, gif, jpeg, png, webp

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

TITAN_MM = "amazon.titan-embed-image-v1"
V4 = "cohere.embed-v4:0"
NOVA = "amazon.nova-2-multimodal-embeddings-v1:0"
PNG = png()
PNG_URI = data_uri(PNG)
PNG_B64 = base64.b64encode(PNG).decode()


def post(body: dict[str, Any]) -> dict[str, Any]:
    response: dict[str, Any] = embeddings.handler(api_event("POST", "/embeddings", body), LambdaContext())
    return response


def embedded(body: dict[str, Any]) -> dict[str, Any]:
    response = post(body)
    assert response["statusCode"] == 200, response["body"]
    return response_json(response)


# --- what each image model is sent --------------------------------------------------------------


def test_titan_multimodal_image_alone_and_with_text(bedrock: FakeBedrockRuntime) -> None:
    body = embedded(
        {
            "model": TITAN_MM,
            "dimensions": 256,
            "inputs": [{"image": PNG_URI}, {"text": "a cat", "image": PNG_URI}],
        }
    )
    assert sorted((json.dumps(request, sort_keys=True) for _, request in bedrock.calls)) == sorted(
        json.dumps(request, sort_keys=True)
        for request in (
            {"inputImage": PNG_B64, "embeddingConfig": {"outputEmbeddingLength": 256}},
            {"inputText": "a cat", "inputImage": PNG_B64, "embeddingConfig": {"outputEmbeddingLength": 256}},
        )
    )
    image, pair = (np.asarray(vector) for vector in body["embeddings"])
    assert image.shape == pair.shape == (256,)
    assert np.linalg.norm(image) == pytest.approx(1.0) and not np.allclose(image, pair)


def test_v4_sends_inputs_with_content_parts_when_any_item_has_an_image(bedrock: FakeBedrockRuntime) -> None:
    body = embedded(
        {"model": V4, "dimensions": 256, "inputs": [{"text": "a cat", "image": PNG_URI}, {"text": "b"}]}
    )
    assert bedrock.calls == [
        (
            V4,
            {
                "inputs": [
                    {
                        "content": [
                            {"type": "text", "text": "a cat"},
                            {"type": "image_url", "image_url": PNG_URI},
                        ]
                    },
                    {"content": [{"type": "text", "text": "b"}]},
                ],
                "input_type": "search_document",
                "embedding_types": ["float"],
                "output_dimension": 256,
                "truncate": "NONE",
            },
        )
    ]
    assert [len(vector) for vector in body["embeddings"]] == [256, 256]


def test_text_only_inputs_are_sent_as_texts_would_be(bedrock: FakeBedrockRuntime) -> None:
    from_inputs = embedded({"model": V4, "inputs": [{"text": "a"}, {"text": "b"}]})
    from_texts = embedded({"model": V4, "texts": ["a", "b"]})
    assert bedrock.calls[0] == bedrock.calls[1] and bedrock.calls[0][1]["texts"] == ["a", "b"]
    np.testing.assert_allclose(from_inputs["embeddings"], from_texts["embeddings"])


@pytest.mark.parametrize(
    ("image", "media_type", "fmt"), [(png(), "image/png", "png"), (webp(), "image/webp", "webp")]
)
def test_nova_image_body_and_answer(
    bedrock: FakeBedrockRuntime, image: bytes, media_type: str, fmt: str
) -> None:
    body = embedded({"model": NOVA, "dimensions": 384, "inputs": [{"image": data_uri(image, media_type)}]})
    assert bedrock.calls == [
        (
            NOVA,
            {
                "schemaVersion": "nova-multimodal-embed-v1",
                "taskType": "SINGLE_EMBEDDING",
                "singleEmbeddingParams": {
                    "embeddingPurpose": "GENERIC_INDEX",
                    "embeddingDimension": 384,
                    "image": {"format": fmt, "source": {"bytes": base64.b64encode(image).decode()}},
                },
            },
        )
    ]
    assert len(body["embeddings"][0]) == 384


def test_same_image_same_vector_other_image_another(bedrock: FakeBedrockRuntime) -> None:
    other = data_uri(png(shade=200))
    vectors = embedded(
        {
            "model": NOVA,
            "dimensions": 256,
            "inputs": [{"image": PNG_URI}, {"image": PNG_URI}, {"image": other}],
        }
    )
    first, again, different = (np.asarray(vector) for vector in vectors["embeddings"])
    np.testing.assert_allclose(first, again)
    assert float(first @ different) < 0.9


def test_the_cache_key_holds_the_image_bytes() -> None:
    spec = resolve_spec(model_id=NOVA)
    one, two = ImageData("png", png()), ImageData("png", png(shade=9))
    assert cache_key(spec, EmbedInput(image=one)) == cache_key(
        spec, EmbedInput(image=ImageData("png", png()))
    )
    assert cache_key(spec, EmbedInput(image=one)) != cache_key(spec, EmbedInput(image=two))
    assert cache_key(spec, EmbedInput("a", one)) != cache_key(spec, EmbedInput(image=one))
    assert cache_key(spec, "a") != cache_key(spec, EmbedInput("a", one))


# --- refused before any call -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "param", "code", "words"),
    [
        ({"inputs": [{"image": PNG_URI}]}, "inputs[0].image", "unsupported_modality", "embeds text only"),
        (
            {"model": NOVA, "inputs": [{"text": "a"}, {"text": "b", "image": PNG_URI}]},
            "inputs[1]",
            "unsupported_combination",
            "amazon.titan-embed-image-v1, cohere.embed-v4:0",
        ),
        (
            {"model": TITAN_MM, "inputs": [{"image": data_uri(gif(), "image/gif")}]},
            "inputs[0].image",
            "invalid_image_format",
            "takes png, jpeg",
        ),
        (
            {"model": V4, "inputs": [{"image": data_uri(webp(), "image/webp")}]},
            "inputs[0].image",
            "invalid_image_format",
            "webp",
        ),
        (
            {"model": NOVA, "inputs": [{"image": "data:image/png;base64,@@@"}]},
            "inputs[0].image",
            "invalid_image",
            "not valid base64",
        ),
        (
            {"model": NOVA, "inputs": [{"image": "https://example.com/cat.png"}]},
            "inputs[0].image",
            "invalid_image",
            "data URI",
        ),
        (
            {"model": NOVA, "inputs": [{"image": data_uri(PNG, "image/bmp")}]},
            "inputs[0].image",
            "invalid_image_format",
            "image/png, image/jpeg",
        ),
        (
            {"model": NOVA, "inputs": [{"image": data_uri(jpeg(), "image/png")}]},
            "inputs[0].image",
            "invalid_image",
            "its bytes are jpeg",
        ),
        (
            {"model": TITAN_MM, "inputs": [{"image": data_uri(png(4096, 8))}]},
            "inputs[0].image",
            "image_too_large",
            "2048x2048",
        ),
        (
            {"model": TITAN_MM, "inputs": [{"image": data_uri(jpeg(8, 2049), "image/jpeg")}]},
            "inputs[0].image",
            "image_too_large",
            "8x2049",
        ),
        (
            {"model": NOVA, "inputs": [{"text": " ", "image": PNG_URI}]},
            "inputs[0].text",
            "empty_text",
            "is empty",
        ),
        ({"model": NOVA, "inputs": []}, "inputs", "empty_input", "at least one"),
        ({"model": NOVA, "inputs": [{"text": "a"}] * 2049}, "inputs", "too_many_texts", "at most 2048"),
        ({"model": NOVA, "inputs": [{}]}, "inputs[0]", "invalid_request", '"text", "image", or both'),
        ({"model": NOVA, "inputs": [{"text": "a"}], "texts": ["a"]}, "texts", "invalid_request", '"inputs"'),
    ],
)
def test_bad_inputs_are_400_naming_the_item_and_cost_nothing(
    bedrock: FakeBedrockRuntime, body: dict[str, Any], param: str, code: str, words: str
) -> None:
    response = post(body)
    error = json.loads(response["body"])["error"]
    assert response["statusCode"] == 400, error
    assert (error["param"], error["code"]) == (param, code) and words in error["message"]
    assert bedrock.calls == []


def test_an_image_over_the_models_byte_limit_is_refused() -> None:
    titan = catalog.find(TITAN_MM)
    assert titan is not None and titan.max_image_bytes == 25_000_000
    small_limit = replace(titan, max_image_bytes=len(PNG) - 1)
    with pytest.raises(InvalidRequest) as raised:
        check_items(["a", EmbedInput(image=ImageData("png", PNG))], small_limit, param="inputs")
    assert raised.value.param == "inputs[1].image" and raised.value.code == "image_too_large"
    check_items([EmbedInput(image=ImageData("png", PNG))], titan, param="inputs")  # within the real limit


# --- data URI syntax: RFC 2397's media type, in any case, with parameters ------------------------


@pytest.mark.parametrize(
    "prefix",
    [
        "data:image/PNG;base64,",
        "data:IMAGE/Png;base64,",
        "DATA:image/png;BASE64,",
        "data:image/png;name=a.png;base64,",
        "data:Image/PNG;charset=binary;name=cat.png;base64,",
    ],
)
def test_media_types_in_any_case_and_with_parameters_are_taken(
    bedrock: FakeBedrockRuntime, prefix: str
) -> None:
    # When an image is sent with its media type in another case, or with parameters
    embedded({"model": NOVA, "inputs": [{"image": prefix + PNG_B64}]})

    # Then the image went as it is, a png
    ((_, request),) = bedrock.calls
    assert request["singleEmbeddingParams"]["image"] == {"format": "png", "source": {"bytes": PNG_B64}}


def test_a_parameter_does_not_change_the_cache_key() -> None:
    from embedrock.data_uri import decode_image

    plain = decode_image(PNG_URI, "image")
    with_name = decode_image(f"data:image/PNG;name=a.png;base64,{PNG_B64}", "image")
    spec = resolve_spec(model_id=NOVA)
    assert cache_key(spec, EmbedInput(image=plain)) == cache_key(spec, EmbedInput(image=with_name))


@pytest.mark.parametrize(
    ("model", "image", "code", "allowed"),
    [
        (
            V4,
            data_uri(PNG, "image/bmp"),
            "invalid_image_format",
            "allowed media types: image/png, image/jpeg.",
        ),
        (V4, "http://example.com/a.png", "invalid_image", "media types: image/png, image/jpeg."),
        (
            TITAN_MM,
            data_uri(PNG, "image/tiff"),
            "invalid_image_format",
            "allowed media types: image/png, image/jpeg.",
        ),
        (
            NOVA,
            data_uri(PNG, "image/bmp"),
            "invalid_image_format",
            "allowed media types: image/png, image/jpeg, image/gif, image/webp.",
        ),
    ],
)
def test_a_bad_data_uri_names_the_models_own_formats(
    bedrock: FakeBedrockRuntime, model: str, image: str, code: str, allowed: str
) -> None:
    response = post({"model": model, "inputs": [{"image": image}]})
    error = json.loads(response["body"])["error"]
    assert response["statusCode"] == 400
    assert (error["param"], error["code"]) == ("inputs[0].image", code)
    assert error["message"].endswith(allowed)
    assert bedrock.calls == []


def test_a_text_only_model_says_so_before_reading_the_image(bedrock: FakeBedrockRuntime) -> None:
    response = post({"inputs": [{"image": "not a data uri"}]})
    error = json.loads(response["body"])["error"]
    assert (error["param"], error["code"]) == ("inputs[0].image", "unsupported_modality")
    assert "embeds text only" in error["message"] and bedrock.calls == []
