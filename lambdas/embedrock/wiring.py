"""The composition root: settings, Bedrock clients, the embedder and the cache, built lazily once.

What every context (the API, the pipeline) and the local tools get their pieces from; it lives
in the core so that no context depends on another for them.

Each is created on first use and kept for the life of the Lambda container, so a function
that never embeds never builds a bedrock-runtime client. Tests, and the perf measures whose point
is a swapped piece, swap any of them with `override(...)` and put everything back with `reset()`.
The `build_*` functions make the same pieces from explicit settings without keeping them, for a
caller that holds its own (a local tool with one per target).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from threading import Lock
from typing import TYPE_CHECKING, Any

from embedrock import settings as settings_module
from embedrock.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_bedrock import BedrockClient
    from mypy_boto3_bedrock_runtime import BedrockRuntimeClient

    # Types only: importing the embedder or the cache loads numpy, which a function that never
    # embeds (models) must not pay for at cold start.
    from embedrock.bedrock.embedder import BedrockEmbedder, Embedder
    from embedrock.bedrock.hedging import HedgePolicy
    from embedrock.bedrock.reranker import BedrockReranker
    from embedrock.cache import EmbeddingCache
    from embedrock.vector_store.port import VectorStore
    from embedrock.vector_store.s3vectors import S3VectorsStore


@dataclass
class _Slots:
    settings: Settings | None = None
    runtime: BedrockRuntimeClient | None = None
    control: BedrockClient | None = None
    embedder: Embedder | None = None
    cache: EmbeddingCache | None = None
    vector_store: VectorStore | None = None


_overrides = _Slots()
_built = _Slots()
_lock = Lock()


def settings() -> Settings:
    return _overrides.settings or settings_module.get()


def runtime_client() -> BedrockRuntimeClient:
    if _overrides.runtime is not None:
        return _overrides.runtime
    with _lock:
        if _built.runtime is None:
            _built.runtime = build_runtime_client(settings())
        return _built.runtime


def control_client() -> BedrockClient:
    if _overrides.control is not None:
        return _overrides.control
    with _lock:
        if _built.control is None:
            _built.control = build_control_client(settings())
        return _built.control


def embedder() -> Embedder:
    if _overrides.embedder is not None:
        return _overrides.embedder
    runtime = runtime_client()
    with _lock:
        if _built.embedder is None:
            from embedrock.observability import record_throttle

            _built.embedder = build_embedder(runtime, settings(), on_throttle=record_throttle)
        return _built.embedder


def reranker() -> BedrockReranker:
    """A reranker over the runtime client with the settings' attempts and Retry-After, its throttles
    counted (POST /rerank and a collection search's rerank share it)."""
    from embedrock.bedrock.reranker import BedrockReranker
    from embedrock.observability import record_throttle

    config = settings()
    return BedrockReranker(
        runtime_client(),
        max_attempts=config.max_attempts,
        retry_after_seconds=config.retry_after_seconds,
        on_throttle=record_throttle,
    )


def build_runtime_client(config: Settings) -> BedrockRuntimeClient:
    """A new bedrock-runtime client; boto3 reads endpoint and credentials from the environment now."""
    from embedrock.bedrock import clients

    return clients.runtime_client(config)


def build_control_client(config: Settings) -> BedrockClient:
    from embedrock.bedrock import clients

    return clients.control_client(config)


def build_embedder(
    runtime: BedrockRuntimeClient,
    config: Settings,
    *,
    on_throttle: Callable[[str], None] | None = None,
) -> BedrockEmbedder:
    """The embedder over `runtime` with `config`'s concurrency cap, attempts, Retry-After and hedging.

    `on_throttle` counts each throttled attempt: the functions pass the throttle metric; a
    terminal tool may pass nothing, as no CloudWatch agent reads its output.
    """
    from embedrock.bedrock.embedder import BedrockEmbedder

    return BedrockEmbedder(
        runtime,
        max_concurrency=config.max_concurrency,
        retry_after_seconds=config.retry_after_seconds,
        max_attempts=config.max_attempts,
        on_throttle=on_throttle,
        hedging=hedge_policy(config),
    )


def hedge_policy(config: Settings) -> HedgePolicy | None:
    """The hedging policy `config` asks for, or None (the default: hedging off)."""
    if config.hedge_percentile is None and config.hedge_after_ms is None:
        return None
    from embedrock.bedrock.hedging import HedgePolicy

    return HedgePolicy(
        percentile=config.hedge_percentile,
        after_seconds=None if config.hedge_after_ms is None else config.hedge_after_ms / 1000,
        budget=config.hedge_budget_percent / 100,
    )


def cache() -> EmbeddingCache | None:
    """The DynamoDB embeddings cache, or None when EMBEDROCK_CACHE_TABLE is not set."""
    if _overrides.cache is not None:
        return _overrides.cache
    table = settings().cache_table
    if table is None:
        return None
    with _lock:
        if _built.cache is None:
            from embedrock.cache import EmbeddingCache, dynamodb_client

            _built.cache = EmbeddingCache(dynamodb_client(), table, ttl_days=settings().cache_ttl_days)
        return _built.cache


def vector_store() -> VectorStore:
    """The collections' store: S3 Vectors in EMBEDROCK_VECTOR_BUCKET; unset, a 503 saying so."""
    if _overrides.vector_store is not None:
        return _overrides.vector_store
    config = settings()
    if config.vector_bucket is None:
        from embedrock.errors import BedrockUnavailable

        raise BedrockUnavailable(
            "collections are not configured here: EMBEDROCK_VECTOR_BUCKET names no S3 vector bucket "
            "(the stack sets it; locally `make run` does).",
            code="collections_not_configured",
        )
    with _lock:
        if _built.vector_store is None:
            _built.vector_store = build_vector_store(
                config, config.vector_bucket, on_throttle=_count_store_throttle
            )
        return _built.vector_store


def _count_store_throttle() -> None:
    # Imported when a throttle happens: building the store loads no Powertools (and no X-Ray).
    from embedrock.observability import record_vector_store_throttle

    record_vector_store_throttle()


def build_vector_store(
    config: Settings, bucket: str, *, on_throttle: Callable[[], None] | None = None
) -> S3VectorsStore:
    """An S3 Vectors store over a new s3vectors client (endpoint and credentials from the environment).

    `on_throttle` counts each throttled attempt, retried or not.
    """
    from embedrock.vector_store.client import s3vectors_client
    from embedrock.vector_store.s3vectors import S3VectorsStore

    client = s3vectors_client(config, on_throttle=on_throttle)
    return S3VectorsStore(client, bucket, retry_after_seconds=config.retry_after_seconds)


def override(
    *,
    settings: Settings | None = None,
    runtime: Any = None,
    control: Any = None,
    embedder: Embedder | None = None,
    cache: EmbeddingCache | None = None,
    vector_store: VectorStore | None = None,
) -> None:
    """Use these instead of the real ones (fakes are duck-typed, hence Any for clients)."""
    given = {
        "settings": settings,
        "runtime": runtime,
        "control": control,
        "embedder": embedder,
        "cache": cache,
        "vector_store": vector_store,
    }
    for name, value in given.items():
        if value is not None:
            setattr(_overrides, name, value)
    _forget_built()


def reset() -> None:
    for slot in fields(_Slots):
        setattr(_overrides, slot.name, None)
    _forget_built()


def _forget_built() -> None:
    # Built objects may hold overridden pieces (an embedder wraps the runtime client).
    with _lock:
        for slot in fields(_Slots):
            setattr(_built, slot.name, None)
