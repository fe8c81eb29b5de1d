"""CloudWatch alarms, and the optional SNS topic they notify (CDK context `embedrock:alarmEmail`).

Every alarm goes through `EmbedrockAlarms.add`, which gives it the topic's action when there
is a topic, so alarms added later (the ingestion DLQ through `watch_queue_depth`) notify the
same people. Without an email the alarms still exist: their state shows on the dashboard and
in the CloudWatch console.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from embedrock import routes
from embedrock.settings import Settings, variable
from infra.functions import METRICS_NAMESPACE
from infra.observability import allow_alarms_to_use, encryption_key

PERIOD = Duration.minutes(5)
# Share of API requests answered 5xx (502/503/504 from Bedrock, 500 from a bug) over 5 minutes.
SERVER_ERROR_RATE = 0.05
# Throttled InvokeModel attempts (retried or not) over 5 minutes, all functions together.
BEDROCK_THROTTLES = 20
# API latency p99: close to API Gateway's 29 s integration timeout, requests start failing.
LATENCY_P99_MS = 20_000
THROTTLE_METRIC = "BedrockThrottles"  # emitted by embedrock.observability.record_throttle
# The collections' metrics (embedrock.observability, dimension service only: never per collection).
DOCUMENTS_UPSERTED = "DocumentsUpserted"
VECTOR_WRITE_CALLS = "VectorWriteCalls"  # PutVectors and DeleteVectors calls
COLLECTION_QUERIES = "CollectionQueries"
COLLECTION_QUERY_LATENCY = "CollectionQueryLatency"  # the store's QueryVectors time
VECTOR_STORE_THROTTLES = "VectorStoreThrottles"  # throttled S3 Vectors attempts, retried or not
# Throttled S3 Vectors attempts over 5 minutes, every function with vector access together.
VECTOR_THROTTLES = 20
# S3 Vectors answers cold queries in under a second and warm ones in as little as 100 ms (Amazon S3
# User Guide, "S3 Vectors best practices"): a p99 this high for 15 minutes is something else.
COLLECTION_QUERY_P99_MS = 2_000


def bedrock_functions() -> list[routes.Function]:
    """The functions that call InvokeModel (and so emit the Bedrock metrics), the pipeline's too."""
    every = (*routes.FUNCTIONS, routes.INGEST)
    return [f for f in every if f.bedrock_access is routes.BedrockAccess.INVOKE_EMBEDDING_MODELS]


def vector_functions() -> list[routes.Function]:
    """The functions that use the vector bucket (and so emit the collections' metrics)."""
    every = (*routes.FUNCTIONS, routes.INGEST)
    return [f for f in every if f.vector_access is not routes.VectorAccess.NONE]


def app_metric(
    name: str, function: routes.Function, statistic: str = "Sum", **dimensions: str
) -> cloudwatch.Metric:
    """A metric the functions publish (Powertools EMF): namespace Embedrock, dimension service."""
    return cloudwatch.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map={"service": f"embedrock-{function.name}", **dimensions},
        statistic=statistic,
        period=PERIOD,
    )


def bedrock_throttles() -> cloudwatch.MathExpression:
    metrics = {
        f"t{index}": app_metric(THROTTLE_METRIC, function)
        for index, function in enumerate(bedrock_functions())
    }
    return cloudwatch.MathExpression(
        expression=f"SUM([{', '.join(f'FILL({name}, 0)' for name in metrics)}])",
        using_metrics=metrics,
        label="Bedrock throttles",
        period=PERIOD,
    )


def vector_sum(name: str, label: str) -> cloudwatch.MathExpression:
    """One of the collections' counts, summed over the functions that use the vector bucket."""
    # Ids unique per metric name: two sums may share a graph.
    metrics = {
        f"{name.lower()}{index}": app_metric(name, function)
        for index, function in enumerate(vector_functions())
    }
    return cloudwatch.MathExpression(
        expression=f"SUM([{', '.join(f'FILL({name}, 0)' for name in metrics)}])",
        using_metrics=metrics,
        label=label,
        period=PERIOD,
    )


def collection_query_latency(statistic: str, label: str | None = None) -> cloudwatch.Metric:
    """Only the collections function searches (the pipeline only writes)."""
    metric = app_metric(COLLECTION_QUERY_LATENCY, routes.COLLECTIONS, statistic=statistic)
    return metric if label is None else metric.with_(label=label)


class EmbedrockAlarms(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        api: apigw.RestApi,
        functions: Mapping[str, lambda_.IFunction],
        email: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.alarms: list[cloudwatch.Alarm] = []
        self.topic = self._topic(email) if email else None
        self._alarm(
            "ApiServerErrorRate",
            f"More than {SERVER_ERROR_RATE:.0%} of API requests answered 5xx over 5 minutes, twice in "
            "15 minutes. 502: the model failed; 503: Bedrock unavailable; 504: Bedrock or the "
            "deadline timed out; 500: a bug (search the function logs for 'unhandled error').",
            api.metric_server_error(statistic="Average", period=PERIOD),
            threshold=SERVER_ERROR_RATE,
            evaluation_periods=3,
            datapoints_to_alarm=2,
        )
        self._alarm(
            "BedrockThrottles",
            f"Bedrock throttled more than {BEDROCK_THROTTLES} InvokeModel calls in 5 minutes: raise the "
            "account's Bedrock quota (Service Quotas, requests per minute per model), lower "
            f"{variable(Settings, 'max_concurrency')}, or lower the usage plan's rate limit.",
            bedrock_throttles(),
            threshold=BEDROCK_THROTTLES,
        )
        self._alarm(
            "ApiLatencyP99",
            f"API latency p99 over {LATENCY_P99_MS / 1000:.0f} s for 15 minutes: close to API Gateway's "
            "29 s limit. Clients send too many texts per request, or Bedrock is slow or throttling.",
            api.metric_latency(statistic="p99", period=PERIOD),
            threshold=LATENCY_P99_MS,
            evaluation_periods=3,
        )
        self._alarm(
            "VectorStoreThrottles",
            f"S3 Vectors throttled (429) more than {VECTOR_THROTTLES} calls in 5 minutes. An index takes "
            "up to 1,000 PutVectors and DeleteVectors requests, and 2,500 vectors inserted or deleted, "
            "per second (Amazon S3 User Guide, S3 Vectors limitations): spread large uploads over time "
            "or through the pipeline, or lower the usage plan's rate limit.",
            vector_sum(VECTOR_STORE_THROTTLES, "S3 Vectors throttles"),
            threshold=VECTOR_THROTTLES,
        )
        self._alarm(
            "CollectionQueryLatencyP99",
            f"Collection searches spent over {COLLECTION_QUERY_P99_MS / 1000:.0f} s (p99) in S3 Vectors "
            "QueryVectors for 15 minutes, where it usually answers in under a second: check the "
            "S3 Vectors throttles, large top_k values or filters, and the AWS Health Dashboard.",
            collection_query_latency("p99"),
            threshold=COLLECTION_QUERY_P99_MS,
            evaluation_periods=3,
        )
        for name, function in sorted(functions.items()):
            self._alarm(
                f"{name.title()}Errors",
                f"The {name} function failed (crash, timeout or out of memory) in the last 5 minutes; "
                "API errors such as 400 or 429 are answers, not failures, and do not count here. "
                "Read the function's log group.",
                function.metric_errors(statistic="Sum", period=PERIOD),
            )

    def add(self, alarm: cloudwatch.Alarm) -> cloudwatch.Alarm:
        """Keep `alarm` on the dashboard and, when there is a topic, notify it on alarm and on OK."""
        if self.topic is not None:
            alarm.add_alarm_action(actions.SnsAction(self.topic))
            alarm.add_ok_action(actions.SnsAction(self.topic))
        self.alarms.append(alarm)
        return alarm

    def watch_queue_depth(self, construct_id: str, queue: sqs.IQueue, description: str) -> cloudwatch.Alarm:
        """An alarm on any message waiting in `queue`: for dead-letter queues."""
        return self._alarm(
            construct_id,
            description,
            queue.metric_approximate_number_of_messages_visible(statistic="Maximum", period=PERIOD),
        )

    def _alarm(
        self,
        construct_id: str,
        description: str,
        metric: cloudwatch.IMetric,
        *,
        threshold: float = 0,
        evaluation_periods: int = 1,
        datapoints_to_alarm: int | None = None,
    ) -> cloudwatch.Alarm:
        """An alarm when `metric` is over `threshold`, added (`add`); no data is not a breach."""
        return self.add(
            cloudwatch.Alarm(
                self,
                construct_id,
                alarm_description=description,
                metric=metric,
                threshold=threshold,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=evaluation_periods,
                datapoints_to_alarm=datapoints_to_alarm,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
        )

    def _topic(self, email: str) -> sns.Topic:
        key = encryption_key(self)
        allow_alarms_to_use(key)
        topic = sns.Topic(
            self,
            "Topic",
            display_name="Embedrock alarms",
            master_key=key,  # encrypted at rest (AwsSolutions-SNS2)
            enforce_ssl=True,  # publishers must use TLS (AwsSolutions-SNS3)
        )
        topic.add_subscription(subscriptions.EmailSubscription(email))
        return topic
