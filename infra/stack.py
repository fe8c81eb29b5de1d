"""The Embedrock stack: Lambda functions from the route table behind one REST API."""

from __future__ import annotations

from typing import Any

from aws_cdk import Aws, CfnOutput, Stack
from constructs import Construct

from embedrock import routes
from embedrock.settings import Settings, environment
from infra.alarms import EmbedrockAlarms
from infra.api import EmbedrockApi
from infra.config import (
    alarm_email,
    cache_ttl_days,
    cors_origins,
    ingestion_config,
    usage_plan_limits,
    waf_settings,
)
from infra.dashboard import EmbedrockDashboard
from infra.functions import EmbedrockFunctions
from infra.ingestion import Ingestion, add_cache
from infra.waf import EmbedrockWaf, acknowledge_no_waf


class EmbedrockStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        # No env: the stack is environment-agnostic (region and account are deploy-time
        # tokens), so synth needs no credentials and makes no lookups.
        super().__init__(scope, construct_id, **kwargs)
        functions = EmbedrockFunctions(self, "Functions")
        cors = cors_origins(self.node)
        api = EmbedrockApi(
            self, "Api", functions=functions.by_name, limits=usage_plan_limits(self.node), cors_origins=cors
        )
        if cors:  # the functions add the CORS headers to their own answers (embedrock.http.resolver)
            for function in functions.by_name.values():
                for name, value in environment(Settings, cors_origins=cors).items():
                    function.add_environment(name, value)
        ingestion = Ingestion(
            self, "Ingestion", function=functions.add(routes.INGEST), config=ingestion_config(self.node)
        )
        # when -c embedrock:cache=true
        add_cache(self, functions.by_name, ingestion.function, cache_ttl_days(self.node))
        waf = waf_settings(self.node)
        if waf.enabled:
            EmbedrockWaf(self, "Waf", stage=api.rest_api.deployment_stage, settings=waf)
        else:
            acknowledge_no_waf(api.rest_api.deployment_stage)
        watched = {**functions.by_name, routes.INGEST.name: ingestion.function}
        alarms = EmbedrockAlarms(
            self, "Alarms", api=api.rest_api, functions=watched, email=alarm_email(self.node)
        )
        for alarm in ingestion.alarms:  # the pipeline's dead-letter alarms notify like the others
            alarms.add(alarm)
        # Alarms added here (alarms.add, alarms.watch_queue_depth) appear on the dashboard too.
        dashboard = EmbedrockDashboard(
            self, "Dashboard", api=api.rest_api, functions=watched, alarms=alarms.alarms
        )

        CfnOutput(self, "ApiUrl", value=api.rest_api.url, description="Base URL of the API (stage included)")
        CfnOutput(self, "ApiKeyId", value=api.api_key.key_id, description="Id of the API key (not its value)")
        CfnOutput(
            self,
            "GetApiKeyCommand",
            value=f"aws apigateway get-api-key --api-key {api.api_key.key_id} --include-value --query value --output text --region {Aws.REGION}",
            description="Prints the API key value; send it in the x-api-key header",
        )
        CfnOutput(
            self,
            "DashboardUrl",
            value=f"https://{Aws.REGION}.console.aws.amazon.com/cloudwatch/home?region={Aws.REGION}"
            f"#dashboards:name={dashboard.dashboard.dashboard_name}",
            description="The CloudWatch dashboard: requests, latency, errors, throttles, tokens, cost, alarms",
        )
        CfnOutput(
            self,
            "IngestionBucketName",
            value=ingestion.bucket.bucket_name,
            description="Upload input/<name>.jsonl|.csv|.txt; output/<name>.jsonl and .manifest.json appear",
        )
