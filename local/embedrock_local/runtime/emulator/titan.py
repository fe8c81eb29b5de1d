"""Amazon Titan embedding families: request validation and response bodies as Bedrock gives them."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import numpy as np

from embedrock.catalog import CatalogModel

from . import tokens
from .codec import Invocation, floats, image_stand_in, magnitude
from .engines import Engine
from .errors import validation
from .schema import Violations

# Titan Multimodal takes JPEG or PNG images.
_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")


def _count_tokens(model: CatalogModel, text: str) -> int:
    count = tokens.count(text)
    if count > model.max_input_tokens:
        raise validation(
            "400 Bad Request: Too many input tokens. "
            f"Max input tokens: {model.max_input_tokens}, request input token count: {count}"
        )
    return count


def text_v2(model: CatalogModel, body: dict[str, Any], engine: Engine) -> Invocation:
    """Titan Text Embeddings V2: normalized unless normalize is false; float and/or binary."""
    v = Violations()
    v.keys(body, ("inputText", "dimensions", "normalize", "embeddingTypes"), required=("inputText",))
    if "inputText" in body:
        v.string(body["inputText"], "#/inputText", 1, model.max_input_chars)
    dimensions = body.get("dimensions", model.default_dimensions)
    if "dimensions" in body and v.typed(dimensions, "Integer", "#/dimensions"):
        v.enum(dimensions, model.dimensions, "#/dimensions")
    normalize = body.get("normalize", True)
    if "normalize" in body:
        v.typed(normalize, "Boolean", "#/normalize")
    types = body.get("embeddingTypes", ["float"])
    if "embeddingTypes" in body and v.array(types, "#/embeddingTypes", 1):
        for i, kind in enumerate(types):
            v.enum(kind, model.embedding_types, f"#/embeddingTypes/{i}")
    v.raise_if_any()

    text: str = body["inputText"]
    count = _count_tokens(model, text)
    vector = engine.embed([text], dimensions)[0]
    if not normalize:
        vector = vector * magnitude(count)
    by_type: dict[str, Any] = {}
    if "float" in types:
        by_type["float"] = floats(vector)
    if "binary" in types:
        # One 0/1 value per dimension (not packed), as Titan returns it.
        by_type["binary"] = (vector > 0).astype(int).tolist()
    return Invocation(
        {"embedding": floats(vector), "embeddingsByType": by_type, "inputTextTokenCount": count}, count
    )


def text_v1(model: CatalogModel, body: dict[str, Any], engine: Engine) -> Invocation:
    """Titan Embeddings G1 - Text: inputText only. Its vectors are not unit length, so neither are ours."""
    v = Violations()
    v.keys(body, ("inputText",), required=("inputText",))
    if "inputText" in body:
        v.string(body["inputText"], "#/inputText", 1, model.max_input_chars)
    v.raise_if_any()

    text: str = body["inputText"]
    count = _count_tokens(model, text)
    vector = engine.embed([text], model.default_dimensions)[0] * magnitude(count)
    return Invocation({"embedding": floats(vector), "inputTextTokenCount": count}, count)


def multimodal(model: CatalogModel, body: dict[str, Any], engine: Engine) -> Invocation:
    """Titan Multimodal Embeddings G1: a text and/or an image, in one vector (not unit length)."""
    v = Violations()
    v.keys(body, ("inputText", "inputImage", "embeddingConfig"))
    if "inputText" not in body and "inputImage" not in body:
        v.add("#", "required key [inputText] or [inputImage] not found")
    if "inputText" in body:
        v.string(body["inputText"], "#/inputText", 1, model.max_input_chars)
    if "inputImage" in body:
        v.string(body["inputImage"], "#/inputImage", 1)
    dimensions = model.default_dimensions
    config = body.get("embeddingConfig", {})
    if "embeddingConfig" in body and v.typed(config, "JSONObject", "#/embeddingConfig"):
        v.keys(config, ("outputEmbeddingLength",))
        if "outputEmbeddingLength" in config:
            dimensions = config["outputEmbeddingLength"]
            if v.typed(dimensions, "Integer", "#/embeddingConfig/outputEmbeddingLength"):
                v.enum(dimensions, model.dimensions, "#/embeddingConfig/outputEmbeddingLength")
    v.raise_if_any()

    inputs: list[str] = []
    count = 0
    if "inputText" in body:
        count = _count_tokens(model, body["inputText"])
        inputs.append(body["inputText"])
    if "inputImage" in body:
        inputs.append(image_stand_in(_decode_image(body["inputImage"])))
    rows = engine.embed(inputs, dimensions)
    combined = rows.sum(axis=0)
    vector = combined / (np.linalg.norm(combined) or 1.0) * magnitude(count)
    return Invocation({"embedding": floats(vector), "inputTextTokenCount": count}, count)


def _decode_image(data: str) -> bytes:
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise validation("The provided image is not valid base64.") from None
    if not raw.startswith(_IMAGE_MAGIC):
        raise validation("The provided image must be a JPEG or PNG image.")
    return raw
