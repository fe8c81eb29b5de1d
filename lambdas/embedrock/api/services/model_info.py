"""GET /models and GET /models/{model_id}: what Bedrock offers here, joined with the catalog.

The use case returns the response schema (`ModelInfo`) itself: no view class to copy from.

Bedrock says which embedding models exist in the region and how they can be invoked; the
catalog says what this service knows about them. A model is `supported` when both agree:
it is in the catalog and offered ON_DEMAND (provisioned-only variants such as
`amazon.titan-embed-text-v2:0:8k` are listed but not callable by this service).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from embedrock import catalog
from embedrock.api.schemas import Dimensions, ModelInfo
from embedrock.bedrock.error_mapping import bedrock_errors
from embedrock.errors import InvalidRequest, NotFound, shown

if TYPE_CHECKING:
    from mypy_boto3_bedrock import BedrockClient

# Bedrock's own constraint on byProvider; checked here so a typo is a clear 400.
_PROVIDER = re.compile(r"^[A-Za-z0-9- ]{1,63}$")


def list_models(client: BedrockClient, provider: str | None = None) -> list[ModelInfo]:
    filters: dict[str, Any] = {"byOutputModality": "EMBEDDING"}
    if provider is not None:
        if not _PROVIDER.match(provider):
            raise InvalidRequest(
                "provider must be a provider name such as Amazon or Cohere.", param="provider"
            )
        filters["byProvider"] = provider
    with bedrock_errors(invoking=False):
        summaries = client.list_foundation_models(**filters).get("modelSummaries", [])
    return sorted((_view(summary) for summary in summaries), key=lambda view: view.id)


def get_model(client: BedrockClient, model_id: str) -> ModelInfo:
    not_embedding = NotFound(
        f"'{shown(model_id)}' is not an embedding model available in this region; GET /models lists them.",
        param="model_id",
        code="model_not_found",
    )
    try:
        with bedrock_errors(model_id, invoking=False):
            details = client.get_foundation_model(modelIdentifier=model_id)["modelDetails"]
    # An unknown id is a ValidationException or a ResourceNotFoundException, by its form.
    except (NotFound, InvalidRequest) as error:
        raise not_embedding from error
    if "EMBEDDING" not in details.get("outputModalities", []):
        raise not_embedding
    return _view(details)


def _view(summary: Mapping[str, Any]) -> ModelInfo:
    model_id = str(summary["modelId"])
    known = catalog.find(model_id)
    inference_types = [str(kind) for kind in summary.get("inferenceTypesSupported", [])]
    lifecycle = summary.get("modelLifecycle", {}).get("status")
    bedrock_facts: dict[str, Any] = {
        "id": model_id,
        "name": str(summary.get("modelName") or (known.name if known else model_id)),
        "provider": str(summary.get("providerName") or (known.provider if known else "")),
        "input_modalities": [str(modality) for modality in summary.get("inputModalities", [])],
        "lifecycle_status": str(lifecycle) if lifecycle else None,
        "inference_types": inference_types,
    }
    if known is None:  # Bedrock lists it, the catalog lacks it: its catalog facts are null
        return ModelInfo(
            **bedrock_facts,
            dimensions=None,
            max_texts_per_call=None,
            max_input_tokens=None,
            max_input_chars=None,
            input_types=None,
            embedding_types=None,
            price_per_million_tokens=None,
            supported=False,
        )
    return ModelInfo(
        **bedrock_facts,
        dimensions=Dimensions(allowed=list(known.dimensions), default=known.default_dimensions),
        max_texts_per_call=known.max_texts_per_call,
        max_input_tokens=known.max_input_tokens,
        max_input_chars=known.max_input_chars,
        input_types=list(known.input_types),
        embedding_types=list(known.embedding_types),
        price_per_million_tokens=known.price_per_million_tokens,
        supported="ON_DEMAND" in inference_types,
    )
