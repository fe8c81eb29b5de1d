"""The emulator's S3 Vectors backend through its in-process boto3-shaped client (sockets blocked)."""

from __future__ import annotations

import argparse
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
from embedrock_local.runtime.emulator.options import default_data_dir

BUCKET, INDEX = "docs-bucket", "docs.index"
WHERE = {"vectorBucketName": BUCKET, "indexName": INDEX}


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[InProcessEmulator]:
    started = InProcessEmulator(EmulatorOptions(data_dir=tmp_path))
    yield started
    started.close()


@pytest.fixture
def client(emulator: InProcessEmulator) -> S3VectorsClient:
    return emulator.s3vectors_client()


def make_index(client: S3VectorsClient, dimension: int = 3, metric: str = "cosine", **extra: Any) -> None:
    client.create_vector_bucket(vectorBucketName=BUCKET)
    client.create_index(
        vectorBucketName=BUCKET,
        indexName=INDEX,
        dataType="float32",
        dimension=dimension,
        distanceMetric=metric,
        **extra,
    )


def vector(key: str, values: list[float], **metadata: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"key": key, "data": {"float32": values}}
    if metadata:
        item["metadata"] = metadata
    return item


def error_of(call: Any, **params: Any) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    response = caught.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Message"],
    )


def test_bucket_lifecycle_with_conflicts_and_not_found(client: S3VectorsClient) -> None:
    # Given a new bucket
    arn = client.create_vector_bucket(vectorBucketName=BUCKET)["vectorBucketArn"]
    assert arn == f"arn:aws:s3vectors:us-east-1:123456789012:bucket/{BUCKET}"
    # Then it is found by name and by ARN, and a second one of that name conflicts
    by_name = client.get_vector_bucket(vectorBucketName=BUCKET)["vectorBucket"]
    assert client.get_vector_bucket(vectorBucketArn=arn)["vectorBucket"] == by_name
    assert by_name["defaultIndexMode"] == "ENHANCED" and by_name["encryptionConfiguration"] == {
        "sseType": "AES256"
    }
    assert error_of(client.create_vector_bucket, vectorBucketName=BUCKET)[:2] == ("ConflictException", 409)
    # And a bucket holding an index cannot be deleted until the index is
    client.create_index(
        vectorBucketName=BUCKET, indexName=INDEX, dataType="float32", dimension=2, distanceMetric="euclidean"
    )
    assert error_of(client.delete_vector_bucket, vectorBucketName=BUCKET)[:2] == ("ConflictException", 409)
    client.delete_index(**WHERE)
    client.delete_vector_bucket(vectorBucketName=BUCKET)
    code, status, message = error_of(client.get_vector_bucket, vectorBucketName=BUCKET)
    assert (code, status) == ("NotFoundException", 404) and BUCKET in message


def test_list_buckets_pages_by_prefix(client: S3VectorsClient) -> None:
    for name in ("alpha-1", "alpha-2", "alpha-3", "beta-1"):
        client.create_vector_bucket(vectorBucketName=name)
    first = client.list_vector_buckets(prefix="alpha", maxResults=2)
    second = client.list_vector_buckets(prefix="alpha", maxResults=2, nextToken=first["nextToken"])
    names = [b["vectorBucketName"] for b in first["vectorBuckets"] + second["vectorBuckets"]]
    assert names == ["alpha-1", "alpha-2", "alpha-3"] and "nextToken" not in second


@pytest.mark.parametrize("name", ["ab", "a" * 64, "Upper-case", "-starts-with-dash", "ends.", "under_score"])
def test_bad_names_are_refused_naming_the_rule(client: S3VectorsClient, name: str) -> None:
    code, status, message = error_of(client.create_vector_bucket, vectorBucketName=name)
    assert (code, status) == ("ValidationException", 400)
    assert "vectorBucketName" in message and "3 to 63" in message and "lowercase" in message


@pytest.mark.parametrize(
    ("member", "value", "named"),
    [
        ("dimension", 0, "1 to 4096"),
        ("dimension", 4097, "1 to 4096"),
        ("dataType", "float16", "float32"),
        ("distanceMetric", "dot", "cosine, euclidean"),
        ("metadataConfiguration", {"nonFilterableMetadataKeys": [f"k{i}" for i in range(11)]}, "1 to 10"),
        (
            "metadataConfiguration",
            {"textSearchConfigurations": [{"metadataKey": "t", "language": "xx"}]},
            "en, fr",
        ),
        ("unknownMember", 1, "allowed"),
    ],
)
def test_create_index_validates_each_member(
    client: S3VectorsClient, member: str, value: Any, named: str
) -> None:
    client.create_vector_bucket(vectorBucketName=BUCKET)
    params = {"dataType": "float32", "dimension": 4, "distanceMetric": "cosine", member: value}
    code, status, message = error_of(client.create_index, vectorBucketName=BUCKET, indexName=INDEX, **params)
    assert (code, status) == ("ValidationException", 400) and named in message


def test_index_get_list_and_conflict(client: S3VectorsClient) -> None:
    make_index(client, 4, metadataConfiguration={"nonFilterableMetadataKeys": ["text"]})
    index = client.get_index(**WHERE)["index"]
    assert (index["dimension"], index["distanceMetric"], index["dataType"]) == (4, "cosine", "float32")
    assert index["metadataConfiguration"] == {"nonFilterableMetadataKeys": ["text"]}
    assert client.get_index(indexArn=index["indexArn"])["index"] == index
    listed = client.list_indexes(vectorBucketName=BUCKET)["indexes"]
    assert [i["indexName"] for i in listed] == [INDEX]
    code, status, _ = error_of(
        client.create_index, **WHERE, dataType="float32", dimension=4, distanceMetric="cosine"
    )
    assert (code, status) == ("ConflictException", 409)
    assert error_of(client.get_index, vectorBucketName=BUCKET, indexName="other")[:2] == (
        "NotFoundException",
        404,
    )


def test_quota_of_buckets_is_service_quota_exceeded(
    client: S3VectorsClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "BUCKETS_MAX", 1)
    client.create_vector_bucket(vectorBucketName="first")
    code, status, message = error_of(client.create_vector_bucket, vectorBucketName="second")
    assert (code, status) == ("ServiceQuotaExceededException", 402) and "1 vector buckets" in message


@pytest.mark.parametrize(
    ("vectors", "named"),
    [
        ([vector("a", [1.0, 2.0])], "expects dimension 3"),
        ([vector("a", [1.0, math.nan, 0.0])], "NaN"),
        ([vector("a", [1.0, math.inf, 0.0])], "Infinity"),
        ([vector("a", [1e39, 0.0, 0.0])], "float32"),
        ([vector("a", [0.0, 0.0, 0.0])], "zero vector"),
        ([vector("", [1.0, 0.0, 0.0])], "1 to 1024"),
        ([vector("k" * 1025, [1.0, 0.0, 0.0])], "1 to 1024"),
        ([vector("a", [1.0, 0.0, 0.0]), vector("a", [0.0, 1.0, 0.0])], "same key"),
        ([vector(f"k{i}", [1.0, 0.0, 0.0]) for i in range(501)], "1 to 500"),
        ([vector("a", [1.0, 0.0, 0.0], **{f"m{i}": i for i in range(51)})], "at most 50"),
        ([vector("a", [1.0, 0.0, 0.0], big="x" * 2100)], "2048 bytes"),
        ([vector("a", [1.0, 0.0, 0.0], text="x" * (41 * 1024))], "40960 bytes"),
        ([vector("a", [1.0, 0.0, 0.0], nested={"a": 1})], "filterable metadata holds"),
    ],
)
def test_put_vectors_refuses_bad_vectors(client: S3VectorsClient, vectors: list[Any], named: str) -> None:
    make_index(client, metadataConfiguration={"nonFilterableMetadataKeys": ["text"]})
    code, status, message = error_of(client.put_vectors, **WHERE, vectors=vectors)
    assert (code, status) == ("ValidationException", 400) and named in message
    # Nothing of a refused request is written
    assert client.list_vectors(**WHERE)["vectors"] == []


def test_large_text_fits_as_non_filterable_metadata_and_zero_vectors_fit_euclidean(
    client: S3VectorsClient,
) -> None:
    make_index(client, metric="euclidean", metadataConfiguration={"nonFilterableMetadataKeys": ["text"]})
    client.put_vectors(**WHERE, vectors=[vector("z", [0.0, 0.0, 0.0], text="x" * 30_000, tag="t")])
    got = client.get_vectors(**WHERE, keys=["z"], returnMetadata=True)["vectors"]
    assert got[0]["metadata"]["tag"] == "t" and len(got[0]["metadata"]["text"]) == 30_000


def test_get_vectors_returns_found_keys_with_data_and_metadata_on_request(client: S3VectorsClient) -> None:
    make_index(client)
    client.put_vectors(
        **WHERE, vectors=[vector("a", [1.0, 0.5, 0.25], genre="x"), vector("b", [0.0, 1.0, 0.0])]
    )
    plain = client.get_vectors(**WHERE, keys=["b", "missing", "a"])["vectors"]
    assert plain == [{"key": "b"}, {"key": "a"}]
    full = client.get_vectors(**WHERE, keys=["a"], returnData=True, returnMetadata=True)["vectors"][0]
    # Stored raw (not normalized), as float32 values
    assert full["data"]["float32"] == pytest.approx([1.0, 0.5, 0.25]) and full["metadata"] == {"genre": "x"}
    code, _, message = error_of(client.get_vectors, **WHERE, keys=[f"k{i}" for i in range(101)])
    assert code == "ValidationException" and "1 to 100" in message


def test_put_replaces_a_key_and_delete_removes_it(client: S3VectorsClient) -> None:
    make_index(client)
    client.put_vectors(**WHERE, vectors=[vector("a", [1.0, 0.0, 0.0], v=1)])
    client.put_vectors(**WHERE, vectors=[vector("a", [0.0, 1.0, 0.0], v=2)])
    got = client.get_vectors(**WHERE, keys=["a"], returnData=True, returnMetadata=True)["vectors"][0]
    assert got["metadata"] == {"v": 2} and got["data"]["float32"] == pytest.approx([0.0, 1.0, 0.0])
    client.delete_vectors(**WHERE, keys=["a", "never-there"])
    assert client.get_vectors(**WHERE, keys=["a"])["vectors"] == []
    assert client.query_vectors(**WHERE, topK=5, queryVector={"float32": [0.0, 1.0, 0.0]})["vectors"] == []


def test_list_vectors_pages_and_segments_cover_every_key_once(client: S3VectorsClient) -> None:
    make_index(client)
    keys = [f"key-{i:03d}" for i in range(37)]
    client.put_vectors(**WHERE, vectors=[vector(k, [1.0, float(i), 0.0]) for i, k in enumerate(keys)])
    paged: list[str] = []
    token: dict[str, str] = {}
    while True:
        page = client.list_vectors(**WHERE, maxResults=10, **token)
        paged += [v["key"] for v in page["vectors"]]
        if "nextToken" not in page:
            break
        token = {"nextToken": page["nextToken"]}
    assert paged == keys
    segmented = [
        v["key"]
        for s in range(3)
        for v in client.list_vectors(**WHERE, segmentCount=3, segmentIndex=s)["vectors"]
    ]
    assert sorted(segmented) == keys
    assert error_of(client.list_vectors, **WHERE, segmentCount=3, segmentIndex=3)[0] == "ValidationException"


def test_cosine_query_reports_one_minus_cosine_nearest_first(client: S3VectorsClient) -> None:
    rng = np.random.default_rng(7)
    data = rng.normal(size=(50, 8)).astype(np.float32)
    make_index(client, 8)
    client.put_vectors(**WHERE, vectors=[vector(f"v{i:02d}", row.tolist()) for i, row in enumerate(data)])
    query = rng.normal(size=8).astype(np.float32)
    found = client.query_vectors(
        **WHERE, topK=5, queryVector={"float32": query.tolist()}, returnDistance=True
    )
    assert found["distanceMetric"] == "cosine"
    cosine = data @ query / (np.linalg.norm(data, axis=1) * np.linalg.norm(query))
    expected = np.argsort(1 - cosine)[:5]
    assert [v["key"] for v in found["vectors"]] == [f"v{i:02d}" for i in expected]
    assert [v["distance"] for v in found["vectors"]] == pytest.approx(
        (1 - cosine[expected]).tolist(), abs=1e-5
    )


def test_euclidean_query_reports_the_plain_l2_distance(client: S3VectorsClient) -> None:
    make_index(client, 2, metric="euclidean")
    client.put_vectors(**WHERE, vectors=[vector("far", [3.0, 4.0]), vector("near", [1.0, 0.0])])
    found = client.query_vectors(**WHERE, topK=2, queryVector={"float32": [0.0, 0.0]}, returnDistance=True)
    assert [(v["key"], v["distance"]) for v in found["vectors"]] == [
        ("near", pytest.approx(1.0, abs=1e-6)),
        ("far", pytest.approx(5.0, abs=1e-6)),
    ]


def test_ties_are_broken_by_key(client: S3VectorsClient) -> None:
    make_index(client, 2)
    keys = ["d", "b", "e", "a", "c"]
    client.put_vectors(**WHERE, vectors=[vector(k, [2.0, 2.0]) for k in keys] + [vector("z", [-1.0, 0.0])])
    found = client.query_vectors(**WHERE, topK=3, queryVector={"float32": [1.0, 1.0]})
    assert [v["key"] for v in found["vectors"]] == ["a", "b", "c"]


def test_query_filters_and_returns_metadata_only_when_asked(client: S3VectorsClient) -> None:
    make_index(client, 2, metadataConfiguration={"nonFilterableMetadataKeys": ["text"]})
    client.put_vectors(
        **WHERE,
        vectors=[
            vector("a", [1.0, 0.0], genre=["drama", "comedy"], year=2020, text="A"),
            vector("b", [0.9, 0.1], genre="drama", year=2018, text="B"),
            vector("c", [0.0, 1.0], genre="news", year=2024),
        ],
    )
    query = {"float32": [1.0, 0.0]}
    found = client.query_vectors(
        **WHERE, topK=3, queryVector=query, filter={"genre": "comedy"}, returnMetadata=True
    )
    assert found["vectors"] == [
        {"key": "a", "metadata": {"genre": ["drama", "comedy"], "year": 2020, "text": "A"}}
    ]
    newer = client.query_vectors(**WHERE, topK=3, queryVector=query, filter={"year": {"$gte": 2020}})
    assert [v["key"] for v in newer["vectors"]] == ["a", "c"] and "metadata" not in newer["vectors"][0]
    code, _, message = error_of(
        client.query_vectors, **WHERE, topK=3, queryVector=query, filter={"text": "A"}
    )
    assert code == "ValidationException" and "non-filterable" in message


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"topK": 0}, "1 to 100"),
        ({"topK": 101}, "1 to 100"),
        ({"topK": 1, "queryVector": {"float32": [1.0]}}, "expects dimension 2"),
        ({"topK": 1, "queryVector": {"float32": [0.0, 0.0]}}, "zero vector"),
        ({"topK": 1, "filter": {"genre": {"$regex": "x"}}}, "unknown operator"),
        ({"topK": 1, "queryMode": "FAST"}, "CLASSIC, ENHANCED"),
        ({"topK": 1, "queryTexts": [{"metadataKey": "t", "text": "x"}]}, "not full-text searchable"),
        ({"topK": 1, "returnScores": "yes"}, "true or false"),
        ({"topK": 1, "nextToken": "abc"}, "not implemented"),
    ],
)
def test_query_refuses_bad_requests(client: S3VectorsClient, params: dict[str, Any], named: str) -> None:
    make_index(client, 2)
    client.put_vectors(**WHERE, vectors=[vector("a", [1.0, 0.0])])
    request = {"queryVector": {"float32": [1.0, 0.0]}, **params}
    code, status, message = error_of(client.query_vectors, **WHERE, **request)
    assert (code, status) == ("ValidationException", 400) and named in message


def test_starts_with_filters_enhanced_queries_and_is_refused_in_classic(client: S3VectorsClient) -> None:
    make_index(client, 2)
    client.put_vectors(
        **WHERE, vectors=[vector("a", [1.0, 0.0], path="docs/a"), vector("b", [0.0, 1.0], path="src/b")]
    )
    query = {"float32": [1.0, 0.0]}
    found = client.query_vectors(**WHERE, topK=2, queryVector=query, filter={"path": {"$startsWith": "src/"}})
    assert [v["key"] for v in found["vectors"]] == ["b"]
    code, _, message = error_of(
        client.query_vectors,
        **WHERE,
        topK=2,
        queryVector=query,
        queryMode="CLASSIC",
        filter={"path": {"$startsWith": "s"}},
    )
    assert code == "ValidationException" and "ENHANCED" in message


def test_both_query_modes_search_exactly(client: S3VectorsClient) -> None:
    make_index(client, 2)
    client.put_vectors(**WHERE, vectors=[vector("a", [1.0, 0.0]), vector("b", [0.0, 1.0])])
    for mode in ("CLASSIC", "ENHANCED"):
        found = client.query_vectors(**WHERE, topK=1, queryVector={"float32": [0.1, 1.0]}, queryMode=mode)
        assert [v["key"] for v in found["vectors"]] == ["b"]


def test_the_matrix_is_loaded_once_and_reloaded_after_a_write(emulator: InProcessEmulator) -> None:
    client = emulator.s3vectors_client()
    make_index(client, 2)
    client.put_vectors(**WHERE, vectors=[vector("a", [1.0, 0.0])])
    store = emulator.s3vectors.store
    index = store.index(BUCKET, INDEX)
    assert index is not None
    first = store.matrix(index)
    assert store.matrix(index) is first
    client.put_vectors(**WHERE, vectors=[vector("b", [0.0, 1.0])])
    reloaded = store.matrix(index)
    assert reloaded is not first and reloaded.keys == ["a", "b"]
    found = client.query_vectors(**WHERE, topK=1, queryVector={"float32": [0.0, 1.0]})
    assert [v["key"] for v in found["vectors"]] == ["b"]


def test_the_store_survives_a_restart(tmp_path: Path) -> None:
    first = InProcessEmulator(EmulatorOptions(data_dir=tmp_path))
    make_index(first.s3vectors_client(), 2)
    first.s3vectors_client().put_vectors(**WHERE, vectors=[vector("kept", [1.0, 2.0], tag="t")])
    first.close()
    again = InProcessEmulator(EmulatorOptions(data_dir=tmp_path))
    got = again.s3vectors_client().get_vectors(**WHERE, keys=["kept"], returnMetadata=True)["vectors"]
    again.close()
    assert got == [{"key": "kept", "metadata": {"tag": "t"}}]


def test_a_failed_write_leaves_the_index_unchanged(
    emulator: InProcessEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = emulator.s3vectors_client()
    make_index(client, 2)
    client.put_vectors(**WHERE, vectors=[vector("a", [1.0, 0.0])])
    store = emulator.s3vectors.store
    real = store.put_vectors

    def crash_after_insert(index: Any, rows: Any) -> None:
        with store.transaction() as db:
            db.execute("DELETE FROM vectors WHERE key = 'a'")
            raise OSError("disk went away")

    monkeypatch.setattr(store, "put_vectors", crash_after_insert)
    with pytest.raises(ClientError):
        client.put_vectors(**WHERE, vectors=[vector("b", [0.0, 1.0])])
    monkeypatch.setattr(store, "put_vectors", real)
    assert [v["key"] for v in client.list_vectors(**WHERE)["vectors"]] == ["a"]


def test_operations_the_emulator_does_not_serve_say_so(client: S3VectorsClient) -> None:
    code, status, message = error_of(client.update_index_mode, **WHERE, indexMode="CLASSIC")
    assert (code, status) == (
        "ValidationException",
        400,
    ) and "not implemented by the embedrock emulator" in message
    with pytest.raises(AttributeError):
        client.not_an_operation()


def test_the_data_dir_comes_from_the_flag_the_variable_or_the_state_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parser = argparse.ArgumentParser()
    EmulatorOptions.add_arguments(parser)
    flagged = EmulatorOptions.from_args(parser.parse_args(["--data-dir", str(tmp_path / "flag")]))
    assert flagged.data_dir == tmp_path / "flag"
    monkeypatch.setenv("EMBEDROCK_EMULATOR_DATA", str(tmp_path / "variable"))
    assert EmulatorOptions.from_args(parser.parse_args([])).data_dir == tmp_path / "variable"
    monkeypatch.delenv("EMBEDROCK_EMULATOR_DATA")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert default_data_dir() == tmp_path / "state" / "embedrock" / "emulator"
