"""Cohere Embed v3 on Bedrock: request validation and response bodies.

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

    kept: list[str] = []
    for text in body["texts"]:
        if tokens.count(text) <= model.max_input_tokens:
            kept.append(text)
        elif truncate == "NONE":
            raise validation("Input is too long for requested model.")
        else:
            # START discards the start of the input, END the end.
            kept.append(tokens.truncate(text, model.max_input_tokens, keep_end=truncate == "START"))
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
