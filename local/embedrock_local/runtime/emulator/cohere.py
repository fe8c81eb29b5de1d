"""Cohere Embed v3 and v4 on Bedrock: request validation and response bodies.

Vectors are unit length, as Cohere's v3 models return them. Quantized types follow Cohere's
conventions: int8 in -128..127, uint8 in 0..255, binary/ubinary one bit per dimension packed
into dimensions/8 values (ubinary 0..255; binary is ubinary - 128, signed).
"""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np

from embedrock.catalog import CatalogModel

from . import tokens
from .codec import Invocation, floats
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
    given = [key for key in ("texts", "images", "inputs") if key in body]
    if len(given) != 1:
        v.add("#", "exactly one of [texts], [images] or [inputs] is required")
    if "texts" in body and v.array(body["texts"], "#/texts", 1, model.max_texts_per_call):
        for i, text in enumerate(body["texts"]):
            v.string(text, f"#/texts/{i}", 1)
    for key in ("images", "inputs"):
        if key in body:
            v.add(f"#/{key}", "not served by the embedrock emulator yet")
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

    texts: list[str] = body["texts"]
    kept = _within_limit(texts, max_tokens, drop_start=None if truncate == "NONE" else truncate == "LEFT")
    vectors = engine.embed(kept, dimensions)
    return Invocation(
        {
            "id": str(uuid.uuid4()),
            "response_type": "embeddings_by_type",
            "texts": texts,
            "embeddings": {kind: _by_type(vectors, kind) for kind in dict.fromkeys(types)},
        },
        sum(tokens.count(text) for text in kept),
    )


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
