"""Deploy-time settings read from CDK context (cdk.json, or `cdk deploy -c key=value`).

The fallbacks equal the cdk.json defaults, so `python app.py` without the CLI builds the same stack.
"""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Node

THROTTLE_RATE_LIMIT = "embedrock:throttleRateLimit"
THROTTLE_BURST_LIMIT = "embedrock:throttleBurstLimit"
QUOTA_PER_DAY = "embedrock:quotaPerDay"


@dataclass(frozen=True)
class UsagePlanLimits:
    """Per-API-key limits. Bedrock embedding quotas are per minute and low on new accounts."""

    rate_limit: int = 50
    burst_limit: int = 100
    quota_per_day: int = 100_000


def usage_plan_limits(node: Node) -> UsagePlanLimits:
    defaults = UsagePlanLimits()
    return UsagePlanLimits(
        rate_limit=_positive_int(node, THROTTLE_RATE_LIMIT, defaults.rate_limit),
        burst_limit=_positive_int(node, THROTTLE_BURST_LIMIT, defaults.burst_limit),
        quota_per_day=_positive_int(node, QUOTA_PER_DAY, defaults.quota_per_day),
    )


def _positive_int(node: Node, key: str, default: int) -> int:
    # `-c key=value` on the command line arrives as a string.
    raw: object = node.try_get_context(key)
    if raw is None:
        return default
    try:
        value = int(str(raw))
    except ValueError:
        raise ValueError(f"context {key} must be a positive integer, got {raw!r}") from None
    if value <= 0:
        raise ValueError(f"context {key} must be a positive integer, got {raw!r}")
    return value
