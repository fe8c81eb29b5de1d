"""POST /similarity: embed the distinct texts (if any), then score with vector_math.py.

Texts are deduplicated and embedded in one embedder call; the query and documents of a model
with input types (Cohere, Nova) are the exception (two calls): the query is embedded with the
request's `input_type` (default search_query), the documents always as search_document, the
purpose a stored corpus is embedded with, so a query purpose such as TEXT_RETRIEVAL never
reaches them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypedDict, cast

import numpy as np

from embedrock import vector_math, wiring
from embedrock.api.schemas import (
    MatrixResponse,
    Metric,
    ScoreResponse,
    ScoresResponse,
    SearchResponse,
    SimilarityRequest,
    SimilarityResponse,
    SimilarityResult,
    Usage,
)
from embedrock.api.services.embed import billed_usage, check_input, embed
from embedrock.embed_spec import EmbedSpec, resolve_spec
from embedrock.errors import InvalidRequest, PayloadTooLarge
from embedrock.observability import record_embedding

# A matrix cell in JSON: "-0.12345678901234567," at worst.
_JSON_SCORE_BYTES = 24


@dataclass
class _Embedded:
    """Vectors of distinct texts, looked up by text."""

    spec: EmbedSpec | None
    usage: Usage
    by_text: dict[str, np.ndarray]
    bedrock_ms: float = 0.0

    def rows(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self.by_text[text] for text in texts])


def compare(request: SimilarityRequest) -> SimilarityResponse:
    if request.texts is not None or request.vectors is not None:
        return _matrix(request) if request.matrix else _score(request)
    if request.pairs is not None:
        return _pairs(request)
    return _search(request)


def _score(request: SimilarityRequest) -> ScoreResponse:
    if request.texts is not None:
        _exactly_two(request.texts, "texts")
        embedded = _embed_texts(request, {"texts": request.texts})
        rows, param = embedded.rows(request.texts), "texts"
    else:
        _vectors_only(request)
        vectors = request.vectors or []
        _exactly_two(vectors, "vectors")
        embedded, rows, param = _raw(), vector_math.as_matrix(vectors, "vectors"), "vectors"
    vector_math.check_metric(rows, request.metric, param)
    value = vector_math.score(rows[0], rows[1], request.metric)
    vector_math.check_scores(np.array([value]))
    return ScoreResponse(**_common(request, embedded), score=value)


def _matrix(request: SimilarityRequest) -> MatrixResponse:
    items: Sequence[object] = request.texts if request.texts is not None else request.vectors or []
    param = "texts" if request.texts is not None else "vectors"
    _matrix_fits(len(items), param)
    if request.texts is not None:
        embedded = _embed_texts(request, {"texts": request.texts})
        rows = embedded.rows(request.texts)
    else:
        _vectors_only(request)
        embedded, rows = _raw(), vector_math.as_matrix(request.vectors or [], param)
    vector_math.check_metric(rows, request.metric, param)
    scores = vector_math.matrix(rows, request.metric)
    vector_math.check_scores(scores)
    return MatrixResponse(**_common(request, embedded), matrix=scores.tolist())


def _pairs(request: SimilarityRequest) -> ScoresResponse:
    pairs = request.pairs or []
    if pairs and isinstance(pairs[0][0], str):
        text_pairs = pairs
        flat = [text for pair in text_pairs for text in pair]
        if not flat:
            raise InvalidRequest("pairs must hold at least one pair.", param="pairs", code="empty_input")
        embedded = _embed_texts(request, {f"pairs[{k // 2}][{k % 2}]": [text] for k, text in enumerate(flat)})
        stacked = embedded.rows(flat).reshape(len(text_pairs), 2, -1)
    else:
        _vectors_only(request)
        vector_pairs = cast(list[list[list[float]]], pairs)
        embedded, stacked = _raw(), vector_math.as_pairs(vector_pairs, "pairs")
    vector_math.check_metric(stacked, request.metric, "pairs")
    scores = vector_math.pairwise(stacked[:, 0], stacked[:, 1], request.metric)
    vector_math.check_scores(scores)
    return ScoresResponse(**_common(request, embedded), scores=scores.tolist())


def _search(request: SimilarityRequest) -> SearchResponse:
    query, documents = request.query, request.documents or []
    if not documents:
        raise InvalidRequest(
            "documents must hold at least one document.", param="documents", code="empty_input"
        )
    top_k = request.top_k if request.top_k is not None else len(documents)
    vector_math.check_top_k(top_k, len(documents))
    texts: list[str] | None = None
    if isinstance(query, str):
        if not isinstance(documents[0], str):
            raise _mixed("documents", "a text query needs text documents")
        texts = documents
        embedded, query_row, rows = _embed_search(request, query, texts)
    else:
        if isinstance(documents[0], str):
            raise _mixed("documents", "a vector query needs vector documents")
        _vectors_only(request)
        embedded = _raw()
        query_row = vector_math.as_vector(query or [], "query")
        rows = vector_math.as_matrix(documents, "documents")
        vector_math.check_same_width(rows, query_row, "documents", "query")
    vector_math.check_metric(query_row, request.metric, "query")
    vector_math.check_metric(rows, request.metric, "documents")
    ranked = vector_math.top_k(query_row, rows, top_k, request.metric)
    results = [
        SimilarityResult(index=index, score=score, document=texts[index] if texts else None)
        for index, score in ranked
    ]
    return SearchResponse(**_common(request, embedded), results=results)


def _embed_search(
    request: SimilarityRequest, query: str, documents: list[str]
) -> tuple[_Embedded, np.ndarray, np.ndarray]:
    spec = _spec(request)
    if not spec.model.input_types:
        embedded = _embed_texts(request, {"query": [query], "documents": documents})
        return embedded, embedded.by_text[query], embedded.rows(documents)
    # Queries and documents are embedded differently. Both are checked before either is sent,
    # so a bad document costs no query call.
    query_spec, query_texts = _checked(request, {"query": [query]}, request.input_type or "search_query")
    document_spec, document_texts = _checked(request, {"documents": documents}, "search_document")
    query_part = _embed_distinct(query_spec, query_texts, record=False)
    document_part = _embed_distinct(document_spec, document_texts, record=False)
    total = billed_usage(
        document_spec.model,
        query_part.usage.input_tokens + document_part.usage.input_tokens,
        query_part.usage.requests + document_part.usage.requests,
    )
    # One record for the request, as for every other: two would add the Model dimension twice.
    from embedrock.bedrock.embedder import EmbedResult  # here: searches with input types only

    record_embedding(
        document_spec.model.id,
        len(query_texts) + len(document_texts),
        EmbedResult(
            vectors=np.concatenate([query_part.rows(query_texts), document_part.rows(document_texts)]),
            input_tokens=total.input_tokens,
            bedrock_calls=total.requests,
            bedrock_ms=query_part.bedrock_ms + document_part.bedrock_ms,
        ),
    )
    embedded = _Embedded(document_spec, total, document_part.by_text)
    return embedded, query_part.by_text[query], document_part.rows(documents)


def _spec(request: SimilarityRequest, input_type: str | None = None) -> EmbedSpec:
    return resolve_spec(
        model_id=request.model,
        dimensions=request.dimensions,
        input_type=input_type or request.input_type,
        truncate=request.truncate,
        default_model_id=wiring.settings().default_model_id,
        allowed_profiles=wiring.settings().inference_profiles,
    )


def _checked(
    request: SimilarityRequest, sources: dict[str, list[str]], input_type: str | None = None
) -> tuple[EmbedSpec, list[str]]:
    """Every text checked under its own field name; the distinct texts, in first-seen order."""
    spec = _spec(request, input_type)
    for param, texts in sources.items():
        # A source of one text ("query", "pairs[i][j]") is named without an index.
        check_input(texts, spec.model, param=param, single=param == "query" or param.endswith("]"))
    distinct = list(dict.fromkeys(text for texts in sources.values() for text in texts))
    check_input(distinct, spec.model, param=next(iter(sources)).split("[")[0])
    return spec, distinct


def _embed_distinct(spec: EmbedSpec, distinct: list[str], *, record: bool = True) -> _Embedded:
    result = embed(spec, distinct, record=record)
    vectors = result.vectors.astype(np.float64)
    return _Embedded(
        spec,
        billed_usage(spec.model, result.input_tokens, result.bedrock_calls),
        dict(zip(distinct, vectors, strict=True)),
        result.bedrock_ms,
    )


def _embed_texts(
    request: SimilarityRequest, sources: dict[str, list[str]], input_type: str | None = None
) -> _Embedded:
    return _embed_distinct(*_checked(request, sources, input_type))


def _raw() -> _Embedded:
    return _Embedded(None, Usage(input_tokens=0, requests=0, cost_usd=0.0), {})


class _Common(TypedDict):
    metric: Metric
    model: str | None
    dimensions: int | None
    usage: Usage


def _common(request: SimilarityRequest, embedded: _Embedded) -> _Common:
    spec = embedded.spec
    return {
        "metric": request.metric,
        "model": spec.invoke_id if spec else None,
        "dimensions": spec.dimensions if spec else None,
        "usage": embedded.usage,
    }


def _exactly_two(items: Sequence[object], param: str) -> None:
    if len(items) != 2:
        raise InvalidRequest(
            f'{param} must hold exactly 2 items for one score (it holds {len(items)}); add "matrix": true '
            'to score every pair, or use "pairs" or "query" and "documents".',
            param=param,
            code="invalid_shape",
        )


def _matrix_fits(n: int, param: str) -> None:
    limit = wiring.settings().max_response_bytes
    if n * n * _JSON_SCORE_BYTES > limit:
        largest = int((limit / _JSON_SCORE_BYTES) ** 0.5)
        raise PayloadTooLarge(
            f"a {n} x {n} matrix would be about {n * n * _JSON_SCORE_BYTES / 1e6:.1f} MB, over the "
            f"response limit; send at most {largest} {param}, or rank with query, documents and top_k.",
            param=param,
            code="response_too_large",
        )


def _vectors_only(request: SimilarityRequest) -> None:
    for name in ("model", "dimensions", "input_type", "truncate"):
        if getattr(request, name) is not None:
            raise InvalidRequest(
                f"{name} applies to texts; vectors are compared as given, so omit it.",
                param=name,
                code="unsupported_parameter",
            )


def _mixed(param: str, why: str) -> InvalidRequest:
    return InvalidRequest(f"{why}: send both as texts or both as vectors.", param=param, code="invalid_shape")
