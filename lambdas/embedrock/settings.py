"""Settings from environment variables, parsed once at cold start.

A bad value fails the cold start with a message that names the variable, instead of
failing later on a request. The models are the one source of each default and variable name:
the stack writes functions' environments with `environment`, so infra names neither.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from embedrock import catalog, inference_profiles


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    default_model_id: str = Field(default=catalog.DEFAULT_MODEL_ID, alias="EMBEDROCK_DEFAULT_MODEL")
    # Concurrent Bedrock calls per request. Embedding quotas are requests per minute and
    # can be as low as 60 RPM on new accounts: keep this modest.
    max_concurrency: int = Field(default=16, ge=1, le=256, alias="EMBEDROCK_MAX_CONCURRENCY")
    # Total attempts per Bedrock call (1 = no retry): throttling, not-ready, 500 and 503 are
    # retried with jittered backoff, never past the request's deadline.
    max_attempts: int = Field(default=3, ge=1, le=10, alias="EMBEDROCK_MAX_ATTEMPTS")
    # Hedged attempts (embedrock.bedrock.hedging), off unless a percentile or a threshold is set:
    # Bedrock quotas count requests and Bedrock bills every call it completes. A call slower than
    # this percentile of recent latencies, or than the fixed threshold (both set: the larger),
    # gets a second attempt (and a third if that one is slow too), at most budget percent of the
    # calls made.
    hedge_percentile: float | None = Field(default=None, gt=0, lt=100, alias="EMBEDROCK_HEDGE_PERCENTILE")
    hedge_after_ms: float | None = Field(default=None, gt=0, le=60_000, alias="EMBEDROCK_HEDGE_AFTER_MS")
    hedge_budget_percent: float = Field(default=5.0, gt=0, le=100, alias="EMBEDROCK_HEDGE_BUDGET_PERCENT")
    connect_timeout_seconds: float = Field(default=2.0, gt=0, alias="EMBEDROCK_CONNECT_TIMEOUT")
    read_timeout_seconds: float = Field(default=10.0, gt=0, alias="EMBEDROCK_READ_TIMEOUT")
    max_texts_per_request: int = Field(default=2048, ge=1, le=100_000, alias="EMBEDROCK_MAX_TEXTS")
    # Lambda answers at most 6 MB synchronously; leave room for the proxy envelope.
    max_response_bytes: int = Field(default=5_800_000, ge=1024, alias="EMBEDROCK_MAX_RESPONSE_BYTES")
    retry_after_seconds: int = Field(default=2, ge=1, alias="EMBEDROCK_RETRY_AFTER")
    # The longest a request may spend on Bedrock calls and retries: API Gateway stops waiting
    # after 29 s. The deadline is also capped by the Lambda's remaining time.
    request_timeout_seconds: float = Field(default=29.0, gt=0, le=900, alias="EMBEDROCK_REQUEST_TIMEOUT")
    # Kept free before that deadline to build and send the response.
    deadline_margin_seconds: float = Field(default=1.0, ge=0, le=60, alias="EMBEDROCK_DEADLINE_MARGIN")
    # The DynamoDB embeddings cache (embedrock.cache): off unless a table is named.
    cache_table: str | None = Field(default=None, min_length=3, alias="EMBEDROCK_CACHE_TABLE")
    cache_ttl_days: int = Field(default=30, ge=1, le=3650, alias="EMBEDROCK_CACHE_TTL_DAYS")
    # Browser origins whose requests get CORS headers (comma-separated, "*" for any): set by the
    # stack from CDK context embedrock:corsOrigins; unset, no CORS headers are sent.
    cors_origins: tuple[str, ...] = Field(default=(), alias="EMBEDROCK_CORS_ORIGINS")
    # Inference profiles the functions may invoke (comma-separated; empty: none): set by the stack from
    # CDK context embedrock:inferenceProfiles, the profiles its IAM grants. Unset (locally): any.
    inference_profiles: tuple[str, ...] | None = Field(default=None, alias="EMBEDROCK_INFERENCE_PROFILES")
    # The S3 vector bucket that keeps the collections (one index each): set by the stack; unset, the
    # collections routes and a file's `collection` are refused.
    vector_bucket: str | None = Field(
        default=None, min_length=3, max_length=63, alias="EMBEDROCK_VECTOR_BUCKET"
    )
    # A cost guard: how many collections may exist at once (CDK context embedrock:maxCollections).
    max_collections: int = Field(default=20, ge=1, le=10_000, alias="EMBEDROCK_MAX_COLLECTIONS")
    # The function's region, which Lambda sets itself (reserved: the stack never writes it). Rerank
    # refuses a model the catalog says is not offered there. Unset (local tools): no region check.
    region: str | None = Field(default=None, min_length=1, alias="AWS_REGION")

    @field_validator("cors_origins", "inference_profiles", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(origin.strip() for origin in value.split(",") if origin.strip())
        return value

    @field_validator("default_model_id")
    @classmethod
    def _known_model(cls, value: str) -> str:
        # A catalog model's id, or one of its inference profile ids (us.<model id>, ...).
        reference = inference_profiles.parse(value)
        if catalog.find(reference.model_id) is None:
            raise ValueError(
                f"must be one of {', '.join(catalog.model_ids())}, or an inference profile id of one of them"
            )
        if not inference_profiles.is_documented(reference):
            raise ValueError(inference_profiles.profile_problem(value) or "")
        return value

    @field_validator("inference_profiles")
    @classmethod
    def _known_profiles(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        problems = [
            problem for profile in value or () if (problem := inference_profiles.profile_problem(profile))
        ]
        if problems:
            raise ValueError("; ".join(problems))
        return value


class SettingsError(RuntimeError):
    pass


SettingsModel = TypeVar("SettingsModel", bound=BaseModel)


def load(environ: dict[str, str] | None = None) -> Settings:
    return load_model(Settings, environ)


def load_model(model: type[SettingsModel], environ: Mapping[str, str] | None = None) -> SettingsModel:
    """Any settings class whose fields are aliased to environment variables, with clear errors."""
    env = dict(os.environ if environ is None else environ)
    known = {field.alias for field in model.model_fields.values() if field.alias}
    try:
        return model.model_validate({key: value for key, value in env.items() if key in known})
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in issue['loc'])}: {issue['msg']}" for issue in error.errors()
        )
        raise SettingsError(f"invalid Embedrock settings: {problems}") from None


def environment(model: type[BaseModel], **values: object) -> dict[str, str]:
    """The variables that make `load_model(model)` read `values` (keyed by field name).

    Values may be CDK tokens (strings until deploy time); tuples are comma-joined, as parsed.
    """
    unknown = sorted(set(values) - set(model.model_fields))
    if unknown:
        raise KeyError(f"{model.__name__} has no field {', '.join(unknown)}")
    return {variable(model, name): _as_text(value) for name, value in values.items()}


def variable(model: type[BaseModel], name: str) -> str:
    """The environment variable of field `name`."""
    alias = model.model_fields[name].alias
    if alias is None:
        raise KeyError(f"{model.__name__}.{name} has no environment variable")
    return alias


def _as_text(value: object) -> str:
    if isinstance(value, tuple | list):
        return ",".join(str(item) for item in value)
    return str(value)


@lru_cache(maxsize=1)
def get() -> Settings:
    return load()
