"""`bench --via collections`: collection names, the rows beside the in-memory row, the side-by-side table."""

from __future__ import annotations

import pytest

from embedrock.vector_store import limits
from embedrock_local.tools.bench import report, via_collections
from embedrock_local.tools.bench.via_collections import CollectionRun, collection_name


@pytest.mark.parametrize(
    ("dataset", "model_id", "dimensions"),
    [
        ("scifact", "amazon.titan-embed-text-v2:0", 1024),
        ("My_Set", "us.cohere.embed-v4:0", 256),
        ("a-very-long-user-data-set-directory-name", "amazon.nova-2-multimodal-embeddings-v1:0", 3072),
    ],
)
def test_collection_names_are_s3_vectors_index_names(dataset, model_id, dimensions):
    name = collection_name(dataset, model_id, dimensions)
    assert limits.NAME_MIN <= len(name) <= limits.NAME_MAX
    assert limits.NAME.fullmatch(name), name


def test_long_names_cut_to_the_limit_stay_distinct():
    long_set = "x" * 80
    first = collection_name(long_set, "amazon.titan-embed-text-v2:0", 256)
    second = collection_name(long_set, "amazon.titan-embed-text-v2:0", 512)
    assert first != second and len(first) == len(second) == limits.NAME_MAX


def in_memory_row() -> dict:
    return {
        "dataset": "scifact",
        "model": "amazon.titan-embed-text-v2:0",
        "dimensions": 1024,
        "embedding_type": "float",
        "variant": "native",
        "via": "memory",
        "search_mode": "vector",
        "score": 70.0,
        "metrics": {"ndcg@10": 70.0, "recall@10": 80.0},
        "latency_p50_ms": 5.0,
    }


def measured_run() -> CollectionRun:
    return CollectionRun(
        scores={
            "vector": {"ndcg@10": 70.04, "recall@10": 80.0},
            "text": {"ndcg@10": 66.0, "recall@10": 77.0},
            "hybrid": {"ndcg@10": 72.5, "recall@10": 84.0},
        },
        search_ms={"vector": [4.0, 6.0], "text": [2.0, 2.0], "hybrid": [6.0, 8.0]},
        upserted=5183,
        put_calls=11,
        upsert_requests=11,
        upsert_seconds=12.5,
        input_tokens=1000,
        bedrock_calls=5183,
        cost_usd=0.00002,
    )


def test_a_row_per_search_mode_keeps_the_variant_and_measures_its_difference_from_memory():
    rows = via_collections.rows(in_memory_row(), measured_run())
    assert [row["variant"] for row in rows] == [
        "collections vector",
        "collections text",
        "collections hybrid",
    ]
    assert {(row["via"], row["model"], row["dimensions"], row["embedding_type"]) for row in rows} == {
        ("collections", "amazon.titan-embed-text-v2:0", 1024, "float")
    }
    vector, text, hybrid = rows
    assert vector["difference_from_in_memory"] == pytest.approx(0.04)
    assert text["score"] == pytest.approx(66.0) and hybrid["metrics"]["recall@10"] == pytest.approx(84.0)
    assert vector["latency_p50_ms"] == pytest.approx(5.0) and text["latency_p50_ms"] == pytest.approx(2.0)
    assert vector["put_vectors_calls"] == 11 and vector["documents_upserted"] == 5183
    assert vector["requests"] == 11 + 2


def test_the_side_by_side_table_shows_memory_each_mode_and_the_difference():
    memory = in_memory_row()
    lines = report.collections_table([memory, *via_collections.rows(memory, measured_run())])
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    assert header[:8] == [
        "data set",
        "model",
        "dims",
        "in memory",
        "collections vector",
        "collections text",
        "collections hybrid",
        "difference",
    ]
    (line,) = lines[2:]
    cells = [cell.strip() for cell in line.strip("|").split("|")]
    assert cells[3:8] == ["70.00", "70.04", "66.00", "72.50", "+0.04"]
    assert cells[-3:] == ["5,183", "11", "12.5"]


def test_no_collections_rows_no_table():
    assert report.collections_table([in_memory_row()]) == []
