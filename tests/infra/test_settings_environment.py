"""Each function's environment comes from the settings models: names from the fields' aliases,
values from CDK context or the models' defaults; infra names no variable and repeats no default."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template
from pydantic import BaseModel, Field, create_model

from embedrock import routes, settings
from embedrock.ingest import settings as ingest_settings
from embedrock.settings import Settings, environment
from infra import config, ingestion
from infra.stack import EmbedrockStack
from tests.infra import cfn
from tests.infra.conftest import CORS_ORIGINS, INFERENCE_PROFILES, MAX_COLLECTIONS, Synthesized

pytestmark = pytest.mark.infra

INFRA = Path(__file__).resolve().parents[2] / "infra"
MODELS: tuple[type[BaseModel], ...] = (Settings, ingest_settings.IngestSettings)
KNOWN = {field.alias for model in MODELS for field in model.model_fields.values()}


def _ours(resource: dict[str, Any]) -> dict[str, Any]:
    """The function's EMBEDROCK_* variables (the others are Powertools')."""
    variables: dict[str, Any] = resource["Properties"]["Environment"]["Variables"]
    return {name: value for name, value in variables.items() if name.startswith("EMBEDROCK_")}


def _literal(variables: dict[str, Any]) -> dict[str, str]:
    """Values known at synth (not references to resources of the stack)."""
    return {name: value for name, value in variables.items() if isinstance(value, str)}


def _expected_ingest(
    max_receives: int, chunk_lines: int, batch_min_lines: int, profiles: tuple[str, ...]
) -> dict[str, str]:
    return {
        **environment(
            ingest_settings.IngestSettings,
            max_receives=max_receives,
            chunk_lines=chunk_lines,
            batch_min_lines=batch_min_lines,
        ),
        **environment(
            Settings,
            max_concurrency=ingestion.BEDROCK_CONCURRENCY_PER_INVOCATION,
            inference_profiles=profiles,
        ),
    }


def test_every_variable_is_a_settings_field(synthesized: Synthesized) -> None:
    for logical_id, resource in cfn.of_type(synthesized.resources, "AWS::Lambda::Function").items():
        assert set(_ours(resource)) <= KNOWN, logical_id


@pytest.mark.parametrize("function", routes.FUNCTIONS, ids=lambda function: function.name)
def test_api_function_environment_is_what_the_settings_model_produces(
    synthesized: Synthesized, function: routes.Function
) -> None:
    _, resource = cfn.function_named(synthesized.resources, function.name)
    variables = _ours(resource)
    # (the collections function also gets the cost guard from context, and the vector bucket's name:
    # a reference to a resource of the stack)
    guard = {"max_collections": MAX_COLLECTIONS} if function is routes.COLLECTIONS else {}
    assert _literal(variables) == environment(
        Settings,
        max_concurrency=Settings().max_concurrency,
        cors_origins=CORS_ORIGINS,
        inference_profiles=INFERENCE_PROFILES,
        **guard,
    )
    vector_bucket = function.vector_access is not routes.VectorAccess.NONE
    assert set(variables) - set(_literal(variables)) == (
        set(environment(Settings, vector_bucket="")) if vector_bucket else set()
    )
    # and the function reads them back as the values the stack meant
    loaded = settings.load(_literal(variables))
    assert loaded.max_collections == (MAX_COLLECTIONS if guard else Settings().max_collections)
    assert loaded.cors_origins == CORS_ORIGINS
    assert loaded.inference_profiles == INFERENCE_PROFILES


def test_ingest_environment_is_what_the_settings_models_produce(synthesized: Synthesized) -> None:
    _, resource = cfn.function_named(synthesized.resources, routes.INGEST.name)
    variables = _ours(resource)
    defaults = ingest_settings.IngestSettings()
    assert _literal(variables) == _expected_ingest(
        defaults.max_receives, defaults.chunk_lines, defaults.batch_min_lines, INFERENCE_PROFILES
    )
    # the stack's resources, named by the model's aliases
    assert set(variables) - set(_literal(variables)) == set(
        environment(ingest_settings.IngestSettings, queue_url="", bucket="", batch_role_arn="")
    ) | set(environment(Settings, vector_bucket=""))
    settings.load_model(ingest_settings.IngestSettings, _literal(variables))  # valid values
    # and the queue gives up after as many receives as the function is told
    _, queue = next(
        (logical_id, q)
        for logical_id, q in cfn.of_type(synthesized.resources, "AWS::SQS::Queue").items()
        if "RedrivePolicy" in q["Properties"]
    )
    assert queue["Properties"]["RedrivePolicy"]["maxReceiveCount"] == defaults.max_receives


def _with_defaults(model: type[BaseModel], **defaults: object) -> type[BaseModel]:
    """`model` with other defaults, each field keeping its variable."""
    fields: dict[str, Any] = {
        name: (
            model.model_fields[name].annotation,
            Field(default=value, alias=settings.variable(model, name)),
        )
        for name, value in defaults.items()
    }
    return create_model(f"Patched{model.__name__}", __base__=model, **fields)


def test_a_default_changed_in_the_settings_models_reaches_the_template(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given settings models whose defaults differ from today's
    monkeypatch.setattr(
        settings, "Settings", _with_defaults(Settings, max_concurrency=7, cache_ttl_days=9, max_collections=3)
    )
    monkeypatch.setattr(
        ingest_settings,
        "IngestSettings",
        _with_defaults(ingest_settings.IngestSettings, chunk_lines=123, max_receives=6, batch_min_lines=4567),
    )
    # When a stack is built with no context but the cache on
    app = cdk.App(context={"aws:cdk:bundling-stacks": [], config.CACHE: True})
    resources = Template.from_stack(EmbedrockStack(app, "Patched")).to_json()["Resources"]
    # Then every function gets the new defaults
    # (and, with no embedrock:inferenceProfiles, an empty list: no profile may be invoked)
    cache = {"EMBEDROCK_CACHE_TTL_DAYS": "9"}
    no_profiles = {"EMBEDROCK_INFERENCE_PROFILES": ""}
    for function in routes.FUNCTIONS:
        _, resource = cfn.function_named(resources, function.name)
        guard = {"EMBEDROCK_MAX_COLLECTIONS": "3"} if function is routes.COLLECTIONS else {}
        assert _literal(_ours(resource)) == {"EMBEDROCK_MAX_CONCURRENCY": "7"} | no_profiles | guard | (
            cache if function.bedrock_access is routes.BedrockAccess.INVOKE_EMBEDDING_MODELS else {}
        )
    _, ingest = cfn.function_named(resources, routes.INGEST.name)
    assert _literal(_ours(ingest)) == _expected_ingest(6, 123, 4567, ()) | cache
    assert settings.load(no_profiles).inference_profiles == ()


def test_infra_names_no_environment_variable_of_the_functions() -> None:
    # Given every string literal in infra/ that is a settings variable's whole name (prose may
    # mention one; the bundling's own variables are no setting of a function)
    found = [
        f"{path.name}:{node.lineno}: {node.value}"
        for path in sorted(INFRA.glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in KNOWN
    ]
    # Then none names a variable: the settings models' aliases do
    assert found == []


def test_context_parsing_and_the_settings_models_load_no_numpy_or_botocore() -> None:
    # Given a fresh interpreter that reads the context and builds the environments
    code = (
        "import sys, infra.config, embedrock.settings, embedrock.ingest.settings; "
        "print(sorted({'numpy', 'botocore'} & set(sys.modules)))"
    )
    root = INFRA.parent
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True, timeout=120
    )
    # Then neither is imported: the settings modules stay pydantic-only
    assert result.stdout.strip().splitlines()[-1] == "[]"
