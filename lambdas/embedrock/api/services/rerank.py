"""POST /rerank: check the request against the model's catalog entry and region, then one Bedrock call.

Every limit is checked before the call, so a bad request costs nothing: the model must be offered in
the function's region, the query and each document must hold text within the model's character
limit, the documents must number 1 to the model's maximum, and top_n must be 1 to their number.
"""

from __future__ import annotations

from embedrock import wiring
from embedrock.api.rerank_schemas import (
    RerankDocument,
    RerankRequest,
    RerankResponse,
    RerankResult,
    RerankUsage,
)
from embedrock.bedrock.reranker import check_offered
from embedrock.catalog import RerankModel, find_rerank
from embedrock.errors import InvalidRequest, shown
from embedrock.pricing import rerank_cost_usd


def rerank(request: RerankRequest) -> RerankResponse:
    model = find_rerank(request.model)
    assert model is not None  # the schema admits catalog rerank models only
    check_offered(model, wiring.settings().region)
    documents = request.texts()
    _check_texts(model, request.query, documents)
    top_n = _top_n(request.top_n, len(documents))
    reranker = wiring.reranker()
    result = reranker.rerank(model, request.query, documents, top_n)
    return RerankResponse(
        model=model.id,
        results=[
            RerankResult(
                index=ranked.index,
                relevance_score=ranked.relevance_score,
                document=RerankDocument(text=documents[ranked.index]) if request.return_documents else None,
            )
            for ranked in result.results
        ],
        usage=RerankUsage(
            documents=len(documents),
            requests=result.bedrock_calls,
            cost_usd=rerank_cost_usd(model, queries=1),
        ),
    )


def _check_texts(model: RerankModel, query: str, documents: list[str]) -> None:
    if not query.strip():
        raise InvalidRequest("query must hold text; it is empty or blank.", param="query", code="empty_input")
    if len(query) > model.max_query_chars:
        raise InvalidRequest(
            f"query has {len(query)} characters; {model.id} takes at most {model.max_query_chars}.",
            param="query",
            code="input_too_long",
        )
    if not documents:
        raise InvalidRequest(
            f"documents must hold 1 to {model.max_documents} documents; it is empty.",
            param="documents",
            code="empty_input",
        )
    if len(documents) > model.max_documents:
        raise InvalidRequest(
            f"documents holds {len(documents)} documents; {model.id} ranks at most {model.max_documents} "
            "per request.",
            param="documents",
            code="too_many_inputs",
        )
    for index, text in enumerate(documents):
        if not text.strip():
            raise InvalidRequest(
                f"documents[{index}] must hold text; it is empty or blank.",
                param=f"documents[{index}]",
                code="empty_input",
            )
        if len(text) > model.max_document_chars:
            raise InvalidRequest(
                f"documents[{index}] has {len(text)} characters; {model.id} takes at most "
                f"{model.max_document_chars} per document ({shown(text, 40)}).",
                param=f"documents[{index}]",
                code="input_too_long",
            )


def _top_n(top_n: int | None, documents: int) -> int:
    if top_n is None:
        return documents
    if not 1 <= top_n <= documents:
        raise InvalidRequest(
            f"top_n must be from 1 to the number of documents ({documents}); got {top_n}.",
            param="top_n",
            code="invalid_top_n",
        )
    return top_n
