"""QueryVectors paging in the emulator: topK beyond a page is answered in pages linked by
nextToken, from one ranking kept for the query's session."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError

from embedrock.vector_store import limits
from embedrock_local.runtime.emulator import EmulatorOptions, InProcessEmulator
from embedrock_local.runtime.emulator.inprocess import S3VectorsClient
from embedrock_local.runtime.emulator.s3vectors import paging

BUCKET, INDEX = "paged-bucket", "paged-index"
WHERE = {"vectorBucketName": BUCKET, "indexName": INDEX}
COUNT = 2 * limits.QUERY_PAGE_SIZE + 50


@pytest.fixture
def client(tmp_path: Path) -> Iterator[S3VectorsClient]:
    emulator = InProcessEmulator(EmulatorOptions(data_dir=tmp_path))
    yield emulator.s3vectors_client()
    emulator.close()


@pytest.fixture
def angles(client: S3VectorsClient) -> list[float]:
    """COUNT unit vectors at distinct angles, written in a shuffled order; searchable text too."""
    client.create_vector_bucket(vectorBucketName=BUCKET)
    client.create_index(
        **WHERE,
        dataType="float32",
        dimension=2,
        distanceMetric="cosine",
        metadataConfiguration={"textSearchConfigurations": [{"metadataKey": "text"}]},
    )
    values = list(np.random.default_rng(7).permutation(COUNT) * (math.pi / COUNT))
    vectors = [
        {"key": f"k{i:04d}", "data": {"float32": [math.cos(a), math.sin(a)]}, "metadata": {"text": "common"}}
        for i, a in enumerate(values)
    ]
    for start in range(0, COUNT, limits.PUT_MAX):
        client.put_vectors(**WHERE, vectors=vectors[start : start + limits.PUT_MAX])
    return values


def pages(client: S3VectorsClient, **query: Any) -> list[list[str]]:
    found: list[list[str]] = []
    token = None
    while True:
        page = client.query_vectors(**WHERE, **query, **({"nextToken": token} if token else {}))
        found.append([v["key"] for v in page["vectors"]])
        token = page.get("nextToken")
        if token is None:
            return found


def test_top_k_beyond_a_page_is_answered_in_pages_in_rank_order(
    client: S3VectorsClient, angles: list[float]
) -> None:
    got = pages(client, topK=COUNT, queryVector={"float32": [1.0, 0.0]})
    assert [len(p) for p in got] == [limits.QUERY_PAGE_SIZE, limits.QUERY_PAGE_SIZE, 50]
    # The angle from [1, 0] grows with the distance: the whole ranking, each key once.
    expected = [f"k{i:04d}" for i in np.argsort(angles)]
    assert [key for page in got for key in page] == expected


def test_a_page_or_less_has_no_token(client: S3VectorsClient, angles: list[float]) -> None:
    page = client.query_vectors(**WHERE, topK=limits.QUERY_PAGE_SIZE, queryVector={"float32": [1.0, 0.0]})
    assert len(page["vectors"]) == limits.QUERY_PAGE_SIZE and "nextToken" not in page


def test_full_text_results_page_too(client: S3VectorsClient, angles: list[float]) -> None:
    got = pages(client, topK=COUNT, queryTexts=[{"metadataKey": "text", "text": "common"}])
    # Every document scores the same: ties go to the smaller key.
    assert [key for page in got for key in page] == sorted(f"k{i:04d}" for i in range(COUNT))


def test_writes_between_pages_do_not_move_results(client: S3VectorsClient, angles: list[float]) -> None:
    query = {"topK": COUNT, "queryVector": {"float32": [1.0, 0.0]}}
    first = client.query_vectors(**WHERE, **query)
    client.put_vectors(**WHERE, vectors=[{"key": "a-new-nearest", "data": {"float32": [1.0, 0.0]}}])
    second = client.query_vectors(**WHERE, **query, nextToken=first["nextToken"])
    expected = [f"k{i:04d}" for i in np.argsort(angles)]
    assert [v["key"] for v in second["vectors"]] == expected[
        limits.QUERY_PAGE_SIZE : 2 * limits.QUERY_PAGE_SIZE
    ]


def test_a_token_needs_the_same_query_and_expires(
    client: S3VectorsClient, angles: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    query = {"topK": COUNT, "queryVector": {"float32": [1.0, 0.0]}}
    token = client.query_vectors(**WHERE, **query)["nextToken"]
    with pytest.raises(ClientError) as changed:
        client.query_vectors(**WHERE, topK=COUNT, queryVector={"float32": [0.0, 1.0]}, nextToken=token)
    assert "repeat the query's parameters" in changed.value.response["Error"]["Message"]
    later = paging.clock() + paging.SESSION_SECONDS + 1
    monkeypatch.setattr(paging, "clock", lambda: later)
    with pytest.raises(ClientError) as expired:
        client.query_vectors(**WHERE, **query, nextToken=token)
    assert "expired" in expired.value.response["Error"]["Message"]
