"""POST /collections/{name}/search: vector, full-text (BM25) or hybrid search, optionally reranked.

What `score` means, per mode (the response's `score` names it):
- vector, cosine: cosine similarity, 1 - S3 Vectors' cosine distance (higher is better);
- vector, euclidean: the euclidean distance itself (lower is better, the store's order);
- text: BM25; hybrid: the reciprocal rank fusion score (higher is better);
- reranked: the rerank model's relevance_score (higher is better).
`scores` keeps every number known: `distance`, `bm25`, `rrf`, `relevance_score`.

QueryVectors returns "the computed distance between the query vector and each vector" for the
index's metric (S3 API reference, QueryVectors; S3 User Guide, "Querying vectors"). That a cosine
index's distance is 1 - cosine similarity is the standard definition of cosine distance, which the
emulator computes; the AWS pages found do not spell the formula out (not confirmed there).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from embedrock import wiring
from embedrock.bedrock.reranker import check_offered
from embedrock.catalog import find_rerank
from embedrock.collections import schemas, service
from embedrock.collections.validation import check_filter, check_top_k, check_vector
from embedrock.embed_spec import check_text
from embedrock.errors import InvalidRequest, PayloadTooLarge
from embedrock.observability import record_collection_query
from embedrock.pricing import cost_usd, rerank_cost_usd, round_usd
from embedrock.vector_store import limits
from embedrock.vector_store.model import Query

if TYPE_CHECKING:
    from embedrock.catalog import RerankModel
    from embedrock.vector_store.model import Collection, Match

# The store's score names (vector_store/s3vectors.py) as this API names them.
_SCORE_NAMES = {"fused": "rrf", "vector_distance": "distance"}


def search(name: str, request: schemas.SearchRequest) -> schemas.SearchResponse:
    collection = service.describe(name)
    rerank_model = _check(request, collection)
    vector, tokens, calls, cost = _query_vector(request, collection)
    query = Query(
        top_k=request.top_k,
        vector=vector,
        text=request.query if request.mode != "vector" else None,
        filter=request.filter,
    )
    started = time.perf_counter()
    matches = service.store().query(collection.name, query)
    record_collection_query((time.perf_counter() - started) * 1000)
    results = [_result(match, request.mode, collection) for match in matches]
    score = _score_name(request.mode, collection)
    rerank_cost: float | None = 0.0
    if rerank_model is not None and request.rerank is not None:
        results, rerank_cost, rerank_calls = _rerank(
            rerank_model, request.query or "", results, request.rerank.top_n
        )
        calls += rerank_calls
        score = "relevance_score"
    response = schemas.SearchResponse(
        results=results,
        score=score,
        mode=request.mode,
        usage=schemas.SearchUsage(
            input_tokens=tokens,
            requests=calls,
            cost_usd=None if rerank_cost is None else round_usd(cost + rerank_cost),
        ),
    )
    _check_response_size(response, request.top_k)
    return response


def _check_response_size(response: schemas.SearchResponse, top_k: int) -> None:
    """A 413 rather than a response Lambda cannot return (6 MB): results carry their texts and
    metadata, up to S3 Vectors' 40 KB each."""
    import orjson

    size = len(orjson.dumps(response.model_dump(mode="json")))
    limit = wiring.settings().max_response_bytes
    if size > limit:
        raise PayloadTooLarge(
            f"the {len(response.results)} results with their texts and metadata would be about "
            f"{size / 1e6:.1f} MB, over Lambda's 6 MB response limit ({limit / 1e6:.1f} MB usable); "
            f"ask for fewer results than top_k {top_k}, or a narrower filter.",
            param="top_k",
            code="response_too_large",
        )


def _check(request: schemas.SearchRequest, collection: Collection) -> RerankModel | None:
    """Every rule before a paid call; the rerank model when one is asked for."""
    check_top_k(request.top_k)
    if request.query is not None and request.vector is not None:
        raise InvalidRequest("give query or vector, not both.", param="vector", code="invalid_request")
    if request.query is None and request.vector is None:
        raise InvalidRequest("a search needs query (text) or vector.", param="query", code="missing_field")
    if request.mode != "vector":
        if collection.text_language is None:
            raise InvalidRequest(
                f"mode {request.mode} needs full-text search, which collection {collection.name} does not "
                "have (create it with text_search); use mode vector.",
                param="mode",
                code="text_search_not_enabled",
            )
        if request.query is None:
            raise InvalidRequest(
                f"mode {request.mode} searches text: give query, not vector.",
                param="query",
                code="missing_field",
            )
        if not request.query.strip() or len(request.query) > limits.QUERY_TEXT_MAX:
            raise InvalidRequest(
                f"query must hold 1 to {limits.QUERY_TEXT_MAX} characters of text for mode {request.mode} "
                f"(S3 Vectors' query text limit); it has {len(request.query)}.",
                param="query",
                code="invalid_query",
            )
    if request.vector is not None:
        check_vector(request.vector, collection, param="vector")
    if request.filter is not None:
        check_filter(request.filter)
    return _check_rerank(request)


def _check_rerank(request: schemas.SearchRequest) -> RerankModel | None:
    if request.rerank is None:
        return None
    if request.query is None:
        raise InvalidRequest(
            "rerank scores texts against the query's text: give query, not vector.",
            param="rerank",
            code="invalid_request",
        )
    model = find_rerank(request.rerank.model)
    assert model is not None  # the schema admits catalog rerank models only
    check_offered(model, wiring.settings().region, param="rerank.model")
    if len(request.query) > model.max_query_chars:
        raise InvalidRequest(
            f"query has {len(request.query)} characters; {model.id} takes at most {model.max_query_chars}.",
            param="query",
            code="input_too_long",
        )
    if request.top_k > model.max_documents:
        raise InvalidRequest(
            f"rerank scores the top_k results in one call, and {model.id} takes at most "
            f"{model.max_documents} documents; top_k is {request.top_k}.",
            param="top_k",
            code="too_many_inputs",
        )
    top_n = request.rerank.top_n
    if top_n is not None and not 1 <= top_n <= request.top_k:
        raise InvalidRequest(
            f"rerank.top_n must be from 1 to top_k ({request.top_k}); got {top_n}.",
            param="rerank.top_n",
            code="invalid_top_n",
        )
    return model


def _query_vector(
    request: schemas.SearchRequest, collection: Collection
) -> tuple[list[float] | None, int, int, float]:
    """The query's vector (None for text mode), and the tokens, calls and USD its embedding took."""
    if request.vector is not None:
        return [float(x) for x in request.vector], 0, 0, 0.0
    if request.mode == "text" or request.query is None:
        return None, 0, 0, 0.0
    spec = service.collection_spec(collection.model, collection.dimensions, input_type="search_query")
    check_text(request.query, spec.model, where="query")
    result = service.embed(spec, [request.query])
    vector = [float(x) for x in result.vectors[0]]
    return vector, result.input_tokens, result.bedrock_calls, cost_usd(spec.model, result.input_tokens)


def _result(match: Match, mode: str, collection: Collection) -> schemas.SearchResult:
    scores = {_SCORE_NAMES.get(name, name): value for name, value in match.scores.items()}
    if match.distance is not None:
        scores["distance"] = match.distance
    if mode == "text":
        score = scores.get("bm25")
    elif mode == "hybrid":
        score = scores.get("rrf")
    elif match.distance is None:
        score = None
    else:
        score = 1 - match.distance if collection.metric == "cosine" else match.distance
    return schemas.SearchResult(
        id=match.id, score=score, scores=scores, metadata=dict(match.metadata), text=match.text
    )


def _score_name(mode: str, collection: Collection) -> schemas.ScoreName:
    if mode == "text":
        return "bm25"
    if mode == "hybrid":
        return "rrf"
    return "cosine_similarity" if collection.metric == "cosine" else "euclidean_distance"


def _rerank(
    model: RerankModel, query: str, results: list[schemas.SearchResult], top_n: int | None
) -> tuple[list[schemas.SearchResult], float | None, int]:
    """The results re-scored by `model` on their stored texts, best first, with the rerank's cost
    and Bedrock calls. A result without text (a document given as a vector) cannot be scored: it
    follows the scored ones, score null. A text over the model's limit is cut to it (the stored
    text is not the caller's to shorten)."""
    with_text = [result for result in results if result.text]
    without = [result.model_copy(update={"score": None}) for result in results if not result.text]
    if not with_text:
        return without[:top_n], 0.0, 0
    reranker = wiring.reranker()
    texts = [(result.text or "")[: model.max_document_chars] for result in with_text]
    ranked = reranker.rerank(model, query, texts, len(texts)).results
    reranked = []
    for item in ranked:
        result = with_text[item.index]
        scores = {**result.scores, "relevance_score": item.relevance_score}
        reranked.append(result.model_copy(update={"score": item.relevance_score, "scores": scores}))
    return [*reranked, *without][:top_n], rerank_cost_usd(model, queries=1), 1
