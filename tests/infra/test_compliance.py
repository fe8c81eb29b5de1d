"""cdk-nag, cfn-lint and offline synthesis."""

from __future__ import annotations

import json
import re
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sqs as sqs
from cdk_nag import AwsSolutionsChecks
from cfnlint.api import lint_file  # type: ignore[import-untyped]
from constructs import IConstruct

from embedrock import routes
from embedrock.routes import BedrockAccess
from infra.app_builder import build_app
from tests.infra.conftest import CONTEXT, Synthesized
from tests.infra.test_ingestion import INGESTION_ACKNOWLEDGEMENTS

pytestmark = pytest.mark.infra

ANY_RESOURCE = "AwsSolutions-IAM5[Resource::*]"
ANY_FOUNDATION_MODEL = (
    "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:<AWS::Region>::foundation-model/*]"
)
# The models of the allowed inference profiles (conftest), in every region the profiles route to.
ROUTED_MODELS = {
    f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:*::foundation-model/{model_id}]"
    for model_id in ("cohere.embed-v4:0",)
}
# The collections' indexes (one per collection, named at run time), on the roles with vector access.
VECTOR_INDEXES = re.compile(
    r"AwsSolutions-IAM5\[Resource::<VectorsBucket[0-9A-F]{8}\.VectorBucketArn>/index/\*\]"
)
CLOUDWATCH_ROLE_POLICY = "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]"
ALLOWED_ACKNOWLEDGEMENTS = {
    "AwsSolutions-APIG3",  # WAF comes later
    "AwsSolutions-APIG4",  # API key + usage plan, no authorizer
    "AwsSolutions-COG4",
    "AwsSolutions-L1",  # python3.13, the suite's Python, not the newest runtime (README, Lambda runtime)
    CLOUDWATCH_ROLE_POLICY,
    ANY_RESOURCE,  # X-Ray and ListFoundationModels only
    ANY_FOUNDATION_MODEL,  # GetFoundationModel only
    *ROUTED_MODELS,  # InvokeModel through the allowed inference profiles only
    *INGESTION_ACKNOWLEDGEMENTS,  # reviewed in test_ingestion.py
}


def _acknowledgements(scope: IConstruct) -> list[tuple[str, str, str]]:
    """(construct path, rule id, reason) for every acknowledgement recorded under `scope`."""
    key = cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
    found = []
    for construct in scope.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == key:
                for rule_id, reason in entry.data.items():
                    found.append(
                        (construct.node.path, re.sub(r"^annotation::", "", rule_id, flags=re.I), reason)
                    )
    return found


def test_cdk_nag_reports_no_unacknowledged_finding(synthesized: Synthesized) -> None:
    # Given the app the fixture synthesized (synth raises on findings, so it already passed)
    # When the AwsSolutions pack validates it again directly
    report = AwsSolutionsChecks().validate_scope(synthesized.app)
    # Then there is no finding left
    assert [(v.rule_name, [r.construct_path for r in v.violating_resources]) for v in report.violations] == []
    assert report.success


def test_synth_fails_on_an_unacknowledged_finding(tmp_path: Path) -> None:
    # Given the real app with one resource that breaks AwsSolutions rules (a queue without SSL)
    app, stack = build_app(context=CONTEXT, outdir=str(tmp_path))
    sqs.Queue(stack, "UncheckedQueue")
    # When it is synthesized, Then synthesis fails and names the rule and the resource
    with pytest.raises(RuntimeError, match=r"ValidationFailed(.|\n)*UncheckedQueue(.|\n)*AwsSolutions-SQS4"):
        app.synth()


def test_every_acknowledgement_is_allowed_and_explained(synthesized: Synthesized) -> None:
    # Given every acknowledgement in the app
    acknowledgements = _acknowledgements(synthesized.app)
    assert acknowledgements
    for path, rule_id, reason in acknowledgements:
        # Then it is one of the reviewed kinds, on a resource (not the app or stack), with a real reason
        assert rule_id in ALLOWED_ACKNOWLEDGEMENTS or VECTOR_INDEXES.fullmatch(rule_id), (path, rule_id)
        assert path.count("/") >= 2, (path, rule_id)
        assert len(reason) >= 60, (path, rule_id, reason)


def test_wildcard_resources_are_acknowledged_only_for_xray_and_model_catalog(
    synthesized: Synthesized,
) -> None:
    # Given the acknowledgements of IAM wildcard resources
    wildcards = {
        (path, rule_id)
        for path, rule_id, _ in _acknowledgements(synthesized.app)
        if rule_id in {ANY_RESOURCE, ANY_FOUNDATION_MODEL}
    }
    # Then they sit on each role's default policy (X-Ray, added by active tracing)
    # and on the role's own policies only for the function that reads the model catalog
    stack = synthesized.stack.node.path
    expected = {
        (f"{stack}/Functions/{f.name.title()}/Role/DefaultPolicy", ANY_RESOURCE)
        for f in (*routes.FUNCTIONS, routes.INGEST)
    }
    for function in routes.FUNCTIONS:
        if function.bedrock_access is BedrockAccess.READ_MODEL_CATALOG:
            role = f"{stack}/Functions/{function.name.title()}/Role/Resource"
            expected |= {(role, ANY_RESOURCE), (role, ANY_FOUNDATION_MODEL)}
    assert wildcards == expected


def test_routed_models_are_acknowledged_on_the_invoking_roles_only(synthesized: Synthesized) -> None:
    # Given the acknowledgements of the profiles' models in any region
    routed = {
        (path, rule_id) for path, rule_id, _ in _acknowledgements(synthesized.app) if rule_id in ROUTED_MODELS
    }
    # Then each sits on the own policies of every function that invokes models, and nowhere else
    stack = synthesized.stack.node.path
    invokers = [
        f
        for f in (*routes.FUNCTIONS, routes.INGEST)
        if f.bedrock_access is BedrockAccess.INVOKE_EMBEDDING_MODELS
    ]
    assert routed == {
        (f"{stack}/Functions/{f.name.title()}/Role/Resource", rule)
        for f in invokers
        for rule in ROUTED_MODELS
    }


def test_vector_indexes_are_acknowledged_on_the_roles_with_vector_access_only(
    synthesized: Synthesized,
) -> None:
    # Given the acknowledgements of the vector bucket's index/* resource
    indexes = {
        path for path, rule_id, _ in _acknowledgements(synthesized.app) if VECTOR_INDEXES.fullmatch(rule_id)
    }
    # Then each sits on the own policies of a function with vector access, and nowhere else
    stack = synthesized.stack.node.path
    assert indexes == {
        f"{stack}/Functions/{f.name.title()}/Role/Resource"
        for f in (*routes.FUNCTIONS, routes.INGEST)
        if f.vector_access is not routes.VectorAccess.NONE
    }


def test_cfn_lint_finds_nothing(synthesized: Synthesized) -> None:
    # Given the template file the fixture wrote
    # When cfn-lint checks it
    matches = lint_file(synthesized.template_path)
    # Then it reports no error, warning or informational match
    assert [str(match) for match in matches] == []


def test_synth_is_offline_and_environment_agnostic(synthesized: Synthesized) -> None:
    # Given the synthesized cloud assembly
    # Then the stack has no fixed account or region, and synthesis asked for no context lookups
    assert cdk.Token.is_unresolved(synthesized.stack.region)
    assert cdk.Token.is_unresolved(synthesized.stack.account)
    manifest = json.loads((Path(synthesized.assembly.directory) / "manifest.json").read_text())
    assert "missing" not in manifest
