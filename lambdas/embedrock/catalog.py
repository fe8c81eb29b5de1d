"""The model catalog: one entry per Bedrock embedding model this service can call.

This is the single place for model facts. Request validation, GET /models, the Bedrock
client layer, the emulator and the benchmark all read it. Prices are on-demand us-east-1
per 1M input tokens; keep them here and nowhere else (embedrock.pricing turns them into costs).

Prices, source: Amazon Bedrock pricing, https://aws.amazon.com/bedrock/pricing/: "For embeddings
models, you are charged for every input token processed." The copies of that page readable here
hold its text but not its price tables, so the figures below are NOT confirmed by AWS's own table.
Per 1,000 tokens: Titan Text V2 $0.00002 and Titan Text V1 $0.0001 as third-party tables copying it
give them; Cohere Embed v3 $0.0001, Cohere's own price for these models; Titan Multimodal $0.0008
per 1,000 text tokens kept, though third-party tables disagree (one gives $0.00008). Check them on
that page (us-east-1, "On-Demand and Batch") when prices change.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Family(StrEnum):
    """Request/response format of a model on InvokeModel: picks the codec."""

    TITAN_TEXT_V2 = "titan-text-v2"
    TITAN_TEXT_V1 = "titan-text-v1"
    TITAN_MULTIMODAL = "titan-multimodal"
    COHERE_V3 = "cohere-v3"


INPUT_TYPES = ("search_document", "search_query", "classification", "clustering")
EMBEDDING_TYPES = ("float", "int8", "uint8", "binary", "ubinary")
# Bedrock batch inference costs half the on-demand price for the models that support it. Amazon
# Bedrock pricing, "Batch" (the readable copy stops at "Amazon Bedrock offers select foundation
# models (FMs) from lea..."; guides quoting it: "50% lower than on-demand pricing for select
# models from providers like Anthropic, Meta, Mistral AI, and Amazon"). An older copy said batch
# cost the same as on demand; not confirmed per model by AWS's table here.
BATCH_PRICE_RATIO = 0.5


@dataclass(frozen=True)
class CatalogModel:
    id: str
    name: str
    provider: str
    family: Family
    input_modalities: tuple[str, ...]
    dimensions: tuple[int, ...]
    default_dimensions: int
    max_texts_per_call: int
    max_input_tokens: int
    # A character bound checked before calling Bedrock; Bedrock's own token check is final.
    max_input_chars: int
    input_types: tuple[str, ...]
    default_input_type: str | None
    embedding_types: tuple[str, ...]
    # Whether the model normalizes on request; otherwise the client layer normalizes floats.
    native_normalize: bool
    price_per_million_tokens: float
    # Bedrock batch inference (CreateModelInvocationJob) takes the model: AWS's "Supported Regions and
    # models for batch inference" page is the source for each flag.
    batch_inference: bool
    # USD per input image, on demand, for models that take images; None: the model takes no image
    # (or its image price is not in the catalog yet). Text-only requests count 0 images.
    price_per_image: float | None = None

    @property
    def needs_input_type(self) -> bool:
        return bool(self.input_types)

    @property
    def batch_price_per_million_tokens(self) -> float | None:
        """Bedrock batch inference price, where the model supports it."""
        return self.price_per_million_tokens * BATCH_PRICE_RATIO if self.batch_inference else None


MODELS: tuple[CatalogModel, ...] = (
    CatalogModel(
        id="amazon.titan-embed-text-v2:0",
        name="Titan Text Embeddings V2",
        provider="Amazon",
        family=Family.TITAN_TEXT_V2,
        input_modalities=("TEXT",),
        dimensions=(256, 512, 1024),
        default_dimensions=1024,
        max_texts_per_call=1,
        max_input_tokens=8192,
        max_input_chars=50_000,
        input_types=(),
        default_input_type=None,
        embedding_types=("float", "binary"),
        native_normalize=True,
        price_per_million_tokens=0.02,
        batch_inference=True,
    ),
    CatalogModel(
        id="amazon.titan-embed-text-v1",
        name="Titan Embeddings G1 - Text",
        provider="Amazon",
        family=Family.TITAN_TEXT_V1,
        input_modalities=("TEXT",),
        dimensions=(1536,),
        default_dimensions=1536,
        max_texts_per_call=1,
        max_input_tokens=8192,
        max_input_chars=50_000,
        input_types=(),
        default_input_type=None,
        embedding_types=("float",),
        native_normalize=False,
        price_per_million_tokens=0.10,
        # Not in Amazon Bedrock User Guide, "Supported Regions and models for batch inference"
        # (batch-inference-supported.html), whose Amazon embedding models are Titan Text Embeddings
        # V2 and Titan Multimodal Embeddings G1. The batch role's grants follow this flag.
        batch_inference=False,
    ),
    CatalogModel(
        id="amazon.titan-embed-image-v1",
        name="Titan Multimodal Embeddings G1",
        provider="Amazon",
        family=Family.TITAN_MULTIMODAL,
        input_modalities=("TEXT", "IMAGE"),
        dimensions=(256, 384, 1024),
        default_dimensions=1024,
        max_texts_per_call=1,
        max_input_tokens=256,
        max_input_chars=2_048,
        input_types=(),
        default_input_type=None,
        embedding_types=("float",),
        native_normalize=False,
        price_per_million_tokens=0.80,  # text tokens; unconfirmed (module docstring)
        batch_inference=True,
    ),
    CatalogModel(
        id="cohere.embed-english-v3",
        name="Cohere Embed English v3",
        provider="Cohere",
        family=Family.COHERE_V3,
        input_modalities=("TEXT",),
        dimensions=(1024,),
        default_dimensions=1024,
        max_texts_per_call=96,
        max_input_tokens=512,
        max_input_chars=2_048,
        input_types=INPUT_TYPES,
        default_input_type="search_document",
        embedding_types=EMBEDDING_TYPES,
        native_normalize=False,
        price_per_million_tokens=0.10,
        batch_inference=False,
    ),
    CatalogModel(
        id="cohere.embed-multilingual-v3",
        name="Cohere Embed Multilingual v3",
        provider="Cohere",
        family=Family.COHERE_V3,
        input_modalities=("TEXT",),
        dimensions=(1024,),
        default_dimensions=1024,
        max_texts_per_call=96,
        max_input_tokens=512,
        max_input_chars=2_048,
        input_types=INPUT_TYPES,
        default_input_type="search_document",
        embedding_types=EMBEDDING_TYPES,
        native_normalize=False,
        price_per_million_tokens=0.10,
        batch_inference=False,
    ),
)

DEFAULT_MODEL_ID = "amazon.titan-embed-text-v2:0"

_BY_ID = {model.id: model for model in MODELS}


def find(model_id: str) -> CatalogModel | None:
    return _BY_ID.get(model_id)


def model_ids() -> tuple[str, ...]:
    return tuple(_BY_ID)
