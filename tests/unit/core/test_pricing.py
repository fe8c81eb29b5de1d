"""cost_usd: what Bedrock bills, from the catalog's prices, per mode, rounded to 1e-9 USD."""

from __future__ import annotations

from dataclasses import replace

import pytest

from embedrock import catalog, pricing
from embedrock.catalog import CatalogModel


def model(model_id: str) -> CatalogModel:
    found = catalog.find(model_id)
    assert found is not None
    return found


TITAN_V2 = model("amazon.titan-embed-text-v2:0")
COHERE = model("cohere.embed-english-v3")


@pytest.mark.parametrize(
    ("price", "tokens", "expected"),
    [
        (0.02, 1_000_000, 0.02),
        (0.02, 5, 0.0000001),  # 5 x 2e-8
        (0.10, 12_345, 0.0012345),
        (0.80, 1, 0.0000008),
        (0.02, 0, 0.0),
        (0.135, 3, 0.000000405),
    ],
)
def test_tokens_times_the_per_million_price(price: float, tokens: int, expected: float) -> None:
    # Given a model at a price per 1M tokens
    priced = replace(TITAN_V2, price_per_million_tokens=price)
    # Then the cost of its tokens is their share of the price
    assert pricing.cost_usd(priced, tokens) == pytest.approx(expected, abs=1e-12)


def test_the_result_is_rounded_half_to_even_to_a_billionth() -> None:
    # Given a price whose exact products fall halfway between two billionths
    half_a_billionth = replace(TITAN_V2, price_per_million_tokens=0.0005)  # 5e-10 per token, exactly
    # Then a half goes to the even neighbour: 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, 3.5 -> 4 billionths
    assert pricing.cost_usd(half_a_billionth, 1) == 0.0
    assert pricing.cost_usd(half_a_billionth, 3) == pytest.approx(2e-9, abs=1e-15)
    assert pricing.cost_usd(half_a_billionth, 5) == pytest.approx(2e-9, abs=1e-15)
    assert pricing.cost_usd(half_a_billionth, 7) == pytest.approx(4e-9, abs=1e-15)
    # And anything else goes to the nearest billionth
    assert pricing.round_usd(0.1234567894) == pytest.approx(0.123456789, abs=1e-15)
    assert pricing.round_usd(0.1234567896) == pytest.approx(0.12345679, abs=1e-15)


def test_decimal_prices_do_not_pick_up_binary_float_error() -> None:
    # Given 0.1 USD per 1M tokens, which no binary float holds exactly
    # When 3M tokens are priced
    cost = pricing.cost_usd(COHERE, 3_000_000)
    # Then the cost is the float nearest 0.3, not 0.30000000000000004
    assert repr(cost) == "0.3"


def test_batch_tokens_cost_the_batch_price() -> None:
    # Given Titan V2, which batch inference takes at half the on-demand price
    assert TITAN_V2.batch_price_per_million_tokens is not None
    # Then batch tokens cost that price, half the on-demand cost
    on_demand = pricing.cost_usd(TITAN_V2, 1_000_000)
    batch = pricing.cost_usd(TITAN_V2, 1_000_000, batch=True)
    assert batch == pytest.approx(TITAN_V2.batch_price_per_million_tokens)
    assert batch == pytest.approx(on_demand / 2)


def test_batch_pricing_a_model_without_batch_inference_is_a_bug() -> None:
    assert COHERE.batch_price_per_million_tokens is None
    with pytest.raises(ValueError, match="no batch inference price"):
        pricing.cost_usd(COHERE, 10, batch=True)


TITAN_MULTIMODAL = model("amazon.titan-embed-image-v1")
COHERE_V4 = model("cohere.embed-v4:0")
NOVA = model("amazon.nova-2-multimodal-embeddings-v1:0")


def test_titan_multimodal_images_cost_the_catalog_price_per_image() -> None:
    # Given the catalog's own Titan Multimodal entry: $0.80 per 1M text tokens, $0.00006 per image
    assert TITAN_MULTIMODAL.price_per_image == 0.00006
    # Then images add their price to the tokens'
    assert pricing.cost_usd(TITAN_MULTIMODAL, 0, images=2) == pytest.approx(0.00012, abs=1e-12)
    assert pricing.cost_usd(TITAN_MULTIMODAL, 1_000, images=1) == pytest.approx(0.0008 + 0.00006, abs=1e-12)
    # And by batch inference, which takes the model, at half of both
    assert pricing.cost_usd(TITAN_MULTIMODAL, 1_000, images=1, batch=True) == pytest.approx(
        (0.0008 + 0.00006) / 2, abs=1e-12
    )
    # And text alone costs its tokens only
    assert pricing.cost_usd(TITAN_V2, 1_000) == pytest.approx(0.00002, abs=1e-12)


def test_cohere_v4_images_are_billed_as_the_tokens_bedrock_counts() -> None:
    # Given Cohere Embed v4, whose token header counts an image's tokens
    assert COHERE_V4.price_per_image is None
    # Then an image adds nothing beyond its tokens
    assert pricing.cost_usd(COHERE_V4, 1_610, images=1) == pricing.cost_usd(COHERE_V4, 1_610)
    assert pricing.cost_usd(COHERE_V4, 1_610, images=1) == pytest.approx(1_610 * 0.12 / 1e6, abs=1e-12)


def test_nova_images_are_not_priced_while_the_catalog_has_no_image_price() -> None:
    assert NOVA.price_per_image is None
    assert pricing.cost_usd(NOVA, 0, images=3) == 0.0


def test_images_on_a_text_only_model_are_a_bug() -> None:
    assert TITAN_V2.price_per_image is None
    with pytest.raises(ValueError, match="takes no image"):
        pricing.cost_usd(TITAN_V2, 5, images=1)


def test_negative_counts_are_a_bug() -> None:
    with pytest.raises(ValueError, match="cannot be negative"):
        pricing.cost_usd(TITAN_V2, -1)


def test_every_catalog_model_prices_its_tokens() -> None:
    for entry in catalog.MODELS:
        assert pricing.cost_usd(entry, 1_000_000) == pytest.approx(entry.price_per_million_tokens), entry.id
        if entry.batch_inference:
            assert pricing.cost_usd(entry, 1_000_000, batch=True) < pricing.cost_usd(entry, 1_000_000)
