"""Synthesizes the Embedrock stack once per test run (jsii starts in ~6 s), offline, unbundled."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import cx_api
from aws_cdk.assertions import Template
from pytest_socket import disable_socket, enable_socket

from infra import config
from infra.app_builder import build_app
from infra.stack import EmbedrockStack

# Not the cdk.json defaults: proves the usage plan reads its limits from context.
CUSTOM_LIMITS = config.UsagePlanLimits(rate_limit=7, burst_limit=11, quota_per_day=1234)
CORS_ORIGINS = ("https://app.example.com", "https://admin.example.com")
# Real system-defined profiles (Cohere Embed v4's model card): a geographic and the global one.
INFERENCE_PROFILES = ("us.cohere.embed-v4:0", "global.cohere.embed-v4:0")
# Not the settings' default (20): proves the collections' cost guard reads its context.
MAX_COLLECTIONS = 7
CONTEXT: dict[str, Any] = {
    # Tests never run pip: CDK skips bundling and stages the source directory instead.
    "aws:cdk:bundling-stacks": [],
    config.THROTTLE_RATE_LIMIT: CUSTOM_LIMITS.rate_limit,
    config.THROTTLE_BURST_LIMIT: CUSTOM_LIMITS.burst_limit,
    config.QUOTA_PER_DAY: CUSTOM_LIMITS.quota_per_day,
    # CORS is off by default; on here, with two origins, so its resources are synthesized and checked.
    config.CORS_ORIGINS: list(CORS_ORIGINS),
    # Two profiles of one model: each profile gets its grant, the model its routed grant once.
    config.INFERENCE_PROFILES: list(INFERENCE_PROFILES),
    config.MAX_COLLECTIONS: MAX_COLLECTIONS,
}


@dataclass(frozen=True)
class Synthesized:
    app: cdk.App
    stack: EmbedrockStack
    assembly: cx_api.CloudAssembly
    template: Template
    template_path: Path
    # The template's resources as plain data, read once (each jsii call costs a round trip).
    resources: dict[str, dict[str, Any]]


@pytest.fixture(scope="session", autouse=True)
def _no_network() -> Iterator[None]:
    # Synthesis must need no network: no lookups, no credentials, no pip.
    disable_socket(allow_unix_socket=True)
    yield
    enable_socket()


@pytest.fixture(scope="session")
def synthesized(_no_network: None, tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    app, stack = build_app(context=CONTEXT, outdir=str(tmp_path_factory.mktemp("cdk.out")))
    # app.synth() runs the cdk-nag plugin and raises on any unacknowledged finding.
    assembly = app.synth()
    artifact = assembly.get_stack_by_name(stack.stack_name)
    template_json: dict[str, Any] = artifact.template
    return Synthesized(
        app=app,
        stack=stack,
        assembly=assembly,
        template=Template.from_json(template_json),
        template_path=Path(artifact.template_full_path),
        resources=template_json["Resources"],
    )


@pytest.fixture(scope="session")
def template(synthesized: Synthesized) -> Template:
    return synthesized.template
