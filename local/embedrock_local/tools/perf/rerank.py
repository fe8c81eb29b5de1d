"""rerank: what POST /rerank adds over its one Bedrock call (Powertools resolver, validation, the
service and the reranker codec), against a bare boto3 invoke_model of the same rerank body, with
Bedrock answering at once (added_latency.py).
"""

from __future__ import annotations

import json

from embedrock_local.tools.perf.added_latency import HandlerCase, measure_case
from embedrock_local.tools.perf.common import Result, Sizes, sample_texts
from embedrock_local.tools.perf.isolated import run_isolated

MODEL = "cohere.rerank-v3-5:0"
DOCUMENTS = 50
TOP_N = 10
QUERY = "which text turns documents into vectors for search"


def describe(sizes: Sizes) -> str:
    return (
        f"{sizes.handler_requests:,} warm POST /rerank ({DOCUMENTS} documents, top_n {TOP_N}, {MODEL}), "
        "in-process emulated Bedrock answering at once"
    )


def case() -> HandlerCase:
    documents = sample_texts(DOCUMENTS)
    # Cohere Rerank 3.5's InvokeModel body, as the reranker codec writes it (catalog.RerankFamily).
    bedrock_body = {"query": QUERY, "documents": documents, "top_n": TOP_N, "api_version": 2}
    return HandlerCase(
        name="rerank",
        handler="embedrock.handlers.rerank",
        function="rerank",
        path="/rerank",
        request={
            "model": MODEL,
            "query": QUERY,
            "documents": documents,
            "top_n": TOP_N,
            "return_documents": True,
        },
        model_id=MODEL,
        bedrock_body=json.dumps(bedrock_body).encode(),
        details={"model": MODEL, "documents": DOCUMENTS, "top_n": TOP_N},
    )


def _measure_here(sizes: Sizes) -> Result:
    return measure_case(case(), sizes)


def measure(sizes: Sizes) -> Result:
    return run_isolated(_measure_here, sizes)
