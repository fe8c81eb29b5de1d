"""The Embedrock stack: Lambda functions from the route table behind one REST API."""

from __future__ import annotations

from typing import Any

from aws_cdk import Aws, CfnOutput, Stack
from constructs import Construct

from infra.api import EmbedrockApi
from infra.config import usage_plan_limits
from infra.functions import EmbedrockFunctions


class EmbedrockStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        # No env: the stack is environment-agnostic (region and account are deploy-time
        # tokens), so synth needs no credentials and makes no lookups.
        super().__init__(scope, construct_id, **kwargs)
        functions = EmbedrockFunctions(self, "Functions")
        api = EmbedrockApi(self, "Api", functions=functions.by_name, limits=usage_plan_limits(self.node))

        CfnOutput(self, "ApiUrl", value=api.rest_api.url, description="Base URL of the API (stage included)")
        CfnOutput(self, "ApiKeyId", value=api.api_key.key_id, description="Id of the API key (not its value)")
        CfnOutput(
            self,
            "GetApiKeyCommand",
            value=f"aws apigateway get-api-key --api-key {api.api_key.key_id} --include-value --query value --output text --region {Aws.REGION}",
            description="Prints the API key value; send it in the x-api-key header",
        )
