"""Per-family InvokeModel bodies and responses: the only code that knows Bedrock's JSON."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from embedrock.catalog import Family
from embedrock.embed_input import Item, image_of, text_of
from embedrock.embed_spec import BINARY_TYPES, EmbedSpec
from embedrock.errors import ModelFailed

TOKEN_COUNT_HEADER = "x-amzn-bedrock-input-token-count"

# numpy dtype of each embedding type as this service returns it. binary and ubinary are packed
# bits, 8 dimensions per byte, first dimension in the most significant bit; ubinary is the byte
# as uint8, binary the same byte minus 128 as int8. That is Cohere's format (Cohere docs,
# "Compression Levels: A Note on Bits and Bytes", which unpacks ubinary with np.unpackbits on
# uint8; signed binary = ubinary - 128 as in sentence-transformers' quantize_embeddings), and
# Titan V2's one-0/1-per-dimension answer is packed into it here (pack_bits), once.
DTYPES: Mapping[str, type[np.generic]] = {
    "float": np.float64,
    "int8": np.int8,
    "uint8": np.uint8,
    "binary": np.int8,
    "ubinary": np.uint8,
}


class Codec(Protocol):
    # True when binary types come back as one 0/1 value per dimension, to be packed.
    bits_unpacked: bool

    def request(self, spec: EmbedSpec, items: Sequence[Item]) -> dict[str, Any]: ...

    def vectors(self, spec: EmbedSpec, payload: Mapping[str, Any]) -> list[Any]:
        """The list of vectors of one response, one per text sent, in order."""
        ...

    def body_tokens(self, payload: Mapping[str, Any]) -> int | None: ...


class TitanTextV2:
    bits_unpacked = True

    def request(self, spec: EmbedSpec, items: Sequence[Item]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "inputText": text_of(items[0]),
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
    bits_unpacked = False

    def request(self, spec: EmbedSpec, items: Sequence[Item]) -> dict[str, Any]:
        return {"inputText": text_of(items[0])}

    def vectors(self, spec: EmbedSpec, payload: Mapping[str, Any]) -> list[Any]:
        return [payload["embedding"]]

    def body_tokens(self, payload: Mapping[str, Any]) -> int | None:
        return _int_or_none(payload.get("inputTextTokenCount"))


class TitanMultimodal(TitanTextV1):
    """inputText and/or inputImage (base64, no data-URI prefix): one vector for both."""

    def request(self, spec: EmbedSpec, items: Sequence[Item]) -> dict[str, Any]:
        body: dict[str, Any] = {}
        text, image = text_of(items[0]), image_of(items[0])
        if text is not None:
            body["inputText"] = text
        if image is not None:
            body["inputImage"] = image.base64()
        body["embeddingConfig"] = {"outputEmbeddingLength": spec.dimensions}
        return body


# The request's truncate in the words of Cohere v3 and Nova: START and END name the part dropped
# (Bedrock User Guide, "Cohere Embed v3": START discards the start of the input, END its end).
# Nova's schema page lists truncationMode START | END | NONE; that START drops the start there too
# could not be read in the excerpts available here (unverified, and NONE, the default, cuts nothing).
_START_END = {"NONE": "NONE", "LEFT": "START", "RIGHT": "END"}


class CohereV3:
    bits_unpacked = False

    def request(self, spec: EmbedSpec, items: Sequence[Item]) -> dict[str, Any]:
        # truncate is sent explicitly: NONE makes Bedrock reject an over-long text instead of
        # silently embedding only part of it.
        body: dict[str, Any] = {
            "texts": [text_of(item) for item in items],
            "input_type": spec.input_type,
            "truncate": _START_END[spec.truncate or "NONE"],
        }
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


class CohereV4:
    """Bedrock User Guide, "Cohere Embed v4" (model-parameters-embed-v4.html).

    embedding_types is always sent, as a list, so the answer is always `embeddings` as a dict by
    type ({"float": [[...]], "int8": [[...]]}); binary/ubinary come back packed, dimensions/8 values
    per vector, as in Cohere's other models. truncate NONE/LEFT/RIGHT is v4's own vocabulary.
    """

    bits_unpacked = False

    def request(self, spec: EmbedSpec, items: Sequence[Item]) -> dict[str, Any]:
        body: dict[str, Any]
        if all(isinstance(item, str) for item in items):
            body = {"texts": list(items)}
        else:
            # Any image: every item goes in `inputs`, each one vector of its content parts in order.
            body = {"inputs": [{"content": _v4_content(item)} for item in items]}
        body.update(
            input_type=spec.input_type,
            embedding_types=[spec.embedding_type],
            output_dimension=spec.dimensions,
            truncate=spec.truncate or "NONE",
        )
        if spec.max_tokens is not None:  # unset: the model's own limit (~128k tokens)
            body["max_tokens"] = spec.max_tokens
        return body

    def vectors(self, spec: EmbedSpec, payload: Mapping[str, Any]) -> list[Any]:
        return list(payload["embeddings"][spec.embedding_type])

    def body_tokens(self, payload: Mapping[str, Any]) -> int | None:
        return None  # in the x-amzn-bedrock-input-token-count header


def _v4_content(item: Item) -> list[dict[str, str]]:
    text, image = text_of(item), image_of(item)
    parts = [] if text is None else [{"type": "text", "text": text}]
    if image is not None:
        parts.append({"type": "image_url", "image_url": image.data_uri()})
    return parts


# The service's input types as Nova embedding purposes. A query goes to GENERIC_RETRIEVAL, not
# TEXT_RETRIEVAL: the Nova schema pairs GENERIC_INDEX documents with a *_RETRIEVAL query named for
# the modality searched, and a search_query cannot know whether the index holds text only;
# GENERIC_RETRIEVAL is the one for an index of any modality. TEXT_RETRIEVAL and Nova's other
# purposes can be asked for by name.
NOVA_PURPOSE = {
    "search_document": "GENERIC_INDEX",
    "search_query": "GENERIC_RETRIEVAL",
    "classification": "CLASSIFICATION",
    "clustering": "CLUSTERING",
}
NOVA_SCHEMA_VERSION = "nova-multimodal-embed-v1"


class NovaMultimodal:
    """Amazon Nova User Guide, "Complete embeddings request and response schema"
    (embeddings-schema.html): one input per synchronous call; the answer is
    `embeddings`: [{"embeddingType": "TEXT", "embedding": [...]}], float only."""

    bits_unpacked = False

    def request(self, spec: EmbedSpec, items: Sequence[Item]) -> dict[str, Any]:
        purpose = spec.input_type or "search_document"
        params: dict[str, Any] = {
            "embeddingPurpose": NOVA_PURPOSE.get(purpose, purpose),
            "embeddingDimension": spec.dimensions,
        }
        image = image_of(items[0])
        if image is None:
            params["text"] = {
                "truncationMode": _START_END[spec.truncate or "NONE"],
                "value": text_of(items[0]),
            }
        else:
            # detailLevel is left to the model's default (STANDARD_IMAGE; DOCUMENT_IMAGE is for pages).
            params["image"] = {"format": image.format, "source": {"bytes": image.base64()}}
        return {
            "schemaVersion": NOVA_SCHEMA_VERSION,
            "taskType": "SINGLE_EMBEDDING",
            "singleEmbeddingParams": params,
        }

    def vectors(self, spec: EmbedSpec, payload: Mapping[str, Any]) -> list[Any]:
        return [entry["embedding"] for entry in payload["embeddings"]]

    def body_tokens(self, payload: Mapping[str, Any]) -> int | None:
        return None  # in the x-amzn-bedrock-input-token-count header


CODECS: Mapping[Family, Codec] = {
    Family.TITAN_TEXT_V2: TitanTextV2(),
    Family.TITAN_TEXT_V1: TitanTextV1(),
    Family.TITAN_MULTIMODAL: TitanMultimodal(),
    Family.COHERE_V3: CohereV3(),
    Family.COHERE_V4: CohereV4(),
    Family.NOVA_MULTIMODAL: NovaMultimodal(),
}


def decode(spec: EmbedSpec, payload: Mapping[str, Any], expected: int) -> np.ndarray:
    """The vectors of one response as an (expected, width) array, or ModelFailed if malformed."""
    codec = CODECS[spec.model.family]
    try:
        rows = codec.vectors(spec, payload)
        if spec.embedding_type in BINARY_TYPES and codec.bits_unpacked:
            array = pack_bits(spec, rows)
        else:
            array = np.asarray(rows, dtype=DTYPES[spec.embedding_type])
    except (KeyError, TypeError, ValueError, OverflowError) as error:
        raise ModelFailed(
            f"{spec.model.id} returned a response this service cannot read ({type(error).__name__})."
        ) from error
    if array.ndim != 2 or array.shape[0] != expected or array.shape[1] != spec.width:
        raise ModelFailed(
            f"{spec.model.id} returned {array.shape[0] if array.ndim else 0} vectors of shape "
            f"{array.shape[1:]} for {expected} texts at {spec.dimensions} dimensions."
        )
    if spec.embedding_type == "float" and not np.isfinite(array).all():
        raise ModelFailed(f"{spec.model.id} returned non-finite numbers in an embedding.")
    return array


def pack_bits(spec: EmbedSpec, rows: Sequence[Any]) -> np.ndarray:
    """One 0/1 value per dimension (Titan V2) as packed bits in the type's dtype (see DTYPES)."""
    bits = np.asarray(rows, dtype=np.int64)
    if bits.ndim != 2 or bits.shape[1] != spec.dimensions or not np.isin(bits, (0, 1)).all():
        raise ValueError("binary values must be one 0 or 1 per dimension")
    packed = np.packbits(bits.astype(bool), axis=1)  # uint8, first dimension in the top bit
    if spec.embedding_type == "binary":
        return (packed.astype(np.int16) - 128).astype(np.int8)
    return packed


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
