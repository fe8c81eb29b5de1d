"""The ingest Lambda filling a collection: S3 upload → SQS → handler, as deployed (moto for S3 and
SQS, the S3 Vectors adapter over the in-process emulator for the collection)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from embedrock import settings, wiring
from embedrock.vector_store.model import Collection
from embedrock.vector_store.s3vectors import S3VectorsStore
from tests.fakes import FakeBedrockRuntime
from tests.fixtures.ingest.harness import BATCH_ROLE_ARN, FakeBedrockBatch, IngestAws, ingest_aws

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

TITAN_V2 = "amazon.titan-embed-text-v2:0"


@pytest.fixture
def lambda_aws(bedrock: FakeBedrockRuntime, vector_store: S3VectorsStore) -> Iterator[IngestAws]:
    """The ingestion bucket and queues, with the stack's EMBEDROCK_VECTOR_BUCKET set."""
    wiring.override(settings=settings.load({"EMBEDROCK_VECTOR_BUCKET": vector_store.bucket}))
    with ingest_aws() as environment:
        yield environment


def emf(output: str, name: str) -> list[Any]:
    records = [json.loads(line) for line in output.splitlines() if line.startswith("{") and '"_aws"' in line]
    return [record[name] for record in records if name in record]


def test_an_uploaded_file_naming_a_collection_fills_it_and_counts_the_upserts(
    lambda_aws: IngestAws, vector_store: S3VectorsStore, capsys: pytest.CaptureFixture[str]
) -> None:
    vector_store.create(Collection(name="notes", model=TITAN_V2, dimensions=512, metric="cosine"))
    lines = [{"id": f"n{i}", "text": f"note number {i}", "metadata": {"n": i}} for i in range(3)]
    # When a file is uploaded with the collection in its object metadata
    lambda_aws.upload(
        "input/notes.jsonl", "".join(json.dumps(line) + "\n" for line in lines), {"collection": "notes"}
    )
    lambda_aws.deliver()
    # Then its manifest counts the upserts and the collection holds the documents
    manifest = lambda_aws.manifest("notes.jsonl")
    assert manifest["status"] == "complete"
    assert (manifest["collection"], manifest["upserted"], manifest["dimensions"]) == ("notes", 3, 512)
    found = vector_store.get("notes", ["n0", "n1", "n2"])
    assert [(d.id, d.text, dict(d.metadata)) for d in found] == [
        (f"n{i}", f"note number {i}", {"n": i}) for i in range(3)
    ]
    # And the function publishes the documents upserted and the write calls
    output = capsys.readouterr().out
    assert emf(output, "DocumentsUpserted") == [[3.0]]
    assert emf(output, "VectorWriteCalls") == [[1.0]]


def test_a_file_embedded_by_batch_inference_fills_the_collection_too(
    bedrock: FakeBedrockRuntime, vector_store: S3VectorsStore
) -> None:
    # Given batch inference on (200 records a job, chunks of 100) and a 250-line file naming a collection
    wiring.override(settings=settings.load({"EMBEDROCK_VECTOR_BUCKET": vector_store.bucket}))
    batch_environment = {
        "EMBEDROCK_BATCH_ROLE_ARN": BATCH_ROLE_ARN,
        "EMBEDROCK_BATCH_MIN_LINES": "100",
        "EMBEDROCK_BATCH_MAX_RECORDS": "200",
        "EMBEDROCK_INGEST_CHUNK_LINES": "100",
    }
    vector_store.create(Collection(name="big", model=TITAN_V2, dimensions=1024, metric="cosine"))
    with ingest_aws(batch_environment) as aws:
        control = FakeBedrockBatch(aws.s3)
        wiring.override(control=control)
        aws.upload("input/big.txt", "".join(f"text {i}\n" for i in range(1, 251)), {"collection": "big"})
        aws.deliver()
        (arn,) = control.jobs
        # When the job completes (its first 200 lines) and the rest ran on demand
        aws.send(control.run(arn))
        aws.deliver()
        manifest = aws.manifest("big.txt")
    # Then every line is in the collection, whichever way it was embedded
    assert (manifest["status"], manifest["mode"], manifest["upserted"]) == ("complete", "batch", 250)
    ids = [str(i) for i in range(1, 251)]
    assert [d.id for d in vector_store.get("big", ids)] == ids
