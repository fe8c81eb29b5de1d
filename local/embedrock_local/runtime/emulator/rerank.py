"""InvokeModel for the catalog's rerank models: Bedrock's request checks, a deterministic score.

Not Bedrock: the score is the cosine of the engine's vectors of the query and each document, mapped
to [0, 1] (the hash engine's vectors are hashed word features, so it measures shared words; minilm's
are semantic). Bodies as the client layer sends them (catalog.RerankFamily): query, documents, top_n,
and api_version 2 for Cohere Rerank 3.5, whose absence Bedrock refuses.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from embedrock.catalog import RerankFamily, RerankModel

from .codec import Invocation
from .engines import Engine
from .errors import validation
from .schema import type_name
from .tokens import count

# The width the engines embed at to score; any width works, 384 is minilm's own.
_WIDTH = 384
_KNOWN = {"query", "documents", "top_n", "api_version"}


def _malformed(detail: str) -> Exception:
    return validation(f"Malformed input request: {detail}, please reformat your input and try again.")


def answer(model: RerankModel, body: dict[str, Any], engine: Engine) -> Invocation:
    extra = sorted(set(body) - _KNOWN)
    if extra:
        raise _malformed(f"#: extraneous key [{extra[0]}] is not permitted")
    query, documents = body.get("query"), body.get("documents")
    if not isinstance(query, str) or not query:
        raise _malformed("#/query: expected a non-empty string, found: " + type_name(query))
    if not isinstance(documents, list) or not documents:
        raise _malformed("#/documents: expected a non-empty array, found: " + type_name(documents))
    if len(documents) > model.max_documents:
        raise _malformed(
            f"#/documents: expected maximum item count: {model.max_documents}, found: {len(documents)}"
        )
    for index, document in enumerate(documents):
        if not isinstance(document, str) or not document:
            raise _malformed(
                f"#/documents/{index}: expected a non-empty string, found: {type_name(document)}"
            )
    top_n = body.get("top_n", len(documents))
    if not isinstance(top_n, int) or isinstance(top_n, bool) or not 1 <= top_n <= len(documents):
        raise _malformed(f"#/top_n: must be an integer from 1 to {len(documents)}")
    if model.family is RerankFamily.COHERE_RERANK:
        version = body.get("api_version")
        if version is None:
            raise _malformed("#: required key [api_version] not found")
        if not isinstance(version, int) or isinstance(version, bool) or version < 2:
            raise _malformed(f"#/api_version: {version} is not greater or equal to 2")
    scores = _scores(engine, query, documents)
    order = sorted(range(len(documents)), key=lambda i: (-scores[i], i))[:top_n]
    results = [{"index": i, "relevance_score": round(float(scores[i]), 6)} for i in order]
    tokens = count(query) * len(documents) + sum(count(document) for document in documents)
    return Invocation({"results": results}, tokens)


def _scores(engine: Engine, query: str, documents: list[str]) -> np.ndarray:
    rows = np.asarray(engine.embed([query, *documents], _WIDTH), dtype=np.float64)
    cosines = rows[1:] @ rows[0]
    scores: np.ndarray = np.clip((cosines + 1.0) / 2.0, 0.0, 1.0)
    return scores
