"""Full-text and hybrid search in the emulator's S3 Vectors backend, through its in-process
boto3-shaped client: configurations and their statuses, BM25 on corpora small enough to check
by hand, reciprocal rank fusion, filters and the scores each mode returns."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from embedrock.vector_store import limits
from embedrock_local.runtime.emulator import EmulatorOptions, InProcessEmulator
from embedrock_local.runtime.emulator.inprocess import S3VectorsClient
from embedrock_local.runtime.emulator.s3vectors import backend as backend_module
from embedrock_local.runtime.emulator.s3vectors import text as text_module
from embedrock_local.runtime.emulator.s3vectors.ranking import RRF_K
from embedrock_local.runtime.emulator.s3vectors.text import K1, B

BUCKET, INDEX = "text-bucket", "text-index"
WHERE = {"vectorBucketName": BUCKET, "indexName": INDEX}
TEXT = "_text"


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[InProcessEmulator]:
    started = InProcessEmulator(EmulatorOptions(data_dir=tmp_path))
    yield started
    started.close()


@pytest.fixture
def client(emulator: InProcessEmulator) -> S3VectorsClient:
    return emulator.s3vectors_client()


def make_index(client: S3VectorsClient, *configurations: dict[str, str]) -> None:
    client.create_vector_bucket(vectorBucketName=BUCKET)
    client.create_index(
        **WHERE,
        dataType="float32",
        dimension=2,
        distanceMetric="cosine",
        metadataConfiguration={
            "nonFilterableMetadataKeys": [TEXT],
            "textSearchConfigurations": list(configurations or [{"metadataKey": TEXT, "language": "en"}]),
        },
    )


def put(
    client: S3VectorsClient,
    docs: dict[str, str],
    angles: dict[str, float] | None = None,
    **extra: dict[str, Any],
) -> None:
    """Documents by key with their text; `extra` adds metadata per document key."""
    client.put_vectors(
        **WHERE,
        vectors=[
            {
                "key": key,
                "data": {
                    "float32": [
                        math.cos((angles or {}).get(key, 0.5)),
                        math.sin((angles or {}).get(key, 0.5)),
                    ]
                },
                "metadata": {TEXT: text, **extra.get(key, {})},
            }
            for key, text in docs.items()
        ],
    )


def text_query(client: S3VectorsClient, text: str, top_k: int = 10, **params: Any) -> list[dict[str, Any]]:
    found = client.query_vectors(
        **WHERE, topK=top_k, queryTexts=[{"metadataKey": TEXT, "text": text}], **params
    )
    return list(found["vectors"])


def keys(results: list[dict[str, Any]]) -> list[str]:
    return [item["key"] for item in results]


def error_of(call: Any, **params: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def bm25(tf: int, df: int, docs: int, length: int, average: float) -> float:
    """Lucene's BM25 for one term, written out: what the emulator's library must compute."""
    idf = math.log(1 + (docs - df + 0.5) / (df + 0.5))
    return idf * tf / (tf + K1 * (1 - B + B * length / average))


# Configurations
def test_get_index_shows_searchable_keys_with_language_and_status(client: S3VectorsClient) -> None:
    make_index(client, {"metadataKey": TEXT, "language": "en"}, {"metadataKey": "title"})
    configuration = client.get_index(**WHERE)["index"]["metadataConfiguration"]
    assert configuration["nonFilterableMetadataKeys"] == [TEXT]
    assert configuration["textSearchConfigurations"] == [
        {"metadataKey": TEXT, "language": "en", "status": "ACTIVE"},
        {"metadataKey": "title", "status": "ACTIVE"},  # no language: the standard analyzer
    ]


@pytest.mark.parametrize(
    ("configurations", "named"),
    [
        ([{"metadataKey": f"k{i}"} for i in range(limits.TEXT_SEARCH_CONFIGURATIONS_MAX + 1)], "at most 10"),
        ([{"metadataKey": "t", "language": "klingon"}], "en, fr, es, pt, it, de, nl, zh, ja, ko"),
        ([{"metadataKey": "t"}, {"metadataKey": "t", "language": "fr"}], "more than once"),
        ([{"metadataKey": "t", "status": "ACTIVE"}], "status is read-only"),
        ([{"metadataKey": "k" * 64}], "1 to 63 characters"),
        ([{"language": "en"}], "metadataKey"),
    ],
)
def test_bad_text_search_configurations_are_refused(
    client: S3VectorsClient, configurations: list[dict[str, str]], named: str
) -> None:
    client.create_vector_bucket(vectorBucketName=BUCKET)
    code, message = error_of(
        client.create_index,
        **WHERE,
        dataType="float32",
        dimension=2,
        distanceMetric="cosine",
        metadataConfiguration={"textSearchConfigurations": configurations},
    )
    assert code == "ValidationException" and named in message


def test_an_added_key_is_building_until_backfilled_then_searchable(
    emulator: InProcessEmulator, client: S3VectorsClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_index(client)
    put(client, {"a": "solar panels", "b": "wind farms"}, a={"title": "Sun power"})
    emulator.s3vectors.text_backfill_seconds = 60.0
    client.update_metadata_configuration(
        **WHERE, add={"textSearchConfigurations": [{"metadataKey": "title", "language": "en"}]}
    )
    statuses = {
        c["metadataKey"]: c["status"]
        for c in client.get_index(**WHERE)["index"]["metadataConfiguration"]["textSearchConfigurations"]
    }
    assert statuses == {TEXT: "ACTIVE", "title": "BUILDING"}
    query = [{"metadataKey": "title", "text": "sun"}]
    code, message = error_of(client.query_vectors, **WHERE, topK=3, queryTexts=query)
    assert code == "ValidationException" and "BUILDING" in message
    # Once the backfill time has passed, the key is ACTIVE and answers queries
    later = backend_module.now() + 61
    monkeypatch.setattr(backend_module, "now", lambda: later)
    assert keys(client.query_vectors(**WHERE, topK=3, queryTexts=query)["vectors"]) == ["a"]
    # And deleting it makes it unsearchable again
    client.update_metadata_configuration(
        **WHERE, delete={"textSearchConfigurations": [{"metadataKey": "title"}]}
    )
    code, message = error_of(client.query_vectors, **WHERE, topK=3, queryTexts=query)
    assert code == "ValidationException" and f"searchable keys: {TEXT}" in message


def test_update_metadata_configuration_errors(client: S3VectorsClient) -> None:
    make_index(client)
    add = {"textSearchConfigurations": [{"metadataKey": TEXT}]}
    assert error_of(client.update_metadata_configuration, **WHERE, add=add)[0] == "ConflictException"
    both = error_of(client.update_metadata_configuration, **WHERE, add=add, delete=add)
    assert both[0] == "ValidationException" and "either add or delete" in both[1]
    neither = error_of(client.update_metadata_configuration, **WHERE)
    assert neither[0] == "ValidationException"
    unknown = error_of(
        client.update_metadata_configuration,
        **WHERE,
        delete={"textSearchConfigurations": [{"metadataKey": "x"}]},
    )
    assert unknown[0] == "ValidationException" and "not a full-text searchable key" in unknown[1]
    many = {
        "textSearchConfigurations": [
            {"metadataKey": f"k{i}"} for i in range(limits.TEXT_SEARCH_CONFIGURATIONS_MAX)
        ]
    }
    too_many = error_of(client.update_metadata_configuration, **WHERE, add=many)
    assert too_many[0] == "ValidationException" and "at most 10" in too_many[1]
    missing = error_of(
        client.update_metadata_configuration, vectorBucketName=BUCKET, indexName="no-index", add=add
    )
    assert missing[0] == "NotFoundException"


# BM25 ranking
def test_a_term_in_one_document_ranks_it_first_with_the_bm25_score_written_out(
    client: S3VectorsClient,
) -> None:
    make_index(client)
    # English analyzer: "the" and "a" are stopwords, so every document has 3 terms.
    put(client, {"a": "the quick brown fox", "b": "a lazy dog sleeps", "c": "quick quick dog"})
    found = text_query(client, "fox", returnScores=True)
    assert keys(found) == ["a"]
    [score] = found[0]["scores"]["bm25Scores"]
    assert score["metadataKey"] == TEXT
    assert score["score"] == pytest.approx(bm25(tf=1, df=1, docs=3, length=3, average=3.0), rel=1e-4)
    # And a term twice in a document outranks it once in a document of the same length
    assert keys(text_query(client, "quick")) == ["c", "a"]


def test_shorter_documents_rank_higher_for_the_same_term_count(client: S3VectorsClient) -> None:
    make_index(client)
    put(client, {"long": "cat dog bird fish lion", "short": "cat dog", "other": "bird"})
    found = text_query(client, "cat", returnScores=True)
    assert keys(found) == ["short", "long"]
    average = (5 + 2 + 1) / 3
    expected = [bm25(1, 2, 3, 2, average), bm25(1, 2, 3, 5, average)]
    assert [r["scores"]["bm25Scores"][0]["score"] for r in found] == pytest.approx(expected, rel=1e-4)


def test_the_language_analyzer_stems_and_the_standard_one_does_not(client: S3VectorsClient) -> None:
    make_index(client, {"metadataKey": TEXT, "language": "en"}, {"metadataKey": "plain"})
    put(client, {"a": "she was running", "b": "he sat"}, a={"plain": "she was running"})
    assert keys(text_query(client, "run")) == ["a"]
    plain = client.query_vectors(**WHERE, topK=5, queryTexts=[{"metadataKey": "plain", "text": "run"}])
    assert plain["vectors"] == []
    exact = client.query_vectors(**WHERE, topK=5, queryTexts=[{"metadataKey": "plain", "text": "RUNNING"}])
    assert keys(exact["vectors"]) == ["a"]  # lowercased


def test_chinese_text_is_searched_by_character(client: S3VectorsClient) -> None:
    make_index(client, {"metadataKey": TEXT, "language": "zh"})
    put(client, {"fruit": "我喜欢吃苹果", "tea": "他喝绿茶"})
    assert keys(text_query(client, "苹果")) == ["fruit"]


def test_several_keys_rank_by_their_summed_bm25(client: S3VectorsClient) -> None:
    make_index(client, {"metadataKey": TEXT, "language": "en"}, {"metadataKey": "title", "language": "en"})
    put(
        client,
        {"both": "storm warning", "body": "storm", "none": "sunny"},
        both={"title": "storm"},
        body={"title": "calm"},
        none={"title": "calm"},
    )
    found = client.query_vectors(
        **WHERE,
        topK=5,
        queryTexts=[{"metadataKey": TEXT, "text": "storm"}, {"metadataKey": "title", "text": "storm"}],
        returnScores=True,
    )["vectors"]
    assert keys(found) == ["both", "body"]
    assert [s["metadataKey"] for s in found[0]["scores"]["bm25Scores"]] == [TEXT, "title"]
    assert [s["metadataKey"] for s in found[1]["scores"]["bm25Scores"]] == [TEXT]  # only keys it matched


def test_filters_apply_to_full_text_search(client: S3VectorsClient) -> None:
    make_index(client)
    put(
        client,
        {"a": "rust compiler", "b": "rust compiler errors", "c": "python"},
        a={"lang": "en"},
        b={"lang": "de"},
        c={"lang": "en"},
    )
    assert keys(text_query(client, "compiler")) == ["a", "b"]
    assert keys(text_query(client, "compiler", filter={"lang": "de"})) == ["b"]
    assert text_query(client, "compiler", filter={"lang": "fr"}) == []


# Hybrid
def hybrid_corpus(client: S3VectorsClient) -> None:
    # Vector ranking for the query [1, 0]: d1, d2, d3, d4 (angles grow). Text ranking for
    # "banana": d3 (twice) then d4 (once, longer); d1 and d2 do not match.
    make_index(client)
    put(
        client,
        {"d1": "apple", "d2": "cherry", "d3": "banana banana", "d4": "banana split with cream"},
        angles={"d1": 0.0, "d2": 0.3, "d3": 0.6, "d4": 0.9},
        d1={"shelf": 1},
        d2={"shelf": 2},
        d3={"shelf": 1},
        d4={"shelf": 2},
    )


def hybrid(client: S3VectorsClient, top_k: int, **params: Any) -> list[dict[str, Any]]:
    found = client.query_vectors(
        **WHERE,
        topK=top_k,
        queryVector={"float32": [1.0, 0.0]},
        queryTexts=[{"metadataKey": TEXT, "text": "banana"}],
        returnScores=True,
        returnDistance=True,
        **params,
    )
    return list(found["vectors"])


def rrf(*ranks: int) -> float:
    return sum(1 / (RRF_K + rank) for rank in ranks)


def test_hybrid_fuses_the_rankings_by_reciprocal_rank(client: S3VectorsClient) -> None:
    hybrid_corpus(client)
    found = hybrid(client, 4)
    # d3: vector 3rd, text 1st; d4: vector 4th, text 2nd; d1: vector 1st; d2: vector 2nd.
    expected = {"d3": rrf(3, 1), "d4": rrf(4, 2), "d1": rrf(1), "d2": rrf(2)}
    assert keys(found) == sorted(expected, key=lambda k: -expected[k]) == ["d3", "d4", "d1", "d2"]
    assert [r["scores"]["fused"] for r in found] == pytest.approx(
        [expected[k] for k in keys(found)], rel=1e-6
    )
    distances = [1 - math.cos(a) for a in (0.6, 0.9, 0.0, 0.3)]
    assert [r["scores"]["vectorDistance"] for r in found] == pytest.approx(distances, abs=1e-5)
    assert [r["distance"] for r in found] == pytest.approx(distances, abs=1e-5)
    assert ["bm25Scores" in r["scores"] for r in found] == [True, True, False, False]


def test_hybrid_fuses_each_ranking_s_top_k_and_reports_vector_distance_only_for_its_matches(
    client: S3VectorsClient,
) -> None:
    hybrid_corpus(client)
    found = hybrid(client, 2)
    # Vector top 2: d1, d2; text top 2: d3, d4. d1 and d3 tie at 1/61: the smaller key first.
    assert keys(found) == ["d1", "d3"]
    assert [r["scores"]["fused"] for r in found] == pytest.approx([rrf(1), rrf(1)], rel=1e-6)
    assert "vectorDistance" in found[0]["scores"] and "distance" in found[0]
    assert "vectorDistance" not in found[1]["scores"] and "distance" not in found[1]


def test_filters_apply_to_both_sides_of_a_hybrid_search(client: S3VectorsClient) -> None:
    hybrid_corpus(client)
    found = hybrid(client, 4, filter={"shelf": 2})
    # Vector ranking within shelf 2: d2, d4; text: d4.
    assert keys(found) == ["d4", "d2"]
    assert [r["scores"]["fused"] for r in found] == pytest.approx([rrf(2, 1), rrf(1)], rel=1e-6)


def test_return_scores_shapes_per_mode(client: S3VectorsClient) -> None:
    hybrid_corpus(client)
    text_only = text_query(client, "banana", returnScores=True, returnDistance=True, returnMetadata=True)
    assert set(text_only[0]) == {"key", "metadata", "scores"}  # no distance without a query vector
    assert set(text_only[0]["scores"]) == {"bm25Scores"}
    vector_only = client.query_vectors(
        **WHERE, topK=2, queryVector={"float32": [1.0, 0.0]}, returnScores=True
    )
    assert all(
        "scores" not in r for r in vector_only["vectors"]
    )  # returnScores adds nothing to vector search
    without = text_query(client, "banana")
    assert set(without[0]) == {"key"}


# Requests
@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({}, "queryVector, queryTexts, or both"),
        ({"queryTexts": []}, "1 to 10"),
        ({"queryTexts": [{"metadataKey": TEXT, "text": f"t{i}"} for i in range(11)]}, "1 to 10"),
        ({"queryTexts": [{"metadataKey": TEXT, "text": ""}]}, "1 to 1024"),
        ({"queryTexts": [{"metadataKey": TEXT, "text": "x" * 1025}]}, "1 to 1024"),
        ({"queryTexts": [{"metadataKey": TEXT}]}, "metadataKey and text"),
        (
            {"queryTexts": [{"metadataKey": TEXT, "text": "a"}, {"metadataKey": TEXT, "text": "b"}]},
            "more than once",
        ),
        ({"queryTexts": [{"metadataKey": "genre", "text": "a"}]}, "not full-text searchable"),
    ],
)
def test_bad_text_queries_are_refused(client: S3VectorsClient, params: dict[str, Any], named: str) -> None:
    make_index(client)
    put(client, {"a": "words"})
    code, message = error_of(client.query_vectors, **WHERE, topK=3, **params)
    assert code == "ValidationException" and named in message


def test_bm25_models_are_built_once_and_rebuilt_after_a_write(
    client: S3VectorsClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_index(client)
    put(client, {"a": "alpha beta", "b": "beta gamma"})
    builds: list[int] = []
    real = text_module.TextModel.__init__

    def counting(self: text_module.TextModel, texts: Any, language: str | None) -> None:
        builds.append(len(texts))
        real(self, texts, language)

    monkeypatch.setattr(text_module.TextModel, "__init__", counting)
    assert keys(text_query(client, "beta")) == ["a", "b"]
    assert keys(text_query(client, "gamma")) == ["b"]
    assert builds == [2]  # one build for two queries
    put(client, {"c": "gamma gamma"})
    assert keys(text_query(client, "gamma")) == ["c", "b"]
    assert builds == [2, 3]
