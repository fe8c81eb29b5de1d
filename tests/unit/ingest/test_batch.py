"""Bedrock batch inference for large files: job planning, record format, output parsing, and the
whole path through the handler (moto S3/SQS, a fake batch control plane, EventBridge events)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import numpy as np
import pytest

from embedrock import catalog, wiring
from embedrock.bedrock.batch_jobs import Job, parse_output_line, record
from embedrock.bedrock.batch_limits import MIN_RECORDS
from embedrock.embed_input import EmbedInput, ImageData
from embedrock.embed_spec import resolve_spec
from embedrock.ingest.batch_inference import BatchPolicy, plan_jobs, record_id
from embedrock.ingest.documents import ChunkPlan
from tests.fakes import FakeBedrockRuntime, client_error, fake_vector
from tests.fixtures.images import data_uri, png
from tests.fixtures.ingest.harness import BATCH_ROLE_ARN, FakeBedrockBatch, IngestAws, ingest_aws

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

TITAN_V2 = "amazon.titan-embed-text-v2:0"
TITAN = catalog.find(TITAN_V2)
COHERE = catalog.find("cohere.embed-english-v3")
POLICY = BatchPolicy(min_lines=100, max_records=200)


def chunks(*sizes: int) -> list[ChunkPlan]:
    return [ChunkPlan(n=n, records=size, first_line=1, last_line=size) for n, size in enumerate(sizes)]


def test_jobs_group_whole_chunks_up_to_the_record_limit() -> None:
    # Given chunks of 100, 100, 100 and 60 records and jobs of at most 200
    jobs = plan_jobs(chunks(100, 100, 100, 60), TITAN, POLICY)  # type: ignore[arg-type]
    # Then consecutive chunks fill each job without passing the limit
    assert [(job.chunks, job.records) for job in jobs] == [([0, 1], 200), ([2, 3], 160)]


def test_a_remainder_under_bedrocks_minimum_stays_on_demand() -> None:
    jobs = plan_jobs(chunks(100, 100, 50), TITAN, POLICY)  # type: ignore[arg-type]
    assert [(job.chunks, job.records) for job in jobs] == [([0, 1], 200)]
    assert MIN_RECORDS == 100


@pytest.mark.parametrize(
    ("model", "sizes", "policy"),
    [
        (COHERE, (100, 100), POLICY),  # Cohere v3 has no batch inference on Bedrock
        (TITAN, (60, 30), POLICY),  # under the file threshold
        (TITAN, (100, 100), None),  # batch inference not configured
    ],
)
def test_no_jobs_when_the_model_the_size_or_the_setup_does_not_allow(
    model: catalog.CatalogModel, sizes: tuple[int, ...], policy: BatchPolicy | None
) -> None:
    assert plan_jobs(chunks(*sizes), model, policy) == []


def test_a_record_is_the_invoke_model_body_under_an_eleven_character_id() -> None:
    # Given Titan V2 at 256 dimensions
    spec = resolve_spec(model_id=TITAN_V2, dimensions=256)
    # When a text becomes a batch record
    line = record(spec, record_id(3, 41), "hello")
    # Then it is {"recordId", "modelInput"} with exactly the body InvokeModel would get
    assert line == {
        "recordId": "00003000041",
        "modelInput": {"inputText": "hello", "dimensions": 256, "normalize": True},
    }
    assert len(line["recordId"]) == 11


def test_output_lines_give_vectors_tokens_or_the_error() -> None:
    spec = resolve_spec(model_id=TITAN_V2, dimensions=256)
    vector = [0.5] * 256
    good = {
        "recordId": "00000000001",
        "modelInput": {},
        "modelOutput": {"embedding": vector, "inputTextTokenCount": 7},
    }
    failed = {
        "recordId": "00000000002",
        "modelInput": {},
        "error": {"errorCode": 400, "errorMessage": "Too many tokens"},
    }
    malformed = {"recordId": "00000000003", "modelInput": {}, "modelOutput": {"embedding": [1.0]}}
    parsed = [parse_output_line(spec, json.dumps(line)) for line in (good, failed, malformed)]
    assert parsed[0].vector is not None and parsed[0].tokens == 7
    np.testing.assert_allclose(parsed[0].vector, vector)
    assert (parsed[1].vector, parsed[1].error) == (None, "Too many tokens")
    assert parsed[2].vector is None and "vectors of shape" in (parsed[2].error or "")


def test_the_output_file_is_under_the_job_id_named_after_the_input() -> None:
    job = Job(
        arn="arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/abc123def456",
        status="Completed",
        message="",
        input_uri="s3://bucket/work/run/batch/0000/records.jsonl",
        output_uri="s3://bucket/work/run/batch/0000/output/",
    )
    assert job.output_file_uri() == "s3://bucket/work/run/batch/0000/output/abc123def456/records.jsonl.out"


# --- through the handler ---------------------------------------------------------------------

BATCH_ENVIRONMENT = {
    "EMBEDROCK_BATCH_ROLE_ARN": BATCH_ROLE_ARN,
    "EMBEDROCK_BATCH_MIN_LINES": "100",
    "EMBEDROCK_BATCH_MAX_RECORDS": "200",
    "EMBEDROCK_INGEST_CHUNK_LINES": "100",
}
TEXTS = [f"text {i}" for i in range(1, 251)]  # 250 lines: one job of chunks 0-1, chunk 2 on demand


@pytest.fixture
def batch(bedrock: FakeBedrockRuntime) -> Iterator[tuple[IngestAws, FakeBedrockBatch]]:
    with ingest_aws(BATCH_ENVIRONMENT) as aws:
        control = FakeBedrockBatch(aws.s3)
        wiring.override(control=control)
        yield aws, control


def upload_big(aws: IngestAws) -> None:
    aws.upload("input/big.txt", "".join(text + "\n" for text in TEXTS))


def submit_big(batch: tuple[IngestAws, FakeBedrockBatch]) -> tuple[IngestAws, FakeBedrockBatch, str]:
    """The 250-line file uploaded and processed: the pieces, and the ARN of its one job."""
    aws, control = batch
    upload_big(aws)
    aws.deliver()
    (arn,) = control.jobs
    return aws, control, arn


def on_demand_texts(bedrock: FakeBedrockRuntime) -> list[str]:
    return [body["inputText"] for _, body in bedrock.calls]


def test_a_large_file_goes_to_one_batch_job_and_the_rest_on_demand(
    batch: tuple[IngestAws, FakeBedrockBatch], bedrock: FakeBedrockRuntime
) -> None:
    # Given a 250-line file, over the batch threshold, When the upload is processed
    aws, control, arn = submit_big(batch)
    # Then one job was created for the first 200 lines, with the service role and our bucket's URIs
    job = control.jobs[arn]
    assert (job["modelId"], job["roleArn"]) == (TITAN_V2, BATCH_ROLE_ARN)
    assert job["jobName"].startswith("embedrock-")
    assert job["outputDataConfig"]["s3OutputDataConfig"]["s3Uri"].startswith(
        "s3://embedrock-ingest-test/work/"
    )
    records = control.input_records(arn)
    assert [r["modelInput"]["inputText"] for r in records] == TEXTS[:200]
    assert records[0] == {
        "recordId": "00000000000",
        "modelInput": {"inputText": "text 1", "dimensions": 1024, "normalize": True},
    }
    # And the remainder (under Bedrock's minimum of 100 records) went on demand, and nothing is published yet
    # (as a set: the on-demand calls run concurrently, in no fixed order)
    assert sorted(on_demand_texts(bedrock)) == sorted(TEXTS[200:])
    assert aws.keys("output/") == []


def test_the_job_completion_event_publishes_the_same_output_as_on_demand(
    batch: tuple[IngestAws, FakeBedrockBatch], bedrock: FakeBedrockRuntime
) -> None:
    aws, control, arn = submit_big(batch)
    # Given the job finished with one record rejected (too many tokens) and one record missing
    bedrock.fail_on_text["text 7"] = client_error("ValidationException", 400, "Too many input tokens.")
    event = control.run(arn, errors={"text 7": "Too many input tokens."}, drop={"text 9"})
    calls_before = len(bedrock.calls)
    # When EventBridge delivers the completion to the queue
    aws.send(event)
    responses = aws.deliver()
    # Then the missing record is embedded on demand, the rejected one reported with Bedrock's reason
    assert all(response["batchItemFailures"] == [] for response in responses)
    assert sorted(on_demand_texts(bedrock)[calls_before:]) == ["text 7", "text 9"]
    rows = aws.output("big.txt")
    assert [row["id"] for row in rows] == [i for i in range(1, 251) if i != 7]
    unit = np.array(fake_vector("text 1", 1024)) / np.linalg.norm(fake_vector("text 1", 1024))
    np.testing.assert_allclose(rows[0]["embedding"], unit)
    manifest = aws.manifest("big.txt")
    assert (manifest["status"], manifest["mode"]) == ("complete", "batch")
    assert [(r["line"], r["code"]) for r in manifest["rejected"]] == [(7, "rejected_by_bedrock")]
    assert (
        manifest["counts"]["lines"] == 250 == manifest["counts"]["embedded"] + manifest["counts"]["rejected"]
    )
    assert manifest["counts"]["batch_jobs"] == 1
    # And batch tokens are priced at the batch price (half), the others on demand
    batch_tokens = 198 * 2  # "text n" is two tokens for the fakes
    assert manifest["batch_input_tokens"] == batch_tokens
    assert manifest["input_tokens"] == 250 * 2 - 2  # the rejected text was not paid for
    expected = (batch_tokens * 0.01 + (manifest["input_tokens"] - batch_tokens) * 0.02) / 1e6
    assert manifest["cost_usd"] == pytest.approx(expected)
    assert manifest["batch_price_per_million_tokens"] == pytest.approx(0.01)


def test_a_failed_job_falls_back_to_on_demand(
    batch: tuple[IngestAws, FakeBedrockBatch], bedrock: FakeBedrockRuntime
) -> None:
    aws, control, arn = submit_big(batch)
    # When the job fails
    aws.send(control.run(arn, status="Failed"))
    aws.deliver()
    # Then its lines are embedded on demand and the file is complete all the same
    assert sorted(on_demand_texts(bedrock)) == sorted(TEXTS)
    manifest = aws.manifest("big.txt")
    assert manifest["status"] == "complete" and manifest["counts"]["embedded"] == 250
    assert manifest["batch_input_tokens"] == 0


def test_the_same_file_again_creates_no_second_job_and_repeated_events_change_nothing(
    batch: tuple[IngestAws, FakeBedrockBatch], bedrock: FakeBedrockRuntime
) -> None:
    aws, control, arn = submit_big(batch)
    upload_big(aws)  # re-uploaded while the job runs
    aws.deliver()
    assert len(control.jobs) == 1
    event = control.run(arn)
    aws.send(event)
    aws.deliver()
    output, calls = aws.get("output/big.txt.jsonl"), len(bedrock.calls)
    # When the completion event arrives again, and the file is uploaded once more
    aws.send(event)
    upload_big(aws)
    aws.deliver()
    # Then nothing is embedded again and the output is the same
    assert len(bedrock.calls) == calls and len(control.jobs) == 1
    assert aws.get("output/big.txt.jsonl") == output


def test_events_of_jobs_still_running_or_of_other_buckets_are_ignored(
    batch: tuple[IngestAws, FakeBedrockBatch],
) -> None:
    aws, control, arn = submit_big(batch)
    # Given an event for a job Bedrock still reports as in progress, and a job of another stack
    control.jobs[arn]["status"] = "InProgress"
    other = control.create_model_invocation_job(
        **{
            **control.jobs[arn],
            "clientRequestToken": "other",
            "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": "s3://another-bucket/out/"}},
        }
    )["jobArn"]
    control.jobs[other]["status"] = "Completed"
    for job_arn in (arn, other):
        aws.send(
            {
                "source": "aws.bedrock",
                "detail-type": "Batch Inference Job State Change",
                "detail": {"batchJobArn": job_arn, "status": "Completed"},
            }
        )
    # When they are processed, Then nothing fails and nothing is published
    responses = aws.deliver()
    assert all(response["batchItemFailures"] == [] for response in responses)
    assert aws.keys("output/") == []


# --- images (Titan Multimodal G1 takes batch inference) -------------------------------------------

TITAN_MM = "amazon.titan-embed-image-v1"


def test_an_image_record_is_the_invoke_model_body_with_the_image_bytes_inline() -> None:
    spec = resolve_spec(model_id=TITAN_MM, dimensions=256)
    picture = png(shade=7)
    line = record(spec, record_id(0, 1), EmbedInput("a cat", ImageData("png", picture)))
    assert line == {
        "recordId": "00000000001",
        "modelInput": {
            "inputText": "a cat",
            "inputImage": base64.b64encode(picture).decode(),
            "embeddingConfig": {"outputEmbeddingLength": 256},
        },
    }


def test_a_large_image_file_goes_to_batch_with_its_images_and_keeps_the_references(
    batch: tuple[IngestAws, FakeBedrockBatch], bedrock: FakeBedrockRuntime
) -> None:
    # Given 150 image lines for Titan Multimodal: data URIs, one s3 image, and one s3 key missing
    aws, control = batch
    aws.upload("input/pics/one.png", png(shade=255))
    lines = [{"id": i, "image": data_uri(png(shade=i))} for i in range(148)]
    lines += [{"id": "s3", "image": "s3://embedrock-ingest-test/input/pics/one.png"}]
    lines += [{"id": "gone", "image": "s3://embedrock-ingest-test/input/pics/gone.png"}]
    aws.upload("input/pics.jsonl", "".join(json.dumps(line) + "\n" for line in lines), {"model": TITAN_MM})
    aws.deliver()
    # Then one job holds a record per readable line, each with the image's bytes as InvokeModel takes them
    (arn,) = control.jobs
    records = control.input_records(arn)
    sent = sorted(base64.b64decode(r["modelInput"]["inputImage"]) for r in records)
    assert sent == sorted([png(shade=i) for i in range(148)] + [png(shade=255)])
    # When the job completes
    aws.send(control.run(arn))
    aws.deliver()
    # Then the output keeps every reference as given, and the missing object is reported, not dropped
    manifest = aws.manifest("pics.jsonl")
    assert (manifest["status"], manifest["mode"], manifest["counts"]["embedded"]) == (
        "complete",
        "batch",
        149,
    )
    assert [(r["line"], r["code"]) for r in manifest["rejected"]] == [(150, "image_not_found")]
    rows = aws.output("pics.jsonl")
    assert rows[-1] == {**rows[-1], "id": "s3", "image": "s3://embedrock-ingest-test/input/pics/one.png"}
    assert rows[0]["image"] == data_uri(png(shade=0))
    assert bedrock.calls == []  # all of it through the job
