"""The DynamoDB embeddings cache (moto): keys, storage, the API's hook, the pipeline's use."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import numpy as np
import pytest
from moto import mock_aws

from embedrock import catalog, settings, wiring
from embedrock.cache import EmbeddingCache, cache_key
from embedrock.embed_spec import resolve_spec
from embedrock.handlers import embeddings
from tests.events import LambdaContext, api_event, response_json
from tests.fakes import FakeBedrockRuntime
from tests.fixtures.ingest.harness import CACHE_TABLE, IngestAws, create_cache_table, ingest_aws

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

TITAN_V2 = "amazon.titan-embed-text-v2:0"
COHERE = "cohere.embed-english-v3"


@pytest.fixture
def cache(bedrock: FakeBedrockRuntime) -> Iterator[EmbeddingCache]:
    """The handlers' cache, on a moto table."""
    with mock_aws():
        cache = EmbeddingCache(create_cache_table(), CACHE_TABLE, ttl_days=30)
        wiring.override(cache=cache)
        yield cache


def post(body: dict[str, Any]) -> dict[str, Any]:
    response = embeddings.handler(api_event("POST", "/embeddings", body), LambdaContext())
    assert response["statusCode"] == 200, response["body"]
    result: dict[str, Any] = response_json(response)
    return result


def cache_hits_metrics(stdout: str) -> list[float]:
    """CacheHits of each EMF record Powertools printed."""
    records = [json.loads(line) for line in stdout.splitlines() if '"CacheHits"' in line]
    return [value for record in records for value in np.ravel(record["CacheHits"])]


def test_the_key_changes_with_every_setting_and_the_text() -> None:
    # Given one text and a spec
    base = resolve_spec(model_id=TITAN_V2, dimensions=512)
    variants = [
        resolve_spec(model_id=TITAN_V2, dimensions=256),
        resolve_spec(model_id=TITAN_V2, dimensions=512, normalize=False),
        resolve_spec(model_id=TITAN_V2, dimensions=512, embedding_type="binary"),
        resolve_spec(model_id="amazon.titan-embed-text-v1"),
    ]
    # Then every setting that changes the vector changes the key, and so does the text
    keys = {cache_key(spec, "hello") for spec in [base, *variants]} | {cache_key(base, "hello!")}
    assert len(keys) == 6
    assert cache_key(base, "hello") == cache_key(resolve_spec(model_id=TITAN_V2, dimensions=512), "hello")
    cohere = [resolve_spec(model_id=COHERE, input_type=kind) for kind in ("search_query", "search_document")]
    assert cache_key(cohere[0], "q") != cache_key(cohere[1], "q")


def test_stored_vectors_come_back_as_float32_values_with_a_ttl(cache: EmbeddingCache) -> None:
    # Given a vector stored for a text
    spec = resolve_spec(model_id=TITAN_V2, dimensions=256)
    vector = np.random.default_rng(1).standard_normal((1, 256))
    cache.store(spec, ["hello"], vector)
    # When the text and another are looked up
    found = cache.lookup(spec, ["missing", "hello", "hello"])
    # Then the stored one is found (for both occurrences), the same float32 values
    assert set(found) == {1, 2}
    np.testing.assert_array_equal(found[1].astype(np.float32), vector[0].astype(np.float32))
    # And the item expires in 30 days, and holds no text
    (item,) = boto3.client("dynamodb", region_name="us-east-1").scan(TableName=CACHE_TABLE)["Items"]
    assert int(item["expires_at"]["N"]) == pytest.approx(time.time() + 30 * 86400, abs=60)
    assert set(item) == {"pk", "v", "expires_at"}
    assert len(item["v"]["B"]) == 256 * 4


def test_integer_embedding_types_round_trip_exactly(cache: EmbeddingCache) -> None:
    spec = resolve_spec(model_id=COHERE, embedding_type="int8")
    vector = np.arange(-50, 50, dtype=np.int8).reshape(1, 100)
    cache.store(spec, ["t"], vector)
    np.testing.assert_array_equal(cache.lookup(spec, ["t"])[0], vector[0])


def test_the_api_pays_for_a_text_once(
    cache: EmbeddingCache, bedrock: FakeBedrockRuntime, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given two texts embedded through the API
    first = post({"texts": ["alpha", "beta"], "dimensions": 256})
    assert len(bedrock.calls) == 2
    # When the same texts and a new one are asked for again
    second = post({"texts": ["beta", "gamma", "alpha"], "dimensions": 256})
    # Then only the new text goes to Bedrock, and the vectors come back in request order
    assert [body["inputText"] for _, body in bedrock.calls[2:]] == ["gamma"]
    np.testing.assert_allclose(second["embeddings"][0], first["embeddings"][1], rtol=1e-6)
    np.testing.assert_allclose(second["embeddings"][2], first["embeddings"][0], rtol=1e-6)
    # And only its tokens are billed: the cache hits cost nothing
    titan_v2 = catalog.find("amazon.titan-embed-text-v2:0")
    assert titan_v2 is not None
    price = titan_v2.price_per_million_tokens / 1e6
    assert second["usage"] == {"input_tokens": 1, "requests": 1, "cost_usd": pytest.approx(1 * price)}
    # And the cache hits are in the metrics
    assert cache_hits_metrics(capsys.readouterr().out) == [0, 2]


def test_a_fully_cached_request_calls_bedrock_not_at_all(
    cache: EmbeddingCache, bedrock: FakeBedrockRuntime
) -> None:
    post({"text": "alpha"})
    calls = len(bedrock.calls)
    again = post({"text": "alpha"})
    assert len(bedrock.calls) == calls
    assert again["usage"] == {"input_tokens": 0, "requests": 0, "cost_usd": 0.0}
    assert np.linalg.norm(again["embeddings"][0]) == pytest.approx(1.0, abs=1e-6)


def test_a_cache_failure_is_a_miss_not_an_error(bedrock: FakeBedrockRuntime) -> None:
    # Given a cache whose table does not exist
    with mock_aws():
        create_cache_table("another-table")
        wiring.override(
            cache=EmbeddingCache(boto3.client("dynamodb", region_name="us-east-1"), "missing", ttl_days=1)
        )
        # When a request is made, Then it succeeds through Bedrock
        assert len(post({"text": "alpha"})["embeddings"]) == 1
        assert len(bedrock.calls) == 1


class _Unprocessing:
    """A DynamoDB client that leaves half of each request unprocessed the first time."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.items: dict[str, dict[str, Any]] = {}

    def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803
        self.calls.append("write")
        (requests,) = RequestItems.values()
        done, rest = requests[: len(requests) // 2 or 1], requests[len(requests) // 2 or 1 :]
        for request in done:
            item = request["PutRequest"]["Item"]
            self.items[item["pk"]["S"]] = item
        return {"UnprocessedItems": {"t": rest} if rest else {}}

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803
        self.calls.append("get")
        ((table, request),) = RequestItems.items()
        keys = [key["pk"]["S"] for key in request["Keys"]]
        found = [self.items[key] for key in keys[:1] if key in self.items]
        rest = keys[1:]
        return {
            "Responses": {table: found},
            "UnprocessedKeys": {table: {"Keys": [{"pk": {"S": key}} for key in rest]}} if rest else {},
        }


def test_unprocessed_items_and_keys_are_retried() -> None:
    # Given a client that processes part of every batch
    client = _Unprocessing()
    cache = EmbeddingCache(client, "t", ttl_days=1)
    spec = resolve_spec(model_id=TITAN_V2, dimensions=256)
    vectors = np.ones((3, 256))
    # When three vectors are stored and looked up
    cache.store(spec, ["a", "b", "c"], vectors)
    found = cache.lookup(spec, ["a", "b", "c"])
    # Then the unprocessed remainder was sent again until everything was done
    assert len(client.items) == 3 and set(found) == {0, 1, 2}
    assert client.calls.count("write") >= 2 and client.calls.count("get") == 3


@pytest.fixture
def cached_pipeline(bedrock: FakeBedrockRuntime) -> Iterator[IngestAws]:
    with ingest_aws() as aws:
        wiring.override(cache=EmbeddingCache(create_cache_table(), CACHE_TABLE, ttl_days=30))
        yield aws


def test_the_pipeline_pays_once_for_texts_seen_in_another_file(
    cached_pipeline: IngestAws, bedrock: FakeBedrockRuntime, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a file embedded with the cache on
    aws = cached_pipeline
    aws.upload("input/first.txt", "one\ntwo\nthree\n")
    aws.deliver()
    calls = len(bedrock.calls)
    # When another file holds two of those texts and a new one
    aws.upload("input/second.txt", "three\nfour\none\n")
    aws.deliver()
    # Then only the new text is sent, and the manifest and metrics show two cache hits
    assert [body["inputText"] for _, body in bedrock.calls[calls:]] == ["four"]
    manifest = aws.manifest("second.txt")
    assert manifest["counts"]["cache_hits"] == 2 and manifest["counts"]["embedded"] == 3
    assert manifest["input_tokens"] == 1
    first, second = aws.output("first.txt"), aws.output("second.txt")
    np.testing.assert_allclose(second[2]["embedding"], first[0]["embedding"], rtol=1e-6)
    assert cache_hits_metrics(capsys.readouterr().out)[-1] == 2


def test_the_cache_is_on_only_when_a_table_is_named(bedrock: FakeBedrockRuntime) -> None:
    # Given settings without, then with, EMBEDROCK_CACHE_TABLE
    wiring.override(settings=settings.load({}))
    assert wiring.cache() is None
    wiring.override(settings=settings.load({"EMBEDROCK_CACHE_TABLE": "embedrock-cache"}))
    # Then the cache exists only in the second case
    assert isinstance(wiring.cache(), EmbeddingCache)
