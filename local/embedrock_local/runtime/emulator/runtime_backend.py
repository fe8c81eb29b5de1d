"""The bedrock-runtime backend: InvokeModel for the catalog's embedding models, by model id or
inference profile id (access.py decides which identifiers Bedrock would accept), and for its
rerank models (rerank.py).

It holds the operation (faults, stats, per-family validation and response bodies); the HTTP
server and the in-process client only carry requests to it and its answers or errors back.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import orjson

from embedrock import catalog
from embedrock.catalog import Family

from . import access, cohere, control_backend, nova, rerank, titan
from .codec import FamilyHandler, Invocation
from .engines import Engine
from .errors import INVALID_MODEL_ID, MALFORMED_BODY, BedrockError, validation
from .schema import type_name
from .state import EmulatorState
from .stats import Stats

OPERATION = "InvokeModel"

HANDLERS: dict[Family, FamilyHandler] = {
    Family.TITAN_TEXT_V2: titan.text_v2,
    Family.TITAN_TEXT_V1: titan.text_v1,
    Family.TITAN_MULTIMODAL: titan.multimodal,
    Family.COHERE_V3: cohere.embed_v3,
    Family.COHERE_V4: cohere.embed_v4,
    Family.NOVA_MULTIMODAL: nova.embed,
}


@dataclass(frozen=True)
class InvokeOutput:
    """InvokeModel's output: the body blob, and the members Bedrock sends as headers."""

    body: bytes
    input_tokens: int | None  # None for a malformed answer, which carries no token header
    latency_ms: int = 0

    def headers(self) -> dict[str, str]:
        if self.input_tokens is None:
            return {}
        return {
            "X-Amzn-Bedrock-Input-Token-Count": str(self.input_tokens),
            "X-Amzn-Bedrock-Invocation-Latency": str(self.latency_ms),
        }


class RuntimeBackend:
    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    def invoke_model(self, model_id: str, body: bytes) -> InvokeOutput:
        """Answer as Bedrock would, or raise BedrockError (state.Dropped if stopped meanwhile)."""
        identifier = control_backend.model_id_from(model_id)
        model_id = access.parse_model_id(identifier)
        stats = self.state.stats
        stats.begin()
        started = time.perf_counter()
        try:
            malformed = self.state.apply_faults(OPERATION, model_id)
            reranker = catalog.find_rerank(identifier)
            if reranker is not None:
                # Rerank models are not embedding models: ListFoundationModels(EMBEDDING) omits them.
                request = _json_object(body)
                stats.record_body(model_id, request)
                result = rerank.answer(reranker, request, self.state.engine)
            else:
                listed = tuple(entry.model_id for entry in control_backend.listing(self.state.profile_only))
                access.check_invocation(self.state, identifier, listed)
                result = _answer(model_id, body, self.state.engine, stats)
        except BedrockError as error:
            stats.record(OPERATION, model_id, error.code)
            raise
        finally:
            stats.end()
        if malformed is not None:
            stats.record(OPERATION, model_id, "Malformed")
            return InvokeOutput(malformed.encode(), None)
        stats.record(OPERATION, model_id, tokens=result.input_tokens)
        # orjson: a 96-text Cohere response is ~1 MB of floats, and stdlib json took most of
        # the emulator's time per call, so it, not the caller, bounded batched throughput.
        raw = orjson.dumps(result.body, option=orjson.OPT_SERIALIZE_NUMPY)
        return InvokeOutput(raw, result.input_tokens, round((time.perf_counter() - started) * 1000))


def _answer(model_id: str, raw_body: bytes, engine: Engine, stats: Stats) -> Invocation:
    """The model family's validation and response body; the request body is kept in `stats`."""
    model, handler = served_model(model_id)
    request = _json_object(raw_body)
    stats.record_body(model_id, request)
    return handler(model, request, engine)


def served_model(model_id: str) -> tuple[catalog.CatalogModel, FamilyHandler]:
    """The one place a model id picks the catalog entry and handler that answer it."""
    model = catalog.find(model_id)
    if model is None:
        raise validation(_not_served(model_id))
    handler = HANDLERS.get(model.family)
    if handler is None:
        raise validation(f"The embedrock emulator has no request handler for the {model.family} family yet.")
    return model, handler


def _json_object(raw_body: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw_body)
    except (UnicodeDecodeError, ValueError):
        raise validation(MALFORMED_BODY) from None
    if not isinstance(body, dict):
        raise validation(
            f"Malformed input request: #: expected type: JSONObject, found: {type_name(body)}"
            ", please reformat your input and try again."
        )
    return body


def _not_served(model_id: str) -> str:
    listed = control_backend.find(model_id)
    if listed is None:
        return INVALID_MODEL_ID
    if "ON_DEMAND" not in listed.inference_types:
        # Bedrock's answer for provisioned-only variants and profile-only models.
        return access.ON_DEMAND_UNSUPPORTED.format(model_id=model_id)
    return (
        f"The embedrock emulator lists {model_id} as Bedrock does but does not serve it; "
        f"it serves: {', '.join(catalog.model_ids())}."
    )
