"""The CloudWatch metrics the functions emit (EMF on stdout): the names and dimensions the
dashboard and alarms (infra/dashboard.py, infra/alarms.py) read."""

from __future__ import annotations

import json
from typing import Any

import pytest

from embedrock import observability, wiring
from embedrock.handlers import embeddings, similarity
from tests.events import LambdaContext, api_event
from tests.fakes import FakeBedrockRuntime, client_error

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

TITAN = "amazon.titan-embed-text-v2:0"


class ThrottledOnce(FakeBedrockRuntime):
    def __init__(self) -> None:
        super().__init__()
        self.throttled = False

    def invoke_model(self, **kwargs: Any) -> dict[str, Any]:
        if not self.throttled:
            self.throttled = True
            raise client_error("ThrottlingException", 429)
        return super().invoke_model(**kwargs)


def emf_records(output: str) -> list[dict[str, Any]]:
    """The EMF records among the lines printed (logs are JSON too, but carry no _aws key)."""
    records = []
    for line in output.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            records.append(json.loads(line))
    return records


def metric_names(record: dict[str, Any]) -> set[str]:
    return {
        metric["Name"] for directive in record["_aws"]["CloudWatchMetrics"] for metric in directive["Metrics"]
    }


def dimension_sets(record: dict[str, Any]) -> list[list[str]]:
    return [dims for directive in record["_aws"]["CloudWatchMetrics"] for dims in directive["Dimensions"]]


def test_each_embedding_request_publishes_texts_tokens_calls_and_latency_by_model(
    bedrock: FakeBedrockRuntime, capsys: pytest.CaptureFixture[str]
) -> None:
    # When three texts are embedded
    embeddings.handler(api_event("POST", "/embeddings", {"texts": ["a b", "c", "d e f"]}), LambdaContext())

    # Then one EMF record holds the usage, by service and model
    (record,) = [r for r in emf_records(capsys.readouterr().out) if "Texts" in r]
    assert metric_names(record) >= {"Texts", "InputTokens", "BedrockCalls", "BedrockLatency"}
    assert record["_aws"]["CloudWatchMetrics"][0]["Namespace"] == observability.NAMESPACE
    assert sorted(map(sorted, dimension_sets(record))) == [["Model", "service"]]
    assert record["Model"] == TITAN and record["service"] == observability.SERVICE
    assert record["Texts"] == pytest.approx([3]) and record["BedrockCalls"] == pytest.approx([3])
    assert record["InputTokens"] == pytest.approx([6])  # the fake counts words
    units = {m["Name"]: m["Unit"] for m in record["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert units["BedrockLatency"] == "Milliseconds" and units["Texts"] == "Count"


def test_a_pipeline_file_publishes_its_tokens_and_batch_tokens_by_model(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # When a file's tokens are recorded, some of them embedded by batch inference
    observability.record_file_tokens(TITAN, 120, 100)

    # Then each count is its own record by service and model (the dashboard's cost reads both)
    records = {name: r for r in emf_records(capsys.readouterr().out) for name in metric_names(r)}
    assert set(records) == {"InputTokens", "BatchInputTokens"}
    for name, value in (("InputTokens", 120), ("BatchInputTokens", 100)):
        record = records[name]
        assert sorted(map(sorted, dimension_sets(record))) == [["Model", "service"]]
        assert record["Model"] == TITAN and record["service"] == observability.SERVICE
        assert record["_aws"]["CloudWatchMetrics"][0]["Namespace"] == observability.NAMESPACE
        assert record[name] == pytest.approx([value])


def test_similarity_requests_publish_the_same_usage(
    bedrock: FakeBedrockRuntime, capsys: pytest.CaptureFixture[str]
) -> None:
    similarity.handler(api_event("POST", "/similarity", {"texts": ["a b", "c d"]}), LambdaContext())
    (record,) = [r for r in emf_records(capsys.readouterr().out) if "Texts" in r]
    assert record["Texts"] == pytest.approx([2]) and record["Model"] == TITAN


def test_every_throttled_attempt_is_counted_by_function_and_by_model(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given Bedrock throttling the first call
    wiring.override(runtime=ThrottledOnce())
    try:
        # When a text is embedded (the retry succeeds)
        response = embeddings.handler(api_event("POST", "/embeddings", {"text": "x"}), LambdaContext())
    finally:
        wiring.reset()

    # Then the request succeeded and one throttle was published, in both aggregations
    assert response["statusCode"] == 200
    (record,) = [r for r in emf_records(capsys.readouterr().out) if observability.THROTTLE_METRIC in r]
    assert record[observability.THROTTLE_METRIC] == 1
    assert dimension_sets(record) == [["service"], ["service", "Model"]]
    assert (record["service"], record["Model"]) == (observability.SERVICE, TITAN)


def test_a_request_that_fails_on_throttling_still_counts_each_attempt(
    capsys: pytest.CaptureFixture[str],
) -> None:
    wiring.override(runtime=FakeBedrockRuntime(failures={TITAN: client_error("ThrottlingException", 429)}))
    try:
        response = embeddings.handler(api_event("POST", "/embeddings", {"text": "x"}), LambdaContext())
    finally:
        wiring.reset()
    assert response["statusCode"] == 429
    throttles = [r for r in emf_records(capsys.readouterr().out) if observability.THROTTLE_METRIC in r]
    assert len(throttles) == 3  # EMBEDROCK_MAX_ATTEMPTS' default


def test_no_throttle_record_when_metrics_are_disabled(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    observability.record_throttle(TITAN)
    assert capsys.readouterr().out == ""


def test_a_cohere_search_records_its_two_calls_once(
    bedrock: FakeBedrockRuntime, capsys: pytest.CaptureFixture[str], recwarn: pytest.WarningsRecorder
) -> None:
    # Given a Cohere search, whose query and documents are embedded in two calls (two input types)
    body = {"query": "q w", "documents": ["a b", "c d", "e"], "model": "cohere.embed-english-v3"}

    # When it is answered
    response = similarity.handler(api_event("POST", "/similarity", body), LambdaContext())

    # Then one record holds both calls, and Powertools did not warn about a second Model dimension
    assert response["statusCode"] == 200, response["body"]
    assert len(bedrock.calls) == 2
    (record,) = [r for r in emf_records(capsys.readouterr().out) if "Texts" in r]
    assert record["Texts"] == pytest.approx([4]) and record["BedrockCalls"] == pytest.approx([2])
    assert record["Model"] == "cohere.embed-english-v3"
    assert not [w for w in recwarn if "already been added" in str(w.message)]


def test_no_emf_line_at_all_when_metrics_are_disabled(
    bedrock: FakeBedrockRuntime, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given metrics disabled, as `embedrock serve`, `perf` and `ingest` run the handlers
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "1")

    # When more requests are served than Powertools keeps values for (100 per metric)
    for _ in range(120):
        response = embeddings.handler(api_event("POST", "/embeddings", {"text": "a b"}), LambdaContext())
        assert response["statusCode"] == 200

    # Then not one EMF blob reached the terminal
    assert '"_aws"' not in capsys.readouterr().out
