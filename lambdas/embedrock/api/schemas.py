"""Request and response models of the HTTP API: validation and the OpenAPI document.

Requests are strict (a string is not an integer, 1 is not true) and reject unknown fields,
except the OpenAI-compatible request, whose official client adds fields of its own. Rules
that span fields raise `invalid_request` errors carrying the field to blame in `ctx`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from embedrock import catalog

# The catalog's input types (catalog.INPUT_TYPES, then catalog.NOVA_PURPOSES); each model takes
# some of them, checked against the catalog (embed_spec), and a test keeps this list equal to it.
InputType = Literal[
    "search_document",
    "search_query",
    "classification",
    "clustering",
    "GENERIC_INDEX",
    "GENERIC_RETRIEVAL",
    "TEXT_RETRIEVAL",
    "IMAGE_RETRIEVAL",
    "VIDEO_RETRIEVAL",
    "DOCUMENT_RETRIEVAL",
    "AUDIO_RETRIEVAL",
    "CLASSIFICATION",
    "CLUSTERING",
]
Truncate = Literal["NONE", "LEFT", "RIGHT"]
EmbeddingType = Literal["float", "int8", "uint8", "binary", "ubinary"]
Encoding = Literal["float", "base64"]
Metric = Literal["cosine", "dot", "euclidean"]

MODEL_IDS = ", ".join(catalog.model_ids())
SEED_TEXT = "Python is a programming language"


class Schema(BaseModel):
    """Base of every model here. A function uses only some of them, and pydantic builds a
    model's validator on its first use rather than at import: the rest cost no cold start.
    """

    model_config = ConfigDict(defer_build=True)


def invalid(message: str, param: str | None) -> PydanticCustomError:
    """A validation error whose message is shown as is, blaming `param`."""
    return PydanticCustomError("invalid_request", "{message}", {"message": message, "param": param})


def _model_field(description: str) -> Any:
    return Field(
        default=None,
        description=f"{description} Allowed: {MODEL_IDS}.",
        examples=[catalog.DEFAULT_MODEL_ID],
    )


_DIMENSIONS = Field(
    default=None,
    description="Vector length; one of the model's allowed dimensions (GET /models). Default: the model's.",
    examples=[1024],
)
_INPUT_TYPE = Field(
    default=None,
    description="Cohere and Nova only: what the texts are for. Default: search_document. Nova also "
    "takes its own embedding purposes (GENERIC_INDEX, TEXT_RETRIEVAL, ...); GET /models lists each "
    "model's input types.",
    examples=["search_document"],
)


class InputItem(Schema):
    model_config = ConfigDict(extra="forbid", strict=True)

    text: str | None = Field(default=None, description="A text.", examples=[SEED_TEXT])
    image: str | None = Field(
        default=None,
        description="An image as a data URI: `data:image/png;base64,...` (png, jpeg, gif or webp; "
        "the README lists each model's). With `text` too, one vector for both, "
        "where the model embeds them jointly (Titan Multimodal G1, Cohere Embed v4).",
    )

    @model_validator(mode="after")
    def _something(self) -> InputItem:
        if self.text is None and self.image is None:
            raise ValueError('an input needs "text", "image", or both.')
        return self


class EmbeddingsRequest(Schema):
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={"examples": [{"texts": [SEED_TEXT], "dimensions": 1024}]},
    )

    model: str | None = _model_field("Embedding model id; default amazon.titan-embed-text-v2:0.")
    texts: list[str] | None = Field(
        default=None, description="Texts to embed, in order. Send `texts` or `text`.", examples=[[SEED_TEXT]]
    )
    text: str | None = Field(default=None, description="One text to embed.", examples=[SEED_TEXT])
    inputs: list[InputItem] | None = Field(
        default=None,
        description="Instead of `texts`: items of `text`, `image` (a data URI) or both, for the "
        "models that take images (Titan Multimodal G1, Cohere Embed v4, Nova Multimodal).",
    )
    dimensions: int | None = _DIMENSIONS
    normalize: bool = Field(default=True, description="Scale each float vector to unit length.")
    input_type: InputType | None = _INPUT_TYPE
    truncate: Truncate | None = Field(
        default=None,
        description="Cohere and Nova only: what to do with a text over the model's token limit. "
        "`NONE` (default): a 400, never a silently cut text; `LEFT`: drop its start; `RIGHT`: drop its end.",
    )
    embedding_type: EmbeddingType | None = Field(
        default=None,
        description="Numeric type of the vectors (GET /models lists each model's). Default: float. "
        "`binary` and `ubinary` are packed bits for every model: 8 dimensions per byte, the first "
        "in the most significant bit, as int8 (`binary`) or uint8 (`ubinary`).",
    )
    encoding: Encoding = Field(
        default="float",
        description="`float`: JSON numbers. `base64`: little-endian float32 (int8/uint8 for integer "
        "types) bytes per vector, about 4x smaller.",
    )
    partial: bool = Field(
        default=False,
        description="`true`: if Bedrock fails for some texts (throttled, timed out, model error), "
        "answer 200 with the vectors of the others, `null` for those texts, and one entry per "
        "failed text in `errors`. If every text fails, the request fails as without it. Default "
        "`false`: any failure fails the whole request.",
    )

    @model_validator(mode="after")
    def _one_input(self) -> EmbeddingsRequest:
        if sum(given is not None for given in (self.texts, self.text, self.inputs)) != 1:
            raise invalid(
                'send exactly one of "texts" (a list of strings), "text" (one string) or "inputs" '
                '(a list of {"text", "image"} items).',
                "texts",
            )
        return self

    def input_texts(self) -> tuple[list[str], str]:
        """The texts and the field they came from."""
        return (self.texts, "texts") if self.texts is not None else ([self.text or ""], "text")


class Usage(Schema):
    input_tokens: int = Field(description="Input tokens Bedrock counted (what is billed).")
    requests: int = Field(description="InvokeModel calls made.")


class EmbeddingsResponse(Schema):
    model: str = Field(examples=[catalog.DEFAULT_MODEL_ID])
    dimensions: int = Field(examples=[1024])
    embedding_type: EmbeddingType
    encoding: Encoding
    embeddings: list[list[int]] | list[list[float]] | list[str] = Field(
        description="One vector per text in input order: numbers, or base64 strings."
    )
    usage: Usage


def _token_arrays_rejected(value: Any) -> Any:
    message = (
        "input holds token ids; token arrays are not supported by Bedrock embedding models. "
        "Send the text itself: a string or a list of strings."
    )
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, int | list):
                raise invalid(message, "input" if isinstance(item, int) else f"input[{index}]")
    return value


class OpenAIEmbeddingsRequest(Schema):
    # The official client adds fields (and may add more in new versions): ignore them.
    model_config = ConfigDict(
        extra="ignore",
        strict=True,
        json_schema_extra={"examples": [{"input": SEED_TEXT, "model": catalog.DEFAULT_MODEL_ID}]},
    )

    input: str | list[str] = Field(description="A text or a list of texts.", examples=[SEED_TEXT])
    model: str = Field(
        default=catalog.DEFAULT_MODEL_ID,
        description=f"A Bedrock model id (not an OpenAI name). Allowed: {MODEL_IDS}.",
    )
    dimensions: int | None = _DIMENSIONS
    encoding_format: Encoding = Field(
        default="float", description="`base64`: little-endian float32 bytes, as the OpenAI client expects."
    )
    user: str | None = Field(default=None, description="Accepted and ignored.")

    _no_token_arrays = field_validator("input", mode="before")(_token_arrays_rejected)


class OpenAIEmbedding(Schema):
    object: Literal["embedding"] = "embedding"
    embedding: list[float] | str
    index: int


class OpenAIUsage(Schema):
    prompt_tokens: int
    total_tokens: int


class OpenAIEmbeddingsResponse(Schema):
    object: Literal["list"] = "list"
    data: list[OpenAIEmbedding]
    model: str
    usage: OpenAIUsage


Vector = list[float]
TextPair = Annotated[list[str], Field(min_length=2, max_length=2)]
VectorPair = Annotated[list[Vector], Field(min_length=2, max_length=2)]

SIMILARITY_SHAPES = (
    'one of: {"texts": [a, b]} (one score), {"pairs": [[a, b], ...]} (a score per pair), '
    '{"texts": [...], "matrix": true} (n x n scores), {"query": q, "documents": [...], "top_k": k} '
    "(ranked search); or the same with vectors (lists of numbers) instead of texts, with "
    '"vectors" in place of "texts"'
)


class SimilarityRequest(Schema):
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {"texts": ["Its a sunny day", "Today it may not be raining"]},
                {"query": "programming", "documents": [SEED_TEXT, "i have to go to the market"], "top_k": 1},
                {"vectors": [[1, 0], [1, 1]], "metric": "cosine"},
            ]
        },
    )

    texts: list[str] | None = Field(default=None, description="Two texts, or n texts with matrix=true.")
    vectors: list[Vector] | None = Field(default=None, description="Like texts, with your own vectors.")
    pairs: list[TextPair] | list[VectorPair] | None = Field(
        default=None, description="Pairs of texts, or pairs of vectors: one score each."
    )
    matrix: bool = Field(default=False, description="Score every text (or vector) against every other.")
    query: str | Vector | None = Field(default=None, description="A text or a vector to rank documents by.")
    documents: list[str] | list[Vector] | None = Field(default=None, description="What the query ranks.")
    top_k: int | None = Field(default=None, description="Results to return; default: all documents.")
    metric: Metric = Field(
        default="cosine",
        description="cosine and dot: higher is more similar. euclidean: a distance, lower is more similar.",
    )
    model: str | None = _model_field("Model for texts; default amazon.titan-embed-text-v2:0.")
    dimensions: int | None = _DIMENSIONS
    input_type: InputType | None = Field(
        default=None,
        description="Cohere and Nova only. Default: search_query for the query and search_document for "
        "documents.",
    )

    @model_validator(mode="after")
    def _one_shape(self) -> SimilarityRequest:
        given = [name for name in ("texts", "vectors", "pairs", "query") if getattr(self, name) is not None]
        if self.documents is not None and self.query is None:
            raise invalid(f'"documents" needs a "query"; send {SIMILARITY_SHAPES}.', "query")
        if len(given) != 1:
            blamed = given[1] if len(given) > 1 else None
            raise invalid(f"send {SIMILARITY_SHAPES}.", blamed)
        if self.query is not None and self.documents is None:
            raise invalid('"query" needs "documents" to rank.', "documents")
        if self.matrix and not (self.texts is not None or self.vectors is not None):
            raise invalid('"matrix": true goes with "texts" or "vectors".', "matrix")
        if self.top_k is not None and self.query is None:
            raise invalid('"top_k" goes with "query" and "documents".', "top_k")
        return self


class SimilarityResult(Schema):
    index: int = Field(description="Position of the document in the request.")
    score: float
    document: str | None = Field(description="The document text; null for vectors.")


class _SimilarityBase(Schema):
    metric: Metric
    model: str | None = Field(description="The model that embedded the texts; null for vectors.")
    dimensions: int | None = Field(description="Vector length of the texts' embeddings; null for vectors.")
    usage: Usage


class ScoreResponse(_SimilarityBase):
    score: float


class ScoresResponse(_SimilarityBase):
    scores: list[float] = Field(description="One score per pair, in order.")


class MatrixResponse(_SimilarityBase):
    matrix: list[list[float]] = Field(description="matrix[i][j] compares item i with item j.")


class SearchResponse(_SimilarityBase):
    results: list[SimilarityResult] = Field(description="Best first: highest score, or lowest distance.")


SimilarityResponse = ScoreResponse | ScoresResponse | MatrixResponse | SearchResponse


class Dimensions(Schema):
    allowed: list[int]
    default: int


class ModelInfo(Schema):
    id: str = Field(examples=[catalog.DEFAULT_MODEL_ID])
    name: str
    provider: str
    input_modalities: list[str]
    dimensions: Dimensions | None
    max_texts_per_call: int | None
    max_input_tokens: int | None
    max_input_chars: int | None
    input_types: list[str] | None
    embedding_types: list[str] | None
    price_per_million_tokens: float | None = Field(description="USD per 1M input tokens, on demand.")
    lifecycle_status: str | None = Field(examples=["ACTIVE"])
    inference_types: list[str] = Field(examples=[["ON_DEMAND"]])
    supported: bool = Field(
        description="Whether this service can call the model (in its catalog, on demand)."
    )


class ModelList(Schema):
    models: list[ModelInfo]


class Health(Schema):
    status: Literal["ok"] = "ok"
    version: str
    default_model: str


class ErrorDetail(Schema):
    type: str = Field(examples=["invalid_request_error"])
    message: str = Field(examples=["dimensions 384 is not allowed for amazon.titan-embed-text-v2:0; ..."])
    param: str | None = Field(examples=["dimensions"])
    code: str = Field(examples=["invalid_dimensions"])


class ErrorResponse(Schema):
    error: ErrorDetail


class ItemError(Schema):
    index: int = Field(description="Position of the failed text in the request.")
    status: int = Field(description="The status the whole request would have had.", examples=[429])
    error: ErrorDetail


class PartialEmbeddingsResponse(EmbeddingsResponse):
    """The answer to `"partial": true`: null in place of each failed text's vector."""

    embeddings: list[list[int] | None] | list[list[float] | None] | list[str | None] = Field(  # type: ignore[assignment]
        description="One vector per text in input order; null for a text listed in `errors`."
    )
    errors: list[ItemError] = Field(description="One entry per failed text, in input order; empty if none.")
