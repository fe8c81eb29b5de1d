"""Requests are checked against the catalog before any paid call."""

from __future__ import annotations

import pytest

from embedrock import catalog, settings
from embedrock.embed_spec import check_response_size, check_texts, resolve_spec
from embedrock.errors import InvalidRequest, PayloadTooLarge


def test_defaults_are_titan_v2_at_1024_normalized_float() -> None:
    spec = resolve_spec(model_id=None)
    assert (spec.model.id, spec.dimensions, spec.normalize, spec.input_type, spec.embedding_type) == (
        "amazon.titan-embed-text-v2:0",
        1024,
        True,
        None,
        "float",
    )


def test_384_dimensions_for_titan_v2_is_rejected_listing_the_allowed_values() -> None:
    with pytest.raises(InvalidRequest) as raised:
        resolve_spec(model_id="amazon.titan-embed-text-v2:0", dimensions=384)
    assert raised.value.status == 400 and raised.value.param == "dimensions"
    assert "256, 512, 1024" in raised.value.message


@pytest.mark.parametrize("model", catalog.MODELS, ids=lambda model: model.id)
def test_every_allowed_dimension_of_every_model_is_accepted_and_others_are_not(
    model: catalog.CatalogModel,
) -> None:
    for dimensions in model.dimensions:
        assert resolve_spec(model_id=model.id, dimensions=dimensions).dimensions == dimensions
    with pytest.raises(InvalidRequest):
        resolve_spec(model_id=model.id, dimensions=100)


def test_unknown_model_lists_the_catalog() -> None:
    with pytest.raises(InvalidRequest) as raised:
        resolve_spec(model_id="text-embedding-3-small")
    assert raised.value.param == "model"
    assert all(model_id in raised.value.message for model_id in catalog.model_ids())


def test_input_type_is_for_cohere_only_and_must_be_one_of_its_values() -> None:
    with pytest.raises(InvalidRequest) as titan:
        resolve_spec(model_id="amazon.titan-embed-text-v2:0", input_type="search_query")
    assert titan.value.param == "input_type"
    with pytest.raises(InvalidRequest) as cohere:
        resolve_spec(model_id="cohere.embed-english-v3", input_type="query")
    assert "search_document, search_query, classification, clustering" in cohere.value.message
    assert resolve_spec(model_id="cohere.embed-english-v3").input_type == "search_document"


def test_embedding_type_must_be_offered_by_the_model() -> None:
    with pytest.raises(InvalidRequest) as raised:
        resolve_spec(model_id="amazon.titan-embed-text-v2:0", embedding_type="int8")
    assert raised.value.param == "embedding_type" and "float, binary" in raised.value.message


@pytest.mark.parametrize(
    ("texts", "param", "code"),
    [
        ([], "texts", "empty_input"),
        (["ok", "   "], "texts[1]", "empty_text"),
        (["ok", "x" * 2049], "texts[1]", "text_too_long"),
        (["x"] * 11, "texts", "too_many_texts"),
    ],
)
def test_texts_are_checked_before_calling_bedrock(texts: list[str], param: str, code: str) -> None:
    with pytest.raises(InvalidRequest) as raised:
        check_texts(texts, catalog.find("cohere.embed-english-v3"), max_texts=10)  # type: ignore[arg-type]
    assert (raised.value.param, raised.value.code) == (param, code)


def test_a_response_over_lambdas_limit_is_refused_with_advice() -> None:
    spec = resolve_spec(model_id=None)
    limit = settings.load({}).max_response_bytes
    check_response_size(200, spec, "float", limit_bytes=limit)
    with pytest.raises(PayloadTooLarge) as raised:
        check_response_size(2048, spec, "float", limit_bytes=limit)
    assert raised.value.status == 413
    assert "base64" in raised.value.message and "256, 512" in raised.value.message
    assert "batch pipeline" in raised.value.message
    # base64 is about 4x smaller, so the same request fits when encoded
    check_response_size(1000, spec, "base64", limit_bytes=limit)


def test_bad_settings_fail_at_cold_start_naming_the_variable() -> None:
    with pytest.raises(settings.SettingsError, match="EMBEDROCK_MAX_CONCURRENCY"):
        settings.load({"EMBEDROCK_MAX_CONCURRENCY": "lots"})
