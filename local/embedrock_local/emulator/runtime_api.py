"""bedrock-runtime InvokeModel for the catalog's embedding models, one handler per family."""

from __future__ import annotations

import json
from typing import Any

from embedrock import catalog
from embedrock.catalog import Family

from . import cohere, models_api, titan
from .codec import FamilyHandler, Invocation
from .engines import Engine
from .errors import INVALID_MODEL_ID, MALFORMED_BODY, validation
from .schema import type_name

HANDLERS: dict[Family, FamilyHandler] = {
    Family.TITAN_TEXT_V2: titan.text_v2,
    Family.TITAN_TEXT_V1: titan.text_v1,
    Family.TITAN_MULTIMODAL: titan.multimodal,
    Family.COHERE_V3: cohere.embed_v3,
}


def invoke(model_id: str, raw_body: bytes, engine: Engine) -> Invocation:
    model = catalog.find(model_id)
    if model is None:
        raise validation(_not_served(model_id))
    handler = HANDLERS.get(model.family)
    if handler is None:
        raise validation(f"The embedrock emulator has no request handler for the {model.family} family yet.")
    return handler(model, _json_object(raw_body), engine)


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
    listed = models_api.find(model_id)
    if listed is None:
        return INVALID_MODEL_ID
    if "ON_DEMAND" not in listed.inference_types:
        # Bedrock's answer for provisioned-only variants and profile-only models.
        return (
            f"Invocation of model ID {model_id} with on-demand throughput isn't supported. Retry your "
            "request with the ID or ARN of an inference profile that contains this model."
        )
    return (
        f"The embedrock emulator lists {model_id} as Bedrock does but does not serve it; "
        f"it serves: {', '.join(catalog.model_ids())}."
    )
