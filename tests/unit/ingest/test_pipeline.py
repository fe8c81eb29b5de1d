"""The ingestion pipeline through its Lambda handler: S3 (moto) -> SQS (moto) -> handler -> S3.

Bedrock is the in-memory fake; the harness plays Lambda's SQS poller, including the redrive
to the dead-letter queue.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator

import numpy as np
import pytest

from tests.conftest import ROOT
from tests.fakes import FakeBedrockRuntime, client_error, fake_vector
from tests.fixtures.ingest.harness import MAX_RECEIVES, IngestAws, ingest_aws

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

FIXTURES = ROOT / "tests" / "fixtures" / "ingest"
TITAN_V2 = "amazon.titan-embed-text-v2:0"
COHERE = "cohere.embed-english-v3"
THROTTLED = client_error("ThrottlingException", 429, "Too many requests")


@pytest.fixture
def chunked(bedrock: FakeBedrockRuntime) -> Iterator[IngestAws]:
    """Chunks of two lines, each its own message."""
    with ingest_aws({"EMBEDROCK_INGEST_CHUNK_LINES": "2"}) as environment:
        yield environment


def texts_sent(bedrock: FakeBedrockRuntime) -> list[str]:
    return [
        text
        for _, body in bedrock.calls
        for text in (body["texts"] if "texts" in body else [body["inputText"]])
    ]


def jsonl(*texts: str) -> str:
    return "".join(json.dumps({"id": f"t{i}", "text": text}) + "\n" for i, text in enumerate(texts, 1))


def test_jsonl_file_becomes_an_output_and_a_manifest(aws: IngestAws, bedrock: FakeBedrockRuntime) -> None:
    # Given the JSONL fixture uploaded under input/
    aws.upload("input/docs.jsonl", (FIXTURES / "docs.jsonl").read_bytes())
    # When the queue is processed
    responses = aws.deliver()
    # Then nothing failed, and each line became a row with id, embedding, model, dimensions and its fields
    assert all(response["batchItemFailures"] == [] for response in responses)
    rows = aws.output("docs.jsonl")
    assert [row["id"] for row in rows] == ["a1", "a2", "a3"]
    first = rows[0]
    assert (first["model"], first["dimensions"], first["lang"]) == (TITAN_V2, 1024, "en")
    expected = np.array(fake_vector("Python is a programming language", 1024))
    np.testing.assert_allclose(first["embedding"], expected / np.linalg.norm(expected))
    assert rows[2]["tags"] == ["weather"]
    # And the manifest counts lines, tokens and cost, and names the model and where its settings came from
    manifest = aws.manifest("docs.jsonl")
    assert manifest["status"] == "complete"
    assert manifest["counts"] == {
        "lines": 3, "embedded": 3, "rejected": 0, "cache_hits": 0, "chunks": 1, "bedrock_calls": 3, "batch_jobs": 0
    }  # fmt: skip
    assert manifest["input_tokens"] == 5 + 7 + 4
    assert manifest["cost_usd"] == pytest.approx(16 * 0.02 / 1e6)
    assert (manifest["model"], manifest["dimensions"], manifest["mode"]) == (TITAN_V2, 1024, "on_demand")
    assert manifest["config_sources"]["model"] == "default"
    assert manifest["rejected"] == [] and manifest["error"] is None
    assert set(manifest["durations_ms"]) == {"total", "plan", "embed", "bedrock", "assemble"}
    assert len(bedrock.calls) == 3
    assert aws.dead_letters() == []


@pytest.mark.parametrize(
    ("name", "ids", "fields"),
    [
        ("docs.csv", ["c1", "c2"], {"source": "wiki"}),
        ("docs.txt", [1, 2, 3], {}),
    ],
)
def test_csv_and_txt_files_become_outputs_too(
    aws: IngestAws, name: str, ids: list[object], fields: dict[str, str]
) -> None:
    # Given a CSV or TXT fixture uploaded under input/
    aws.upload(f"input/{name}", (FIXTURES / name).read_bytes())
    # When the queue is processed
    aws.deliver()
    # Then the output holds one row per line, in order, with the other columns as fields
    rows = aws.output(name)
    assert [row["id"] for row in rows] == ids
    assert {key: rows[0][key] for key in fields} == fields
    assert aws.manifest(name)["format"] == name.rsplit(".", 1)[1]


def test_bad_lines_are_reported_with_line_numbers_and_never_dropped(aws: IngestAws) -> None:
    # Given a JSONL file with invalid JSON, a blank line, a missing text, an empty text,
    # a duplicate id, an array and a line in the wrong encoding
    aws.upload("input/bad.jsonl", (FIXTURES / "bad.jsonl").read_bytes())
    # When the queue is processed
    aws.deliver()
    # Then the good lines are embedded and each bad one is reported with its line number
    assert [row["id"] for row in aws.output("bad.jsonl")] == [1, 6]
    manifest = aws.manifest("bad.jsonl")
    assert [(r["line"], r["code"]) for r in manifest["rejected"]] == [
        (2, "invalid_json"),
        (3, "blank_line"),
        (4, "missing_text"),
        (5, "empty_text"),
        (6, "duplicate_id"),
        (7, "not_an_object"),
        (8, "invalid_encoding"),
    ]
    assert "already appears on line 1" in manifest["rejected"][4]["reason"]
    # And lines in = lines out + lines reported
    counts = manifest["counts"]
    assert counts["lines"] == 9 == counts["embedded"] + counts["rejected"]


@pytest.mark.parametrize(
    ("name", "body", "code", "ids"),
    [
        (
            "s.jsonl",
            b'{"id": 1, "text": "one"}\n{"id": 2, "text": "bad \\ud800"}\n{"id": 3, "text": "three"}\n',
            "invalid_unicode",
            [1, 3],
        ),
        ("s.csv", b"1,one\n2,bad \xed\xa0\x80\n3,three\n", "invalid_encoding", ["1", "3"]),
        ("s.txt", b"one\nbad \xed\xa0\x80\nthree\n", "invalid_encoding", [1, 3]),
    ],
)
def test_a_lone_surrogate_is_one_reported_line_in_every_format(
    aws: IngestAws, name: str, body: bytes, code: str, ids: list[object]
) -> None:
    # Given a file whose second line holds a lone surrogate (an escape in JSON, bytes elsewhere)
    aws.upload(f"input/{name}", body)
    # When the queue is processed
    responses = aws.deliver()
    # Then the file completes: that line is reported with its number, the others embedded
    assert all(response["batchItemFailures"] == [] for response in responses)
    manifest = aws.manifest(name)
    assert manifest["status"] == "complete"
    assert [(r["line"], r["code"]) for r in manifest["rejected"]] == [(2, code)]
    assert [row["id"] for row in aws.output(name)] == ids
    counts = manifest["counts"]
    assert counts["lines"] == 3 == counts["embedded"] + counts["rejected"]


def test_lines_nested_without_end_or_holding_nan_are_reported_not_a_crash(aws: IngestAws) -> None:
    # Given a JSONL file with a line nested 100,000 deep and one holding NaN between good lines
    deep = b'{"id": 2, "text": "x", "f": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    body = b"\n".join(
        [b'{"id": 1, "text": "one"}', deep, b'{"id": 3, "text": "x", "f": NaN}', b'{"id": 4, "text": "four"}']
    )
    aws.upload("input/n.jsonl", body)
    # When the queue is processed
    responses = aws.deliver()
    # Then the file completes with those two lines reported
    assert all(response["batchItemFailures"] == [] for response in responses)
    manifest = aws.manifest("n.jsonl")
    assert [(r["line"], r["code"]) for r in manifest["rejected"]] == [
        (2, "invalid_json"),
        (3, "invalid_json"),
    ]
    assert [row["id"] for row in aws.output("n.jsonl")] == [1, 4]
    assert manifest["counts"]["lines"] == 4 == manifest["counts"]["embedded"] + manifest["counts"]["rejected"]


def test_texts_over_the_model_limit_are_reported_before_any_call(
    aws: IngestAws, bedrock: FakeBedrockRuntime
) -> None:
    # Given a Cohere file (2,048 characters at most) with one text over the limit
    aws.upload("input/long.txt", "short\n" + "x" * 2049 + "\n", metadata={"model": COHERE})
    # When the queue is processed
    aws.deliver()
    # Then the long text is reported with the model's limit, and never sent
    (rejected,) = aws.manifest("long.txt")["rejected"]
    assert (rejected["line"], rejected["code"]) == (2, "text_too_long")
    assert "2048 characters" in rejected["reason"]
    assert texts_sent(bedrock) == ["short"]


def test_a_text_bedrock_rejects_is_reported_and_the_others_are_kept(
    aws: IngestAws, bedrock: FakeBedrockRuntime
) -> None:
    # Given a Cohere file where Bedrock rejects one text (too many tokens), in one call of three
    bedrock.fail_on_text["too many tokens"] = client_error(
        "ValidationException", 400, "Too many input tokens."
    )
    aws.upload("input/c.jsonl", jsonl("one", "too many tokens", "three"), metadata={"model": COHERE})
    # When the queue is processed
    responses = aws.deliver()
    # Then the call is halved until the bad text stands alone: it is reported, the others embedded
    assert all(response["batchItemFailures"] == [] for response in responses)
    assert [row["id"] for row in aws.output("c.jsonl")] == ["t1", "t3"]
    (rejected,) = aws.manifest("c.jsonl")["rejected"]
    assert (rejected["line"], rejected["code"]) == (2, "rejected_by_bedrock")
    assert "Too many input tokens" in rejected["reason"]


def test_object_metadata_sets_the_model_and_dimensions(aws: IngestAws, bedrock: FakeBedrockRuntime) -> None:
    # Given a file uploaded with metadata dimensions=256 and normalize=false
    aws.upload("input/m.txt", "hello world\n", metadata={"dimensions": "256", "normalize": "false"})
    # When the queue is processed
    aws.deliver()
    # Then Bedrock was asked for 256 unnormalized dimensions, and the output and manifest say so
    assert bedrock.calls == [(TITAN_V2, {"inputText": "hello world", "dimensions": 256, "normalize": False})]
    assert aws.output("m.txt")[0]["dimensions"] == 256
    manifest = aws.manifest("m.txt")
    assert manifest["config"]["normalize"] is False
    assert manifest["config_sources"]["dimensions"] == "metadata"


def test_a_sidecar_sets_the_configuration_and_its_own_upload_is_ignored(
    aws: IngestAws, bedrock: FakeBedrockRuntime
) -> None:
    # Given a sidecar choosing Cohere for search queries, uploaded before its data file
    aws.upload("input/q.config.json", json.dumps({"model": COHERE, "input_type": "search_query"}))
    aws.upload("input/q.txt", "what is python\nwhere is the market\n")
    # When the queue is processed
    responses = aws.deliver()
    # Then one Cohere call embedded both texts as queries, and the sidecar's event did nothing else
    assert all(response["batchItemFailures"] == [] for response in responses)
    assert bedrock.calls == [
        (
            COHERE,
            {
                "texts": ["what is python", "where is the market"],
                "input_type": "search_query",
                "truncate": "NONE",
            },
        )
    ]
    assert aws.manifest("q.txt")["config_sources"]["model"] == "sidecar"
    assert aws.keys("output/q.config") == []


@pytest.mark.parametrize(
    ("metadata", "sidecar", "code"),
    [
        ({"dimensions": "384"}, None, "invalid_dimensions"),
        ({}, {"model": "amazon.titan-embed-text-v3"}, "model_not_found"),
        ({}, {"dimension": 512}, "unknown_config_key"),
    ],
)
def test_invalid_configuration_rejects_the_file_in_its_manifest(
    aws: IngestAws, bedrock: FakeBedrockRuntime, metadata: dict[str, str], sidecar: object, code: str
) -> None:
    # Given a file whose metadata or sidecar is invalid
    if sidecar is not None:
        aws.upload("input/x.config.json", json.dumps(sidecar))
    aws.upload("input/x.txt", "a\nb\n", metadata=metadata)
    # When the queue is processed
    responses = aws.deliver()
    # Then the file is rejected in its manifest, every line counted as reported, nothing embedded
    assert all(response["batchItemFailures"] == [] for response in responses)
    manifest = aws.manifest("x.txt")
    assert manifest["status"] == "rejected"
    assert manifest["error"]["code"] == code
    assert manifest["counts"] == {
        "lines": 2,
        "embedded": 0,
        "rejected": 2,
        "cache_hits": 0,
        "chunks": 0,
        "bedrock_calls": 0,
        "batch_jobs": 0,
    }
    assert aws.keys("output/x.txt.jsonl") == []  # no output of its own to empty, and none of another file
    assert bedrock.calls == []


def test_an_unsupported_file_type_is_rejected_in_a_manifest(aws: IngestAws) -> None:
    # Given a .json file under input/
    aws.upload("input/data.json", '[{"text": "a"}]\n')
    # When the queue is processed
    aws.deliver()
    # Then its manifest says which formats are read
    manifest = aws.manifest("data.json")
    assert (manifest["status"], manifest["error"]["code"]) == ("rejected", "unsupported_format")
    assert ".csv, .jsonl, .txt" in manifest["error"]["message"]


def test_files_differing_by_extension_never_share_or_clobber_an_output(aws: IngestAws) -> None:
    # Given docs.jsonl embedded
    aws.upload("input/docs.jsonl", (FIXTURES / "docs.jsonl").read_bytes())
    aws.deliver()
    good = aws.get("output/docs.jsonl.jsonl")
    assert len(good.splitlines()) == 3
    # When docs.csv and an unsupported docs.md arrive under the same name without extension
    aws.upload("input/docs.csv", (FIXTURES / "docs.csv").read_bytes())
    aws.upload("input/docs.md", b"# not a data file\n")
    aws.deliver()
    # Then each has its own output and manifest, and docs.jsonl's output is untouched
    assert aws.get("output/docs.jsonl.jsonl") == good
    assert aws.manifest("docs.jsonl")["status"] == "complete"
    assert aws.manifest("docs.csv")["input"] == "input/docs.csv"
    assert len(aws.output("docs.csv")) == 2
    assert aws.manifest("docs.md")["error"]["code"] == "unsupported_format"
    assert sorted(aws.keys("output/")) == [
        "output/docs.csv.jsonl",
        "output/docs.csv.manifest.json",
        "output/docs.jsonl.jsonl",
        "output/docs.jsonl.manifest.json",
        "output/docs.md.manifest.json",
    ]


def test_a_rejected_upload_empties_only_its_own_earlier_output(aws: IngestAws) -> None:
    # Given x.txt embedded, then uploaded again with a configuration that is not valid
    aws.upload("input/x.txt", "a\nb\n")
    aws.deliver()
    aws.upload("input/x.csv", "1,a\n")
    aws.deliver()
    other = aws.get("output/x.csv.jsonl")
    aws.upload("input/x.txt", "a\nb\n", metadata={"dimensions": "384"})
    aws.deliver()
    # Then its own stale output no longer stands next to its rejected manifest, and x.csv's is kept
    assert aws.manifest("x.txt")["status"] == "rejected"
    assert aws.get("output/x.txt.jsonl") == b""
    assert aws.get("output/x.csv.jsonl") == other != b""


def test_an_unsupported_file_never_writes_an_output(aws: IngestAws) -> None:
    # Given an output under the name an extensionless input would use (as the old layout named outputs)
    aws.upload("output/docs.jsonl", b'{"id": 1}\n')
    # When an extensionless file of that name is uploaded
    aws.upload("input/docs", b"some text\n")
    aws.deliver()
    # Then it gets its rejection manifest, and the output is untouched
    assert aws.manifest("docs")["error"]["code"] == "unsupported_format"
    assert aws.get("output/docs.jsonl") == b'{"id": 1}\n'


def test_an_empty_file_gives_an_empty_output_and_a_complete_manifest(aws: IngestAws) -> None:
    aws.upload("input/empty.jsonl", b"")
    aws.deliver()
    assert aws.get("output/empty.jsonl.jsonl") == b""
    assert aws.manifest("empty.jsonl")["counts"]["lines"] == 0
    assert aws.manifest("empty.jsonl")["status"] == "complete"


def test_the_same_file_uploaded_again_is_not_embedded_again(
    aws: IngestAws, bedrock: FakeBedrockRuntime
) -> None:
    # Given a file embedded once
    aws.upload("input/docs.jsonl", (FIXTURES / "docs.jsonl").read_bytes())
    aws.deliver()
    keys = ("output/docs.jsonl.jsonl", "output/docs.jsonl.manifest.json")
    output, manifest = (aws.get(key) for key in keys)
    calls = len(bedrock.calls)
    # When the same content is uploaded again with the same configuration
    aws.upload("input/docs.jsonl", (FIXTURES / "docs.jsonl").read_bytes())
    responses = aws.deliver()
    # Then Bedrock is not called, and the output and manifest are untouched
    assert all(response["batchItemFailures"] == [] for response in responses)
    assert len(bedrock.calls) == calls
    assert [aws.get(key) for key in keys] == [output, manifest]
    # But another configuration is another run
    aws.upload("input/docs.jsonl", (FIXTURES / "docs.jsonl").read_bytes(), metadata={"dimensions": "512"})
    aws.deliver()
    assert len(bedrock.calls) == 2 * calls
    assert aws.output("docs.jsonl")[0]["dimensions"] == 512


def test_a_large_file_is_split_into_chunk_messages_and_assembled_in_input_order(
    chunked: IngestAws, bedrock: FakeBedrockRuntime
) -> None:
    # Given a seven-line file, with chunks of two lines
    texts = [f"text number {i}" for i in range(1, 8)]
    chunked.upload("input/big.jsonl", jsonl(*texts))
    # When the queue is processed with each batch's messages in reverse order
    responses = chunked.deliver(order=lambda records: records[::-1])
    # Then four chunks were embedded from their own messages, each text once
    assert len(responses) >= 2
    assert sorted(texts_sent(bedrock)) == sorted(texts)
    assert len(chunked.keys(f"work/{chunked.manifest('big.jsonl')['run_id']}/results/")) == 4
    # And the output is in input order whatever order the chunks finished in
    rows = chunked.output("big.jsonl")
    assert [row["id"] for row in rows] == [f"t{i}" for i in range(1, 8)]
    np.testing.assert_allclose(
        rows[6]["embedding"],
        np.array(fake_vector(texts[6], 1024)) / np.linalg.norm(fake_vector(texts[6], 1024)),
    )
    assert chunked.manifest("big.jsonl")["counts"]["chunks"] == 4


def test_a_failing_chunk_fails_alone_reaches_the_dlq_and_is_redone_alone(
    chunked: IngestAws, bedrock: FakeBedrockRuntime
) -> None:
    # Given a four-line file in two chunks, where Bedrock keeps throttling the third text
    bedrock.fail_on_text["c"] = THROTTLED
    chunked.upload("input/f.jsonl", jsonl("a", "b", "c", "d"))
    # When the queue is processed
    responses = chunked.deliver()
    # Then the batch holding both chunks reported only the failing chunk's message (partial batch response)
    assert any(len(response["batchItemFailures"]) == 1 for response in responses)
    # And after the queue's retries the message is in the DLQ, and the manifest says the file failed
    (dead,) = chunked.dead_letters()
    assert json.loads(dead)["chunk"] == 1
    manifest = chunked.manifest("f.jsonl")
    assert manifest["status"] == "failed"
    assert "lines 3-4" in manifest["error"]["message"] and "throttled" in manifest["error"]["message"]
    assert manifest["counts"]["lines"] == 4 == manifest["counts"]["rejected"]
    assert Counter(texts_sent(bedrock))["c"] >= MAX_RECEIVES
    # When Bedrock recovers and the dead letter is sent back to the queue (a DLQ redrive)
    del bedrock.fail_on_text["c"]
    chunked.send(dead)
    chunked.deliver()
    # Then the file completes, and every text that was embedded once was never paid for again
    assert [row["id"] for row in chunked.output("f.jsonl")] == ["t1", "t2", "t3", "t4"]
    assert chunked.manifest("f.jsonl")["status"] == "complete"
    sent = Counter(texts_sent(bedrock))
    assert (sent["a"], sent["b"], sent["d"]) == (1, 1, 1)
    assert sent["c"] > MAX_RECEIVES


def test_a_poisoned_message_ends_in_the_dead_letter_queue(aws: IngestAws) -> None:
    # Given a message no attempt can process
    aws.send("this is not json")
    # When the queue is processed
    responses = aws.deliver()
    # Then each attempt reported it as a batch item failure, and it ends in the DLQ
    failures = [f for response in responses for f in response["batchItemFailures"]]
    assert len(failures) == MAX_RECEIVES
    assert aws.dead_letters() == ["this is not json"]


def test_a_chunk_of_a_run_without_plan_is_poison(aws: IngestAws) -> None:
    aws.send({"kind": "embedrock.chunk", "bucket": "embedrock-ingest-test", "run_id": "0" * 64, "chunk": 0})
    aws.deliver()
    assert len(aws.dead_letters()) == 1


def test_the_s3_test_event_and_removals_are_ignored(aws: IngestAws) -> None:
    # Given the queue with S3's test event (sent when notifications are configured) and a removal
    aws.send({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectRemoved:Delete", "s3": {}}]})
    # When the queue is processed
    responses = aws.deliver()
    # Then nothing failed and nothing was written
    assert responses and all(response["batchItemFailures"] == [] for response in responses)
    assert aws.keys("output/") == [] and aws.dead_letters() == []


def test_a_newer_upload_supersedes_a_run_under_way(chunked: IngestAws) -> None:
    # Given a file planned in two chunks whose chunks have not run yet
    chunked.upload("input/s.jsonl", jsonl("old 1", "old 2", "old 3"))
    chunked.deliver(rounds=1, batch_size=2)  # S3's test event and the upload: planned, chunks queued
    # When a new version is uploaded before they run, and the queue is processed
    chunked.upload("input/s.jsonl", jsonl("new 1"))
    chunked.deliver()
    # Then the output is the new version's: the old run did not publish over it
    manifest = chunked.manifest("s.jsonl")
    assert manifest["counts"]["lines"] == 1
    assert (
        manifest["input_version_id"]
        == chunked.s3.head_object(Bucket="embedrock-ingest-test", Key="input/s.jsonl")["VersionId"]
    )
