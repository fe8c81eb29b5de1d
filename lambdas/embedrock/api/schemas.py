"""Request and response models of the HTTP API: validation and the OpenAPI document.

Requests are strict (a string is not an integer, 1 is not true) and reject unknown fields,
except the OpenAI-compatible request, whose official client adds fields of its own. Rules
that span fields raise `invalid_request` errors carrying the field to blame in `ctx`.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal, cast

from pydantic import (
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from embedrock import catalog
from embedrock.api import token_ids
from embedrock.errors import shown
from embedrock.http.schemas import ErrorDetail, Schema, catalog_choice, enum_schema, invalid

# Every input type a catalog model takes (catalog.INPUT_TYPES, then Nova's own purposes); each
# model takes some of them, checked against the catalog (embed_spec).
INPUT_TYPES = tuple(dict.fromkeys(kind for model in catalog.MODELS for kind in model.input_types))
InputType = Annotated[str, catalog_choice(INPUT_TYPES), enum_schema(INPUT_TYPES)]
Truncate = Annotated[str, catalog_choice(catalog.TRUNCATE_MODES), enum_schema(catalog.TRUNCATE_MODES)]
EmbeddingType = Annotated[str, catalog_choice(catalog.EMBEDDING_TYPES), enum_schema(catalog.EMBEDDING_TYPES)]
Encoding = Literal["float", "base64"]
Metric = Literal["cosine", "dot", "euclidean"]

MODEL_IDS = ", ".join(catalog.model_ids())
SEED_TEXT = "Python is a programming language"


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

_TRUNCATE = Field(
    default=None,
    description="Cohere and Nova only: what to do with a text over the model's token limit. "
    "`NONE` (default): a 400, never a silently cut text; `LEFT`: drop its start; `RIGHT`: drop its end.",
)


class InputItem(Schema):
    model_config = ConfigDict(extra="forbid", strict=True)

    text: str | None = Field(default=None, description="A text.", examples=[SEED_TEXT])
    # repr=False: Powertools logs each route's arguments in a debug f-string, built at every log
    # level; the repr of a data URI escapes all of it (~1 ms per 500 KB image, per request).
    image: str | None = Field(
        default=None,
        repr=False,
        description="An image as a data URI: `data:image/png;base64,...` (the media type in any case; "
        "parameters such as `;name=a.png` before `;base64` are ignored). Formats: png, jpeg, gif or "
        "webp, as the model takes them (GET /models: `image_formats`). With `text` too, one vector for both, "
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
    truncate: Truncate | None = _TRUNCATE
    max_tokens: int | None = Field(
        default=None,
        description="Cohere Embed v4 only (GET /models: `max_tokens`): the tokens one input may hold, "
        "from 1 to the model's limit. A longer input is cut as `truncate` says (`LEFT`, `RIGHT`), or "
        "refused with `NONE`, the default. Default: the model's own limit.",
        examples=[512],
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


_COST_USD = Field(
    description="What Bedrock bills for this request in USD: the input tokens it counted times the "
    "model's catalog price (GET /models, on demand, us-east-1), rounded to 1e-9. Texts answered from "
    "the cache, and vectors sent as vectors, cost nothing.",
    examples=[0.0000001],
)


class Usage(Schema):
    input_tokens: int = Field(description="Input tokens Bedrock counted (what is billed).")
    requests: int = Field(description="InvokeModel calls made.")
    cost_usd: float = _COST_USD


class EmbeddingsResponse(Schema):
    model: str = Field(examples=[catalog.DEFAULT_MODEL_ID])
    dimensions: int = Field(examples=[1024])
    embedding_type: EmbeddingType
    encoding: Encoding
    embeddings: list[list[int]] | list[list[float]] | list[str] = Field(
        description="One vector per text in input order: numbers, or base64 strings."
    )
    usage: Usage


_INPUT_SHAPES = "a string, a list of strings, a token array (a list of token ids) or a list of token arrays"


def _json_kind(value: object) -> str:
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    kinds = {float: "a number", str: "a string", list: "a list", dict: "an object"}
    return next((kind for python, kind in kinds.items() if isinstance(value, python)), "a value")


def _token_problem(token: object, param: str) -> PydanticCustomError | None:
    if not token_ids.is_token_id(token):
        return invalid(
            f"{param} must be a token id, not {_json_kind(token)}; token ids are {token_ids.ALLOWED}.",
            param,
            code="invalid_type",
        )
    assert isinstance(token, int)
    if not token_ids.in_range(token):
        return invalid(
            f"{param} is {shown(token)}, not a token id; token ids are {token_ids.ALLOWED}.",
            param,
            code="invalid_value",
        )
    return None


def _check_input_shape(value: Any) -> Any:
    """Texts pass as they are; token ids are checked here (each named by its index), never dropped."""
    if not isinstance(value, list) or not value or all(isinstance(item, str) for item in value):
        return value  # a string, a list of strings or no list: the field's type decides
    first = value[0]
    if token_ids.is_token_id(first):  # one token array
        for index, token in enumerate(value):
            if problem := _token_problem(token, f"input[{index}]"):
                raise problem
        return value
    if not isinstance(first, list | str):
        raise invalid(f"input[0] must be a string or a token array; send {_INPUT_SHAPES}.", "input[0]")
    for index, item in enumerate(value):
        param = f"input[{index}]"
        if not isinstance(item, type(first)):
            raise invalid(
                f"{param} must be {'a string' if isinstance(first, str) else 'a token array'}, like "
                f"input[0]: send {_INPUT_SHAPES}, not a mix.",
                param,
                code="invalid_type",
            )
        if isinstance(item, list):
            if not item:
                raise invalid(
                    f"{param} is an empty token array; each needs at least one token id ({token_ids.ALLOWED}).",
                    param,
                    code="empty_text",
                )
            for position, token in enumerate(item):
                if problem := _token_problem(token, f"{param}[{position}]"):
                    raise problem
    return value


class OpenAIEmbeddingsRequest(Schema):
    # The official client adds fields (and may add more in new versions): ignore them.
    model_config = ConfigDict(
        extra="ignore",
        strict=True,
        json_schema_extra={"examples": [{"input": SEED_TEXT, "model": catalog.DEFAULT_MODEL_ID}]},
    )

    input: str | list[str] | list[int] | list[list[int]] = Field(
        description="A text, a list of texts, or OpenAI token ids: one token array or a list of them "
        f"({token_ids.ENCODING}, {token_ids.ALLOWED}; what langchain-openai sends), decoded to the "
        "text they stand for, whose vector is returned.",
        examples=[SEED_TEXT],
    )
    model: str = Field(
        default=catalog.DEFAULT_MODEL_ID,
        description=f"A Bedrock model id (not an OpenAI name). Allowed: {MODEL_IDS}.",
    )
    dimensions: int | None = _DIMENSIONS
    encoding_format: Encoding = Field(
        default="float", description="`base64`: little-endian float32 bytes, as the OpenAI client expects."
    )
    user: str | None = Field(default=None, description="Accepted and ignored.")
    # Not OpenAI's: what the official client sends with `extra_body={...}`, at the top level.
    input_type: InputType | None = Field(
        default=None,
        description="An extra field (the OpenAI client's `extra_body`), for Cohere and Nova: what the "
        "texts are for, such as `search_query` for a query. Default: search_document.",
        examples=["search_query"],
    )
    truncate: Truncate | None = _TRUNCATE

    _input_shape = field_validator("input", mode="before")(_check_input_shape)

    def input_texts(self) -> tuple[list[str], bool]:
        """The texts to embed (token arrays decoded), and whether the input was a single one."""
        value = self.input
        if isinstance(value, str):
            return [value], True
        if value and token_ids.is_token_id(value[0]):
            return [token_ids.decode(cast(list[int], value))], True
        if value and isinstance(value[0], list):
            return [token_ids.decode(tokens) for tokens in value], False
        return cast(list[str], value), False


class OpenAIEmbedding(Schema):
    object: Literal["embedding"] = "embedding"
    embedding: list[float] | str
    index: int


class OpenAIUsage(Schema):
    prompt_tokens: int
    total_tokens: int
    cost_usd: float = _COST_USD  # an extra field: OpenAI's clients keep unknown usage fields


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
        description="Cohere and Nova only: what the texts are for. With `query` and `documents` it is "
        "the query's purpose only (default search_query); the documents are always embedded as "
        "search_document (Nova: GENERIC_INDEX). Other shapes: every text's (default search_document).",
    )
    truncate: Truncate | None = _TRUNCATE

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
