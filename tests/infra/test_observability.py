"""The dashboard and the alarms: what they watch, and that they read the metrics the code emits."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template

from embedrock import catalog, observability, routes
from infra import alarms as alarms_module
from infra.alarms import EmbedrockAlarms
from tests.infra import cfn
from tests.infra.conftest import Synthesized
from tests.unit.core.test_observability_metrics import dimension_sets, emf_records, metric_names

pytestmark = pytest.mark.infra

WATCHED_FUNCTIONS = [*routes.FUNCTIONS, routes.INGEST]


def _dashboard(synthesized: Synthesized) -> dict[str, Any]:
    _, dashboard = cfn.only(synthesized.resources, "AWS::CloudWatch::Dashboard")
    rendered = cfn.render(dashboard["Properties"]["DashboardBody"])
    body: dict[str, Any] = json.loads(rendered)
    return body


def _widget(body: dict[str, Any], title: str) -> dict[str, Any]:
    (widget,) = [w for w in body["widgets"] if w["properties"].get("title") == title]
    return widget


def _alarms(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    return cfn.of_type(synthesized.resources, "AWS::CloudWatch::Alarm")


def _alarm(synthesized: Synthesized, fragment: str) -> dict[str, Any]:
    (alarm,) = [a["Properties"] for logical_id, a in _alarms(synthesized).items() if fragment in logical_id]
    return alarm


def test_the_dashboard_shows_requests_latency_errors_throttles_tokens_and_cost(
    synthesized: Synthesized,
) -> None:
    body = _dashboard(synthesized)
    text = json.dumps(body)
    # API Gateway: requests, 4xx/5xx, latency p50 and p99
    for metric in ('"Count"', '"4XXError"', '"5XXError"', '"Latency"', '"IntegrationLatency"'):
        assert metric in text, metric
    latency = json.dumps(_widget(body, "API latency (ms)"))
    assert '"stat": "p50"' in latency and '"stat": "p99"' in latency
    # Bedrock: the functions' throttle count, and Bedrock's own per catalog model
    throttles = json.dumps(_widget(body, "Bedrock throttles"))
    assert observability.THROTTLE_METRIC in throttles
    for model in catalog.MODELS:
        assert f'"ModelId", "{model.id}"' in throttles, model.id
    # Tokens, Bedrock calls and latency from the functions' own metrics
    for metric in ("InputTokens", "Texts", "BedrockCalls", "BedrockLatency"):
        assert f'MetricName=\\"{metric}\\"' in text, metric
    # Lambda errors, throttles, duration, concurrency for every function
    for metric in ('"Errors"', '"Throttles"', '"Duration"', '"ConcurrentExecutions"'):
        assert metric in text, metric


def test_the_estimated_cost_prices_each_models_tokens_from_the_catalog(synthesized: Synthesized) -> None:
    cost = json.dumps(_widget(_dashboard(synthesized), "Estimated Bedrock cost (USD per hour)"))
    for model in catalog.MODELS:
        assert f"* {model.price_per_million_tokens} / 1000000" in cost, model.id
        assert f"USD {model.id}" in cost
    for function in alarms_module.bedrock_functions():
        assert f'"service", "embedrock-{function.name}"' in cost
    assert "USD, all models" in cost


def test_the_estimated_cost_prices_the_pipelines_batch_tokens_at_the_batch_price(
    synthesized: Synthesized,
) -> None:
    cost = _widget(_dashboard(synthesized), "Estimated Bedrock cost (USD per hour)")
    expressions = {
        line["label"]: line["expression"]
        for line in (item[0] for item in cost["properties"]["metrics"] if isinstance(item[0], dict))
    }
    text = json.dumps(cost)
    for model in catalog.MODELS:
        expression = expressions[f"USD {model.id}"]
        batch_price = model.batch_price_per_million_tokens
        if batch_price is None:
            assert "BatchInputTokens" not in expression and " - " not in expression, model.id
            continue
        # Batch tokens come off at the on-demand price and back at the batch price, both from the catalog
        assert f"* {model.price_per_million_tokens} / 1000000 + FILL(" in expression, model.id
        assert expression.endswith(f"* {batch_price} / 1000000"), model.id
        assert f'"BatchInputTokens", "Model", "{model.id}", "service", "embedrock-ingest"' in text or (
            f'"BatchInputTokens", "service", "embedrock-ingest", "Model", "{model.id}"' in text
        ), model.id


def test_the_dashboard_lists_every_alarm(synthesized: Synthesized) -> None:
    status = _widget(_dashboard(synthesized), "Alarms")
    assert len(status["properties"]["alarms"]) == len(_alarms(synthesized))


def test_the_5xx_rate_alarm(synthesized: Synthesized) -> None:
    alarm = _alarm(synthesized, "ApiServerErrorRate")
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == (
        "AWS/ApiGateway",
        "5XXError",
        "Average",
    )
    assert alarm["Threshold"] == alarms_module.SERVER_ERROR_RATE
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (3, 2)


def test_the_bedrock_throttle_alarm_sums_every_function_that_calls_bedrock(synthesized: Synthesized) -> None:
    alarm = _alarm(synthesized, "BedrockThrottles")
    queries = alarm["Metrics"]
    (expression,) = [q for q in queries if "Expression" in q]
    metrics = [q["MetricStat"]["Metric"] for q in queries if "MetricStat" in q]
    assert expression["Expression"].startswith("SUM([")
    assert {m["MetricName"] for m in metrics} == {observability.THROTTLE_METRIC}
    assert {m["Namespace"] for m in metrics} == {observability.NAMESPACE}
    services = {d["Value"] for m in metrics for d in m["Dimensions"] if d["Name"] == "service"}
    assert services == {f"embedrock-{f.name}" for f in alarms_module.bedrock_functions()}
    assert alarm["Threshold"] == alarms_module.BEDROCK_THROTTLES


@pytest.mark.parametrize("function", WATCHED_FUNCTIONS, ids=lambda function: function.name)
def test_each_function_has_an_errors_alarm(synthesized: Synthesized, function: routes.Function) -> None:
    alarm = _alarm(synthesized, f"{function.name.title()}Errors")
    function_id, _ = cfn.function_named(synthesized.resources, function.name)
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == ("AWS/Lambda", "Errors", "Sum")
    assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": function_id}}]
    assert alarm["Threshold"] == 0 and alarm["ComparisonOperator"] == "GreaterThanThreshold"


def test_the_dead_letter_alarm_is_one_of_the_alarms(synthesized: Synthesized) -> None:
    alarm = _alarm(synthesized, "DeadLetters")
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"


def test_without_an_email_alarms_have_no_actions(synthesized: Synthesized) -> None:
    assert cfn.of_type(synthesized.resources, "AWS::SNS::Topic") == {}
    for logical_id, alarm in _alarms(synthesized).items():
        assert "AlarmActions" not in alarm["Properties"], logical_id


def test_every_alarm_explains_what_to_do(synthesized: Synthesized) -> None:
    for logical_id, alarm in _alarms(synthesized).items():
        assert len(alarm["Properties"].get("AlarmDescription", "")) >= 60, logical_id


def test_a_queue_watched_later_gets_the_topic_like_the_others() -> None:
    # Given the alarms construct with an email, in a small stack of its own
    stack = cdk.Stack(cdk.App())
    api = apigw.RestApi(stack, "Api")
    api.root.add_method("GET", apigw.MockIntegration())
    alarms = EmbedrockAlarms(stack, "Alarms", api=api, functions={}, email="oncall@example.com")
    before = len(alarms.alarms)

    # When a dead-letter queue is watched
    alarms.watch_queue_depth(
        "DeadLetters", sqs.Queue(stack, "Dlq"), "Messages failed every retry; redrive them."
    )

    # Then its alarm notifies the same topic, and is listed for the dashboard
    template = Template.from_stack(stack)
    (topic_id,) = template.find_resources("AWS::SNS::Topic")
    depth = template.find_resources(
        "AWS::CloudWatch::Alarm", {"Properties": {"MetricName": "ApproximateNumberOfMessagesVisible"}}
    )
    (alarm,) = depth.values()
    assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}]
    assert len(alarms.alarms) == before + 1


def test_the_stack_prints_the_dashboards_url(synthesized: Synthesized) -> None:
    outputs = synthesized.template.find_outputs("DashboardUrl")
    (output,) = outputs.values()
    dashboard_id, _ = cfn.only(synthesized.resources, "AWS::CloudWatch::Dashboard")
    assert f"#dashboards:name=${{{dashboard_id}}}" in cfn.render(output["Value"])


def _metric_queries(queries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [q["MetricStat"]["Metric"] for q in queries if "MetricStat" in q]


def _services(metrics: list[dict[str, Any]]) -> set[str]:
    """The `service` dimension of each metric, which must be its only dimension (no per-collection one)."""
    assert all([d["Name"] for d in m["Dimensions"]] == ["service"] for m in metrics)
    return {m["Dimensions"][0]["Value"] for m in metrics}


VECTOR_SERVICES = {"embedrock-collections", "embedrock-ingest"}


def test_the_vector_store_throttle_alarm_sums_both_functions_that_use_the_bucket(
    synthesized: Synthesized,
) -> None:
    # Given the S3 Vectors throttle alarm
    alarm = _alarm(synthesized, "VectorStoreThrottles")
    (expression,) = [q for q in alarm["Metrics"] if "Expression" in q]
    metrics = _metric_queries(alarm["Metrics"])
    # Then it sums the throttles of the collections API and of the pipeline, over its threshold
    assert expression["Expression"].startswith("SUM([")
    assert {m["MetricName"] for m in metrics} == {alarms_module.VECTOR_STORE_THROTTLES}
    assert {m["Namespace"] for m in metrics} == {observability.NAMESPACE}
    assert _services(metrics) == VECTOR_SERVICES
    assert alarm["Threshold"] == alarms_module.VECTOR_THROTTLES
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"


def test_the_collection_search_latency_alarm_watches_the_p99_for_15_minutes(synthesized: Synthesized) -> None:
    # Given the search latency alarm
    alarm = _alarm(synthesized, "CollectionQueryLatencyP99")
    # Then it reads the collections function's QueryVectors time at p99, three periods running
    assert (alarm["Namespace"], alarm["MetricName"], alarm["ExtendedStatistic"]) == (
        observability.NAMESPACE,
        alarms_module.COLLECTION_QUERY_LATENCY,
        "p99",
    )
    assert alarm["Dimensions"] == [{"Name": "service", "Value": "embedrock-collections"}]
    assert alarm["Threshold"] == alarms_module.COLLECTION_QUERY_P99_MS
    assert alarm["EvaluationPeriods"] == 3 and alarm["TreatMissingData"] == "notBreaching"


def test_the_dashboard_has_a_collections_row(synthesized: Synthesized) -> None:
    # Given the dashboard
    body = _dashboard(synthesized)
    upserts = _widget(body, "Collections: documents upserted and vector write calls")
    searches = _widget(body, "Collection searches and S3 Vectors throttles")
    latency = _widget(body, "Collection search latency in S3 Vectors (ms)")
    function = _widget(body, "Collections function: errors and duration p99 (ms)")
    # Then the four widgets share one row of 24
    row = [upserts, searches, latency, function]
    assert len({w["y"] for w in row}) == 1 and sum(w["width"] for w in row) == 24
    # and upserts and write calls are summed over the API and the pipeline, with no other dimension
    text = json.dumps(upserts)
    for name in (alarms_module.DOCUMENTS_UPSERTED, alarms_module.VECTOR_WRITE_CALLS):
        for service in VECTOR_SERVICES:
            assert f'"{name}", "service", "{service}"' in text, (name, service)
    # and searches are the collections function's, throttles both functions'
    text = json.dumps(searches)
    assert f'"{alarms_module.COLLECTION_QUERIES}", "service", "embedrock-collections"' in text
    for service in VECTOR_SERVICES:
        assert f'"{alarms_module.VECTOR_STORE_THROTTLES}", "service", "{service}"' in text
    # and the latency is graphed at p50 and p99
    text = json.dumps(latency)
    assert alarms_module.COLLECTION_QUERY_LATENCY in text
    assert '"stat": "p50"' in text and '"stat": "p99"' in text
    # and the function's errors (left) and duration p99 (right) are the collections function's
    text = json.dumps(function)
    assert '"Errors"' in text and '"Duration"' in text and '"yAxis": "right"' in text


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_the_collections_metrics_graphed_are_the_ones_the_functions_emit(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given what the collections' metric helpers print (EMF), for an upsert, a search and a throttle
    capsys.readouterr()
    observability.record_documents_upserted(3, 1)
    observability.record_collection_query(12.5)
    observability.record_vector_store_throttle()
    records = emf_records(capsys.readouterr().out)
    # When their metric names and dimensions are read
    emitted = {name for record in records for name in metric_names(record)}
    # Then they are exactly the names the dashboard and alarms read, by function (service) only
    assert emitted == {
        alarms_module.DOCUMENTS_UPSERTED,
        alarms_module.VECTOR_WRITE_CALLS,
        alarms_module.COLLECTION_QUERIES,
        alarms_module.COLLECTION_QUERY_LATENCY,
        alarms_module.VECTOR_STORE_THROTTLES,
    }
    assert all(dimension_sets(record) == [["service"]] for record in records)
