"""cdk-nag AwsSolutions checks: synthesis fails on any finding that is not acknowledged with a reason."""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct


def add_checks(app: cdk.App) -> None:
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge one finding on one construct (and its children), never the whole app.

    cdk-nag 3 names a granular finding `RuleId[Finding]`, e.g. `AwsSolutions-IAM5[Resource::*]`.
    """
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=rule_id, reason=reason))
