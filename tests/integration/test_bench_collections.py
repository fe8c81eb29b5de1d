"""`embedrock bench --via collections` end to end: a SciFact subset upserted through the local
gateway's collections API and searched through it ranks as the in-memory benchmark does."""

from __future__ import annotations

import json
import math

import pytest

from embedrock_local import cli

pytestmark = pytest.mark.integration

BATCH = 100


def test_vector_search_through_a_collection_scores_as_in_memory_and_text_and_hybrid_are_reported(
    tmp_path, shared_data, capsys
):
    # Given a SciFact subset (20 judged queries, their documents and 200 others) and the hash engine
    argv = ["bench", "--engine", "hash", "--dataset", "scifact", "--limit", "20", "--no-download"]
    argv += ["--data-dir", str(shared_data), "--model", "amazon.titan-embed-text-v2:0@256"]
    argv += ["--embedding-types", "float", "--truncate", "none", "--batch-size", str(BATCH)]
    argv += ["--via", "collections", "--out", str(tmp_path)]

    # When the benchmark runs through the collections API
    assert cli.main(argv) == 0

    # Then the in-memory row has a row per search mode beside it
    document = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    rows = {row["variant"]: row for row in document["results"]}
    assert set(rows) == {"native", "collections vector", "collections text", "collections hybrid"}
    memory, vector = rows["native"], rows["collections vector"]
    # And the ranking is not trivial, so equality means something
    assert 10 < memory["score"] < 95
    # And vector search through the collection gives the in-memory nDCG@10 (float32 storage, ties by key)
    assert abs(vector["score"] - memory["score"]) < 0.1
    assert vector["difference_from_in_memory"] == pytest.approx(vector["score"] - memory["score"])
    for mode in ("text", "hybrid"):
        row = rows[f"collections {mode}"]
        assert row["search_mode"] == mode and 0 < row["score"] <= 100
        assert math.isfinite(row["latency_p50_ms"])
    # And every document went in, one PutVectors call per upsert request
    documents = document["datasets"][0]["documents"]
    assert vector["documents_upserted"] == documents
    assert vector["put_vectors_calls"] == math.ceil(documents / BATCH)
    # And both reports show the comparison
    markdown = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "## In memory and via collections" in markdown
    assert "In memory and via collections (nDCG@10)" in capsys.readouterr().out
