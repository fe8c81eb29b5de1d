"""A file's inference profile and truncate through the pipeline: S3 (moto) -> SQS -> handler -> S3.

Bedrock is the emulator's in-process backend with Cohere Embed v4 offered through inference
profiles only, as in accounts where its own id is refused on demand.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from embedrock.ingest.config import resolve
from embedrock.ingest.documents import Plan
from embedrock_local.runtime.emulator import EmulatorOptions, InProcessEmulator
from tests.fakes import FakeBedrockRuntime, serving
from tests.fixtures.ingest.harness import IngestAws, ingest_aws

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

COHERE_V4 = "cohere.embed-v4:0"
US_COHERE_V4 = f"us.{COHERE_V4}"
TITAN_V2 = "amazon.titan-embed-text-v2:0"
ONE_LINE = json.dumps({"id": "a", "text": "a cat on a mat"}) + "\n"


@pytest.fixture
def runtime() -> Iterator[FakeBedrockRuntime]:
    emulator = InProcessEmulator(EmulatorOptions(profile_only=[COHERE_V4]))
    with serving(FakeBedrockRuntime(emulator=emulator)) as fake:
        yield fake


@pytest.fixture
def aws(runtime: FakeBedrockRuntime) -> Iterator[IngestAws]:
    with ingest_aws() as environment:
        yield environment


def ingest(aws: IngestAws, body: str, metadata: dict[str, str], name: str = "one.jsonl") -> dict[str, object]:
    aws.upload(f"input/{name}", body, metadata)
    responses = aws.deliver()
    assert all(response["batchItemFailures"] == [] for response in responses)
    return aws.manifest(name)


def test_a_profile_id_is_what_bedrock_is_called_with_and_what_the_manifest_records(
    aws: IngestAws, runtime: FakeBedrockRuntime
) -> None:
    # When a file asks for Cohere v4 through its US profile
    manifest = ingest(aws, ONE_LINE, {"model": US_COHERE_V4, "input-type": "search_document"})
    # Then every call went through the profile, and the line is embedded
    assert [model_id for model_id, _ in runtime.calls] == [US_COHERE_V4]
    assert manifest["status"] == "complete", manifest
    assert manifest["counts"]["embedded"] == 1 and manifest["rejected"] == []  # type: ignore[index]
    # And the manifest names the model (priced by the catalog) and the id it was invoked with
    assert (manifest["model"], manifest["invoke_model"]) == (COHERE_V4, US_COHERE_V4)
    config = manifest["config"]
    assert isinstance(config, dict)
    assert (config["model"], config["invoke_model"], config["truncate"]) == (COHERE_V4, US_COHERE_V4, "NONE")
    assert manifest["cost_usd"] > 0  # type: ignore[operator]
    # And the rows carry the model's own id, as for any file of that model
    (row,) = aws.output("one.jsonl")
    assert row["model"] == COHERE_V4 and len(row["embedding"]) == 1536


def test_the_same_file_through_the_model_id_then_its_profile_runs_again_and_then_not(
    aws: IngestAws, runtime: FakeBedrockRuntime
) -> None:
    # Given the file embedded by the model's own id, which this account refuses on demand
    refused = ingest(aws, ONE_LINE, {"model": COHERE_V4})
    assert refused["counts"]["embedded"] == 0  # type: ignore[index]
    assert "on-demand throughput isn" in json.dumps(refused["rejected"])
    # When it is uploaded again through the profile
    runtime.calls.clear()
    through_profile = ingest(aws, ONE_LINE, {"model": US_COHERE_V4})
    # Then it is a new run (the route is part of the run's identity), and it is embedded
    assert through_profile["run_id"] != refused["run_id"]
    assert through_profile["counts"]["embedded"] == 1  # type: ignore[index]
    assert [model_id for model_id, _ in runtime.calls] == [US_COHERE_V4]
    # When it is uploaded once more through the profile, Then nothing is called again
    runtime.calls.clear()
    assert ingest(aws, ONE_LINE, {"model": US_COHERE_V4})["run_id"] == through_profile["run_id"]
    assert runtime.calls == []


def test_truncate_from_metadata_reaches_bedrock_and_is_its_own_run(
    aws: IngestAws, runtime: FakeBedrockRuntime
) -> None:
    # Given the file embedded with the default truncate (NONE)
    default = ingest(aws, ONE_LINE, {"model": US_COHERE_V4})
    assert runtime.calls[-1][1]["truncate"] == "NONE"
    # When it is uploaded again with truncate LEFT in its metadata
    left = ingest(aws, ONE_LINE, {"model": US_COHERE_V4, "truncate": "LEFT"})
    # Then Bedrock is asked to truncate, the manifest records it, and it is a run of its own
    assert left["status"] == "complete", left
    assert runtime.calls[-1][1]["truncate"] == "LEFT"
    assert left["config"]["truncate"] == "LEFT"  # type: ignore[index]
    assert left["config_sources"]["truncate"] == "metadata"  # type: ignore[index]
    assert left["run_id"] != default["run_id"]


def test_truncate_from_the_sidecar_is_read(aws: IngestAws, runtime: FakeBedrockRuntime) -> None:
    aws.upload("input/one.config.json", json.dumps({"model": US_COHERE_V4, "truncate": "RIGHT"}))
    manifest = ingest(aws, ONE_LINE, {})
    assert manifest["status"] == "complete", manifest
    assert runtime.calls[-1][1]["truncate"] == "RIGHT"
    assert manifest["config_sources"]["truncate"] == "sidecar"  # type: ignore[index]


@pytest.mark.parametrize(
    ("metadata", "words"),
    [
        ({"model": US_COHERE_V4, "truncate": "MIDDLE"}, ["'MIDDLE'", COHERE_V4, "NONE, LEFT, RIGHT"]),
        ({"model": US_COHERE_V4, "truncate": "left"}, ["'left'", "NONE, LEFT, RIGHT"]),
        ({"model": TITAN_V2, "truncate": "LEFT"}, ["not supported by", TITAN_V2, COHERE_V4]),
    ],
)
def test_a_truncate_the_model_does_not_take_rejects_the_file(
    aws: IngestAws, runtime: FakeBedrockRuntime, metadata: dict[str, str], words: list[str]
) -> None:
    # When a file asks for a truncate its model does not take
    manifest = ingest(aws, ONE_LINE, metadata)
    # Then the file is rejected, naming truncate, where it came from and the allowed values
    assert manifest["status"] == "rejected"
    error = manifest["error"]
    assert isinstance(error, dict) and error["param"] == "truncate"
    for word in [*words, "metadata"]:
        assert word in error["message"]
    assert manifest["counts"] == {  # every line is reported
        "lines": 1, "embedded": 0, "rejected": 1, "cache_hits": 0, "chunks": 0, "bedrock_calls": 0, "batch_jobs": 0
    }  # fmt: skip
    assert runtime.calls == []


def test_a_plan_written_before_invoke_model_and_truncate_still_resolves() -> None:
    # Given a plan's configuration as runs in progress wrote it before these settings existed
    old = {
        "model": COHERE_V4,
        "dimensions": 512,
        "normalize": True,
        "input_type": None,
        "embedding_type": "float",
    }
    # Then its spec is the model by its own id, with the default truncate
    spec = Plan.model_construct(config=old).spec()
    assert (spec.model.id, spec.invoke_id, spec.dimensions) == (COHERE_V4, COHERE_V4, 512)
    assert spec.truncate == "NONE"


def test_a_plan_keeps_the_profile_and_truncate_it_was_made_with() -> None:
    config = resolve({"model": US_COHERE_V4, "truncate": "LEFT"}, None, default_model_id=TITAN_V2)
    spec = Plan.model_construct(config=config.canonical()).spec()
    assert spec == config.spec


def test_a_profile_the_deployment_does_not_allow_rejects_the_file_before_any_call(
    aws: IngestAws, runtime: FakeBedrockRuntime
) -> None:
    from embedrock import settings, wiring

    # Given a deployment that allows only Cohere v4's global profile
    wiring.override(settings=settings.load({"EMBEDROCK_INFERENCE_PROFILES": f"global.{COHERE_V4}"}))
    # When a file names its US profile
    manifest = ingest(aws, ONE_LINE, {"model": US_COHERE_V4})
    # Then the file is rejected on model, naming the allowed profile, and Bedrock is never called
    assert manifest["status"] == "rejected", manifest
    error = manifest["error"]
    assert isinstance(error, dict)
    assert (error["param"], error["code"]) == ("model", "inference_profile_not_allowed")
    assert f"global.{COHERE_V4}" in error["message"]
    assert runtime.calls == []
