"""GET /models and GET /models/{model_id}: what Bedrock offers here, joined with the catalog.

The use case returns the response schema (`ModelInfo`) itself: no view class to copy from.

Bedrock says which embedding models exist in the region, how they can be invoked, which inference
profiles route to them, and whether this account may call them; the catalog says what this service
knows about them. A model is `supported` when both agree: it is in the catalog and offered ON_DEMAND
or through an inference profile (provisioned-only variants such as `amazon.titan-embed-text-v2:0:8k`
are listed but not callable by this service).

The profiles and the access are extras: a failure to read them (AccessDenied, throttling) leaves
them null, for one model or for all, and never fails the listing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from embedrock import catalog, inference_profiles
from embedrock.api.model_schemas import Dimensions, ImagePixels, InferenceProfileInfo, ModelAccess, ModelInfo
from embedrock.bedrock.error_mapping import bedrock_errors
from embedrock.errors import InvalidRequest, NotFound, shown

if TYPE_CHECKING:
    from mypy_boto3_bedrock import BedrockClient

logger = logging.getLogger(__name__)

# Bedrock's own constraint on byProvider; checked here so a typo is a clear 400.
_PROVIDER = re.compile(r"^[A-Za-z0-9- ]{1,63}$")
# GetFoundationModelAvailability is one call per model: this many at once keeps GET /models about
# as fast as one call, and well under the function's 15 s timeout.
_AVAILABILITY_CONCURRENCY = 8
# A bound on ListInferenceProfiles pages, so a service that kept returning nextToken cannot hold
# the function until its timeout.
_MAX_PROFILE_PAGES = 50

ProfilesByModel = dict[str, list[InferenceProfileInfo]]


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
    if provider is not None and not summaries:
        raise _unknown_provider(client, provider)
    profiles = _profiles_or_none(client)
    access = availability(client, [str(s["modelId"]) for s in summaries if catalog.find(str(s["modelId"]))])
    views = (_view(summary, profiles, access.get(str(summary["modelId"]))) for summary in summaries)
    return sorted(views, key=lambda view: view.id)


def _unknown_provider(client: BedrockClient, provider: str) -> InvalidRequest:
    """A provider with no embedding model here is a typo more often than an empty answer: a 400 naming
    the providers Bedrock lists (one more call, on this error path only)."""
    with bedrock_errors(invoking=False):
        summaries = client.list_foundation_models(byOutputModality="EMBEDDING").get("modelSummaries", [])
    providers = sorted({str(s.get("providerName")) for s in summaries if s.get("providerName")})
    allowed = f"allowed values: {', '.join(providers)}" if providers else "Bedrock lists none in this region"
    return InvalidRequest(
        f"provider '{shown(provider)}' has no embedding model in this region; {allowed} (any letter case).",
        param="provider",
        code="unknown_provider",
    )


def get_model(client: BedrockClient, model_id: str) -> ModelInfo:
    """One model, by its id or by the id of an inference profile that routes to it."""
    not_embedding = NotFound(
        f"'{shown(model_id)}' is not an embedding model or inference profile available in this region; "
        "GET /models lists them.",
        param="model_id",
        code="model_not_found",
    )
    reference = inference_profiles.parse(model_id)
    profiles: ProfilesByModel | None = None
    if reference.geography is not None:
        # Asked for a profile: it must be one Bedrock lists (the caller sees an error if it cannot say).
        with bedrock_errors(model_id, invoking=False):
            profiles = inference_profiles_by_model(client)
        if model_id not in {profile.id for profile in profiles.get(reference.model_id, [])}:
            raise not_embedding
    try:
        with bedrock_errors(reference.model_id, invoking=False):
            details = client.get_foundation_model(modelIdentifier=reference.model_id)["modelDetails"]
    # An unknown id is a ValidationException or a ResourceNotFoundException, by its form.
    except (NotFound, InvalidRequest) as error:
        raise not_embedding from error
    if "EMBEDDING" not in details.get("outputModalities", []):
        raise not_embedding
    if profiles is None:
        profiles = _profiles_or_none(client)
    known = catalog.find(reference.model_id) is not None
    access = availability(client, [reference.model_id]) if known else {}
    return _view(details, profiles, access.get(reference.model_id))


def inference_profiles_by_model(client: BedrockClient) -> ProfilesByModel:
    """Every inference profile ListInferenceProfiles returns (all pages), by foundation-model id."""
    by_model: ProfilesByModel = {}
    token: str | None = None
    for _ in range(_MAX_PROFILE_PAGES):
        page = client.list_inference_profiles(nextToken=token) if token else client.list_inference_profiles()
        for summary in page.get("inferenceProfileSummaries", []):
            arns = [str(model.get("modelArn", "")) for model in summary.get("models", [])]
            profile = InferenceProfileInfo(
                id=str(summary["inferenceProfileId"]),
                name=str(summary.get("inferenceProfileName", summary["inferenceProfileId"])),
                type=str(summary.get("type", "")),
                # arn:aws:bedrock:REGION::foundation-model/ID: one ARN per region the profile routes to.
                regions=sorted({arn.split(":")[3] for arn in arns if arn.count(":") >= 5}),
            )
            for model_id in dict.fromkeys(arn.rsplit("/", 1)[-1] for arn in arns):
                by_model.setdefault(model_id, []).append(profile)
        token = page.get("nextToken")
        if not token:
            break
    return by_model


def availability(client: BedrockClient, model_ids: Sequence[str]) -> dict[str, ModelAccess | None]:
    """GetFoundationModelAvailability for each model, concurrently; None where Bedrock did not answer."""
    if not model_ids:
        return {}
    with ThreadPoolExecutor(min(_AVAILABILITY_CONCURRENCY, len(model_ids))) as pool:
        answers = list(pool.map(lambda model_id: _access_or_none(client, model_id), model_ids))
    return dict(zip(model_ids, answers, strict=True))


def access_view(answer: Mapping[str, Any]) -> ModelAccess:
    """GetFoundationModelAvailability's answer, as GET /models shows it."""
    agreement = answer.get("agreementAvailability") or {}
    fields = {
        "authorization_status": answer.get("authorizationStatus"),
        "agreement_status": agreement.get("status"),
        "entitlement_availability": answer.get("entitlementAvailability"),
        "region_availability": answer.get("regionAvailability"),
    }
    ready = fields == {
        "authorization_status": "AUTHORIZED",
        "agreement_status": "AVAILABLE",
        "entitlement_availability": "AVAILABLE",
        "region_availability": "AVAILABLE",
    }
    return ModelAccess(**fields, agreement_error=agreement.get("errorMessage"), ready=ready)


def _access_or_none(client: BedrockClient, model_id: str) -> ModelAccess | None:
    try:
        return access_view(client.get_foundation_model_availability(modelId=model_id))
    except (ClientError, BotoCoreError) as error:
        logger.warning("model availability unknown", extra={"model": model_id, "error": type(error).__name__})
        return None


def _profiles_or_none(client: BedrockClient) -> ProfilesByModel | None:
    try:
        return inference_profiles_by_model(client)
    except (ClientError, BotoCoreError) as error:
        logger.warning("inference profiles unknown", extra={"error": type(error).__name__})
        return None


def _view(
    summary: Mapping[str, Any], profiles: ProfilesByModel | None, access: ModelAccess | None
) -> ModelInfo:
    model_id = str(summary["modelId"])
    known = catalog.find(model_id)
    inference_types = [str(kind) for kind in summary.get("inferenceTypesSupported", [])]
    # INFERENCE_PROFILE without ON_DEMAND: Bedrock refuses the model's own id on InvokeModel.
    profile_only = "INFERENCE_PROFILE" in inference_types and "ON_DEMAND" not in inference_types
    lifecycle = summary.get("modelLifecycle", {}).get("status")
    bedrock_facts: dict[str, Any] = {
        "id": model_id,
        "name": str(summary.get("modelName") or (known.name if known else model_id)),
        "provider": str(summary.get("providerName") or (known.provider if known else "")),
        "input_modalities": [str(modality) for modality in summary.get("inputModalities", [])],
        "lifecycle_status": str(lifecycle) if lifecycle else None,
        "inference_types": inference_types,
        "requires_inference_profile": profile_only,
        "inference_profiles": None if profiles is None else profiles.get(model_id, []),
        "access": access,
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
        supported="ON_DEMAND" in inference_types or profile_only,
        **capabilities(known),
    )


def capabilities(model: catalog.CatalogModel) -> dict[str, Any]:
    """What the catalog says the model can do beyond the basics: ModelInfo's fields by name."""
    pixels = model.max_image_pixels
    return {
        "truncate_modes": list(model.truncate_modes),
        "max_tokens": model.max_tokens_limit,
        "image_formats": list(model.image_formats),
        "max_image_bytes": model.max_image_bytes,
        "max_image_pixels": None if pixels is None else ImagePixels(width=pixels[0], height=pixels[1]),
        "joint_text_image": model.joint_text_image,
        "price_per_image": model.price_per_image,
        "batch_price_per_million_tokens": model.batch_price_per_million_tokens,
    }
