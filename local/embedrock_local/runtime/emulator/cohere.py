"""Cohere Embed v3 and v4 on Bedrock: request validation and response bodies.

Vectors are unit length, as Cohere's v3 models return them. Quantized types follow Cohere's
conventions: int8 in -128..127, uint8 in 0..255, binary/ubinary one bit per dimension packed
into dimensions/8 values (ubinary 0..255; binary is ubinary - 128, signed).
"""

from __future__ import annotations

import base64
import binascii
import math
import uuid
from typing import Any

import numpy as np

from embedrock.catalog import CatalogModel
from embedrock.embed_input import ImageData, pixel_size

from . import tokens
from .codec import Invocation, floats, image_stand_in
from .engines import Engine, FloatArray
from .errors import validation
from .schema import Violations

# Image tokens, the emulator's stand-in for Cohere's own count (Bedrock counts an image's tokens in
# the x-amzn-bedrock-input-token-count header with the texts', and bills them as tokens). OCI's
# "Cohere Embed 4" page: "a 512 x 512 image is converted to about 1,610 tokens"; Bedrock's "Cohere
# Embed v4" page (model-parameters-embed-v4.html): images over 2,458,624 pixels are downsampled to
# that size, under 3,136 upsampled. The emulator scales 1,610 tokens by the pixels within those
# bounds; an image whose size it cannot read counts as 512 x 512. Not Cohere's tokenizer.
_TOKENS_PER_512_SQUARE = 1_610
_MIN_PIXELS, _MAX_PIXELS = 3_136, 2_458_624

_TRUNCATE = ("NONE", "START", "END")
# Bedrock User Guide, "Cohere Embed v4": truncate NONE | LEFT | RIGHT (LEFT drops the start).
_TRUNCATE_V4 = ("NONE", "LEFT", "RIGHT")
_V4_KEYS = (
    "texts",
    "images",
    "inputs",
    "input_type",
    "embedding_types",
    "output_dimension",
    "max_tokens",
    "truncate",
)


def embed_v3(model: CatalogModel, body: dict[str, Any], engine: Engine) -> Invocation:
    v = Violations()
    v.keys(body, ("texts", "input_type", "truncate", "embedding_types"), required=("texts", "input_type"))
    texts = body.get("texts")
    if "texts" in body and v.array(texts, "#/texts", 1, model.max_texts_per_call):
        for i, text in enumerate(body["texts"]):
            v.string(text, f"#/texts/{i}", 0, model.max_input_chars)
    if "input_type" in body:
        v.enum(body["input_type"], model.input_types, "#/input_type")
    truncate = body.get("truncate", "NONE")
    if "truncate" in body:
        v.enum(truncate, _TRUNCATE, "#/truncate")
    types = body.get("embedding_types")
    if "embedding_types" in body and v.array(types, "#/embedding_types", 1):
        for i, kind in enumerate(body["embedding_types"]):
            v.enum(kind, model.embedding_types, f"#/embedding_types/{i}")
    v.raise_if_any(concatenate=True)

    kept = _within_limit(
        body["texts"], model.max_input_tokens, drop_start=None if truncate == "NONE" else truncate == "START"
    )
    count = sum(tokens.count(text) for text in kept)
    vectors = engine.embed(kept, model.default_dimensions)

    embeddings: Any
    if types is None:
        response_type, embeddings = "embeddings_floats", [floats(row) for row in vectors]
    else:
        response_type = "embeddings_by_type"
        embeddings = {kind: _by_type(vectors, kind) for kind in dict.fromkeys(types)}
    return Invocation(
        {
            "id": str(uuid.uuid4()),
            "response_type": response_type,
            "texts": body["texts"],
            "embeddings": embeddings,
        },
        count,
    )


def embed_v4(model: CatalogModel, body: dict[str, Any], engine: Engine) -> Invocation:
    """Cohere Embed v4: like v3 plus output_dimension and max_tokens; the answer is always
    `embeddings` as a dict by type (float only when embedding_types is absent)."""
    v = Violations()
    v.keys(body, _V4_KEYS, required=("input_type",))
    _check_v4_inputs(model, body, v)
    if "input_type" in body:
        v.enum(body["input_type"], model.input_types, "#/input_type")
    truncate = body.get("truncate", "NONE")
    if "truncate" in body:
        v.enum(truncate, _TRUNCATE_V4, "#/truncate")
    dimensions = body.get("output_dimension", model.default_dimensions)
    if "output_dimension" in body and v.typed(dimensions, "Integer", "#/output_dimension"):
        v.enum(dimensions, model.dimensions, "#/output_dimension")
    max_tokens = body.get("max_tokens", model.max_input_tokens)
    if (
        "max_tokens" in body
        and v.typed(max_tokens, "Integer", "#/max_tokens")
        and not 1 <= max_tokens <= model.max_input_tokens
    ):
        v.add("#/max_tokens", f"{max_tokens} is not between 1 and {model.max_input_tokens}")
    types = body.get("embedding_types", ["float"])
    if "embedding_types" in body and v.array(types, "#/embedding_types", 1):
        for i, kind in enumerate(types):
            v.enum(kind, model.embedding_types, f"#/embedding_types/{i}")
    v.raise_if_any(concatenate=True)

    drop_start = None if truncate == "NONE" else truncate == "LEFT"
    # Each input as its parts: a text, or an image's stand-in; several parts give one vector.
    parts: list[list[tuple[str, str]]]
    if "texts" in body:
        parts = [[("text", text)] for text in body["texts"]]
    elif "images" in body:
        parts = [[("image", image)] for image in body["images"]]
    else:
        parts = [[_part(part) for part in item["content"]] for item in body["inputs"]]
    count = 0
    rows = []
    for item in parts:
        images = [_image(model, value) for kind, value in item if kind == "image"]
        stand_ins = iter(stand_in for stand_in, _ in images)
        texts = [next(stand_ins) if kind == "image" else value for kind, value in item]
        kept = _within_limit(texts, max_tokens, drop_start=drop_start)
        count += sum(
            tokens.count(value) for (kind, _), value in zip(item, kept, strict=True) if kind == "text"
        )
        count += sum(image_tokens for _, image_tokens in images)
        combined = engine.embed(kept, dimensions).sum(axis=0)
        rows.append(combined / (np.linalg.norm(combined) or 1.0))
    vectors = np.stack(rows)
    answer: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "response_type": "embeddings_by_type",
        "embeddings": {kind: _by_type(vectors, kind) for kind in dict.fromkeys(types)},
    }
    if "texts" in body:
        answer["texts"] = body["texts"]
    return Invocation(answer, count)


def _check_v4_inputs(model: CatalogModel, body: dict[str, Any], v: Violations) -> None:
    """Exactly one of texts, images (data URIs) or inputs, each of at most 96 items."""
    given = [key for key in ("texts", "images", "inputs") if key in body]
    if len(given) != 1:
        v.add("#", "exactly one of [texts], [images] or [inputs] is required")
    for key in ("texts", "images"):
        if key in body and v.array(body[key], f"#/{key}", 1, model.max_texts_per_call):
            for i, value in enumerate(body[key]):
                v.string(value, f"#/{key}/{i}", 1)
    if "inputs" in body and v.array(body["inputs"], "#/inputs", 1, model.max_texts_per_call):
        for i, item in enumerate(body["inputs"]):
            _check_input(item, f"#/inputs/{i}", v)


def _check_input(item: Any, pointer: str, v: Violations) -> None:
    """One `inputs` item: {"content": [{"type": "text", "text"} | {"type": "image_url", "image_url"}]}."""
    if not v.typed(item, "JSONObject", pointer):
        return
    v.keys(item, ("content",), required=("content",))
    if "content" not in item or not v.array(item["content"], f"{pointer}/content", 1):
        return
    for j, part in enumerate(item["content"]):
        where = f"{pointer}/content/{j}"
        if not v.typed(part, "JSONObject", where):
            continue
        kind = part.get("type")
        if v.enum(kind, ("text", "image_url"), f"{where}/type"):
            v.keys(part, ("type", kind), required=(kind,))
            if kind in part:
                v.string(part[kind], f"{where}/{kind}", 1)


def _part(part: dict[str, str]) -> tuple[str, str]:
    return ("text", part["text"]) if part["type"] == "text" else ("image", part["image_url"])


def _image(model: CatalogModel, data_uri: str) -> tuple[str, int]:
    """A data URI's image as the engine's stand-in text and its tokens, or Bedrock's refusal of a bad one."""
    head, _, payload = data_uri.partition(",")
    formats = [f"data:image/{name};base64" for name in model.image_formats]
    if head not in formats:
        raise validation(f"Invalid image: expected a data URI starting with one of {', '.join(formats)}.")
    try:
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise validation("Invalid image: the data URI is not valid base64.") from None
    image_format = head.removeprefix("data:image/").removesuffix(";base64")
    return image_stand_in(raw), image_tokens(ImageData(image_format, raw))


def image_tokens(image: ImageData) -> int:
    """The tokens the emulator counts for one image (see _TOKENS_PER_512_SQUARE)."""
    size = pixel_size(image) or (512, 512)
    pixels = min(max(size[0] * size[1], _MIN_PIXELS), _MAX_PIXELS)
    return math.ceil(_TOKENS_PER_512_SQUARE * pixels / (512 * 512))


def _within_limit(texts: list[str], limit: int, *, drop_start: bool | None) -> list[str]:
    """Each text, cut to `limit` tokens from the start or end; drop_start None: too long is an error."""
    kept: list[str] = []
    for text in texts:
        if tokens.count(text) <= limit:
            kept.append(text)
        elif drop_start is None:
            raise validation("Input is too long for requested model.")
        else:
            kept.append(tokens.truncate(text, limit, keep_end=drop_start))
    return kept


def _by_type(vectors: FloatArray, kind: str) -> list[Any]:
    if kind == "float":
        return [floats(row) for row in vectors]
    if kind in ("int8", "uint8"):
        scale = np.abs(vectors).max(axis=1, keepdims=True)
        scale[scale == 0] = 1.0
        quantized = np.clip(np.rint(vectors / scale * 127), -128, 127).astype(np.int64)
        values: list[list[Any]] = (quantized + (128 if kind == "uint8" else 0)).tolist()
        return values
    packed = np.packbits(vectors > 0, axis=1).astype(np.int64)
    bits: list[list[Any]] = (packed - (128 if kind == "binary" else 0)).tolist()
    return bits
