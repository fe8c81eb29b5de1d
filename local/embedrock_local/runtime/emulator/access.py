"""Inference profiles and model access, as the bedrock control plane answers them.

ListInferenceProfiles lists the system-defined profiles of embedrock.inference_profiles'
SYSTEM_PROFILES (for the models the emulator lists) plus any configured ones; a profile-only model
is listed with INFERENCE_PROFILE and no ON_DEMAND, and InvokeModel refuses its bare id as Bedrock
does. GetFoundationModelAvailability reports NOT_AVAILABLE agreements for the models configured to
need one, until CreateFoundationModelAgreement is called with the offer token
ListFoundationModelAgreementOffers returned; then AVAILABLE (Bedrock passes through PENDING first).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from typing import Any

from embedrock import catalog, inference_profiles

from .errors import BedrockError, validation
from .state import EmulatorState

# Regions the emulator's profiles route to, by geography. The emulator's own choice, after the
# examples in the AWS generative-ai-cdk-constructs reference (CrossRegionInferenceProfileRegion: US
# us-east-1, us-west-2, us-east-2; EU eu-central-1, eu-west-1, eu-west-3; APAC ap-northeast-1,
# ap-southeast-1, ap-southeast-2); real profiles differ by model, and Bedrock's answer is what
# GET /models shows.
ROUTED_REGIONS: dict[str, tuple[str, ...]] = {
    "us": ("us-east-1", "us-east-2", "us-west-2"),
    "us-gov": ("us-gov-west-1", "us-gov-east-1"),
    "eu": ("eu-central-1", "eu-west-1", "eu-west-3"),
    "apac": ("ap-northeast-1", "ap-southeast-1", "ap-southeast-2"),
    "jp": ("ap-northeast-1", "ap-northeast-3"),
    "au": ("ap-southeast-2", "ap-southeast-4"),
    "global": ("us-east-1", "us-east-2", "us-west-2", "eu-central-1", "eu-west-1", "ap-northeast-1"),
}
# Page size when the caller sends no maxResults: small, so that callers must follow nextToken.
DEFAULT_PAGE_SIZE = 4
# Bedrock's answer when a third-party model's Marketplace subscription is missing. Source: the
# message quoted in ministryofjustice/modernisation-platform-environments#18323 (GitHub, 2026).
MARKETPLACE_DENIED = (
    "Model access is denied due to IAM user or service role is not authorized to perform the required "
    "AWS Marketplace actions (aws-marketplace:ViewSubscriptions, aws-marketplace:Subscribe) to enable "
    "access to this model. Refer to the Amazon Bedrock documentation for further details. Your AWS "
    "Marketplace subscription for this model cannot be completed at this time. If you recently fixed "
    "this issue, try again after 5 minutes."
)
# Bedrock's answer to a profile-only model called by its own id. Source: the ValidationException
# quoted in terricain/aioboto3#352 and anthropics/anthropic-sdk-python#894; its apostrophe is U+2019.
ON_DEMAND_UNSUPPORTED = (
    "Invocation of model ID {model_id} with on-demand throughput isn\u2019t supported. Retry your request "
    "with the ID or ARN of an inference profile that contains this model."
)
LEGAL_TERMS_URL = "https://aws.amazon.com/legal/bedrock/third-party-models/"
_OFFER_TYPES = ("ALL", "PUBLIC")


def profile_ids(state: EmulatorState, listed: tuple[str, ...]) -> tuple[str, ...]:
    """The profiles the emulator knows: the system-defined ones of the listed models, and the extras."""
    system = (profile for model_id in listed for profile in inference_profiles.system_profile_ids(model_id))
    return tuple(dict.fromkeys((*system, *state.extra_profiles)))


def list_inference_profiles(
    state: EmulatorState, listed: tuple[str, ...], query: Mapping[str, str], region: str
) -> dict[str, Any]:
    kind = query.get("type")
    if kind is not None and kind not in ("SYSTEM_DEFINED", "APPLICATION"):
        raise validation(
            f"1 validation error detected: Value '{kind}' at 'typeEquals' failed to satisfy constraint: "
            "Member must satisfy enum value set: [SYSTEM_DEFINED, APPLICATION]"
        )
    summaries = [] if kind == "APPLICATION" else [_summary(p, region) for p in profile_ids(state, listed)]
    start = _int(query.get("nextToken"), "nextToken", 0)
    size = _int(query.get("maxResults"), "maxResults", DEFAULT_PAGE_SIZE)
    if size < 1 or size > 1000:
        raise validation("maxResults must be between 1 and 1000.")
    page: dict[str, Any] = {"inferenceProfileSummaries": summaries[start : start + size]}
    if start + size < len(summaries):
        page["nextToken"] = str(start + size)
    return page


def _summary(profile: str, region: str) -> dict[str, Any]:
    model_id, geography = inference_profiles.parse(profile)
    regions = ROUTED_REGIONS.get(geography or "", (region,))
    model = catalog.find(model_id)
    name = model.name if model else model_id
    return {
        "inferenceProfileName": f"{(geography or '').upper()} {name}",
        "description": f"Routes requests to {name} in {', '.join(regions)}.",
        "inferenceProfileArn": f"arn:aws:bedrock:{region}:123456789012:inference-profile/{profile}",
        "models": [{"modelArn": f"arn:aws:bedrock:{r}::foundation-model/{model_id}"} for r in regions],
        "inferenceProfileId": profile,
        "status": "ACTIVE",
        "type": "SYSTEM_DEFINED",
    }


def needs_agreement(state: EmulatorState, model_id: str) -> bool:
    with state.lock:
        agreed = model_id in state.agreements
    return not agreed and any(fnmatch.fnmatchcase(model_id, glob) for glob in state.agreement_required)


def availability(state: EmulatorState, model_id: str) -> dict[str, Any]:
    return {
        "modelId": model_id,
        "agreementAvailability": {
            "status": "NOT_AVAILABLE" if needs_agreement(state, model_id) else "AVAILABLE"
        },
        "authorizationStatus": "AUTHORIZED",
        "entitlementAvailability": "AVAILABLE",
        "regionAvailability": "AVAILABLE",
    }


def offers(model_id: str, offer_type: str | None) -> dict[str, Any]:
    if offer_type is not None and offer_type not in _OFFER_TYPES:
        raise validation(
            f"1 validation error detected: Value '{offer_type}' at 'offerType' failed to satisfy "
            f"constraint: Member must satisfy enum value set: [{', '.join(_OFFER_TYPES)}]"
        )
    model = catalog.find(model_id)
    price = f"{model.price_per_million_tokens / 1000:.6f}" if model else "0"
    return {
        "modelId": model_id,
        "offers": [
            {
                "offerId": f"emulator-offer-{model_id}",
                "offerToken": offer_token(model_id),
                "termDetails": {
                    "usageBasedPricingTerm": {
                        "rateCard": [
                            {
                                "dimension": "InputTokenCount",
                                "price": price,
                                "description": "Per 1,000 input tokens (emulator: the catalog's price)",
                                "unit": "Units",
                            }
                        ]
                    },
                    "legalTerm": {"url": LEGAL_TERMS_URL},
                    "supportTerm": {"refundPolicyDescription": "No refunds (emulator offer)."},
                    "validityTerm": {"agreementDuration": "P1Y"},
                },
            }
        ],
    }


def offer_token(model_id: str) -> str:
    return f"emulator-offer-token-{model_id}"


def create_agreement(state: EmulatorState, model_id: str, token: str) -> dict[str, Any]:
    if token != offer_token(model_id):
        raise validation(f"The offer token is not valid for model {model_id}.")
    with state.lock:
        state.agreements.add(model_id)
    return {"modelId": model_id}


def check_invocation(state: EmulatorState, identifier: str, listed: tuple[str, ...]) -> str:
    """The foundation model an InvokeModel identifier runs; raises as Bedrock does when it cannot."""
    model_id, geography = inference_profiles.parse(identifier)
    if geography is not None:
        if inference_profiles.profile_id(geography, model_id) not in profile_ids(state, listed):
            raise validation("The provided model identifier is invalid.")
    elif model_id in state.profile_only:
        raise validation(ON_DEMAND_UNSUPPORTED.format(model_id=model_id))
    if needs_agreement(state, model_id):
        raise BedrockError("AccessDeniedException", MARKETPLACE_DENIED)
    return model_id


def parse_model_id(identifier: str) -> str:
    """The foundation-model id an InvokeModel identifier names (faults and stats are by model)."""
    return inference_profiles.parse(identifier).model_id


def _int(raw: str | None, name: str, default: int) -> int:
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise validation(f"Invalid {name}: {raw!r}.") from None
