"""POST /collections/{name}/documents, GET one, POST documents:delete: what is stored, what it
costs, and every bad document refused before any paid call."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from tests.fakes import FakeBedrockRuntime
from tests.unit.collections.conftest import Call

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

UNIT = [1.0] + [0.0] * 255


def upsert(call: Call, documents: list[dict[str, Any]], name: str = "docs") -> tuple[int, Any]:
    return call("POST", f"/collections/{name}/documents", {"documents": documents})


def test_texts_are_embedded_as_documents_and_vectors_stored_as_given(
    call: Call, docs: str, bedrock: FakeBedrockRuntime
) -> None:
    # When texts and a vector are upserted
    status, answer = upsert(
        call,
        [
            {"id": "a", "text": "Python is a programming language", "metadata": {"lang": "en", "year": 2024}},
            {"id": "b", "vector": UNIT, "metadata": {"tags": ["x", "y"], "ok": True}},
            {"id": "c", "text": "The market opens at nine"},
        ],
    )

    # Then all three are written in one PutVectors call, and the texts' tokens are billed
    assert status == 200
    assert (answer["upserted"], answer["calls"]) == (3, 1)
    usage = answer["usage"]
    assert usage["input_tokens"] > 0 and usage["requests"] == 2
    assert math.isclose(usage["cost_usd"], usage["input_tokens"] * 0.02 / 1e6, rel_tol=1e-6)
    # And only the texts went to Bedrock, with the collection's model and dimensions
    assert [(model, body["dimensions"]) for model, body in bedrock.calls] == [
        ("amazon.titan-embed-text-v2:0", 256)
    ] * 2
    # And a document reads back with its text, metadata and a unit vector
    status, a = call("GET", "/collections/docs/documents/a")
    assert status == 200
    assert (a["id"], a["text"], a["metadata"]) == (
        "a",
        "Python is a programming language",
        {"lang": "en", "year": 2024},
    )
    assert len(a["vector"]) == 256 and math.isclose(math.hypot(*a["vector"]), 1.0, rel_tol=1e-4)
    status, b = call("GET", "/collections/docs/documents/b")
    assert (b["text"], b["metadata"]) == (None, {"tags": ["x", "y"], "ok": True})
    assert b["vector"][0] == pytest.approx(1.0) and not any(b["vector"][1:])


def test_an_upsert_replaces_a_stored_document(call: Call, docs: str) -> None:
    upsert(call, [{"id": "a", "text": "first", "metadata": {"v": 1}}])

    upsert(call, [{"id": "a", "text": "second", "metadata": {"v": 2}}])

    _, a = call("GET", "/collections/docs/documents/a")
    assert (a["text"], a["metadata"]) == ("second", {"v": 2})


def test_a_cohere_collection_embeds_its_texts_as_search_document(
    call: Call, bedrock: FakeBedrockRuntime
) -> None:
    call("POST", "/collections", {"name": "cohere", "model": "cohere.embed-english-v3"})

    status, _ = upsert(call, [{"id": "a", "text": "hello"}], name="cohere")

    assert status == 200
    assert [body["input_type"] for _, body in bedrock.calls] == ["search_document"]


def _big(n: int) -> str:
    return "x" * n


@pytest.mark.parametrize(
    ("document", "param", "code"),
    [
        ({"id": "a"}, "documents[0]", "invalid_request"),
        ({"id": "a", "text": "t", "vector": UNIT}, "documents[0]", "invalid_request"),
        ({"id": "", "text": "t"}, "documents[0].id", "invalid_id"),
        ({"id": "i" * 1025, "text": "t"}, "documents[0].id", "invalid_id"),
        ({"id": "a", "text": "   "}, "documents[0].text", "empty_text"),
        ({"id": "a", "text": _big(50_001)}, "documents[0].text", "text_too_long"),
        ({"id": "a", "text": _big(41_000)}, "documents[0].text", "text_too_long"),
        ({"id": "a", "vector": [1.0, 0.0]}, "documents[0].vector", "dimension_mismatch"),
        ({"id": "a", "vector": [0.0] * 256}, "documents[0].vector", "zero_vector"),
        (
            {"id": "a", "text": "t", "metadata": {"_text": "x"}},
            "documents[0].metadata._text",
            "invalid_metadata",
        ),
        ({"id": "a", "text": "t", "metadata": {"": 1}}, "documents[0].metadata.", "invalid_metadata"),
        (
            {"id": "a", "text": "t", "metadata": {"k": {"nested": 1}}},
            "documents[0].metadata.k",
            "invalid_type",
        ),
        ({"id": "a", "text": "t", "metadata": {"k": [1, 2]}}, "documents[0].metadata.k", "invalid_type"),
        (
            {"id": "a", "text": "t", "metadata": {f"k{i}": i for i in range(50)}},
            "documents[0].metadata",
            "metadata_too_large",
        ),
        (
            {"id": "a", "vector": UNIT, "metadata": {"k": _big(2100)}},
            "documents[0].metadata",
            "metadata_too_large",
        ),
        ({"id": "a", "text": "t", "extra": 1}, "documents[0].extra", "unknown_field"),
    ],
)
@pytest.mark.usefixtures("docs")
def test_each_bad_document_is_a_400_naming_its_field_before_any_call(
    call: Call, bedrock: FakeBedrockRuntime, document: dict[str, Any], param: str, code: str
) -> None:
    # Given a good text first, so that a late check would already have paid for it
    status, answer = upsert(call, [{"id": "ok", "text": "fine"}, document])

    assert status == 400, answer
    error = answer["error"]
    assert error["param"] == param.replace("documents[0]", "documents[1]", 1)
    assert error["code"] == code
    assert bedrock.calls == []
    assert call("GET", "/collections/docs/documents/ok")[0] == 404


def test_a_vector_holding_nan_is_named_with_its_position(call: Call, docs: str) -> None:
    raw = json.dumps({"documents": [{"id": "a", "vector": UNIT}]}).replace("0.0]", "NaN]", 1)

    status, answer = call("POST", "/collections/docs/documents", raw_body=raw)

    assert status == 400
    assert (answer["error"]["param"], answer["error"]["code"]) == (
        "documents[0].vector[255]",
        "invalid_vector",
    )


def test_ids_repeated_in_a_request_are_refused(call: Call, docs: str) -> None:
    status, answer = upsert(
        call, [{"id": "a", "text": "x"}, {"id": "b", "text": "y"}, {"id": "a", "text": "z"}]
    )

    assert status == 400
    assert (answer["error"]["param"], answer["error"]["code"]) == ("documents[2].id", "duplicate_id")
    assert "documents[0].id" in answer["error"]["message"]


def test_the_documents_per_request_are_bounded(call: Call, docs: str) -> None:
    status, answer = upsert(call, [{"id": str(i), "vector": UNIT} for i in range(501)])

    assert status == 400
    assert answer["error"]["param"] == "documents" and "500" in answer["error"]["message"]
    assert upsert(call, [])[1]["error"]["param"] == "documents"


def test_documents_for_a_missing_collection_are_a_404(call: Call, bedrock: FakeBedrockRuntime) -> None:
    status, answer = upsert(call, [{"id": "a", "text": "x"}], name="nowhere")

    assert status == 404
    assert answer["error"]["code"] == "collection_not_found"
    assert bedrock.calls == []


def test_a_missing_document_is_a_404_naming_it(call: Call, docs: str) -> None:
    status, answer = call("GET", "/collections/docs/documents/absent")

    assert status == 404
    error = answer["error"]
    assert (error["param"], error["code"]) == ("document_id", "document_not_found")
    assert "absent" in error["message"]


def test_an_id_with_a_slash_is_reached_percent_encoded(call: Call, docs: str) -> None:
    upsert(call, [{"id": "dir/file.txt", "vector": UNIT}])

    status, found = call("GET", "/collections/docs/documents/dir%2Ffile.txt")

    assert (status, found["id"]) == (200, "dir/file.txt")


def test_deleted_documents_are_gone_and_the_others_stay(call: Call, docs: str) -> None:
    upsert(call, [{"id": name, "vector": UNIT} for name in ("a", "b", "c")])

    status, answer = call("POST", "/collections/docs/documents:delete", {"ids": ["a", "c", "a"]})

    assert (status, answer) == (200, {"deleted": 2})
    assert [call("GET", f"/collections/docs/documents/{name}")[0] for name in ("a", "b", "c")] == [
        404,
        200,
        404,
    ]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"ids": []}, "ids"),
        ({"ids": ["x"] * 501}, "ids"),
        ({"ids": [""]}, "ids[0]"),
        ({"keys": ["a"]}, "ids"),
    ],
)
def test_bad_deletes_are_400s(call: Call, docs: str, body: dict[str, Any], param: str) -> None:
    status, answer = call("POST", "/collections/docs/documents:delete", body)

    assert status == 400
    assert answer["error"]["param"] == param


@pytest.mark.parametrize(
    ("raw_value", "param"),
    [
        ("1e39", "documents[1].vector[0]"),
        ("-1e39", "documents[1].vector[0]"),
        ("Infinity", "documents[1].vector[0]"),
        ("-Infinity", "documents[1].vector[0]"),
    ],
)
def test_a_vector_value_float32_cannot_hold_is_refused(
    call: Call, docs: str, raw_value: str, param: str
) -> None:
    vector = "[" + ", ".join([raw_value] + ["0.0"] * 255) + "]"
    raw = f'{{"documents": [{{"id": "ok", "vector": [1.0{", 0.0" * 255}]}}, {{"id": "a", "vector": {vector}}}]}}'

    status, answer = call("POST", "/collections/docs/documents", raw_body=raw)

    assert status == 400
    assert (answer["error"]["param"], answer["error"]["code"]) == (param, "invalid_vector")


def test_metadata_integers_are_kept_within_what_json_numbers_carry(call: Call, docs: str) -> None:
    status, answer = upsert(call, [{"id": "a", "vector": UNIT, "metadata": {"n": 2**60}}])

    assert status == 400
    assert (answer["error"]["param"], answer["error"]["code"]) == (
        "documents[0].metadata.n",
        "invalid_metadata",
    )
    assert upsert(call, [{"id": "a", "vector": UNIT, "metadata": {"n": 2**53}}])[0] == 200
