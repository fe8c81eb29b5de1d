"""The route table: which Lambda function serves which HTTP route.

The CDK stack builds its functions, roles and API Gateway methods from this table, and the
local gateway routes requests with it, so both always agree. Plain data: importing it costs
nothing at Lambda cold start.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class BedrockAccess(StrEnum):
    """What a function may do on Bedrock; infra turns it into a least-privilege policy."""

    INVOKE_EMBEDDING_MODELS = "invoke"
    READ_MODEL_CATALOG = "catalog"
    INVOKE_RERANK_MODELS = "rerank"


class VectorAccess(StrEnum):
    """What a function may do on the collections' vector bucket; infra turns it into a policy."""

    NONE = "none"
    COLLECTIONS = "collections"  # create, describe, list, delete indexes; put, get, delete, query vectors
    UPSERT = "upsert"  # describe an index, read its tags, put vectors: the pipeline filling a collection


@dataclass(frozen=True)
class Function:
    name: str
    handler: str
    description: str
    bedrock_access: BedrockAccess
    memory_mb: int
    timeout_seconds: int
    vector_access: VectorAccess = VectorAccess.NONE
    also_reranks: bool = False  # may also invoke the rerank models (a collections search's `rerank`)


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str
    api_key_required: bool = True


EMBEDDINGS = Function(
    name="embeddings",
    handler="embedrock.handlers.embeddings.handler",
    description="POST /embeddings and the OpenAI-compatible POST /v1/embeddings",
    bedrock_access=BedrockAccess.INVOKE_EMBEDDING_MODELS,
    memory_mb=1024,
    timeout_seconds=29,
)
MODELS = Function(
    name="models",
    handler="embedrock.handlers.models.handler",
    description="GET /models, GET /models/{model_id}, health and API documentation",
    bedrock_access=BedrockAccess.READ_MODEL_CATALOG,
    memory_mb=512,
    timeout_seconds=15,
)
SIMILARITY = Function(
    name="similarity",
    handler="embedrock.handlers.similarity.handler",
    description="POST /similarity: scores, matrices and top-k search",
    bedrock_access=BedrockAccess.INVOKE_EMBEDDING_MODELS,
    memory_mb=1024,
    timeout_seconds=29,
)

RERANK = Function(
    name="rerank",
    handler="embedrock.handlers.rerank.handler",
    description="POST /rerank: documents ordered by a Bedrock rerank model",
    bedrock_access=BedrockAccess.INVOKE_RERANK_MODELS,
    memory_mb=512,
    timeout_seconds=29,
)

COLLECTIONS = Function(
    name="collections",
    handler="embedrock.handlers.collections.handler",
    description="Collections: create, list, describe, delete; upsert, get, delete and search documents",
    bedrock_access=BedrockAccess.INVOKE_EMBEDDING_MODELS,
    memory_mb=1024,
    timeout_seconds=29,
    vector_access=VectorAccess.COLLECTIONS,
    also_reranks=True,
)

FUNCTIONS: tuple[Function, ...] = (EMBEDDINGS, MODELS, SIMILARITY, RERANK, COLLECTIONS)

# Behind no route: fed by the ingestion queue (infra/ingestion.py builds and wires it).
INGEST = Function(
    name="ingest",
    handler="embedrock.handlers.ingest.handler",
    description="Embeds files uploaded under input/ of the ingestion bucket (S3 -> SQS -> Lambda)",
    bedrock_access=BedrockAccess.INVOKE_EMBEDDING_MODELS,
    memory_mb=2048,
    timeout_seconds=900,
    vector_access=VectorAccess.UPSERT,
)

ROUTES: tuple[Route, ...] = (
    Route("POST", "/embeddings", EMBEDDINGS.name),
    Route("POST", "/v1/embeddings", EMBEDDINGS.name),
    Route("GET", "/models", MODELS.name),
    Route("GET", "/models/{model_id}", MODELS.name),
    Route("POST", "/similarity", SIMILARITY.name),
    Route("POST", "/rerank", RERANK.name),
    Route("POST", "/collections", COLLECTIONS.name),
    Route("GET", "/collections", COLLECTIONS.name),
    Route("GET", "/collections/{name}", COLLECTIONS.name),
    Route("DELETE", "/collections/{name}", COLLECTIONS.name),
    Route("POST", "/collections/{name}/documents", COLLECTIONS.name),
    Route("GET", "/collections/{name}/documents/{document_id}", COLLECTIONS.name),
    Route("POST", "/collections/{name}/documents:delete", COLLECTIONS.name),
    Route("POST", "/collections/{name}/search", COLLECTIONS.name),
    Route("GET", "/health", MODELS.name, api_key_required=False),
    Route("GET", "/openapi.json", MODELS.name, api_key_required=False),
    Route("GET", "/docs", MODELS.name, api_key_required=False),
)


def route_list() -> str:
    """The routes for a message: `POST /embeddings, ..., GET /docs`."""
    return ", ".join(f"{route.method} {route.path}" for route in ROUTES)


def function_named(name: str) -> Function:
    for function in FUNCTIONS:
        if function.name == name:
            return function
    raise KeyError(name)


# Requests API Gateway (and so the local gateway) accepts: Lambda takes at most 6 MB.
MAX_REQUEST_BYTES = 6 * 1024 * 1024
# The API's minimumCompressionSize: responses this large are compressed for clients that ask.
MIN_COMPRESSION_BYTES = 1024
