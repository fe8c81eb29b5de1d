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
    COHERE_V4 = "cohere-v4"
    NOVA_MULTIMODAL = "nova-multimodal"


INPUT_TYPES = ("search_document", "search_query", "classification", "clustering")
# Nova Multimodal Embeddings' own `embeddingPurpose` values, accepted as input types of that model
# (Amazon Nova User Guide, "Complete embeddings request and response schema", embeddings-schema.html).
NOVA_PURPOSES = (
    "GENERIC_INDEX",
    "GENERIC_RETRIEVAL",
    "TEXT_RETRIEVAL",
    "IMAGE_RETRIEVAL",
    "VIDEO_RETRIEVAL",
    "DOCUMENT_RETRIEVAL",
    "AUDIO_RETRIEVAL",
    "CLASSIFICATION",
    "CLUSTERING",
)
# The request's `truncate`: NONE rejects an over-long text, LEFT drops its start, RIGHT its end.
# Each family's codec maps them to the model's own words (Cohere v3 START/END, Nova START/END).
TRUNCATE_MODES = ("NONE", "LEFT", "RIGHT")
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
    # `truncate` values the model takes (TRUNCATE_MODES); empty: it has no truncation option.
    truncate_modes: tuple[str, ...] = ()
    # USD per input image, on demand, where images are priced apart from tokens; None: the model
    # takes no image, or its image price is not in the catalog yet (text-only requests count 0).
    price_per_image: float | None = None
    # Images (input_modalities has IMAGE): the formats taken, and the limits the docs state.
    image_formats: tuple[str, ...] = ()
    max_image_bytes: int | None = None
    max_image_pixels: tuple[int, int] | None = None  # (width, height)
    # Whether one input may hold a text and an image, embedded into one vector.
    joint_text_image: bool = False
    # The highest `max_tokens` (tokens kept per input) the model takes, from 1; None: it has no
    # such parameter.
    max_tokens_limit: int | None = None

    @property
    def needs_input_type(self) -> bool:
        return bool(self.input_types)

    @property
    def batch_price_per_million_tokens(self) -> float | None:
        """Bedrock batch inference price, where the model supports it."""
        return self.price_per_million_tokens * BATCH_PRICE_RATIO if self.batch_inference else None

    @property
    def batch_price_per_image(self) -> float | None:
        """Bedrock batch inference price of one image, where the model supports batch and has one."""
        if not self.batch_inference or self.price_per_image is None:
            return None
        return self.price_per_image * BATCH_PRICE_RATIO


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
        # Amazon Bedrock User Guide, "Amazon Titan Multimodal Embeddings G1 model"
        # (titan-multiemb-models.html): max input image size 25 MB, max resolution 2048 x 2048;
        # "Amazon Titan Multimodal Embeddings G1" (model-parameters-titan-embed-mm.html): inputText
        # and inputImage together give one vector averaging both. JPEG and PNG, as the emulator
        # has checked since it was written (the excerpts read here do not list the formats).
        image_formats=("png", "jpeg"),
        max_image_bytes=25_000_000,
        max_image_pixels=(2048, 2048),
        joint_text_image=True,
        # USD per input image, on top of the text tokens. Not confirmed by AWS's own table (module
        # docstring): $0.00006 per image is the figure third-party copies of the Bedrock pricing
        # table give, e.g. notes of AWS's "Choose a Foundation Model For Your Use Case" (AWS ML
        # Heroes in 15): "Titan Multimodal Embeddings ... $0.0008 per 1,000 tokens; $0.00006 per
        # image", which also gives the text price kept above.
        price_per_image=0.00006,
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
        truncate_modes=TRUNCATE_MODES,
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
        truncate_modes=TRUNCATE_MODES,
    ),
    # Amazon Bedrock User Guide, "Cohere Embed v4" (model-parameters-embed-v4.html): input_type
    # required (search_document, search_query, classification, clustering); texts, images or inputs,
    # at most 96 per call; embedding_types a list of float, int8, uint8, binary, ubinary;
    # output_dimension 256, 512, 1024, 1536; up to ~128k tokens; truncate NONE, LEFT, RIGHT.
    # Default dimension 1536: DESIGN.md and the Vercel AI SDK's Bedrock provider ("256, 512, 1024,
    # or 1536 (default)"); the user guide's excerpts read here list the values, not the default.
    # binary/ubinary: packed, 8 dimensions per value, as Cohere's v3 (not confirmed for v4 on AWS).
    CatalogModel(
        id="cohere.embed-v4:0",
        name="Cohere Embed v4",
        provider="Cohere",
        family=Family.COHERE_V4,
        input_modalities=("TEXT", "IMAGE"),
        dimensions=(256, 512, 1024, 1536),
        default_dimensions=1536,
        max_texts_per_call=96,
        max_input_tokens=128_000,
        # No character limit is documented. 6 characters per token is the ratio AWS documents for
        # Titan V2 (50,000 characters for 8,192 tokens): a text this long cannot fit in 128k tokens
        # of ordinary prose, and Bedrock's token count (truncate NONE) rejects the rest.
        max_input_chars=768_000,
        input_types=INPUT_TYPES,
        default_input_type="search_document",
        embedding_types=EMBEDDING_TYPES,
        native_normalize=False,
        # Third-party price tables (DESIGN.md, "Prices"): the Bedrock pricing page was not readable
        # offline. Images are billed as tokens, counted with the text ones in the
        # x-amzn-bedrock-input-token-count header (OCI's "Cohere Embed 4" page: "a 512 x 512 image
        # is converted to about 1,610 tokens"), so price_per_image stays None.
        price_per_million_tokens=0.12,
        # Not among the models the excerpts of "Supported Regions and models for batch inference"
        # (batch-inference-supported.html) read here; unconfirmed, so off.
        batch_inference=False,
        truncate_modes=TRUNCATE_MODES,
        # "inputs" items hold text and image_url parts embedded together (the v4 page above).
        # Formats: the page's excerpts read here say data:<mime>;base64 without listing mime types;
        # PNG and JPEG are the ones its "Cohere Embed v3" page documents (5 MB there, not stated
        # for v4), so only those are sent. Larger images are downsampled by the model, not refused.
        image_formats=("png", "jpeg"),
        joint_text_image=True,
        # The v4 page's request schema: `"max_tokens": 128000`, and "Context length: Up to ~128k
        # tokens supported". It states no lower bound; 1 is the least that keeps any token. How it
        # combines with truncate NONE is not stated in the excerpts read here: the emulator refuses
        # an input over max_tokens then, as it refuses any over-long input.
        max_tokens_limit=128_000,
    ),
    # Amazon Nova User Guide, "Complete embeddings request and response schema" (embeddings-schema.html):
    # schemaVersion nova-multimodal-embed-v1, taskType SINGLE_EMBEDDING, one input per call,
    # embeddingDimension 256, 384, 1024, 3072, text.truncationMode START, END, NONE; "Using Nova
    # Embeddings" (nova-embeddings.html): 8K tokens per input. Default 3072, as DESIGN.md and the
    # aws-samples/bedrock-access-gateway Nova support state. Audio and video inputs exist but are
    # not served by this service.
    CatalogModel(
        id="amazon.nova-2-multimodal-embeddings-v1:0",
        name="Amazon Nova Multimodal Embeddings",
        provider="Amazon",
        family=Family.NOVA_MULTIMODAL,
        input_modalities=("TEXT", "IMAGE"),
        dimensions=(256, 384, 1024, 3072),
        default_dimensions=3072,
        max_texts_per_call=1,
        max_input_tokens=8192,
        # No character limit is documented: the Titan V2 bound for the same 8,192 tokens.
        max_input_chars=50_000,
        input_types=INPUT_TYPES + NOVA_PURPOSES,
        default_input_type="search_document",
        # The response holds float vectors only (embeddings[].embedding); no quantized types.
        embedding_types=("float",),
        native_normalize=False,
        # Third-party price tables (DESIGN.md, "Prices"). Nova bills images apart from text, but no
        # per-image price could be read here (AWS's pricing page and the Nova user guide's excerpts
        # hold none), so price_per_image stays None and its images are not priced yet.
        price_per_million_tokens=0.135,
        # Not among the Amazon embedding models of "Supported Regions and models for batch inference"
        # (Titan Text Embeddings V2 and Titan Multimodal Embeddings G1 only).
        batch_inference=False,
        truncate_modes=TRUNCATE_MODES,
        # image.format png | jpeg | gif | webp (the schema page above); one of text, image, audio or
        # video per call, so no joint text and image. No size limit read here beyond the request's.
        image_formats=("png", "jpeg", "gif", "webp"),
    ),
)

DEFAULT_MODEL_ID = "amazon.titan-embed-text-v2:0"

_BY_ID = {model.id: model for model in MODELS}


def find(model_id: str) -> CatalogModel | None:
    return _BY_ID.get(model_id)


def model_ids() -> tuple[str, ...]:
    return tuple(_BY_ID)


# Rerank models: a kind of their own, so nothing that lists or validates embedding models changes.
#
# Regions: Amazon Bedrock User Guide, "Supported Regions and models for reranking in Amazon Bedrock"
# (rerank-supported.html): "The Amazon Rerank 1.0 model is not supported in the US East (N. Virginia)
# AWS Region"; single-region support amazon.rerank-v1:0 ap-northeast-1, ca-central-1, eu-central-1,
# us-west-2; cohere.rerank-v3-5:0 the same and us-east-1.
# Limits: botocore's bedrock-agent-runtime model (2023-07-26, Rerank): RerankSourcesList 1-1,000
# documents, numberOfResults 1-1,000, RerankTextDocument text 1-32,000 characters (query and each
# document). The InvokeModel pages of these models read here state no limits of their own, so the
# Rerank API's are applied to both ways of calling them.
# Prices: Amazon Bedrock pricing (https://aws.amazon.com/bedrock/pricing/) bills rerank models per
# query, but its tables were not readable here and no price could be confirmed: None, so responses
# say cost_usd null rather than a guess.


class RerankFamily(StrEnum):
    """Request format of a rerank model on InvokeModel."""

    # {query, documents, top_n} -> {results: [{index, relevance_score}]}: the opensearch-project
    # tutorial "Reranking search results using Amazon Bedrock models" calls amazon.rerank-v1:0 so.
    AMAZON_RERANK = "amazon-rerank"
    # The same plus "api_version": 2, which Bedrock requires ("#/api_version: 1 is not greater or
    # equal to 2", quoted in cohere-ai/cohere-python issue 613); the OpenSearch tutorial
    # "Reranking search results using Cohere Rerank on Amazon Bedrock" sends this exact body.
    COHERE_RERANK = "cohere-rerank"


@dataclass(frozen=True)
class RerankModel:
    id: str
    name: str
    provider: str
    family: RerankFamily
    regions: tuple[str, ...]
    max_documents: int
    max_query_chars: int
    max_document_chars: int
    # USD per 1,000 queries on demand; None: not confirmed (see above).
    price_per_thousand_queries: float | None


RERANK_MODELS: tuple[RerankModel, ...] = (
    RerankModel(
        id="amazon.rerank-v1:0",
        name="Amazon Rerank 1.0",
        provider="Amazon",
        family=RerankFamily.AMAZON_RERANK,
        regions=("ap-northeast-1", "ca-central-1", "eu-central-1", "us-west-2"),
        max_documents=1000,
        max_query_chars=32_000,
        max_document_chars=32_000,
        price_per_thousand_queries=None,
    ),
    RerankModel(
        id="cohere.rerank-v3-5:0",
        name="Cohere Rerank 3.5",
        provider="Cohere",
        family=RerankFamily.COHERE_RERANK,
        regions=("ap-northeast-1", "ca-central-1", "eu-central-1", "us-east-1", "us-west-2"),
        max_documents=1000,
        max_query_chars=32_000,
        max_document_chars=32_000,
        price_per_thousand_queries=None,
    ),
)

# Served in every region either model is (us-east-1 included).
DEFAULT_RERANK_MODEL_ID = "cohere.rerank-v3-5:0"

_RERANK_BY_ID = {model.id: model for model in RERANK_MODELS}


def find_rerank(model_id: str) -> RerankModel | None:
    return _RERANK_BY_ID.get(model_id)


def rerank_model_ids() -> tuple[str, ...]:
    return tuple(_RERANK_BY_ID)
