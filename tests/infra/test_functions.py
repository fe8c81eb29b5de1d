"""Lambda functions: one per routes.FUNCTIONS entry, built alike from the table."""

from __future__ import annotations

import pytest

from embedrock import routes, settings
from tests.infra import cfn
from tests.infra.conftest import CORS_ORIGINS, Synthesized

pytestmark = pytest.mark.infra

LOG_RETENTION_DAYS = 30  # logs.RetentionDays.ONE_MONTH

FUNCTIONS = pytest.mark.parametrize("function", routes.FUNCTIONS, ids=lambda function: function.name)
VECTOR_VARIABLES = {
    settings.variable(settings.Settings, name) for name in ("vector_bucket", "max_collections")
}


def test_one_lambda_per_route_table_function(synthesized: Synthesized) -> None:
    # Given the synthesized stack
    # When its Lambda functions are counted
    functions = cfn.of_type(synthesized.resources, "AWS::Lambda::Function")
    # Then there is exactly one per entry of the route table, and the ingest function
    assert len(functions) == len((*routes.FUNCTIONS, routes.INGEST))


@FUNCTIONS
def test_function_runtime_and_sizing_follow_the_route_table(
    synthesized: Synthesized, function: routes.Function
) -> None:
    # Given the Lambda built for this route-table function
    _, resource = cfn.function_named(synthesized.resources, function.name)
    properties = resource["Properties"]
    # Then it runs Python 3.13 (the suite runs under it too) on Graviton, with the table's handler,
    # memory and timeout
    assert properties["Runtime"] == "python3.13"
    assert properties["Architectures"] == ["arm64"]
    assert properties["Handler"] == function.handler
    assert properties["MemorySize"] == function.memory_mb
    assert properties["Timeout"] == function.timeout_seconds
    assert properties["Description"] == function.description


@FUNCTIONS
def test_function_traces_and_logs_json_to_its_own_log_group(
    synthesized: Synthesized, function: routes.Function
) -> None:
    # Given the Lambda built for this route-table function
    resources = synthesized.resources
    _, resource = cfn.function_named(resources, function.name)
    properties = resource["Properties"]
    # Then it is traced by X-Ray and logs JSON to a log group of its own, with retention
    assert properties["TracingConfig"] == {"Mode": "Active"}
    assert properties["LoggingConfig"]["LogFormat"] == "JSON"
    log_group_id = properties["LoggingConfig"]["LogGroup"]["Ref"]
    assert resources[log_group_id]["Type"] == "AWS::Logs::LogGroup"
    assert resources[log_group_id]["Properties"]["RetentionInDays"] == LOG_RETENTION_DAYS
    other_functions = [
        other for other in cfn.of_type(resources, "AWS::Lambda::Function").values() if other is not resource
    ]
    assert all(
        other["Properties"]["LoggingConfig"]["LogGroup"]["Ref"] != log_group_id for other in other_functions
    )


@FUNCTIONS
def test_function_environment_configures_powertools_and_concurrency(
    synthesized: Synthesized, function: routes.Function
) -> None:
    # Given the Lambda built for this route-table function
    _, resource = cfn.function_named(synthesized.resources, function.name)
    # Then its environment names the service, the metrics namespace, the log level and the cap
    # (the vector bucket's settings are test_vectors.py's)
    variables = resource["Properties"]["Environment"]["Variables"]
    assert {name: value for name, value in variables.items() if name not in VECTOR_VARIABLES} == {
        "POWERTOOLS_SERVICE_NAME": f"embedrock-{function.name}",
        "POWERTOOLS_METRICS_NAMESPACE": "Embedrock",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "EMBEDROCK_MAX_CONCURRENCY": "16",
        # the CORS origins of the test context (conftest), for the functions' own answers
        "EMBEDROCK_CORS_ORIGINS": ",".join(CORS_ORIGINS),
        # the inference profiles its role may invoke (conftest), so others are refused with a 400
        "EMBEDROCK_INFERENCE_PROFILES": "us.cohere.embed-v4:0,global.cohere.embed-v4:0",
    }


def test_functions_share_one_code_asset(synthesized: Synthesized) -> None:
    # Given every Lambda of the stack
    functions = cfn.of_type(synthesized.resources, "AWS::Lambda::Function").values()
    # When their code locations are compared
    code_keys = {function["Properties"]["Code"]["S3Key"] for function in functions}
    # Then they all run the same asset, so bundling runs once
    assert len(code_keys) == 1
