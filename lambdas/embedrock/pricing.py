"""What Bedrock bills for an embedding call, in USD, from the catalog's prices.

Bedrock bills embedding models per input token processed (and per image, for image inputs); batch
inference (CreateModelInvocationJob) at the catalog's batch price. Texts answered from the cache
were never sent, so callers pass only the tokens and images Bedrock counted for the calls it made.

Images: a model with a `price_per_image` in the catalog (Titan Multimodal) bills each image at it,
on top of its text tokens. A model without one adds nothing per image: Cohere Embed v4 counts an
image's tokens in its token header, so they are billed as tokens; Nova Multimodal Embeddings' image
price is not confirmed (catalog.py), so its images are not priced yet.

Rounding rule: the exact decimal product (prices are read as the decimals the catalog writes, not
as binary floats) is rounded half-to-even to 1e-9 USD (`DIGITS`), then returned as a float. A
token of the cheapest model costs 2e-8 USD, so nothing billed rounds to zero.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from embedrock.catalog import CatalogModel, RerankModel

DIGITS = 9
_QUANTUM = Decimal(1).scaleb(-DIGITS)
_MILLION = Decimal(1_000_000)
_THOUSAND = Decimal(1_000)


def round_usd(amount: Decimal | float) -> float:
    """`amount` rounded by the rule above: the one rounding every cost_usd goes through."""
    exact = amount if isinstance(amount, Decimal) else Decimal(repr(amount))
    return float(exact.quantize(_QUANTUM, rounding=ROUND_HALF_EVEN))


def cost_usd(model: CatalogModel, input_tokens: int, *, images: int = 0, batch: bool = False) -> float:
    """USD for `input_tokens` (and `images`) on `model`, on demand or (`batch`) by batch inference."""
    if input_tokens < 0 or images < 0:
        raise ValueError(f"counts cannot be negative: {input_tokens} tokens, {images} images")
    per_million = model.batch_price_per_million_tokens if batch else model.price_per_million_tokens
    if per_million is None:
        raise ValueError(f"{model.id} has no batch inference price")
    amount = Decimal(input_tokens) * Decimal(repr(per_million)) / _MILLION
    if images and "IMAGE" not in model.input_modalities:
        raise ValueError(f"{model.id} takes no image, so it has no price per image")
    per_image = model.batch_price_per_image if batch else model.price_per_image
    if images and per_image is not None:
        amount += images * Decimal(repr(per_image))
    return round_usd(amount)


def rerank_cost_usd(model: RerankModel, queries: int) -> float | None:
    """USD for `queries` rerank queries on `model`; None while its price is not confirmed (catalog.py)."""
    if queries < 0:
        raise ValueError(f"counts cannot be negative: {queries} queries")
    if model.price_per_thousand_queries is None:
        return None
    return round_usd(Decimal(queries) * Decimal(repr(model.price_per_thousand_queries)) / _THOUSAND)
