"""The operations dashboard: requests, latency, errors, Bedrock throttles, tokens, estimated cost,
and the collections (writes, searches and their S3 Vectors latency, throttles).

API Gateway and Lambda metrics come from AWS; Texts, InputTokens, BedrockCalls, BedrockLatency
and BedrockThrottles are the functions' own (embedrock.observability, namespace Embedrock,
dimensions service and Model). The cost is an estimate: input tokens times the catalog's
on-demand price per model, which is what Bedrock bills for embeddings, and the pipeline's batch
inference tokens (BatchInputTokens, among its InputTokens) at the catalog's batch price.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from embedrock import catalog, routes
from infra.alarms import (
    COLLECTION_QUERIES,
    DOCUMENTS_UPSERTED,
    PERIOD,
    VECTOR_STORE_THROTTLES,
    VECTOR_WRITE_CALLS,
    app_metric,
    bedrock_functions,
    bedrock_throttles,
    collection_query_latency,
    vector_sum,
)
from infra.functions import METRICS_NAMESPACE

WIDTH = 8  # three widgets per row of 24
COLLECTIONS_WIDTH = 6  # the collections' row has four
HEIGHT = 6
COST_PERIOD = Duration.hours(1)
BATCH_TOKENS_METRIC = "BatchInputTokens"  # emitted by embedrock.observability.record_file_tokens


def _search(metric: str, statistic: str, label: str) -> cloudwatch.MathExpression:
    """One line per model and function of one of the functions' metrics."""
    return cloudwatch.MathExpression(
        expression=f"SEARCH('{{{METRICS_NAMESPACE},Model,service}} MetricName=\"{metric}\"', '{statistic}', 300)",
        using_metrics={},
        label=label,
        period=PERIOD,
    )


def estimated_cost(period: Duration = COST_PERIOD) -> list[cloudwatch.MathExpression]:
    """USD per model (input tokens x catalog price, the pipeline's batch tokens at the batch price),
    then the total, one line each."""
    per_model: list[cloudwatch.MathExpression] = []
    for m, model in enumerate(catalog.MODELS):
        tokens = {
            f"tokens{m}x{f}": app_metric("InputTokens", function, Model=model.id).with_(period=period)
            for f, function in enumerate(bedrock_functions())
        }
        total_tokens = " + ".join(f"FILL({name}, 0)" for name in tokens)
        expression = f"({total_tokens}) * {model.price_per_million_tokens} / 1000000"
        if model.batch_price_per_million_tokens is not None:
            # Batch tokens are among InputTokens: take them off at the on-demand price, add them at batch's.
            batch = f"batch{m}"
            tokens[batch] = app_metric(BATCH_TOKENS_METRIC, routes.INGEST, Model=model.id).with_(
                period=period
            )
            expression += (
                f" - FILL({batch}, 0) * {model.price_per_million_tokens} / 1000000"
                f" + FILL({batch}, 0) * {model.batch_price_per_million_tokens} / 1000000"
            )
        per_model.append(
            cloudwatch.MathExpression(
                expression=expression, using_metrics=tokens, label=f"USD {model.id}", period=period
            )
        )
    total = cloudwatch.MathExpression(
        expression=" + ".join(f"cost{m}" for m in range(len(per_model))),
        using_metrics={f"cost{m}": expression for m, expression in enumerate(per_model)},
        label="USD, all models",
        period=period,
    )
    return [*per_model, total]


class EmbedrockDashboard(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        api: apigw.RestApi,
        functions: Mapping[str, lambda_.IFunction],
        alarms: Sequence[cloudwatch.IAlarm],
    ) -> None:
        super().__init__(scope, construct_id)
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", default_interval=Duration.hours(6))
        named = sorted(functions.items())
        self.dashboard.add_widgets(
            _graph("API requests", [api.metric_count(statistic="Sum", period=PERIOD, label="requests")]),
            _graph(
                "API errors",
                [
                    api.metric_client_error(statistic="Sum", period=PERIOD, label="4xx"),
                    api.metric_server_error(statistic="Sum", period=PERIOD, label="5xx"),
                ],
            ),
            _graph(
                "API latency (ms)",
                [
                    api.metric_latency(statistic="p50", period=PERIOD, label="p50"),
                    api.metric_latency(statistic="p99", period=PERIOD, label="p99"),
                    api.metric_integration_latency(statistic="p99", period=PERIOD, label="integration p99"),
                ],
            ),
        )
        self.dashboard.add_widgets(
            _graph(
                "Bedrock throttles",
                [
                    bedrock_throttles(),
                    *(
                        cloudwatch.Metric(
                            namespace="AWS/Bedrock",
                            metric_name="InvocationThrottles",
                            dimensions_map={"ModelId": model.id},
                            statistic="Sum",
                            period=PERIOD,
                            label=f"Bedrock, {model.id} (whole account)",
                        )
                        for model in catalog.MODELS
                    ),
                ],
            ),
            _graph(
                "Bedrock latency per request (ms)",
                [
                    _search("BedrockLatency", "p50", "p50"),
                    _search("BedrockLatency", "p99", "p99"),
                ],
            ),
            _graph(
                "Texts and Bedrock calls",
                [_search("Texts", "Sum", "texts"), _search("BedrockCalls", "Sum", "calls")],
            ),
        )
        self.dashboard.add_widgets(
            _graph("Input tokens", [_search("InputTokens", "Sum", "tokens")]),
            _graph("Estimated Bedrock cost (USD per hour)", estimated_cost(), stacked=True),
            cloudwatch.SingleValueWidget(
                title="Estimated Bedrock cost over the dashboard's time range (USD)",
                metrics=[estimated_cost()[-1]],
                set_period_to_time_range=True,
                width=WIDTH,
                height=HEIGHT,
            ),
        )
        self.dashboard.add_widgets(
            _graph(
                "Function errors and throttles",
                [
                    metric
                    for name, function in named
                    for metric in (
                        function.metric_errors(statistic="Sum", period=PERIOD, label=f"{name} errors"),
                        function.metric_throttles(statistic="Sum", period=PERIOD, label=f"{name} throttles"),
                    )
                ],
            ),
            _graph(
                "Function duration p99 (ms)",
                [
                    function.metric_duration(statistic="p99", period=PERIOD, label=name)
                    for name, function in named
                ],
            ),
            _graph(
                "Function concurrency",
                [
                    function.metric("ConcurrentExecutions", statistic="Maximum", period=PERIOD, label=name)
                    for name, function in named
                ],
            ),
        )
        self.dashboard.add_widgets(*_collections_row(functions[routes.COLLECTIONS.name]))
        self.dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(alarms), width=24, height=HEIGHT)
        )


def _collections_row(function: lambda_.IFunction) -> list[cloudwatch.IWidget]:
    """Writes (the API's and the pipeline's), searches, their latency and throttles, and the
    collections function's own errors and duration."""
    return [
        _graph(
            "Collections: documents upserted and vector write calls",
            [
                vector_sum(DOCUMENTS_UPSERTED, "documents upserted"),
                vector_sum(VECTOR_WRITE_CALLS, "write calls (PutVectors, DeleteVectors)"),
            ],
            width=COLLECTIONS_WIDTH,
        ),
        _graph(
            "Collection searches and S3 Vectors throttles",
            [
                app_metric(COLLECTION_QUERIES, routes.COLLECTIONS).with_(label="searches"),
                vector_sum(VECTOR_STORE_THROTTLES, "S3 Vectors throttles"),
            ],
            width=COLLECTIONS_WIDTH,
        ),
        _graph(
            "Collection search latency in S3 Vectors (ms)",
            [collection_query_latency("p50", "p50"), collection_query_latency("p99", "p99")],
            width=COLLECTIONS_WIDTH,
        ),
        cloudwatch.GraphWidget(
            title="Collections function: errors and duration p99 (ms)",
            left=[function.metric_errors(statistic="Sum", period=PERIOD, label="errors")],
            right=[function.metric_duration(statistic="p99", period=PERIOD, label="duration p99")],
            width=COLLECTIONS_WIDTH,
            height=HEIGHT,
        ),
    ]


def _graph(
    title: str, metrics: Sequence[cloudwatch.IMetric], *, stacked: bool = False, width: int = WIDTH
) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(
        title=title, left=list(metrics), width=width, height=HEIGHT, stacked=stacked
    )
