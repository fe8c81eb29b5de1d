"""Per-family InvokeModel bodies and responses: the only code that knows Bedrock's JSON."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from embedrock.catalog import Family
from embedrock.embeddings import EmbedSpec
from embedrock.errors import ModelFailed

TOKEN_COUNT_HEADER = "x-amzn-bedrock-input-token-count"

# numpy dtype of each embedding type as Bedrock returns it; binary types are packed bits
# (Cohere) or 0/1 per dimension (Titan), both fit these integer types.
DTYPES: Mapping[str, type[np.generic]] = {
    "float": np.float64,
    "int8": np.int8,
    "uint8": np.uint8,
    "binary": np.int8,
    "ubinary": np.uint8,
}


class Codec(Protocol):
    def request(self, spec: EmbedSpec, texts: Sequence[str]) -> dict[str, Any]: ...

    def vectors(self, spec: EmbedSpec, payload: Mapping[str, Any]) -> list[Any]:
        """The list of vectors of one response, one per text sent, in order."""
        ...

    def body_tokens(self, payload: Mapping[str, Any]) -> int | None: ...


class TitanTextV2:
    def request(self, spec: EmbedSpec, texts: Sequence[str]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "inputText": texts[0],
            "dimensions": spec.dimensions,
            "normalize": spec.normalize,
        }
        if spec.embedding_type != "float":
            body["embeddingTypes"] = [spec.embedding_type]
        return body

    def vectors(self, spec: EmbedSpec, payload: Mapping[str, Any]) -> list[Any]:
        if spec.embedding_type == "float":
            return [payload["embedding"]]
        return [payload["embeddingsByType"][spec.embedding_type]]

    def body_tokens(self, payload: Mapping[str, Any]) -> int | None:
        return _int_or_none(payload.get("inputTextTokenCount"))


class TitanTextV1:
    def request(self, spec: EmbedSpec, texts: Sequence[str]) -> dict[str, Any]:
        return {"inputText": texts[0]}

    def vectors(self, spec: EmbedSpec, payload: Mapping[str, Any]) -> list[Any]:
        return [payload["embedding"]]

    def body_tokens(self, payload: Mapping[str, Any]) -> int | None:
        return _int_or_none(payload.get("inputTextTokenCount"))


class TitanMultimodal(TitanTextV1):
    def request(self, spec: EmbedSpec, texts: Sequence[str]) -> dict[str, Any]:
        return {"inputText": texts[0], "embeddingConfig": {"outputEmbeddingLength": spec.dimensions}}


class CohereV3:
    def request(self, spec: EmbedSpec, texts: Sequence[str]) -> dict[str, Any]:
        # truncate is sent explicitly: NONE makes Bedrock reject an over-long text instead of
        # silently embedding only part of it.
        body: dict[str, Any] = {"texts": list(texts), "input_type": spec.input_type, "truncate": "NONE"}
        if spec.embedding_type != "float":
            body["embedding_types"] = [spec.embedding_type]
        return body

    def vectors(self, spec: EmbedSpec, payload: Mapping[str, Any]) -> list[Any]:
        embeddings = payload["embeddings"]
        if isinstance(embeddings, Mapping):
            return list(embeddings[spec.embedding_type])
        return list(embeddings)

    def body_tokens(self, payload: Mapping[str, Any]) -> int | None:
        return None


CODECS: Mapping[Family, Codec] = {
    Family.TITAN_TEXT_V2: TitanTextV2(),
    Family.TITAN_TEXT_V1: TitanTextV1(),
    Family.TITAN_MULTIMODAL: TitanMultimodal(),
    Family.COHERE_V3: CohereV3(),
}


def decode(spec: EmbedSpec, payload: Mapping[str, Any], expected: int) -> np.ndarray:
    """The vectors of one response as an (expected, width) array, or ModelFailed if malformed."""
    try:
        rows = CODECS[spec.model.family].vectors(spec, payload)
        array = np.asarray(rows, dtype=DTYPES[spec.embedding_type])
    except (KeyError, TypeError, ValueError) as error:
        raise ModelFailed(
            f"{spec.model.id} returned a response this service cannot read ({type(error).__name__})."
        ) from error
    width = spec.dimensions if spec.embedding_type == "float" else None
    if array.ndim != 2 or array.shape[0] != expected or (width is not None and array.shape[1] != width):
        raise ModelFailed(
            f"{spec.model.id} returned {array.shape[0] if array.ndim else 0} vectors of shape "
            f"{array.shape[1:]} for {expected} texts at {spec.dimensions} dimensions."
        )
    if spec.embedding_type == "float" and not np.isfinite(array).all():
        raise ModelFailed(f"{spec.model.id} returned non-finite numbers in an embedding.")
    return array


def input_tokens(spec: EmbedSpec, payload: Mapping[str, Any], headers: Mapping[str, str]) -> int:
    """Tokens Bedrock counted: Titan in the body, every model in the response header."""
    from_body = CODECS[spec.model.family].body_tokens(payload)
    if from_body is not None:
        return from_body
    return _int_or_none(headers.get(TOKEN_COUNT_HEADER)) or 0


def _int_or_none(value: object) -> int | None:
    if isinstance(value, int | float | str):
        try:
            return int(value)
        except ValueError:
            return None
    return None
