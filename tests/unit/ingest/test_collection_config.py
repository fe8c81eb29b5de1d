"""A file's `collection`: it must exist, gives the file its model and dimensions, refuses others."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from embedrock.errors import InvalidRequest, NotFound
from embedrock.ingest.config import resolve
from embedrock.vector_store.model import Collection

TITAN_V2 = "amazon.titan-embed-text-v2:0"
COHERE = "cohere.embed-english-v3"
CREATED = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
DOCS = Collection(name="docs", model=TITAN_V2, dimensions=256, metric="cosine", created_at=CREATED)


def describe(name: str) -> Collection:
    """What VectorStore.describe answers for a store holding the one collection `docs`."""
    if name != DOCS.name:
        raise NotFound(f"collection '{name}' does not exist.", code="collection_not_found")
    return DOCS


def sidecar(**values: object) -> bytes:
    return json.dumps(values).encode()


def test_the_collection_gives_the_file_its_model_and_dimensions() -> None:
    # Given a sidecar naming only the collection
    config = resolve({}, sidecar(collection="docs"), default_model_id=COHERE, describe_collection=describe)
    # Then the file embeds with the collection's model and dimensions, not the stack's default
    assert (config.spec.model.id, config.spec.dimensions) == (TITAN_V2, 256)
    assert config.collection == DOCS
    assert config.canonical()["collection"] == "docs"
    assert (config.sources["model"], config.sources["dimensions"], config.sources["collection"]) == (
        "collection",
        "collection",
        "sidecar",
    )


def test_the_collection_and_its_creation_are_part_of_the_run_identity() -> None:
    plain = resolve({}, sidecar(model=TITAN_V2, dimensions=256), default_model_id=TITAN_V2)
    filling = resolve({}, sidecar(collection="docs"), default_model_id=TITAN_V2, describe_collection=describe)
    # The same vectors, but filling a collection is another run
    assert "collection" not in plain.identity()
    assert filling.identity() == plain.identity() | {
        "collection": "docs",
        "collection_created_at": CREATED.isoformat(),
    }


def test_the_same_model_and_dimensions_named_by_the_file_are_accepted() -> None:
    # Object metadata naming what the collection keeps (the model through an inference profile id)
    config = resolve(
        {"collection": "docs", "model": f"us.{TITAN_V2}", "dimensions": "256"},
        None,
        default_model_id=TITAN_V2,
        describe_collection=describe,
    )
    assert (config.spec.model.id, config.spec.invoke_id, config.spec.dimensions) == (
        TITAN_V2,
        f"us.{TITAN_V2}",
        256,
    )


@pytest.mark.parametrize(
    ("metadata", "param", "code", "words"),
    [
        ({"model": COHERE}, "model", "collection_mismatch", [COHERE, "'docs'", TITAN_V2, "256", "metadata"]),
        ({"dimensions": "512"}, "dimensions", "collection_mismatch", ["512", TITAN_V2, "256"]),
        ({"embedding_type": "binary"}, "embedding_type", "collection_mismatch", ["float32", "float"]),
        ({"collection": "absent"}, "collection", "collection_not_found", ["'absent'", "metadata"]),
        ({"collection": "Not_A_Name"}, "collection", "invalid_config_value", ["lowercase", "3 to 63"]),
    ],
)
def test_a_file_that_cannot_fill_the_collection_is_rejected_naming_the_field(
    metadata: dict[str, str], param: str, code: str, words: list[str]
) -> None:
    with pytest.raises(InvalidRequest) as raised:
        resolve(
            {"collection": "docs", **metadata}, None, default_model_id=TITAN_V2, describe_collection=describe
        )
    assert (raised.value.param, raised.value.code) == (param, code)
    for word in words:
        assert word in raised.value.message


def test_a_collection_without_a_vector_store_is_refused() -> None:
    with pytest.raises(InvalidRequest) as raised:
        resolve({}, sidecar(collection="docs"), default_model_id=TITAN_V2)
    assert (raised.value.param, raised.value.code) == ("collection", "collections_not_configured")
    assert "EMBEDROCK_VECTOR_BUCKET" in raised.value.message


def test_a_collection_named_with_the_wrong_type_is_refused() -> None:
    with pytest.raises(InvalidRequest) as raised:
        resolve({}, sidecar(collection=7), default_model_id=TITAN_V2, describe_collection=describe)
    assert (raised.value.param, raised.value.code) == ("collection", "invalid_config_value")
    assert "a string" in raised.value.message
