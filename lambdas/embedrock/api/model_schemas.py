"""Response models of GET /models, GET /models/{model_id} and GET /health.

Apart from the embeddings and similarity models (api/schemas.py) so that the models function,
which serves these routes only, does not build those, and the embeddings and similarity functions
do not build these.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from embedrock import catalog
from embedrock.http.schemas import Schema


class Dimensions(Schema):
    allowed: list[int]
    default: int


class InferenceProfileInfo(Schema):
    id: str = Field(examples=["us.cohere.embed-v4:0"], description="Use it as `model` to invoke through it.")
    name: str
    type: str = Field(examples=["SYSTEM_DEFINED"], description="SYSTEM_DEFINED or APPLICATION.")
    regions: list[str] = Field(
        examples=[["us-east-1", "us-west-2"]], description="The regions Bedrock routes its calls to."
    )


class ModelAccess(Schema):
    """Bedrock's GetFoundationModelAvailability for this account and region, before any paid call."""

    authorization_status: str | None = Field(
        examples=["AUTHORIZED"], description="AUTHORIZED or NOT_AUTHORIZED."
    )
    agreement_status: str | None = Field(
        examples=["AVAILABLE"],
        description="AVAILABLE, PENDING, NOT_AVAILABLE (the model's Marketplace agreement is still "
        "needed: `embedrock models request-access MODEL`) or ERROR.",
    )
    agreement_error: str | None = None
    entitlement_availability: str | None = Field(examples=["AVAILABLE"])
    region_availability: str | None = Field(examples=["AVAILABLE"])
    ready: bool = Field(description="Whether every one of the four says the account can call the model.")


class ImagePixels(Schema):
    width: int
    height: int


class ModelInfo(Schema):
    id: str = Field(examples=[catalog.DEFAULT_MODEL_ID])
    name: str
    provider: str
    input_modalities: list[str]
    dimensions: Dimensions | None
    max_texts_per_call: int | None
    max_input_tokens: int | None
    max_input_chars: int | None
    input_types: list[str] | None
    embedding_types: list[str] | None
    price_per_million_tokens: float | None = Field(description="USD per 1M input tokens, on demand.")
    # The catalog's per-model capabilities; null for a model the catalog lacks.
    truncate_modes: list[str] | None = Field(
        default=None, description="`truncate` values the model takes; empty: it has no truncate option."
    )
    max_tokens: int | None = Field(
        default=None, description="The highest `max_tokens` the model takes; null: no max_tokens option."
    )
    image_formats: list[str] | None = Field(
        default=None, description="Image formats `inputs` may hold for the model; empty: text only."
    )
    max_image_bytes: int | None = Field(default=None, description="Largest image taken; null: not stated.")
    max_image_pixels: ImagePixels | None = Field(
        default=None, description="Largest image width and height taken; null: not stated."
    )
    joint_text_image: bool | None = Field(
        default=None, description="Whether one input may hold a text and an image, embedded into one vector."
    )
    price_per_image: float | None = Field(
        default=None, description="USD per input image, on demand; null: no image price in the catalog."
    )
    batch_price_per_million_tokens: float | None = Field(
        default=None,
        description="USD per 1M input tokens through Bedrock batch inference; null: no batch inference.",
    )
    lifecycle_status: str | None = Field(examples=["ACTIVE"])
    inference_types: list[str] = Field(examples=[["ON_DEMAND"]])
    supported: bool = Field(
        description="Whether this service can call the model (in its catalog, on demand or through an "
        "inference profile)."
    )
    requires_inference_profile: bool = Field(
        default=False,
        description="Bedrock offers the model only through inference profiles: send one of "
        "`inference_profiles` as `model`, not the model's own id.",
    )
    inference_profiles: list[InferenceProfileInfo] | None = Field(
        default=None,
        description="The inference profiles that route to the model; null if Bedrock did not say.",
    )
    access: ModelAccess | None = Field(
        default=None, description="Whether this account may call the model; null if Bedrock did not say."
    )


class ModelList(Schema):
    models: list[ModelInfo]


class Health(Schema):
    status: Literal["ok"] = "ok"
    version: str
    default_model: str
