"""Cohere Embed v3 and v4 on Bedrock: request validation and response bodies.

Vectors are unit length, as Cohere's v3 models return them. Quantized types follow Cohere's
conventions: int8 in -128..127, uint8 in 0..255, binary/ubinary one bit per dimension packed
into dimensions/8 values (ubinary 0..255; binary is ubinary - 128, signed).
"""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Any

import numpy as np

from embedrock.catalog import CatalogModel

from . import tokens
from .codec import Invocation, floats, image_stand_in
from .engines import Engine, FloatArray
from .errors import validation
from .schema import Violations

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
        texts = [_image_text(model, value) if kind == "image" else value for kind, value in item]
        kept = _within_limit(texts, max_tokens, drop_start=drop_start)
        count += sum(
            tokens.count(value) for (kind, _), value in zip(item, kept, strict=True) if kind == "text"
        )
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


def _image_text(model: CatalogModel, data_uri: str) -> str:
    """A data URI's image as the engine's stand-in text, or Bedrock's refusal of a bad one."""
    head, _, payload = data_uri.partition(",")
    formats = [f"data:image/{name};base64" for name in model.image_formats]
    if head not in formats:
        raise validation(f"Invalid image: expected a data URI starting with one of {', '.join(formats)}.")
    try:
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise validation("Invalid image: the data URI is not valid base64.") from None
    return image_stand_in(raw)


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
