"""Builds the CDK app: used by app.py and by the infra tests."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk

from infra import config, nag
from infra.stack import EmbedrockStack


def build_app(
    context: dict[str, Any] | None = None, outdir: str | None = None
) -> tuple[cdk.App, EmbedrockStack]:
    app = cdk.App(context=context, outdir=outdir)
    stack = EmbedrockStack(
        app,
        config.stack_name(app.node),  # context embedrock:stackName, default Embedrock
        description="Embedrock: serverless embeddings on Amazon Bedrock (API Gateway + Lambda)",
    )
    cdk.Tags.of(app).add("project", "embedrock")
    nag.add_checks(app)
    return app, stack
