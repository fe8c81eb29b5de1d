"""The bedrock control-plane backend: ListFoundationModels and GetFoundationModel.

The catalog's models are listed as Bedrock lists them, next to a few models the catalog does
not have (provisioned-only variants, text and image models), so
callers see a realistic mix and the filters have something to filter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from embedrock import catalog

from .errors import BedrockError, validation
from .state import EmulatorState

_MODALITIES = ("TEXT", "IMAGE", "EMBEDDING")
_INFERENCE_TYPES = ("ON_DEMAND", "PROVISIONED")
_CUSTOMIZATIONS = ("FINE_TUNING", "CONTINUED_PRE_TRAINING", "DISTILLATION")


@dataclass(frozen=True)
class Listed:
    """One entry of the listing; `served` says whether InvokeModel works on it here."""

    model_id: str
    name: str
    provider: str
    input_modalities: tuple[str, ...]
    output_modalities: tuple[str, ...]
    inference_types: tuple[str, ...] = ("ON_DEMAND",)
    customizations: tuple[str, ...] = ()
    streaming: bool = False
    served: bool = False

    def summary(self, region: str) -> dict[str, Any]:
        return {
            "modelArn": f"arn:aws:bedrock:{region}::foundation-model/{self.model_id}",
            "modelId": self.model_id,
            "modelName": self.name,
            "providerName": self.provider,
            "inputModalities": list(self.input_modalities),
            "outputModalities": list(self.output_modalities),
            "responseStreamingSupported": self.streaming,
            "customizationsSupported": list(self.customizations),
            "inferenceTypesSupported": list(self.inference_types),
            "modelLifecycle": {"status": "ACTIVE"},
        }


# Listed by Bedrock but absent from the catalog. INFERENCE_PROFILE is a value Bedrock returns
# although botocore's enum lacks it; clients must tolerate it.
_EXTRA = (
    Listed(
        "amazon.titan-embed-text-v2:0:8k",
        "Titan Text Embeddings V2",
        "Amazon",
        ("TEXT",),
        ("EMBEDDING",),
        inference_types=("PROVISIONED",),
    ),
    Listed(
        "amazon.titan-embed-image-v1:0",
        "Titan Multimodal Embeddings G1",
        "Amazon",
        ("TEXT", "IMAGE"),
        ("EMBEDDING",),
        inference_types=("PROVISIONED",),
        customizations=("FINE_TUNING",),
    ),
    Listed(
        "anthropic.claude-3-haiku-20240307-v1:0",
        "Claude 3 Haiku",
        "Anthropic",
        ("TEXT", "IMAGE"),
        ("TEXT",),
        inference_types=("ON_DEMAND", "INFERENCE_PROFILE"),
        streaming=True,
    ),
    Listed(
        "amazon.titan-image-generator-v2:0",
        "Titan Image Generator G1 v2",
        "Amazon",
        ("TEXT", "IMAGE"),
        ("IMAGE",),
        inference_types=("ON_DEMAND", "PROVISIONED"),
        customizations=("FINE_TUNING",),
    ),
)


def listing() -> tuple[Listed, ...]:
    served = tuple(
        Listed(m.id, m.name, m.provider, m.input_modalities, ("EMBEDDING",), served=True)
        for m in catalog.MODELS
    )
    return tuple(sorted(served + _EXTRA, key=lambda entry: entry.model_id))


def find(model_id: str) -> Listed | None:
    return next((entry for entry in listing() if entry.model_id == model_id), None)


def model_id_from(identifier: str) -> str:
    """A foundation-model ARN names its model after the last '/'; plain ids pass through."""
    if identifier.startswith("arn:") and ":foundation-model/" in identifier:
        return identifier.rsplit("/", 1)[1]
    return identifier


class ControlBackend:
    """The listing operations, with the faults scoped to them and their call counts."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state

    def list_foundation_models(self, filters: Mapping[str, str], region: str | None = None) -> dict[str, Any]:
        """filters: byProvider, byOutputModality, byInferenceType, byCustomizationType."""
        return self._call(
            "ListFoundationModels", None, lambda: list_foundation_models(filters, region or self.state.region)
        )

    def get_foundation_model(self, identifier: str, region: str | None = None) -> dict[str, Any]:
        return self._call(
            "GetFoundationModel",
            model_id_from(identifier),
            lambda: get_foundation_model(identifier, region or self.state.region),
        )

    def _call(
        self, operation: str, model_id: str | None, answer: Callable[[], dict[str, Any]]
    ) -> dict[str, Any]:
        try:
            self.state.apply_faults(operation, model_id)
            payload = answer()
        except BedrockError as error:
            self.state.stats.record(operation, model_id, error.code)
            raise
        self.state.stats.record(operation, model_id)
        return payload


def list_foundation_models(query: Mapping[str, str], region: str) -> dict[str, Any]:
    _check_enum(query, "byOutputModality", _MODALITIES)
    _check_enum(query, "byInferenceType", _INFERENCE_TYPES)
    _check_enum(query, "byCustomizationType", _CUSTOMIZATIONS)
    entries = listing()
    if "byProvider" in query:
        # Bedrock matches the provider name case-insensitively ("amazon" finds "Amazon").
        entries = tuple(e for e in entries if e.provider.lower() == query["byProvider"].lower())
    if "byOutputModality" in query:
        entries = tuple(e for e in entries if query["byOutputModality"] in e.output_modalities)
    if "byInferenceType" in query:
        entries = tuple(e for e in entries if query["byInferenceType"] in e.inference_types)
    if "byCustomizationType" in query:
        entries = tuple(e for e in entries if query["byCustomizationType"] in e.customizations)
    return {"modelSummaries": [entry.summary(region) for entry in entries]}


def get_foundation_model(identifier: str, region: str) -> dict[str, Any]:
    entry = find(model_id_from(identifier))
    if entry is None:
        raise BedrockError(
            "ResourceNotFoundException",
            "Could not resolve the foundation model from the provided model identifier.",
        )
    return {"modelDetails": entry.summary(region)}


def _check_enum(query: Mapping[str, str], name: str, allowed: tuple[str, ...]) -> None:
    value = query.get(name)
    if value is not None and value not in allowed:
        raise validation(
            f"1 validation error detected: Value '{value}' at '{name}' failed to satisfy constraint: "
            f"Member must satisfy enum value set: [{', '.join(allowed)}]"
        )
