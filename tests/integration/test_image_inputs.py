"""Images through the local gateway: POST /embeddings `inputs` for each image model, over HTTP,
with the emulator's hash engine behind it (image vectors from the bytes, not Bedrock's)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import requests

from embedrock_local.runtime.serve import LocalRuntime
from tests.fixtures.images import data_uri, gif, png

pytestmark = pytest.mark.integration

TITAN_MM = "amazon.titan-embed-image-v1"
V4 = "cohere.embed-v4:0"
NOVA = "amazon.nova-2-multimodal-embeddings-v1:0"
CAT, DOG = data_uri(png(shade=10)), data_uri(png(shade=240))


def post(runtime: LocalRuntime, body: dict[str, Any]) -> requests.Response:
    return requests.post(f"{runtime.url}/embeddings", json=body, timeout=30)


@pytest.mark.parametrize(("model_id", "dimensions"), [(TITAN_MM, 384), (V4, 512), (NOVA, 1024)])
def test_each_image_model_embeds_images(runtime: LocalRuntime, model_id: str, dimensions: int) -> None:
    response = post(
        runtime,
        {
            "model": model_id,
            "dimensions": dimensions,
            "inputs": [{"image": CAT}, {"text": "a dog"}, {"image": CAT}, {"image": DOG}],
        },
    )
    assert response.status_code == 200, response.text
    cat, text, cat_again, dog = (np.asarray(vector) for vector in response.json()["embeddings"])
    assert cat.shape == (dimensions,) and np.linalg.norm(cat) == pytest.approx(1.0, abs=1e-4)
    np.testing.assert_allclose(cat, cat_again, atol=1e-6)
    assert not np.allclose(cat, dog) and not np.allclose(cat, text)


@pytest.mark.parametrize("model_id", [TITAN_MM, V4])
def test_joint_text_and_image(runtime: LocalRuntime, model_id: str) -> None:
    response = post(runtime, {"model": model_id, "inputs": [{"text": "a cat", "image": CAT}]})
    assert response.status_code == 200, response.text
    assert len(response.json()["embeddings"]) == 1


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({"inputs": [{"image": CAT}]}, "inputs[0].image", "unsupported_modality"),
        (
            {"model": NOVA, "inputs": [{"text": "a cat", "image": CAT}]},
            "inputs[0]",
            "unsupported_combination",
        ),
        (
            {"model": TITAN_MM, "inputs": [{"text": "ok"}, {"image": data_uri(gif(), "image/gif")}]},
            "inputs[1].image",
            "invalid_image_format",
        ),
        (
            {"model": V4, "inputs": [{"image": "data:image/png;base64,not base64!"}]},
            "inputs[0].image",
            "invalid_image",
        ),
        (
            {"model": TITAN_MM, "inputs": [{"image": data_uri(png(2049, 1))}]},
            "inputs[0].image",
            "image_too_large",
        ),
        ({"model": NOVA, "inputs": [{"image": CAT}] * 2049}, "inputs", "too_many_texts"),
    ],
)
def test_bad_images_are_400_in_the_error_shape(
    runtime: LocalRuntime, body: dict[str, Any], param: str, code: str
) -> None:
    response = post(runtime, body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["param"], error["code"]) == (param, code)
    assert error["type"] == "invalid_request_error" and "Traceback" not in response.text
