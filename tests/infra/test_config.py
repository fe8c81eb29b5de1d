"""Deploy-time context: cdk.json defaults, the stack's fallbacks and their parsing."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest

from embedrock import settings
from infra import config

pytestmark = pytest.mark.infra

CDK_JSON = Path(__file__).resolve().parents[2] / "cdk.json"


def test_cdk_json_defaults_equal_the_stack_fallbacks() -> None:
    # Given cdk.json's context
    context = json.loads(CDK_JSON.read_text())["context"]
    # When the usage-plan limits are read from it, and from no context at all
    from_cdk_json = config.usage_plan_limits(cdk.App(context=context).node)
    from_fallbacks = config.usage_plan_limits(cdk.App().node)
    # Then `cdk synth` and `python app.py` build the same usage plan
    assert from_cdk_json == from_fallbacks == config.UsagePlanLimits()


def test_cdk_json_runs_the_app_offline_and_quietly() -> None:
    # Given cdk.json
    settings = json.loads(CDK_JSON.read_text())
    # Then the CLI runs app.py in the project's virtualenv, with notices and telemetry off
    assert settings["app"] == ".venv/bin/python app.py"
    assert settings["notices"] is False
    assert settings["context"]["cli-telemetry"] is False


def test_command_line_context_strings_are_parsed() -> None:
    # Given limits passed as `cdk deploy -c key=value` (strings)
    app = cdk.App(
        context={
            config.THROTTLE_RATE_LIMIT: "5",
            config.THROTTLE_BURST_LIMIT: "9",
            config.QUOTA_PER_DAY: "700",
        }
    )
    # When they are read
    limits = config.usage_plan_limits(app.node)
    # Then they are integers
    assert limits == config.UsagePlanLimits(rate_limit=5, burst_limit=9, quota_per_day=700)


@pytest.mark.parametrize("bad", ["fast", "0", "-3"])
def test_invalid_limit_fails_with_the_key_name(bad: str) -> None:
    # Given an invalid limit in context
    app = cdk.App(context={config.QUOTA_PER_DAY: bad})
    # When it is read, Then the error names the context key
    with pytest.raises(ValueError, match=config.QUOTA_PER_DAY):
        config.usage_plan_limits(app.node)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, ()),  # off by default
        (["https://app.example.com"], ("https://app.example.com",)),
        ("https://a.example.com, http://localhost:3000", ("https://a.example.com", "http://localhost:3000")),
        ("*", ("*",)),
        ("", ()),
    ],
)
def test_cors_origins_come_from_context(raw: object, expected: tuple[str, ...]) -> None:
    app = cdk.App(context={} if raw is None else {config.CORS_ORIGINS: raw})
    assert config.cors_origins(app.node) == expected


@pytest.mark.parametrize(
    "bad", ["app.example.com", "https://app.example.com/", "https://a.example/path", "*,https://a.b"]
)
def test_an_invalid_cors_origin_fails_with_the_key_name(bad: str) -> None:
    app = cdk.App(context={config.CORS_ORIGINS: bad})
    with pytest.raises(ValueError, match=config.CORS_ORIGINS):
        config.cors_origins(app.node)


@pytest.mark.parametrize(
    ("raw", "expected"), [(None, "Embedrock"), ("", "Embedrock"), ("EmbedrockStaging", "EmbedrockStaging")]
)
def test_the_stack_name_comes_from_context(raw: str | None, expected: str) -> None:
    app = cdk.App(context={} if raw is None else {config.STACK_NAME: raw})
    assert config.stack_name(app.node) == expected


@pytest.mark.parametrize("bad", ["9lives", "has space", "under_score", "x" * 129])
def test_an_invalid_stack_name_fails_with_the_key_name(bad: str) -> None:
    app = cdk.App(context={config.STACK_NAME: bad})
    with pytest.raises(ValueError, match=config.STACK_NAME):
        config.stack_name(app.node)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, ()),  # none by default: the functions invoke the catalog's models in this region only
        (["us.cohere.embed-v4:0", "eu.cohere.embed-v4:0"], ("us.cohere.embed-v4:0", "eu.cohere.embed-v4:0")),
        (
            "us.cohere.embed-v4:0, global.cohere.embed-v4:0,us.cohere.embed-v4:0,",
            ("us.cohere.embed-v4:0", "global.cohere.embed-v4:0"),
        ),
        # A model whose profiles the docs read here do not list: taken as written, Bedrock decides
        ("us.amazon.titan-embed-text-v2:0", ("us.amazon.titan-embed-text-v2:0",)),
    ],
)
def test_inference_profiles_come_from_context(raw: object, expected: tuple[str, ...]) -> None:
    app = cdk.App(context={} if raw is None else {config.INFERENCE_PROFILES: raw})
    assert config.inference_profile_ids(app.node) == expected


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ("amazon.titan-embed-text-v2:0", "is not an inference profile id"),  # a model id, no geography
        ("xx.amazon.titan-embed-text-v2:0", "is not an inference profile id"),
        ("us.amazon.unknown-v9:0", "not in the catalog"),
        ("apac.cohere.embed-v4:0", "has no apac. profile; its profiles: us.cohere.embed-v4:0"),
        (
            "arn:aws:bedrock:us-east-1:1:inference-profile/us.cohere.embed-v4:0",
            "is not an inference profile id",
        ),
    ],
)
def test_an_invalid_inference_profile_fails_with_the_key_name(bad: str, says: str) -> None:
    app = cdk.App(context={config.INFERENCE_PROFILES: bad})
    with pytest.raises(ValueError, match=config.INFERENCE_PROFILES) as raised:
        config.inference_profile_ids(app.node)
    assert says in str(raised.value)


def test_max_collections_defaults_to_the_collections_settings_default() -> None:
    # Given no context
    # When the cost guard is read, Then it is the collections function's own default (one place)
    assert config.max_collections(cdk.App().node) == settings.Settings().max_collections


@pytest.mark.parametrize(("raw", "expected"), [("5", 5), (7, 7), ("10000", 10_000)])
def test_max_collections_reads_context_and_command_line_strings(raw: object, expected: int) -> None:
    # Given the cost guard in cdk.json (a number) or as `-c embedrock:maxCollections=5` (a string)
    app = cdk.App(context={config.MAX_COLLECTIONS: raw})
    # When it is read, Then it is that integer
    assert config.max_collections(app.node) == expected


@pytest.mark.parametrize("bad", ["many", "0", "-2", "2.5", "10001"])
def test_an_invalid_max_collections_fails_with_the_key_and_the_allowed_values(bad: str) -> None:
    # Given a cost guard that is no count, or more than the settings allow (S3 Vectors' 10,000
    # indexes per vector bucket)
    app = cdk.App(context={config.MAX_COLLECTIONS: bad})
    # When it is read, Then the error names the context key, and for a count too high the limit
    with pytest.raises(ValueError, match=config.MAX_COLLECTIONS) as raised:
        config.max_collections(app.node)
    if bad == "10001":
        assert "10000" in str(raised.value)
