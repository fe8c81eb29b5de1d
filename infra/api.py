"""The REST API, built from routes.ROUTES: API key, usage plan, logs, traces, error shapes."""

from __future__ import annotations

import json
from collections.abc import Mapping

from aws_cdk import Duration, Size, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from embedrock import routes
from infra import nag
from infra.api_errors import add_gateway_errors
from infra.config import UsagePlanLimits
from infra.observability import log_group

STAGE_NAME = "prod"

ACCESS_LOG_FIELDS: Mapping[str, str] = {
    "requestId": apigw.AccessLogField.context_request_id(),
    "requestTime": apigw.AccessLogField.context_request_time(),
    "ip": apigw.AccessLogField.context_identity_source_ip(),
    "httpMethod": apigw.AccessLogField.context_http_method(),
    "resourcePath": apigw.AccessLogField.context_resource_path(),
    "status": apigw.AccessLogField.context_status(),
    "protocol": apigw.AccessLogField.context_protocol(),
    "responseLength": apigw.AccessLogField.context_response_length(),
    "responseLatency": apigw.AccessLogField.context_response_latency(),
    "integrationLatency": apigw.AccessLogField.context_integration_latency(),
    "errorType": apigw.AccessLogField.context_error_response_type(),
    # Lambda's status for the invoke (a number, or "-"); why a 5xx happened is in the function logs.
    # Not $context.integrationErrorMessage: API Gateway writes it as raw text, which may hold quotes
    # and break the JSON line (AWS, "Variables for access logging for API Gateway"). Every value
    # here is an id, a number, a time or a name that never holds a quote or a backslash.
    "integrationStatus": apigw.AccessLogField.context_integration_status(),
    # The key's id, not its value: tells which client used the quota.
    "apiKeyId": apigw.AccessLogField.context_identity_api_key_id(),
    "xrayTraceId": apigw.AccessLogField.context_xray_trace_id(),
}

NO_AUTHORIZER_REASON = (
    "Clients authenticate with an API key bound to a usage plan (throttle and daily quota); "
    "no IAM, Cognito or Lambda authorizer is used."
)
PREFLIGHT_REASON = (
    "CORS preflight (OPTIONS) is answered by API Gateway itself with a mock integration, before any "
    "key is checked, as browsers send it without credentials; it reaches no function and no data."
)
# What a browser may send (API Gateway's usual set: Content-Type, X-Api-Key, Authorization, ...).
CORS_ALLOW_HEADERS = tuple(apigw.Cors.DEFAULT_HEADERS)
CORS_MAX_AGE = Duration.minutes(10)
PUBLIC_ROUTE_REASON = (
    "Health check and API documentation are public on purpose, so that probes and browsers "
    "need no key; embeddings, similarity and the model catalog stay behind the key."
)


class EmbedrockApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: Mapping[str, lambda_.IFunction],
        limits: UsagePlanLimits,
        cors_origins: tuple[str, ...] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        access_logs = log_group(self, "AccessLogs")
        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
            # Named after the stack: API Gateway's metrics are keyed by ApiName, so two stacks in one
            # account and region must not share a name (the alarms and dashboard use this one).
            rest_api_name=Stack.of(self).stack_name,
            description="Embedrock: embeddings, similarity and model catalog on Amazon Bedrock",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # Vectors in JSON compress well; clients that send Accept-Encoding get gzip.
            min_compression_size=Size.bytes(routes.MIN_COMPRESSION_BYTES),
            cloud_watch_role=True,
            deploy_options=apigw.StageOptions(
                stage_name=STAGE_NAME,
                tracing_enabled=True,
                logging_level=apigw.MethodLoggingLevel.INFO,
                metrics_enabled=True,
                # Request and response bodies (texts, vectors) stay out of the logs.
                data_trace_enabled=False,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS)),
            ),
        )
        self._own_execution_logs()
        self._add_routes(functions)
        if cors_origins:
            self._add_cors_preflight(cors_origins)
        self.api_key = self._add_usage_plan(limits)
        add_gateway_errors(self.rest_api, cors_headers=gateway_cors_headers(cors_origins))
        self._acknowledge_account_findings()

    def _own_execution_logs(self) -> None:
        # API Gateway would create this group itself, without retention; create it first instead.
        stage = self.rest_api.deployment_stage
        execution_logs = log_group(
            self, "ExecutionLogs", name=f"API-Gateway-Execution-Logs_{self.rest_api.rest_api_id}/{STAGE_NAME}"
        )
        stage.node.add_dependency(execution_logs)

    def _add_routes(self, functions: Mapping[str, lambda_.IFunction]) -> None:
        # Both checks on (AwsSolutions-APIG2). Without request models API Gateway checks only the
        # required path parameters; the functions validate bodies themselves (pydantic).
        validator = self.rest_api.add_request_validator(
            "RequestValidator", validate_request_body=True, validate_request_parameters=True
        )
        integrations = {name: apigw.LambdaIntegration(function) for name, function in functions.items()}
        for route in routes.ROUTES:
            resource = self.rest_api.root.resource_for_path(route.path)
            method = resource.add_method(
                route.method,
                integrations[route.function],
                api_key_required=route.api_key_required,
                request_validator=validator,
                request_parameters={
                    f"method.request.path.{name}": True for name in _path_parameters(route.path)
                },
            )
            reason = NO_AUTHORIZER_REASON if route.api_key_required else PUBLIC_ROUTE_REASON
            for rule_id in ("AwsSolutions-APIG4", "AwsSolutions-COG4"):
                nag.acknowledge(method, rule_id, reason)

    def _add_cors_preflight(self, origins: tuple[str, ...]) -> None:
        """OPTIONS on each path of the route table, answered by API Gateway (the functions add
        the CORS headers to their own responses: embedrock.http.resolver, EMBEDROCK_CORS_ORIGINS)."""
        methods: dict[str, set[str]] = {}
        for route in routes.ROUTES:
            methods.setdefault(route.path, set()).add(route.method)
        for path, path_methods in methods.items():
            preflight = self.rest_api.root.resource_for_path(path).add_cors_preflight(
                allow_origins=list(origins),
                allow_methods=[*sorted(path_methods), "OPTIONS"],
                allow_headers=list(CORS_ALLOW_HEADERS),
                max_age=CORS_MAX_AGE,
            )
            for rule_id in ("AwsSolutions-APIG4", "AwsSolutions-COG4"):
                nag.acknowledge(preflight, rule_id, PREFLIGHT_REASON)

    def _add_usage_plan(self, limits: UsagePlanLimits) -> apigw.IApiKey:
        api_key = self.rest_api.add_api_key("ApiKey", description="Embedrock client key")
        plan = self.rest_api.add_usage_plan(
            "UsagePlan",
            description="Per-key throttle and daily quota, sized below typical Bedrock embedding quotas",
            throttle=apigw.ThrottleSettings(rate_limit=limits.rate_limit, burst_limit=limits.burst_limit),
            quota=apigw.QuotaSettings(limit=limits.quota_per_day, period=apigw.Period.DAY),
        )
        plan.add_api_stage(stage=self.rest_api.deployment_stage)
        plan.add_api_key(api_key)
        return api_key

    def _acknowledge_account_findings(self) -> None:
        # AwsSolutions-APIG3 (WAF) is the stack's to settle: infra/waf.py, context embedrock:waf.
        cloud_watch_role = self.rest_api.node.find_child("CloudWatchRole")
        assert isinstance(cloud_watch_role, iam.Role)
        nag.acknowledge(
            cloud_watch_role,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
            "API Gateway uses one CloudWatch Logs role per account and region for every REST API in "
            "it; the AWS managed policy is the documented one, and a policy scoped to this API's "
            "log groups would break logging of the account's other APIs.",
        )


def gateway_cors_headers(origins: tuple[str, ...]) -> dict[str, str]:
    """CORS headers of API Gateway's own error responses (missing key, throttled, ...), as
    gateway-response parameters. Their values are static, so with several origins the request's
    Origin is echoed (a method.request.header mapping; AWS, "x-amazon-apigateway-gateway-responses.
    responseParameters object"): these bodies are error messages only and carry no data."""
    if not origins:
        return {}
    allow_origin = f"'{origins[0]}'" if len(origins) == 1 else "method.request.header.Origin"
    return {
        "Access-Control-Allow-Origin": allow_origin,
        "Access-Control-Allow-Headers": f"'{','.join(CORS_ALLOW_HEADERS)}'",
        "Vary": "'Origin'",
    }


def _path_parameters(path: str) -> list[str]:
    return [segment[1:-1] for segment in path.split("/") if segment.startswith("{") and segment.endswith("}")]
