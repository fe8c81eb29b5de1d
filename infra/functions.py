"""One Lambda function per entry of the route table, each with its own role and log group."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import CfnResource, Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct, IConstruct

from embedrock import routes
from embedrock import settings as function_settings
from embedrock.settings import environment
from infra import bundling, config, nag
from infra.bedrock_policy import bedrock_statements, wildcard_findings
from infra.observability import log_group
from infra.vector_bucket import VectorBucket
from infra.vector_policy import vector_statements
from infra.vector_policy import wildcard_findings as vector_wildcard_findings

METRICS_NAMESPACE = "Embedrock"

RUNTIME_REASON = (
    "python3.13, not the newest python3.14: the unit tests run under the runtime's own Python minor "
    "with the Lambda lock, and no CPython 3.14 can be installed on the project's machines (README, "
    "Lambda runtime). Move with infra/bundling.py RUNTIME when it can."
)
XRAY_REASON = (
    "Tracing.ACTIVE adds xray:PutTraceSegments and xray:PutTelemetryRecords, which support no "
    "resource-level permissions, so IAM requires Resource '*'; no other action is granted on '*'."
)


class EmbedrockFunctions(Construct):
    """Builds the functions of routes.FUNCTIONS; `by_name` maps a function name to its Lambda.

    Functions with vector access get the collections' bucket (`vectors`): its name in their
    settings and its policy in their role; the collections function also gets the cost guard.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, vectors: VectorBucket, max_collections: int
    ) -> None:
        super().__init__(scope, construct_id)
        self.code = bundling.lambda_code()  # one asset for all: bundled once
        self.inference_profiles = config.inference_profile_ids(self.node)
        self.vectors = vectors
        self.max_collections = max_collections
        self.by_name: Mapping[str, lambda_.Function] = {
            function.name: self.add(function) for function in routes.FUNCTIONS
        }

    def add(self, function: routes.Function) -> lambda_.Function:
        """One function, its own role and log group; also for functions behind no route (routes.INGEST)."""
        scope = Construct(self, function.name.title())
        logs_group = log_group(scope, "LogGroup")
        role = self._role(scope, function, logs_group)
        lambda_function = lambda_.Function(
            scope,
            "Function",
            description=function.description,
            runtime=bundling.RUNTIME,
            architecture=bundling.ARCHITECTURE,
            code=self.code,
            handler=function.handler,
            memory_size=function.memory_mb,
            timeout=Duration.seconds(function.timeout_seconds),
            role=role,
            log_group=logs_group,
            logging_format=lambda_.LoggingFormat.JSON,
            tracing=lambda_.Tracing.ACTIVE,
            environment={
                "POWERTOOLS_SERVICE_NAME": f"embedrock-{function.name}",
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                "POWERTOOLS_LOG_LEVEL": "INFO",
                # The settings model's default, written out so the deployed cap shows in the console;
                # and the profiles the role may invoke, so others are refused with a 400, not a 403.
                **environment(
                    function_settings.Settings,
                    max_concurrency=function_settings.Settings().max_concurrency,
                    inference_profiles=self.inference_profiles,
                ),
                **self._vector_settings(function),
            },
        )
        cfn_function = lambda_function.node.default_child
        assert cfn_function is not None  # an L2 Function always wraps a CfnFunction
        nag.acknowledge(cfn_function, "AwsSolutions-L1", RUNTIME_REASON)
        # Tracing adds its X-Ray statement to the role's default policy, created just now.
        default_policy = role.node.find_child("DefaultPolicy")
        nag.acknowledge(default_policy, "AwsSolutions-IAM5[Resource::*]", XRAY_REASON)
        _depend_on_policy_only(lambda_function, default_policy)
        return lambda_function

    def _vector_settings(self, function: routes.Function) -> dict[str, str]:
        match function.vector_access:
            case routes.VectorAccess.NONE:
                return {}
            case routes.VectorAccess.UPSERT:
                return environment(function_settings.Settings, vector_bucket=self.vectors.name)
            case routes.VectorAccess.COLLECTIONS:
                return environment(
                    function_settings.Settings,
                    vector_bucket=self.vectors.name,
                    max_collections=self.max_collections,
                )

    def _role(self, scope: Construct, function: routes.Function, logs_group: logs.LogGroup) -> iam.Role:
        profiles = self.inference_profiles
        bedrock = bedrock_statements(function.bedrock_access, profiles)
        findings = wildcard_findings(function.bedrock_access, profiles)
        if function.also_reranks:
            rerank = routes.BedrockAccess.INVOKE_RERANK_MODELS
            bedrock += bedrock_statements(rerank)
            findings |= wildcard_findings(rerank)
        policies = {
            "WriteOwnLogs": iam.PolicyDocument(
                statements=[
                    iam.PolicyStatement(
                        actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                        # The group's Arn attribute ends in ":*": it covers the group's streams.
                        resources=[logs_group.log_group_arn],
                    )
                ]
            ),
            "Bedrock": iam.PolicyDocument(statements=bedrock),
        }
        vectors = vector_statements(function.vector_access, self.vectors)
        if vectors:
            policies["Vectors"] = iam.PolicyDocument(statements=vectors)
            findings |= vector_wildcard_findings(function.vector_access, self.vectors)
        # Inline policies only: no managed policy (AWSLambdaBasicExecutionRole writes to any log group).
        role = iam.Role(
            scope,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Embedrock {function.name} function: its own logs and {function.bedrock_access} Bedrock access",
            inline_policies=policies,
        )
        # On the role's own policies only: its default policy (X-Ray) is acknowledged separately.
        own_policies = role.node.default_child
        assert own_policies is not None  # an L2 Role always wraps a CfnRole
        for finding, reason in findings.items():
            nag.acknowledge(own_policies, f"AwsSolutions-IAM5[{finding}]", reason)
        return role


def _depend_on_policy_only(lambda_function: lambda_.Function, default_policy: IConstruct) -> None:
    """CDK makes the function depend on its role and the role's policy; the role dependency
    repeats the Role GetAtt and cfn-lint flags it (W3005). Keep only the policy's."""
    cfn_function = lambda_function.node.default_child
    cfn_policy = default_policy.node.default_child
    assert isinstance(cfn_function, CfnResource)
    assert isinstance(cfn_policy, CfnResource)
    cfn_function.add_override("DependsOn", [cfn_policy.logical_id])
