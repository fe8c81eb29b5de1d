"""Security of the stack: WAF (optional), encryption at rest, the alarm topic, API keys, least privilege.

The session's `synthesized` stack has every optional feature off. This module synthesizes the
stack once more with them on (`embedrock:waf`, `embedrock:alarmEmail`): cdk-nag must pass
there too, with no acknowledgement for WAF, and cfn-lint must find nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from cfnlint.api import lint_file  # type: ignore[import-untyped]

from embedrock import routes
from infra import config, waf
from infra.app_builder import build_app
from tests.infra import cfn
from tests.infra.conftest import CONTEXT, Synthesized
from tests.infra.test_compliance import _acknowledgements

pytestmark = pytest.mark.infra

CDK_JSON = Path(__file__).resolve().parents[2] / "cdk.json"
EMAIL = "oncall@example.com"
WAF_RATE_LIMIT = 777
FLAGGED_CONTEXT = {
    **CONTEXT,
    config.WAF: "true",
    config.WAF_RATE_LIMIT: WAF_RATE_LIMIT,
    config.ALARM_EMAIL: EMAIL,
}
NO_WAF = "AwsSolutions-APIG3"


@pytest.fixture(scope="module")
def flagged(tmp_path_factory: pytest.TempPathFactory) -> tuple[cdk.App, dict[str, Any], Path]:
    """The stack with WAF and alarm email on; synth runs cdk-nag and raises on any finding."""
    app, stack = build_app(context=FLAGGED_CONTEXT, outdir=str(tmp_path_factory.mktemp("flagged")))
    artifact = app.synth().get_stack_by_name(stack.stack_name)
    return app, artifact.template["Resources"], Path(artifact.template_full_path)


# --- WAF ---------------------------------------------------------------------------------------


def test_without_the_flag_there_is_no_web_acl_and_the_finding_is_acknowledged(
    synthesized: Synthesized,
) -> None:
    assert cfn.of_type(synthesized.resources, "AWS::WAFv2::WebACL") == {}
    ((path, _, reason),) = [a for a in _acknowledgements(synthesized.app) if a[1] == NO_WAF]
    assert path.endswith("/Api/RestApi/DeploymentStage.prod") and "embedrock:waf" in reason


def test_the_flag_attaches_a_web_acl_to_the_stage_without_acknowledgement(
    flagged: tuple[cdk.App, dict[str, Any], Path],
) -> None:
    app, resources, _ = flagged
    stage_id, _ = cfn.only(resources, "AWS::ApiGateway::Stage")
    acl_id, acl = cfn.only(resources, "AWS::WAFv2::WebACL")
    _, association = cfn.only(resources, "AWS::WAFv2::WebACLAssociation")
    assert acl["Properties"]["Scope"] == "REGIONAL"
    assert acl["Properties"]["DefaultAction"] == {"Allow": {}}
    assert association["Properties"]["WebACLArn"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    stage_arn = cfn.render(association["Properties"]["ResourceArn"])
    assert f"/stages/${{{stage_id}}}" in stage_arn and ":apigateway:" in stage_arn
    assert [a for a in _acknowledgements(app) if a[1] == NO_WAF] == []


def test_the_web_acl_rate_limits_each_ip_and_runs_the_common_rule_set(
    flagged: tuple[cdk.App, dict[str, Any], Path],
) -> None:
    _, resources, _ = flagged
    _, acl = cfn.only(resources, "AWS::WAFv2::WebACL")
    rate, common = sorted(acl["Properties"]["Rules"], key=lambda rule: rule["Priority"])
    # a per-IP rate rule with the context's limit, answering 429 in the API's error shape
    assert rate["Statement"]["RateBasedStatement"] == {
        "AggregateKeyType": "IP",
        "Limit": WAF_RATE_LIMIT,
        "EvaluationWindowSec": 300,
    }
    blocked = rate["Action"]["Block"]["CustomResponse"]
    assert blocked["ResponseCode"] == 429
    body = json.loads(acl["Properties"]["CustomResponseBodies"][blocked["CustomResponseBodyKey"]]["Content"])
    assert set(body["error"]) == {"type", "message", "param", "code"}
    # the AWS common rule set, blocking, except the body rules texts would trip
    group = common["Statement"]["ManagedRuleGroupStatement"]
    assert (group["VendorName"], group["Name"]) == ("AWS", "AWSManagedRulesCommonRuleSet")
    assert common["OverrideAction"] == {"None": {}}
    counted = {override["Name"] for override in group["RuleActionOverrides"]}
    assert counted == set(config.WafSettings().count_rules)
    assert all(override["ActionToUse"] == {"Count": {}} for override in group["RuleActionOverrides"])
    for rule in (rate, common):
        assert rule["VisibilityConfig"]["CloudWatchMetricsEnabled"] is True


def test_the_flagged_template_is_cfn_lint_clean(flagged: tuple[cdk.App, dict[str, Any], Path]) -> None:
    _, _, template_path = flagged
    assert [str(match) for match in lint_file(template_path)] == []


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        ({}, config.WafSettings()),
        ({config.WAF: True}, config.WafSettings(enabled=True)),
        ({config.WAF: "false", config.WAF_RATE_LIMIT: "500"}, config.WafSettings(rate_limit=500)),
        (
            {config.WAF: "yes", config.WAF_COUNT_RULES: "SizeRestrictions_BODY, NoUserAgent_HEADER"},
            config.WafSettings(enabled=True, count_rules=("SizeRestrictions_BODY", "NoUserAgent_HEADER")),
        ),
        ({config.WAF_COUNT_RULES: []}, config.WafSettings(count_rules=())),
    ],
)
def test_waf_context_is_parsed(context: dict[str, Any], expected: config.WafSettings) -> None:
    assert config.waf_settings(cdk.App(context=context).node) == expected


@pytest.mark.parametrize(
    "context",
    [
        {config.WAF: "maybe"},
        {config.WAF_RATE_LIMIT: "5"},
        {config.WAF_RATE_LIMIT: "lots"},
        {config.ALARM_EMAIL: "oncall"},
    ],
)
def test_bad_context_fails_the_synth_naming_the_key(context: dict[str, Any]) -> None:
    key = next(iter(context))
    read = config.alarm_email if key == config.ALARM_EMAIL else config.waf_settings
    with pytest.raises(ValueError, match=key):
        read(cdk.App(context=context).node)


def test_cdk_json_defaults_equal_the_fallbacks() -> None:
    context = json.loads(CDK_JSON.read_text())["context"]
    assert config.waf_settings(cdk.App(context=context).node) == config.WafSettings()
    assert config.alarm_email(cdk.App(context=context).node) is None


# --- encryption at rest --------------------------------------------------------------------------


def _key(resources: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return cfn.only(resources, "AWS::KMS::Key")


def test_every_log_group_is_encrypted_with_the_stacks_rotated_key(synthesized: Synthesized) -> None:
    resources = synthesized.resources
    key_id, key = _key(resources)
    assert key["Properties"]["EnableKeyRotation"] is True
    groups = cfn.of_type(resources, "AWS::Logs::LogGroup")
    assert len(groups) >= len(routes.FUNCTIONS) + 2  # functions, API access and execution logs
    for logical_id, group in groups.items():
        assert group["Properties"].get("KmsKeyId") == {"Fn::GetAtt": [key_id, "Arn"]}, logical_id


def test_the_key_policy_lets_cloudwatch_logs_use_it_for_this_accounts_log_groups_only(
    synthesized: Synthesized,
) -> None:
    _, key = _key(synthesized.resources)
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    (logs,) = [s for s in statements if s.get("Sid") == "CloudWatchLogsEncryptsThisAccountsLogGroups"]
    assert cfn.render(logs["Principal"]["Service"]) == "logs.${AWS::Region}.amazonaws.com"
    assert set(logs["Action"]) == {
        "kms:Encrypt*",
        "kms:Decrypt*",
        "kms:ReEncrypt*",
        "kms:GenerateDataKey*",
        "kms:Describe*",
    }
    condition = cfn.render(logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"])
    assert condition == "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*"
    # No service but CloudWatch Logs and S3 Vectors' indexing (tests/infra/test_vectors.py) may use
    # the key while there is no alarm topic
    services = {
        cfn.render(s["Principal"]["Service"]) for s in statements if "Service" in s.get("Principal", {})
    }
    assert services == {"logs.${AWS::Region}.amazonaws.com", "indexing.s3vectors.amazonaws.com"}


def test_the_alarm_topic_is_encrypted_tls_only_and_mails_the_given_address(
    flagged: tuple[cdk.App, dict[str, Any], Path],
) -> None:
    _, resources, _ = flagged
    key_id, key = _key(resources)
    topic_id, topic = cfn.only(resources, "AWS::SNS::Topic")
    assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    _, policy = cfn.only(resources, "AWS::SNS::TopicPolicy")
    (deny,) = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    _, subscription = cfn.only(resources, "AWS::SNS::Subscription")
    assert (
        subscription["Properties"]["Protocol"] == "email" and subscription["Properties"]["Endpoint"] == EMAIL
    )
    assert subscription["Properties"]["TopicArn"] == {"Ref": topic_id}
    # CloudWatch alarms may encrypt what they publish to it
    (alarms,) = [
        s
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if s.get("Sid") == "CloudWatchAlarmsPublishToTheEncryptedTopic"
    ]
    assert alarms["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert set(cfn.as_list(alarms["Action"])) == {"kms:Decrypt", "kms:GenerateDataKey*"}


def test_every_alarm_notifies_the_topic_on_alarm_and_on_ok(
    flagged: tuple[cdk.App, dict[str, Any], Path],
) -> None:
    _, resources, _ = flagged
    topic_id, _ = cfn.only(resources, "AWS::SNS::Topic")
    alarms = cfn.of_type(resources, "AWS::CloudWatch::Alarm")
    assert alarms
    for logical_id, alarm in alarms.items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}], logical_id
        assert alarm["Properties"]["OKActions"] == [{"Ref": topic_id}], logical_id


# --- API keys and least privilege ----------------------------------------------------------------

PUBLIC_PATHS = {"/health", "/openapi.json", "/docs"}


def test_an_api_key_is_required_on_every_route_but_health_and_docs(synthesized: Synthesized) -> None:
    resources = synthesized.resources
    for method in cfn.of_type(resources, "AWS::ApiGateway::Method").values():
        properties = method["Properties"]
        path = cfn.resource_path(resources, properties["ResourceId"])
        if properties["HttpMethod"] == "OPTIONS":
            # CORS preflight: API Gateway answers it (mock), browsers send it without the key
            assert properties["Integration"]["Type"] == "MOCK" and not properties.get("ApiKeyRequired"), path
            continue
        assert properties.get("ApiKeyRequired", False) is (path not in PUBLIC_PATHS), path
    assert {route.path for route in routes.ROUTES if not route.api_key_required} == PUBLIC_PATHS


def _statements(resources: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for logical_id, role in cfn.of_type(resources, "AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            found += [(logical_id, s) for s in policy["PolicyDocument"]["Statement"]]
    for logical_id, policy in cfn.of_type(resources, "AWS::IAM::Policy").items():
        found += [(logical_id, s) for s in policy["Properties"]["PolicyDocument"]["Statement"]]
    return found


def test_no_iam_statement_is_broader_than_its_service_needs(synthesized: Synthesized) -> None:
    statements = _statements(synthesized.resources)
    assert statements
    for owner, statement in statements:
        actions = cfn.as_list(statement.get("Action", []))
        # Allow lists only: no Deny puzzles, no NotAction/NotResource inversions
        assert (
            statement["Effect"] == "Allow" and "NotAction" not in statement and "NotResource" not in statement
        )
        # no whole-service or whole-account grants, no privilege escalation, no key management
        assert not any(action == "*" or action.endswith(":*") for action in actions), (owner, actions)
        if actions == ["iam:PassRole"]:  # the batch inference role, to Bedrock only (test_ingestion.py)
            assert statement["Condition"] == {
                "StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}
            }
            continue
        if actions == ["kms:Decrypt", "kms:GenerateDataKey"]:  # the vector bucket's (test_vectors.py)
            assert "Fn::GetAtt" in statement["Resource"] and statement["Resource"]["Fn::GetAtt"][1] == "Arn"
            continue
        assert not any(action.startswith(("iam:", "kms:", "sts:")) for action in actions), (owner, actions)


def test_every_role_is_assumable_by_one_aws_service_only(synthesized: Synthesized) -> None:
    for logical_id, role in cfn.of_type(synthesized.resources, "AWS::IAM::Role").items():
        (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert trust["Effect"] == "Allow" and trust["Action"] == "sts:AssumeRole", logical_id
        assert set(trust["Principal"]) == {"Service"}, logical_id
        assert trust["Principal"]["Service"] in {
            "lambda.amazonaws.com",
            "apigateway.amazonaws.com",
            "bedrock.amazonaws.com",  # the batch inference role, for this account's jobs only
        }, logical_id
        if trust["Principal"]["Service"] == "bedrock.amazonaws.com":
            assert "aws:SourceAccount" in trust["Condition"]["StringEquals"], logical_id


def test_the_no_waf_reason_explains_how_to_turn_it_on() -> None:
    assert "-c embedrock:waf=true" in waf.NO_WAF_REASON and len(waf.NO_WAF_REASON) >= 60
