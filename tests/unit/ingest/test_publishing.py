"""Publishing: the manifest records the output it published, a re-run checks it, the work area is pruned."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

import numpy as np
import pytest

from embedrock import wiring
from embedrock.cache import EmbeddingCache
from embedrock.ingest import messages, publishing
from tests.conftest import ROOT
from tests.fakes import FakeBedrockRuntime
from tests.fixtures.ingest.harness import BUCKET, CACHE_TABLE, IngestAws, create_cache_table, ingest_aws

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

DOCS = (ROOT / "tests" / "fixtures" / "ingest" / "docs.jsonl").read_bytes()
OUTPUT = "output/docs.jsonl.jsonl"


@pytest.fixture
def chunked(bedrock: FakeBedrockRuntime) -> Iterator[IngestAws]:
    with ingest_aws({"EMBEDROCK_INGEST_CHUNK_LINES": "1"}) as environment:
        yield environment


def assert_same_rows(rebuilt: bytes, original: bytes) -> None:
    """Same rows in the same order; vectors within float tolerance (they were computed again)."""
    before, after = ([json.loads(line) for line in raw.splitlines()] for raw in (original, rebuilt))
    assert [{**row, "embedding": None} for row in after] == [{**row, "embedding": None} for row in before]
    for old, new in zip(before, after, strict=True):
        np.testing.assert_allclose(new["embedding"], old["embedding"], rtol=1e-6)


def published(aws: IngestAws) -> tuple[bytes, dict[str, object]]:
    aws.upload("input/docs.jsonl", DOCS)
    aws.deliver()
    return aws.get(OUTPUT), aws.manifest("docs.jsonl")


def test_the_manifest_records_the_output_and_the_work_area_keeps_only_plan_and_results(
    chunked: IngestAws,
) -> None:
    # When a three-line file is published in three chunks
    output, manifest = published(chunked)
    # Then the manifest holds the output's size and sha256
    assert manifest["output"] == OUTPUT
    assert manifest["output_bytes"] == len(output) > 0
    assert manifest["output_sha256"] == hashlib.sha256(output).hexdigest()
    # And the work area holds only the plan, the chunk results and the pruning marker
    run = f"work/{manifest['run_id']}/"
    assert sorted(key.removeprefix(run) for key in chunked.keys("work/")) == [
        "plan.json",
        "pruned.json",
        "results/000000.json",
        "results/000001.json",
        "results/000002.json",
    ]


@pytest.mark.parametrize("damage", ["truncated", "deleted", "edited"])
def test_a_damaged_output_is_rebuilt_on_the_next_run_not_trusted(
    aws: IngestAws, bedrock: FakeBedrockRuntime, damage: str
) -> None:
    # Given a published file whose output was then damaged
    output, _ = published(aws)
    calls = len(bedrock.calls)
    if damage == "deleted":
        aws.s3.delete_object(Bucket=BUCKET, Key=OUTPUT)
    else:
        aws.upload(
            OUTPUT, output[: len(output) // 2] if damage == "truncated" else output.replace(b"a1", b"b1")
        )
    # When the same file is uploaded again
    aws.upload("input/docs.jsonl", DOCS)
    responses = aws.deliver()
    # Then the output is rebuilt, and the manifest records the new one
    assert all(response["batchItemFailures"] == [] for response in responses)
    assert_same_rows(aws.get(OUTPUT), output)
    rebuilt = aws.manifest("docs.jsonl")
    assert rebuilt["output_bytes"] == len(aws.get(OUTPUT))
    assert rebuilt["output_sha256"] == hashlib.sha256(aws.get(OUTPUT)).hexdigest()
    # And, the work area having been pruned, by embedding the file again (once)
    assert len(bedrock.calls) == 2 * calls
    assert rebuilt["counts"]["bedrock_calls"] == calls
    # And a run after that trusts the verified output: no call
    aws.upload("input/docs.jsonl", DOCS)
    aws.deliver()
    assert len(bedrock.calls) == 2 * calls


def test_a_damaged_output_is_rebuilt_from_the_work_area_without_a_call_when_it_holds_it(
    aws: IngestAws, bedrock: FakeBedrockRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a file published by a run stopped before pruning its work area, then the output truncated
    with monkeypatch.context() as patched:
        patched.setattr(publishing, "prune", lambda store, keys: None)
        output, _ = published(aws)
    calls = len(bedrock.calls)
    aws.upload(OUTPUT, b"")
    # When the same file is uploaded again
    aws.upload("input/docs.jsonl", DOCS)
    aws.deliver()
    # Then the output comes back from the chunks' outputs (a copy, byte for byte), without any
    # Bedrock call, and the work area is pruned now
    assert aws.get(OUTPUT) == output
    assert len(bedrock.calls) == calls
    run = aws.manifest("docs.jsonl")["run_id"]
    assert f"work/{run}/pruned.json" in aws.keys("work/")


def test_a_rebuild_with_the_cache_on_pays_for_nothing(bedrock: FakeBedrockRuntime) -> None:
    with ingest_aws() as aws:
        wiring.override(cache=EmbeddingCache(create_cache_table(), CACHE_TABLE, ttl_days=30))
        output, _ = published(aws)
        calls = len(bedrock.calls)
        aws.s3.delete_object(Bucket=BUCKET, Key=OUTPUT)
        aws.upload("input/docs.jsonl", DOCS)
        aws.deliver()
        assert_same_rows(aws.get(OUTPUT), output)  # with the cache's float32 vectors
        assert len(bedrock.calls) == calls
        assert aws.manifest("docs.jsonl")["counts"]["cache_hits"] == 3


def test_a_late_chunk_message_of_a_published_run_changes_nothing(
    chunked: IngestAws, bedrock: FakeBedrockRuntime
) -> None:
    # Given a published run (its chunk data pruned)
    output, manifest = published(chunked)
    calls = len(bedrock.calls)
    # When one of its chunk messages is delivered again
    chunked.send(json.loads(messages.chunk_message(BUCKET, str(manifest["run_id"]), 1)))
    responses = chunked.deliver()
    # Then it succeeds without a call, and the output and manifest stand
    assert all(response["batchItemFailures"] == [] for response in responses)
    assert len(bedrock.calls) == calls
    assert chunked.get(OUTPUT) == output
    assert chunked.manifest("docs.jsonl") == manifest
