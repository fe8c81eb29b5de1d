"""Deploy-time settings read from CDK context (cdk.json, or `cdk deploy -c key=value`): all of them.

Context only overrides: a setting the functions read defaults to its settings model's default
(embedrock.settings, embedrock.ingest.settings), read when the stack is built; a setting of the
stack alone defaults here. cdk.json repeats none of them, so `cdk synth` and `python app.py`
build the same stack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from constructs import Node

from embedrock import inference_profiles
from embedrock import settings as function_settings
from embedrock.bedrock.batch_limits import MIN_RECORDS as BATCH_MIN_RECORDS
from embedrock.ingest import settings as ingest_settings

THROTTLE_RATE_LIMIT = "embedrock:throttleRateLimit"
THROTTLE_BURST_LIMIT = "embedrock:throttleBurstLimit"
QUOTA_PER_DAY = "embedrock:quotaPerDay"
WAF = "embedrock:waf"
WAF_RATE_LIMIT = "embedrock:wafRateLimit"
WAF_COUNT_RULES = "embedrock:wafCountRules"
ALARM_EMAIL = "embedrock:alarmEmail"
CORS_ORIGINS = "embedrock:corsOrigins"
STACK_NAME = "embedrock:stackName"
CACHE = "embedrock:cache"
CACHE_TTL_DAYS = "embedrock:cacheTtlDays"
BATCH_MIN_LINES = "embedrock:batchMinLines"
INGEST_CONCURRENCY = "embedrock:ingestConcurrency"
CHUNK_LINES = "embedrock:ingestChunkLines"
INFERENCE_PROFILES = "embedrock:inferenceProfiles"
MAX_COLLECTIONS = "embedrock:maxCollections"
DEFAULT_STACK_NAME = "Embedrock"
# CloudFormation's rule for stack names.
_STACK_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{0,127}$")


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


@dataclass(frozen=True)
class WafSettings:
    """The optional AWS WAF web ACL in front of the API stage (infra/waf.py)."""

    enabled: bool = False
    # Requests per client IP in any 5-minute window before WAF blocks that IP (AWS minimum: 10).
    rate_limit: int = 2000
    # Rules of the AWS common rule set that only count instead of blocking. Texts to embed are
    # bodies of any size and may hold markup: the size and cross-site-scripting body rules
    # would block legitimate requests.
    count_rules: tuple[str, ...] = ("SizeRestrictions_BODY", "CrossSiteScripting_BODY")


def waf_settings(node: Node) -> WafSettings:
    defaults = WafSettings()
    rate_limit = _positive_int(node, WAF_RATE_LIMIT, defaults.rate_limit)
    if rate_limit < 10:
        raise ValueError(
            f"context {WAF_RATE_LIMIT} must be at least 10 (AWS WAF's minimum), got {rate_limit}"
        )
    raw_rules: object = node.try_get_context(WAF_COUNT_RULES)
    if raw_rules is None:
        count_rules = defaults.count_rules
    elif isinstance(raw_rules, list):
        count_rules = tuple(str(rule) for rule in raw_rules)
    else:  # `-c embedrock:wafCountRules=A,B` on the command line
        count_rules = tuple(rule.strip() for rule in str(raw_rules).split(",") if rule.strip())
    return WafSettings(enabled=_flag(node, WAF), rate_limit=rate_limit, count_rules=count_rules)


@dataclass(frozen=True)
class IngestionConfig:
    """The pipeline (infra/ingestion.py)."""

    # Concurrent invocations the queue may drive (SQS event source maximum concurrency, >= 2).
    concurrency: int = 2
    chunk_lines: int = field(default_factory=lambda: ingest_settings.IngestSettings().chunk_lines)
    # Files with at least this many valid lines go to Bedrock batch inference (models that have it).
    batch_min_lines: int = field(default_factory=lambda: ingest_settings.IngestSettings().batch_min_lines)


def ingestion_config(node: Node) -> IngestionConfig:
    defaults = IngestionConfig()
    concurrency = _positive_int(node, INGEST_CONCURRENCY, defaults.concurrency)
    if concurrency < 2:
        raise ValueError(f"context {INGEST_CONCURRENCY} must be at least 2 (the SQS event source minimum)")
    batch_min_lines = _positive_int(node, BATCH_MIN_LINES, defaults.batch_min_lines)
    if batch_min_lines < BATCH_MIN_RECORDS:
        raise ValueError(
            f"context {BATCH_MIN_LINES} must be at least {BATCH_MIN_RECORDS} (Bedrock's minimum per job)"
        )
    return IngestionConfig(
        concurrency=concurrency,
        chunk_lines=_positive_int(node, CHUNK_LINES, defaults.chunk_lines),
        batch_min_lines=batch_min_lines,
    )


def cache_ttl_days(node: Node) -> int | None:
    """Days cached vectors are kept when the opt-in cache is on (context embedrock:cache), else None."""
    if not _flag(node, CACHE):
        return None
    return _positive_int(node, CACHE_TTL_DAYS, function_settings.Settings().cache_ttl_days)


def max_collections(node: Node) -> int:
    """The cost guard: how many collections (vector indexes) may exist at once. Defaults to, and is
    bounded by, the collections function's own setting (EMBEDROCK_MAX_COLLECTIONS), so a value the
    function would refuse at cold start fails the synth instead."""
    value = _positive_int(node, MAX_COLLECTIONS, function_settings.Settings().max_collections)
    name = function_settings.variable(function_settings.Settings, "max_collections")
    try:
        function_settings.load({name: str(value)})
    except function_settings.SettingsError as error:
        raise ValueError(f"context {MAX_COLLECTIONS}: {value} is not allowed ({error})") from None
    return value


def alarm_email(node: Node) -> str | None:
    """Where alarm notifications go (an SNS topic with an email subscription), if anywhere."""
    raw: object = node.try_get_context(ALARM_EMAIL)
    if raw is None or str(raw).strip() == "":
        return None
    email = str(raw).strip()
    local, _, domain = email.partition("@")
    if not local or "." not in domain or " " in email:
        raise ValueError(f"context {ALARM_EMAIL} must be an email address, got {raw!r}")
    return email


def stack_name(node: Node) -> str:
    """The stack's name; another name deploys a second, independent copy in the same account
    (the REST API, and so its metrics, alarms and dashboard, are named after the stack)."""
    raw: object = node.try_get_context(STACK_NAME)
    name = DEFAULT_STACK_NAME if raw is None or str(raw).strip() == "" else str(raw).strip()
    if not _STACK_NAME.match(name):
        raise ValueError(
            f"context {STACK_NAME} must start with a letter and hold only letters, digits and hyphens "
            f"(at most 128), got {raw!r}"
        )
    return name


# scheme://host[:port], as a browser sends it in Origin: no path, no trailing slash.
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")


def cors_origins(node: Node) -> tuple[str, ...]:
    """Browser origins allowed to call the API (CORS), or none: CORS is off by default.

    A JSON list in cdk.json, or `-c embedrock:corsOrigins=https://a.example,https://b.example`;
    "*" allows any origin.
    """
    origins = _context_list(node, CORS_ORIGINS)
    for origin in origins:
        if origin != "*" and not _ORIGIN.match(origin):
            raise ValueError(
                f"context {CORS_ORIGINS}: {origin!r} is not an origin like https://app.example.com "
                "(scheme and host, optional port, no path or trailing slash) or *"
            )
    if "*" in origins and len(origins) > 1:
        raise ValueError(f"context {CORS_ORIGINS}: * allows every origin; list no other with it")
    return origins


def _flag(node: Node, key: str) -> bool:
    # `-c key=true` arrives as a string; cdk.json gives a JSON boolean.
    raw: object = node.try_get_context(key)
    if raw is None or isinstance(raw, bool):
        return bool(raw)
    value = str(raw).strip().lower()
    if value in ("true", "1", "yes", "on"):
        return True
    if value in ("false", "0", "no", "off", ""):
        return False
    raise ValueError(f"context {key} must be true or false, got {raw!r}")


def inference_profile_ids(node: Node) -> tuple[str, ...]:
    """Inference profiles the embedding functions may invoke (`us.cohere.embed-v4:0`), or none.

    A JSON list in cdk.json, or `-c embedrock:inferenceProfiles=us.a.b:0,eu.a.b:0`. Each must be a
    profile id of a catalog model in a geography it has a profile in (embedrock.inference_profiles).
    """
    profiles = _context_list(node, INFERENCE_PROFILES)
    for profile in profiles:
        problem = inference_profiles.profile_problem(profile)
        if problem:
            raise ValueError(f"context {INFERENCE_PROFILES}: {problem}")
    return profiles


def _context_list(node: Node, key: str) -> tuple[str, ...]:
    """A list setting: a JSON list in cdk.json, or comma-separated on the command line (`-c key=a,b`);
    blanks dropped, duplicates once, in order."""
    raw: object = node.try_get_context(key)
    if raw is None:
        return ()
    items = [str(item) for item in raw] if isinstance(raw, list) else str(raw).split(",")
    return tuple(dict.fromkeys(item.strip() for item in items if item.strip()))
