"""Amazon Nova Multimodal Embeddings on Bedrock, synchronous: request validation and response bodies.

The request and response shapes are those of the Amazon Nova User Guide, "Complete embeddings
request and response schema" (embeddings-schema.html). One input per call; the answer is
`{"embeddings": [{"embeddingType": "TEXT" | "IMAGE", "embedding": [...]}]}`. Audio and video
inputs are refused here: the emulator serves what this service sends.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from embedrock.catalog import NOVA_PURPOSES, CatalogModel
from embedrock.embed_input import sniff_format

from . import tokens
from .codec import Invocation, floats, image_stand_in
from .engines import Engine
from .errors import validation
from .schema import Violations

SCHEMA_VERSION = "nova-multimodal-embed-v1"
_TASK_TYPES = ("SINGLE_EMBEDDING", "SEGMENTED_EMBEDDING")
_TRUNCATION = ("START", "END", "NONE")
_MEDIA = ("text", "image", "audio", "video")
_DETAIL_LEVELS = ("STANDARD_IMAGE", "DOCUMENT_IMAGE")


def embed(model: CatalogModel, body: dict[str, Any], engine: Engine) -> Invocation:
    v = Violations()
    v.keys(body, ("schemaVersion", "taskType", "singleEmbeddingParams"), required=("taskType",))
    if "schemaVersion" in body:
        v.enum(body["schemaVersion"], (SCHEMA_VERSION,), "#/schemaVersion")
    task = body.get("taskType")
    if "taskType" in body and v.enum(task, _TASK_TYPES, "#/taskType") and task != "SINGLE_EMBEDDING":
        v.add("#/taskType", "SEGMENTED_EMBEDDING is only available through StartAsyncInvoke")
    params = body.get("singleEmbeddingParams")
    if params is None:
        v.add("#", "required key [singleEmbeddingParams] not found")
    elif v.typed(params, "JSONObject", "#/singleEmbeddingParams"):
        _check_params(model, params, v)
    v.raise_if_any()

    assert isinstance(params, dict)
    dimensions = params.get("embeddingDimension", model.default_dimensions)
    if "image" in params:
        vector = engine.embed([image_stand_in(_image_bytes(params["image"]))], dimensions)[0]
        # 0 tokens: what Bedrock's token header says for a Nova image is not documented in the
        # pages read here (the Nova user guide gives 8K tokens per input, no image count).
        return Invocation({"embeddings": [{"embeddingType": "IMAGE", "embedding": floats(vector)}]}, 0)
    text: dict[str, Any] = params["text"]
    value = _within_limit(text["value"], model.max_input_tokens, text["truncationMode"])
    vector = engine.embed([value], dimensions)[0]
    return Invocation(
        {"embeddings": [{"embeddingType": "TEXT", "embedding": floats(vector)}]}, tokens.count(value)
    )


def _check_params(model: CatalogModel, params: dict[str, Any], v: Violations) -> None:
    pointer = "#/singleEmbeddingParams"
    v.keys(params, ("embeddingPurpose", "embeddingDimension", *_MEDIA), required=("embeddingPurpose",))
    if "embeddingPurpose" in params:
        v.enum(params["embeddingPurpose"], NOVA_PURPOSES, f"{pointer}/embeddingPurpose")
    if "embeddingDimension" in params and v.typed(
        params["embeddingDimension"], "Integer", f"{pointer}/embeddingDimension"
    ):
        v.enum(params["embeddingDimension"], model.dimensions, f"{pointer}/embeddingDimension")
    media = [key for key in _MEDIA if key in params]
    if len(media) != 1:
        v.add(pointer, "exactly one of [text], [image], [audio] or [video] is required")
    for key in media:
        if key not in ("text", "image"):
            v.add(f"{pointer}/{key}", "not served by the embedrock emulator")
    if "image" in params and v.typed(params["image"], "JSONObject", f"{pointer}/image"):
        _check_image(model, params["image"], f"{pointer}/image", v)
    if "text" in params and v.typed(params["text"], "JSONObject", f"{pointer}/text"):
        text = params["text"]
        v.keys(text, ("truncationMode", "value", "source"), required=("truncationMode",))
        if "truncationMode" in text:
            v.enum(text["truncationMode"], _TRUNCATION, f"{pointer}/text/truncationMode")
        if "source" in text:
            v.add(f"{pointer}/text/source", "not served by the embedrock emulator; send value")
        elif "value" not in text:
            v.add(f"{pointer}/text", "required key [value] not found")
        else:
            v.string(text["value"], f"{pointer}/text/value", 1)


def _check_image(model: CatalogModel, image: dict[str, Any], pointer: str, v: Violations) -> None:
    v.keys(image, ("format", "detailLevel", "source"), required=("format", "source"))
    if "format" in image:
        v.enum(image["format"], model.image_formats, f"{pointer}/format")
    if "detailLevel" in image:
        v.enum(image["detailLevel"], _DETAIL_LEVELS, f"{pointer}/detailLevel")
    source: dict[str, Any] = image.get("source", {})
    if "source" in image and v.typed(source, "JSONObject", f"{pointer}/source"):
        v.keys(source, ("bytes", "s3Location"))
        if "s3Location" in source:
            v.add(f"{pointer}/source/s3Location", "not served by the embedrock emulator; send bytes")
        elif "bytes" not in source:
            v.add(f"{pointer}/source", "required key [bytes] not found")
        else:
            v.string(source["bytes"], f"{pointer}/source/bytes", 1)


def _image_bytes(image: dict[str, Any]) -> bytes:
    try:
        raw = base64.b64decode(image["source"]["bytes"], validate=True)
    except (binascii.Error, ValueError):
        raise validation("The provided image is not valid base64.") from None
    if sniff_format(raw) != image["format"]:
        raise validation(f"The provided image is not a valid {image['format']} image.")
    return raw


def _within_limit(value: str, limit: int, mode: str) -> str:
    if tokens.count(value) <= limit:
        return value
    if mode == "NONE":
        raise validation(
            f"Input text exceeds the maximum of {limit} tokens; shorten it, or set truncationMode "
            "to START or END."
        )
    # START omits the start of the text, END its end.
    return tokens.truncate(value, limit, keep_end=mode == "START")
