"""The optional AWS WAF web ACL in front of the API stage (CDK context `embedrock:waf`).

Two rules: a rate-based rule that blocks a client IP sending more than `rate_limit` requests
in five minutes (answered 429 in the API's error shape), and the AWS managed common rule set
(OWASP-style protections on headers, query strings, URIs and bodies). Requests WAF blocks
otherwise reach the client as API Gateway's WAF_FILTERED response: 403 in the API's error
shape with code `waf_blocked` (gateway_errors.WAF_BLOCKED). With WAF off, the stage carries a reviewed
cdk-nag acknowledgement instead; the usage plan's per-key throttle and quota still apply.
"""

from __future__ import annotations

import json

from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from embedrock import gateway_errors
from infra import nag
from infra.config import WafSettings

MANAGED_RULE_GROUP = "AWSManagedRulesCommonRuleSet"
RATE_RULE = "RateLimitPerClientIp"
THROTTLED_BODY_KEY = "throttled"
THROTTLED = gateway_errors.WAF_RATE_LIMITED
NO_WAF_REASON = (
    "AWS WAF is optional and off in this deployment (context embedrock:waf=false): the usage "
    "plan's per-key throttle and daily quota bound abuse; deploy with -c embedrock:waf=true to "
    "attach the web ACL with a per-IP rate rule and the AWS common rule set."
)


def _visibility(metric_name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric_name, sampled_requests_enabled=True
    )


class EmbedrockWaf(Construct):
    """A regional web ACL associated with the API's stage."""

    def __init__(
        self, scope: Construct, construct_id: str, *, stage: apigw.Stage, settings: WafSettings
    ) -> None:
        super().__init__(scope, construct_id)
        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            description="Embedrock API: per-IP rate limit and the AWS common rule set",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility("embedrock-api"),
            custom_response_bodies={
                THROTTLED_BODY_KEY: wafv2.CfnWebACL.CustomResponseBodyProperty(
                    content_type="APPLICATION_JSON", content=json.dumps(THROTTLED.body())
                )
            },
            rules=[self._rate_rule(settings.rate_limit), self._common_rules(settings.count_rules)],
        )
        self.association = wafv2.CfnWebACLAssociation(
            self, "StageAssociation", resource_arn=stage.stage_arn, web_acl_arn=self.web_acl.attr_arn
        )

    @staticmethod
    def _rate_rule(limit: int) -> wafv2.CfnWebACL.RuleProperty:
        return wafv2.CfnWebACL.RuleProperty(
            name=RATE_RULE,
            priority=0,
            statement=wafv2.CfnWebACL.StatementProperty(
                rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                    aggregate_key_type="IP", limit=limit, evaluation_window_sec=300
                )
            ),
            action=wafv2.CfnWebACL.RuleActionProperty(
                block=wafv2.CfnWebACL.BlockActionProperty(
                    custom_response=wafv2.CfnWebACL.CustomResponseProperty(
                        response_code=THROTTLED.status,
                        custom_response_body_key=THROTTLED_BODY_KEY,
                        response_headers=[
                            wafv2.CfnWebACL.CustomHTTPHeaderProperty(
                                name="Retry-After", value=str(THROTTLED.retry_after_seconds)
                            )
                        ],
                    )
                )
            ),
            visibility_config=_visibility(RATE_RULE),
        )

    @staticmethod
    def _common_rules(count_rules: tuple[str, ...]) -> wafv2.CfnWebACL.RuleProperty:
        return wafv2.CfnWebACL.RuleProperty(
            name=MANAGED_RULE_GROUP,
            priority=1,
            override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
            statement=wafv2.CfnWebACL.StatementProperty(
                managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                    vendor_name="AWS",
                    name=MANAGED_RULE_GROUP,
                    rule_action_overrides=[
                        wafv2.CfnWebACL.RuleActionOverrideProperty(
                            name=rule, action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={})
                        )
                        for rule in count_rules
                    ]
                    or None,
                )
            ),
            visibility_config=_visibility(MANAGED_RULE_GROUP),
        )


def acknowledge_no_waf(stage: apigw.Stage) -> None:
    nag.acknowledge(stage, "AwsSolutions-APIG3", NO_WAF_REASON)
