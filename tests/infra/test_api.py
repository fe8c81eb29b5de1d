"""REST API: one method per routes.ROUTES entry, API key and usage plan, logs and traces."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Match, Template

from embedrock import gateway_errors, routes
from infra import api, api_errors, config
from tests.infra import cfn
from tests.infra.conftest import CORS_ORIGINS, CUSTOM_LIMITS, Synthesized

pytestmark = pytest.mark.infra

LOG_RETENTION_DAYS = 30  # logs.RetentionDays.ONE_MONTH


def _methods(synthesized: Synthesized) -> dict[tuple[str, str], dict[str, object]]:
    """(HTTP method, path) -> method properties."""
    resources = synthesized.resources
    return {
        (m["Properties"]["HttpMethod"], cfn.resource_path(resources, m["Properties"]["ResourceId"])): m[
            "Properties"
        ]
        for m in cfn.of_type(resources, "AWS::ApiGateway::Method").values()
    }


def test_one_method_per_route(synthesized: Synthesized) -> None:
    # Given the synthesized API
    # When its methods are listed by HTTP method and path
    methods = _methods(synthesized)
    # Then they are exactly the routes of the route table, plus (CORS is on in the test context)
    # one preflight OPTIONS per path of the table
    paths = {route.path for route in routes.ROUTES}
    assert sorted(methods) == sorted(
        [(route.method, route.path) for route in routes.ROUTES] + [("OPTIONS", path) for path in paths]
    )


@pytest.mark.parametrize("path", sorted({route.path for route in routes.ROUTES}))
def test_cors_preflight_is_answered_by_api_gateway_for_the_allowed_origins(
    synthesized: Synthesized, path: str
) -> None:
    # Given the OPTIONS method of a route-table path
    method = _methods(synthesized)[("OPTIONS", path)]
    # Then API Gateway answers it (mock integration, no key: browsers send none) ...
    assert method.get("ApiKeyRequired", False) is False
    integration = method["Integration"]
    assert isinstance(integration, dict) and integration["Type"] == "MOCK"
    (response,) = integration["IntegrationResponses"]
    parameters = response["ResponseParameters"]
    # ... with the path's methods, the headers a client sends, and only the allowed origins
    allowed = {route.method for route in routes.ROUTES if route.path == path} | {"OPTIONS"}
    assert (
        set(parameters["method.response.header.Access-Control-Allow-Methods"].strip("'").split(","))
        == allowed
    )
    assert "X-Api-Key" in parameters["method.response.header.Access-Control-Allow-Headers"]
    # (CDK: the first origin is the default answer, the others are echoed when they match)
    first, *others = CORS_ORIGINS
    assert parameters["method.response.header.Access-Control-Allow-Origin"] == f"'{first}'"
    template = response["ResponseTemplates"]["application/json"]
    assert all(f'$origin == "{origin}"' in template for origin in others)


def test_gateway_errors_carry_cors_headers(synthesized: Synthesized) -> None:
    # Given API Gateway's own error responses (missing key, throttled, unknown route, ...)
    for response_type, response in _gateway_responses(synthesized).items():
        parameters = response["ResponseParameters"]
        # Then a browser can read them: the request's origin (two are allowed), and Vary: Origin
        assert (
            parameters["gatewayresponse.header.Access-Control-Allow-Origin"] == "method.request.header.Origin"
        ), response_type
        assert parameters["gatewayresponse.header.Vary"] == "'Origin'"


def test_gateway_cors_headers_are_static_for_one_origin_and_absent_without() -> None:
    assert api.gateway_cors_headers(()) == {}
    headers = api.gateway_cors_headers(("https://app.example.com",))
    assert headers["Access-Control-Allow-Origin"] == "'https://app.example.com'"


@pytest.mark.parametrize("route", routes.ROUTES, ids=lambda route: f"{route.method} {route.path}")
def test_route_method_calls_its_function_with_the_table_api_key_setting(
    synthesized: Synthesized, route: routes.Route
) -> None:
    # Given the method built for this route
    method = _methods(synthesized)[(route.method, route.path)]
    function_id, _ = cfn.function_named(synthesized.resources, route.function)
    # Then it requires an API key exactly when the table says so
    assert method.get("ApiKeyRequired", False) is route.api_key_required
    # and proxies to the route's function
    integration = method["Integration"]
    assert isinstance(integration, dict)
    assert integration["Type"] == "AWS_PROXY"
    assert integration["IntegrationHttpMethod"] == "POST"
    assert f"${{{function_id}.Arn}}" in cfn.render(integration["Uri"])
    # and is checked by the request validator, with its path parameters required
    assert "RequestValidatorId" in method
    parameters = {part[1:-1] for part in route.path.split("/") if part.startswith("{")}
    assert method.get("RequestParameters", {}) == {f"method.request.path.{name}": True for name in parameters}


def test_the_collections_routes_are_resources_of_the_api_with_documents_delete_as_one_path_part(
    synthesized: Synthesized,
) -> None:
    # Given the API's resources, by path
    resources = synthesized.resources
    paths = {
        cfn.resource_path(resources, {"Ref": logical_id}): resource["Properties"]["PathPart"]
        for logical_id, resource in cfn.of_type(resources, "AWS::ApiGateway::Resource").items()
    }
    # Then the collections' tree is there, and documents:delete is one path part with its colon
    # (CDK's path part rule, [a-zA-Z0-9:._-$], accepts it; a custom method in the Google AIP style)
    for path in (
        "/collections",
        "/collections/{name}",
        "/collections/{name}/documents",
        "/collections/{name}/documents/{document_id}",
        "/collections/{name}/search",
    ):
        assert path in paths, path
    assert paths["/collections/{name}/documents:delete"] == "documents:delete"
    # and every collections method proxies to the collections function, behind the API key
    methods = _methods(synthesized)
    function_id, _ = cfn.function_named(resources, routes.COLLECTIONS.name)
    collections = [route for route in routes.ROUTES if route.function == routes.COLLECTIONS.name]
    assert len(collections) == 8
    for route in collections:
        method = methods[(route.method, route.path)]
        assert method["ApiKeyRequired"] is True
        assert f"${{{function_id}.Arn}}" in cfn.render(method["Integration"]["Uri"])


def test_request_validator_checks_parameters_and_body(template: Template) -> None:
    # Then the API has one request validator, for both parameters and body
    template.resource_count_is("AWS::ApiGateway::RequestValidator", 1)
    template.has_resource_properties(
        "AWS::ApiGateway::RequestValidator", {"ValidateRequestBody": True, "ValidateRequestParameters": True}
    )


def test_usage_plan_binds_the_api_key_to_the_stage_with_context_limits(synthesized: Synthesized) -> None:
    # Given the stack synthesized with custom usage-plan context
    resources = synthesized.resources
    key_id, _ = cfn.only(resources, "AWS::ApiGateway::ApiKey")
    stage_id, _ = cfn.only(resources, "AWS::ApiGateway::Stage")
    plan_id, plan = cfn.only(resources, "AWS::ApiGateway::UsagePlan")
    _, plan_key = cfn.only(resources, "AWS::ApiGateway::UsagePlanKey")
    # Then the usage plan throttles and caps per day with the context values
    properties = plan["Properties"]
    assert properties["Throttle"] == {
        "RateLimit": CUSTOM_LIMITS.rate_limit,
        "BurstLimit": CUSTOM_LIMITS.burst_limit,
    }
    assert properties["Quota"] == {"Limit": CUSTOM_LIMITS.quota_per_day, "Period": "DAY"}
    # and applies to the deployed stage, for the API key
    assert [stage["Stage"] for stage in properties["ApiStages"]] == [{"Ref": stage_id}]
    assert plan_key["Properties"]["UsagePlanId"] == {"Ref": plan_id}
    assert plan_key["Properties"]["KeyId"] == {"Ref": key_id}
    assert plan_key["Properties"]["KeyType"] == "API_KEY"


def test_stage_traces_and_logs_access_and_execution(synthesized: Synthesized) -> None:
    # Given the deployed stage
    resources = synthesized.resources
    _, stage = cfn.only(resources, "AWS::ApiGateway::Stage")
    properties = stage["Properties"]
    # Then it is traced by X-Ray
    assert properties["TracingEnabled"] is True
    # and writes JSON access logs to a log group with retention
    access_logs_id = properties["AccessLogSetting"]["DestinationArn"]["Fn::GetAtt"][0]
    assert resources[access_logs_id]["Properties"]["RetentionInDays"] == LOG_RETENTION_DAYS
    access_log_fields = json.loads(properties["AccessLogSetting"]["Format"])
    assert {"requestId", "status", "apiKeyId", "xrayTraceId"} <= set(access_log_fields)
    # and logs execution at INFO with metrics for every method, without request bodies
    assert properties["MethodSettings"] == [
        {
            "HttpMethod": "*",
            "ResourcePath": "/*",
            "LoggingLevel": "INFO",
            "MetricsEnabled": True,
            "DataTraceEnabled": False,
        }
    ]


def test_execution_log_group_exists_before_the_stage_with_retention(synthesized: Synthesized) -> None:
    # Given the log group API Gateway writes execution logs to
    resources = synthesized.resources
    _, stage = cfn.only(resources, "AWS::ApiGateway::Stage")
    (execution_logs_id,) = [
        logical_id
        for logical_id, resource in cfn.of_type(resources, "AWS::Logs::LogGroup").items()
        if cfn.render(resource["Properties"].get("LogGroupName", "")).startswith(
            "API-Gateway-Execution-Logs_"
        )
    ]
    # Then the stack owns it, with retention, and creates it before the stage can write to it
    assert resources[execution_logs_id]["Properties"]["RetentionInDays"] == LOG_RETENTION_DAYS
    assert execution_logs_id in stage["DependsOn"]


def test_api_gateway_can_write_logs_through_the_account_role(synthesized: Synthesized) -> None:
    # Given the API Gateway account settings
    resources = synthesized.resources
    _, account = cfn.only(resources, "AWS::ApiGateway::Account")
    role_id = account["Properties"]["CloudWatchRoleArn"]["Fn::GetAtt"][0]
    # Then they point to a role that API Gateway can assume
    (trust,) = resources[role_id]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "apigateway.amazonaws.com"}


def _gateway_responses(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    """ResponseType -> gateway response properties (fails on a duplicate type)."""
    responses = [
        r["Properties"]
        for r in cfn.of_type(synthesized.resources, "AWS::ApiGateway::GatewayResponse").values()
    ]
    by_type = {r["ResponseType"]: r for r in responses}
    assert len(by_type) == len(responses), "two gateway responses for one ResponseType"
    return by_type


def test_one_gateway_response_per_route_table_gateway_error(synthesized: Synthesized) -> None:
    # Given the gateway responses of the API
    responses = _gateway_responses(synthesized)
    # Then each error of the route table has its own, besides the catch-alls
    assert {error.response_type for error in gateway_errors.GATEWAY_ERRORS} <= set(responses)
    assert len(gateway_errors.GATEWAY_ERRORS) == len(
        {error.response_type for error in gateway_errors.GATEWAY_ERRORS}
    )


@pytest.mark.parametrize("error", gateway_errors.GATEWAY_ERRORS, ids=lambda error: error.response_type)
def test_gateway_error_answers_the_route_table_status_and_body(
    synthesized: Synthesized, error: gateway_errors.GatewayError
) -> None:
    # Given the gateway response API Gateway sends for this error
    response = _gateway_responses(synthesized)[error.response_type]
    # Then it has the route table's status, and a static template that is exactly its body,
    # the one the local gateway sends
    assert response["StatusCode"] == str(error.status)
    assert list(response["ResponseTemplates"]) == ["application/json"]
    template = response["ResponseTemplates"]["application/json"]
    assert "$" not in template and "#" not in template  # nothing for Velocity to evaluate
    assert template == json.dumps(error.body())
    assert json.loads(template) == error.body()


def test_throttled_gateway_error_says_when_to_retry(synthesized: Synthesized) -> None:
    response = _gateway_responses(synthesized)[gateway_errors.GATEWAY_THROTTLED.response_type]
    assert response["ResponseParameters"]["gatewayresponse.header.Retry-After"] == "'1'"


@pytest.mark.parametrize(
    ("response_type", "error_type", "code"),
    [
        ("DEFAULT_4XX", "invalid_request_error", "invalid_request"),
        ("DEFAULT_5XX", "upstream_error", "gateway_error"),
        ("BAD_REQUEST_PARAMETERS", "invalid_request_error", "invalid_request"),
        ("BAD_REQUEST_BODY", "invalid_request_error", "invalid_request"),
    ],
)
def test_other_gateway_errors_have_the_api_error_shape_with_the_gateway_message(
    synthesized: Synthesized, response_type: str, error_type: str, code: str
) -> None:
    # Given the gateway response for errors the route table does not name
    response = _gateway_responses(synthesized)[response_type]
    template = response["ResponseTemplates"]["application/json"]
    # When API Gateway substitutes its own message, a JSON string that needs escaping
    message = 'Invalid "x"\\ path'
    body = json.loads(template.replace("$context.error.messageString", json.dumps(message)))
    # Then the body is the API's error shape around that message
    assert body == {"error": {"type": error_type, "message": message, "param": None, "code": code}}
    # The catch-alls keep the status API Gateway chose; the validator's errors are 400s
    if response_type.startswith("DEFAULT_"):
        assert "StatusCode" not in response
    else:
        assert response["StatusCode"] == "400"


def test_every_gateway_error_template_is_json(synthesized: Synthesized) -> None:
    # Given every gateway response
    for resource in cfn.of_type(synthesized.resources, "AWS::ApiGateway::GatewayResponse").values():
        template = resource["Properties"]["ResponseTemplates"]["application/json"]
        # Then its template is JSON once API Gateway substitutes its quoted message
        body = json.loads(template.replace("$context.error.messageString", '"x"'))
        assert body["error"]["message"]


def test_outputs_give_the_url_the_key_id_and_the_command_to_read_the_key(synthesized: Synthesized) -> None:
    # Given the stack outputs
    outputs = synthesized.template.to_json()["Outputs"]
    key_id, _ = cfn.only(synthesized.resources, "AWS::ApiGateway::ApiKey")
    stage_id, _ = cfn.only(synthesized.resources, "AWS::ApiGateway::Stage")
    # Then the URL points at the stage, and the key id and the command name the API key
    assert cfn.render(outputs["ApiUrl"]["Value"]).endswith(f"/${{{stage_id}}}/")
    assert outputs["ApiKeyId"]["Value"] == {"Ref": key_id}
    assert cfn.render(outputs["GetApiKeyCommand"]["Value"]) == (
        f"aws apigateway get-api-key --api-key ${{{key_id}}} --include-value --query value --output text"
        " --region ${AWS::Region}"
    )


def test_api_is_regional(template: Template) -> None:
    # Then the API has a regional endpoint (no CloudFront in front)
    template.has_resource_properties(
        "AWS::ApiGateway::RestApi",
        {"EndpointConfiguration": {"Types": ["REGIONAL"]}, "Name": Match.any_value()},
    )


def test_a_gateway_error_body_that_velocity_would_evaluate_is_refused() -> None:
    # Given a route-table error whose message holds a Velocity reference
    error = gateway_errors.GatewayError(
        "THROTTLED", 429, "rate_limit_error", "api_throttled", "Costs $context.x"
    )
    # Then synthesis refuses it rather than send a body the local gateway does not
    with pytest.raises(ValueError, match="must not contain"):
        api_errors.static_template(error)


# Access-log variables whose values are ids, numbers, times, methods, paths of the route table or
# enum names: none can hold a quote or a backslash, so each is safe inside a JSON string. Raw
# texts such as $context.integrationErrorMessage or $context.identity.userAgent are not.
JSON_SAFE_ACCESS_LOG_VARIABLES = {
    "$context.requestId",
    "$context.requestTime",
    "$context.identity.sourceIp",
    "$context.httpMethod",
    "$context.resourcePath",
    "$context.status",
    "$context.protocol",
    "$context.responseLength",
    "$context.responseLatency",
    "$context.integrationLatency",
    "$context.integrationStatus",
    "$context.error.responseType",
    "$context.identity.apiKeyId",
    "$context.xrayTraceId",
}


def test_every_access_log_value_is_one_json_safe_variable(synthesized: Synthesized) -> None:
    # Given the stage's access-log format
    _, stage = cfn.only(synthesized.resources, "AWS::ApiGateway::Stage")
    log_format = stage["Properties"]["AccessLogSetting"]["Format"]
    fields = json.loads(log_format)
    # Then each value is exactly one variable whose text can never break the JSON line
    assert fields and all(isinstance(value, str) for value in fields.values())
    assert set(fields.values()) <= JSON_SAFE_ACCESS_LOG_VARIABLES, (
        set(fields.values()) - JSON_SAFE_ACCESS_LOG_VARIABLES
    )
    assert "integrationErrorMessage" not in log_format
    # and a line stays JSON whatever such values API Gateway puts in
    line = log_format
    for value in sorted(fields.values(), key=len, reverse=True):
        line = line.replace(value, "-")
    assert set(json.loads(line).values()) == {"-"}


def test_the_api_is_named_after_its_stack_and_its_metrics_follow(synthesized: Synthesized) -> None:
    # Given the REST API and everything that reads its metrics
    resources = synthesized.resources
    _, api = cfn.only(resources, "AWS::ApiGateway::RestApi")
    name = synthesized.stack.stack_name
    # Then the API's name is the stack's, so two stacks in one account never share metrics
    assert api["Properties"]["Name"] == name
    alarm_api_names = {
        dimension["Value"]
        for alarm in cfn.of_type(resources, "AWS::CloudWatch::Alarm").values()
        for dimension in alarm["Properties"].get("Dimensions", [])
        if dimension["Name"] == "ApiName"
    }
    alarm_api_names |= {
        dimension["Value"]
        for alarm in cfn.of_type(resources, "AWS::CloudWatch::Alarm").values()
        for metric in alarm["Properties"].get("Metrics", [])
        for dimension in metric.get("MetricStat", {}).get("Metric", {}).get("Dimensions", [])
        if dimension["Name"] == "ApiName"
    }
    assert alarm_api_names == {name}
    # and the dashboard's API widgets use that name too
    (dashboard,) = cfn.of_type(resources, "AWS::CloudWatch::Dashboard").values()
    body = cfn.render(dashboard["Properties"]["DashboardBody"])
    assert f'"ApiName","{name}"' in body
    assert '"ApiName","embedrock"' not in body


def test_without_cors_context_there_is_no_preflight_and_no_cors_header() -> None:
    # Given the API construct alone, built with no CORS origins (the default)
    app = cdk.App(context={"aws:cdk:bundling-stacks": []})
    stack = cdk.Stack(app, "NoCors")
    functions = {
        function.name: lambda_.Function.from_function_arn(
            stack, function.name, f"arn:aws:lambda:us-east-1:123456789012:function:{function.name}"
        )
        for function in routes.FUNCTIONS
    }
    api.EmbedrockApi(stack, "Api", functions=functions, limits=config.UsagePlanLimits())
    resources = Template.from_stack(stack).to_json()["Resources"]
    # Then no OPTIONS method exists and no gateway response names a CORS header
    methods = cfn.of_type(resources, "AWS::ApiGateway::Method").values()
    assert {m["Properties"]["HttpMethod"] for m in methods} == {route.method for route in routes.ROUTES}
    for response in cfn.of_type(resources, "AWS::ApiGateway::GatewayResponse").values():
        assert not any(
            "Access-Control" in name for name in response["Properties"].get("ResponseParameters", {})
        )
