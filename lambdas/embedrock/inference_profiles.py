"""Inference-profile ids: a geography prefix before a foundation-model id (`us.cohere.embed-v4:0`).

A profile id is accepted wherever a model id is: it names the same catalog model, so validation,
dimensions and codecs are the model's, while InvokeModel is called with the profile id, which lets
Bedrock route the call to another region of the profile's geography.
"""

from __future__ import annotations

from typing import NamedTuple

from embedrock import catalog

# The geographies of system-defined (cross-Region) inference profiles. Source: AWS CDK API reference,
# aws_cdk.aws_bedrock_alpha "CrossRegionInferenceProfileRegion" (GLOBAL, US, US_GOV, EU, APAC, JP,
# AU); the Amazon Bedrock user guide, "Increase throughput with cross-Region inference"
# (cross-region-inference.html), names geographic and global profiles. Longest first, so that
# `us-gov.` is never read as `us.`.
GEOGRAPHIES: tuple[str, ...] = ("us-gov", "global", "apac", "us", "eu", "jp", "au")

# System-defined profiles of embedding models, by foundation model: the one record of which profile
# prefixes exist. Source: each model's card in the Amazon Bedrock user guide, "Programmatic Access"
# (Geo and Global inference IDs), e.g. model-card-cohere-embed-v4.html lists us.cohere.embed-v4:0,
# eu.cohere.embed-v4:0 and global.cohere.embed-v4:0; "Supported Regions and models for inference
# profiles" (inference-profiles-support.html) now defers to those cards. For the other catalog models
# (Titan, Cohere v3, Nova) the cards' profile sections could not be read offline: they are absent
# here, so a profile id of theirs is not refused by this service but sent to Bedrock, which decides.
# The regions each profile routes to are Bedrock's to say: ListInferenceProfiles returns them (each
# profile's `models[].modelArn`), so GET /models shows them as Bedrock reports them.
SYSTEM_PROFILES: dict[str, tuple[str, ...]] = {
    "cohere.embed-v4:0": ("us", "eu", "global"),
}

_PROFILE_ARN = ":inference-profile/"


class ModelReference(NamedTuple):
    """What a model identifier names: the foundation model and, for a profile, its geography."""

    model_id: str
    geography: str | None


def parse(identifier: str) -> ModelReference:
    """`us.cohere.embed-v4:0` -> (cohere.embed-v4:0, us); a plain model id -> (it, None).

    A system-defined profile's ARN (`arn:aws:bedrock:REGION:ACCOUNT:inference-profile/ID`) names the
    same profile as its id.
    """
    name = identifier.split(_PROFILE_ARN, 1)[1] if _PROFILE_ARN in identifier else identifier
    for geography in GEOGRAPHIES:
        if name.startswith(f"{geography}."):
            return ModelReference(name[len(geography) + 1 :], geography)
    return ModelReference(name, None)


def profile_id(geography: str, model_id: str) -> str:
    return f"{geography}.{model_id}"


def system_profile_ids(model_id: str) -> tuple[str, ...]:
    """The documented profile ids of a model; empty when the docs list none or could not be read."""
    return tuple(profile_id(geography, model_id) for geography in SYSTEM_PROFILES.get(model_id, ()))


def known_profile_ids() -> tuple[str, ...]:
    """Every documented profile id of every catalog model."""
    return tuple(profile for model_id in SYSTEM_PROFILES for profile in system_profile_ids(model_id))


def is_documented(reference: ModelReference) -> bool:
    """False only for a geography the docs say the model has no profile in; unverified models pass."""
    geographies = SYSTEM_PROFILES.get(reference.model_id)
    return reference.geography is None or geographies is None or reference.geography in geographies


def profile_problem(identifier: str) -> str | None:
    """Why `identifier` cannot name a profile a deployment allows (None if it can): not a bare
    profile id, a model outside the catalog, or a geography the model has no profile in."""
    reference = parse(identifier)
    if reference.geography is None or identifier != profile_id(reference.geography, reference.model_id):
        return f"{identifier!r} is not an inference profile id ({example_ids()})"
    if catalog.find(reference.model_id) is None:
        return (
            f"{identifier!r} routes to {reference.model_id}, which is not in the catalog; "
            f"allowed models: {', '.join(catalog.model_ids())}"
        )
    if not is_documented(reference):
        return f"{reference.model_id} has no {reference.geography}. profile; its profiles: " + ", ".join(
            system_profile_ids(reference.model_id)
        )
    return None


def example_ids() -> str:
    """How profile ids look, for a message: `us.<model id>, eu.<model id>, ...`."""
    return ", ".join(f"{geography}.<model id>" for geography in sorted(GEOGRAPHIES))
