"""POST/GET/DELETE /collections: each field checked, the cost guard, names taken, and the lifecycle."""

from __future__ import annotations

from typing import Any

import pytest

from embedrock import settings, wiring
from tests.unit.collections.conftest import Call

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


def test_a_collection_is_created_with_the_models_defaults_and_described(call: Call) -> None:
    # When a collection is created with a name only
    status, created = call("POST", "/collections", {"name": "notes"})

    # Then it is a 201 with the default model at its default dimensions, cosine, no text search
    assert status == 201
    assert {k: created[k] for k in ("name", "model", "dimensions", "metric", "text_search")} == {
        "name": "notes",
        "model": "amazon.titan-embed-text-v2:0",
        "dimensions": 1024,
        "metric": "cosine",
        "text_search": None,
    }
    assert created["created_at"]
    # And describing and listing show the same collection
    assert call("GET", "/collections/notes") == (200, created)
    assert call("GET", "/collections") == (200, {"collections": [created]})


def test_a_collection_keeps_its_model_dimensions_metric_and_language(call: Call) -> None:
    body = {
        "name": "faq.v2",
        "model": "cohere.embed-english-v3",
        "dimensions": 1024,
        "metric": "euclidean",
        "text_search": {"language": "fr"},
    }
    status, created = call("POST", "/collections", body)

    assert status == 201
    assert {k: created[k] for k in body} == body


def test_an_inference_profile_id_is_kept_as_the_collections_model(call: Call) -> None:
    status, created = call("POST", "/collections", {"name": "embed-v4", "model": "us.cohere.embed-v4:0"})

    assert status == 201
    assert (created["model"], created["dimensions"]) == ("us.cohere.embed-v4:0", 1536)


@pytest.mark.parametrize(
    ("body", "param", "code", "says"),
    [
        ({"name": "ab"}, "name", "invalid_collection_name", "3 to 63 characters"),
        ({"name": "Docs"}, "name", "invalid_collection_name", "lowercase"),
        ({"name": "-docs"}, "name", "invalid_collection_name", "starting and ending"),
        ({"name": "d" * 64}, "name", "invalid_collection_name", "3 to 63"),
        ({"name": "my_docs"}, "name", "invalid_collection_name", "'-' and '.'"),
        ({"name": "docs", "model": "nope"}, "model", "model_not_found", "amazon.titan-embed-text-v2:0"),
        ({"name": "docs", "dimensions": 384}, "dimensions", "invalid_dimensions", "256, 512, 1024"),
        ({"name": "docs", "metric": "dot"}, "metric", "invalid_value", "'cosine' or 'euclidean'"),
        (
            {"name": "docs", "text_search": {"language": "xx"}},
            "text_search.language",
            "invalid_value",
            "'ko'",
        ),
        ({"name": "docs", "text_search": {"lang": "en"}}, "text_search.lang", "unknown_field", "lang"),
        ({"name": "docs", "shards": 2}, "shards", "unknown_field", "allowed fields"),
        ({"name": 7}, "name", "invalid_type", "a string"),
        ({}, "name", "missing_field", "required"),
    ],
)
def test_each_bad_field_is_a_400_naming_it(
    call: Call, body: dict[str, Any], param: str, code: str, says: str
) -> None:
    status, answer = call("POST", "/collections", body)

    assert status == 400
    error = answer["error"]
    assert (error["param"], error["code"]) == (param, code)
    assert says in error["message"]
    # And nothing was created
    assert call("GET", "/collections") == (200, {"collections": []})


def test_a_name_taken_is_a_409(call: Call) -> None:
    assert call("POST", "/collections", {"name": "docs"})[0] == 201

    status, answer = call("POST", "/collections", {"name": "docs", "dimensions": 256})

    assert status == 409
    assert (answer["error"]["code"], answer["error"]["param"]) == ("collection_exists", "name")
    # And the first collection is unchanged
    assert call("GET", "/collections/docs")[1]["dimensions"] == 1024


def test_the_cost_guard_refuses_a_collection_past_the_limit_naming_it_and_its_cdk_context(call: Call) -> None:
    # Given a deployment that keeps at most 2 collections, and has 2
    wiring.override(settings=settings.load({"EMBEDROCK_MAX_COLLECTIONS": "2"}))
    assert call("POST", "/collections", {"name": "one"})[0] == 201
    assert call("POST", "/collections", {"name": "two"})[0] == 201

    # When a third is asked for
    status, answer = call("POST", "/collections", {"name": "three"})

    # Then it is refused with the limit and how to raise it
    assert status == 409
    error = answer["error"]
    assert error["code"] == "collection_limit_reached"
    assert "at most 2 collections" in error["message"] and "embedrock:maxCollections" in error["message"]
    # And after deleting one, it can be created
    assert call("DELETE", "/collections/one") == (200, {"name": "one", "deleted": True})
    assert call("POST", "/collections", {"name": "three"})[0] == 201


def test_a_deleted_collection_is_gone(call: Call, docs: str) -> None:
    assert call("DELETE", f"/collections/{docs}") == (200, {"name": docs, "deleted": True})

    for method in ("GET", "DELETE"):
        status, answer = call(method, f"/collections/{docs}")
        assert status == 404
        assert (answer["error"]["code"], answer["error"]["param"]) == ("collection_not_found", "name")


def test_a_path_name_that_no_collection_can_have_is_a_400(call: Call) -> None:
    status, answer = call("GET", "/collections/No_Such")

    assert status == 400
    assert (answer["error"]["code"], answer["error"]["param"]) == ("invalid_collection_name", "name")
