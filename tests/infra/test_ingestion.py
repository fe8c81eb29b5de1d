"""The ingestion pipeline's infrastructure: bucket -> queue -> ingest function, DLQ and alarm, least privilege."""

from __future__ import annotations

import re
from typing import Any

import aws_cdk as cdk
import pytest

from embedrock import catalog, routes
from embedrock.ingest import images
from infra import config, ingestion
from tests.infra import cfn
from tests.infra.conftest import Synthesized
from tests.infra.test_iam import PROFILE_ARNS, ROUTED_MODEL_ARNS

pytestmark = pytest.mark.infra

BUCKET_ID = "IngestionBucket3AECAE21"  # the ingestion bucket's logical id (stable: its construct path)
# cdk-nag findings the ingestion construct acknowledges, each with its reason there.
INGESTION_ACKNOWLEDGEMENTS = {
    "AwsSolutions-S1",  # the access-log bucket does not log itself
    "AwsSolutions-SQS3",  # the EventBridge target's dead-letter queue is one (cdk-nag sees only redrives)
    *(f"AwsSolutions-IAM5[Resource::<{BUCKET_ID}.Arn>/{prefix}/*]" for prefix in ("input", "output", "work")),
    f"AwsSolutions-IAM5[Resource::<{BUCKET_ID}.Arn>/work/*/batch/*]",  # the batch role's data
    # batch job ids are Bedrock's
    "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:<AWS::Region>:<AWS::AccountId>:model-invocation-job/*]",
}
BUCKET_ARN = f"${{{BUCKET_ID}.Arn}}"
FOUNDATION_MODEL_ARN = "arn:${AWS::Partition}:bedrock:${AWS::Region}::foundation-model/"
BATCH_JOBS = "arn:${AWS::Partition}:bedrock:${AWS::Region}:${AWS::AccountId}:model-invocation-job/*"
CONSUME = {
    "sqs:ReceiveMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueUrl",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
}


def _one(resources: cfn.Resources, resource_type: str, fragment: str) -> tuple[str, dict[str, Any]]:
    (item,) = [(i, r) for i, r in cfn.of_type(resources, resource_type).items() if fragment in i]
    return item


def _queues(resources: cfn.Resources) -> tuple[str, dict[str, Any], str, dict[str, Any]]:
    queue_id, queue = _one(resources, "AWS::SQS::Queue", "IngestionQueue")
    dlq_id, dlq = _one(resources, "AWS::SQS::Queue", "IngestionDeadLetters")
    return queue_id, queue["Properties"], dlq_id, dlq["Properties"]


def _ingest(resources: cfn.Resources) -> tuple[str, dict[str, Any]]:
    function_id, function = cfn.function_named(resources, routes.INGEST.name)
    return function_id, function["Properties"]


def _grants(resources: cfn.Resources) -> dict[str, set[str]]:
    _, function = _ingest(resources)
    role_id = function["Role"]["Fn::GetAtt"][0]
    grants: dict[str, set[str]] = {}
    for statement in cfn.role_statements(resources, role_id):
        assert statement["Effect"] == "Allow"
        for action in cfn.as_list(statement["Action"]):
            grants.setdefault(action, set()).update(cfn.render(r) for r in cfn.as_list(statement["Resource"]))
    return grants


def _batch_role(resources: cfn.Resources) -> tuple[str, dict[str, Any]]:
    return _one(resources, "AWS::IAM::Role", "IngestionBatchRole")


def _queue_depth_alarm(resources: cfn.Resources, queue_id: str) -> dict[str, Any]:
    """The one alarm on the queue's depth: it fires on the first message waiting."""
    (alarm,) = [
        a["Properties"]
        for a in cfn.of_type(resources, "AWS::CloudWatch::Alarm").values()
        if {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}
        in a["Properties"].get("Dimensions", [])
    ]
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
    return alarm


def _policy_statements(resources: cfn.Resources, policy_type: str, target: str) -> list[dict[str, Any]]:
    key = "Queues" if policy_type == "AWS::SQS::QueuePolicy" else "Bucket"
    return [
        statement
        for policy in cfn.of_type(resources, policy_type).values()
        if {"Ref": target} in cfn.as_list(policy["Properties"][key])
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _denies_plain_http(statements: list[dict[str, Any]]) -> bool:
    return any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in statements
    )


def test_uploads_under_input_notify_the_queue_which_accepts_only_this_bucket(
    synthesized: Synthesized,
) -> None:
    # Given the ingestion bucket and queue
    resources = synthesized.resources
    bucket = resources[BUCKET_ID]
    queue_id, *_ = _queues(resources)
    # Then every object created under input/ is sent to the queue
    (notification,) = bucket["Properties"]["NotificationConfiguration"]["QueueConfigurations"]
    assert notification["Event"] == "s3:ObjectCreated:*"
    assert notification["Filter"] == {"S3Key": {"Rules": [{"Name": "prefix", "Value": "input/"}]}}
    assert notification["Queue"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    # And the queue lets S3 send only for this bucket (its name, known before it exists) and account
    (allow,) = [
        s
        for s in _policy_statements(resources, "AWS::SQS::QueuePolicy", queue_id)
        if s.get("Principal") == {"Service": "s3.amazonaws.com"}
    ]
    assert (allow["Effect"], allow["Action"]) == ("Allow", "sqs:SendMessage")
    assert (
        allow["Condition"]["ArnEquals"]["aws:SourceArn"]["Fn::Join"][1][-1]
        == bucket["Properties"]["BucketName"]
    )
    assert allow["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    # And the bucket is created after that policy, which S3 checks when it sets up the notification
    queue_policy_id, _ = _one(resources, "AWS::SQS::QueuePolicy", "IngestionQueuePolicy")
    assert queue_policy_id in bucket["DependsOn"]
    # And no custom resource (and no extra Lambda) configures it
    assert not cfn.of_type(resources, "Custom::S3BucketNotifications")


def test_the_queue_feeds_the_ingest_function_with_partial_batch_responses(synthesized: Synthesized) -> None:
    # Given the event source mapping of the ingest function
    resources = synthesized.resources
    function_id, _ = _ingest(resources)
    queue_id, *_ = _queues(resources)
    (mapping,) = cfn.of_type(resources, "AWS::Lambda::EventSourceMapping").values()
    properties = mapping["Properties"]
    # Then it reads the ingestion queue into the ingest function, reporting failed items only,
    # with bounded concurrency (the cap on Bedrock calls: invocations x calls per invocation)
    assert properties["EventSourceArn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    assert properties["FunctionName"] == {"Ref": function_id}
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert properties["BatchSize"] == ingestion.BATCH_SIZE
    assert properties["ScalingConfig"] == {"MaximumConcurrency": config.IngestionConfig().concurrency}


def test_queue_visibility_timeout_exceeds_the_function_timeout(synthesized: Synthesized) -> None:
    # Given the queue and the function it feeds
    resources = synthesized.resources
    _, queue, *_ = _queues(resources)
    _, function = _ingest(resources)
    # Then a message stays hidden longer than an invocation can run (six times, as AWS advises)
    assert function["Timeout"] == routes.INGEST.timeout_seconds
    assert queue["VisibilityTimeout"] >= 6 * function["Timeout"]


def test_failed_messages_go_to_a_dead_letter_queue_with_an_alarm(synthesized: Synthesized) -> None:
    # Given the queues, the function and the alarms
    resources = synthesized.resources
    _, queue, dlq_id, dlq = _queues(resources)
    _, function = _ingest(resources)
    # Then a message moves to the DLQ after the number of attempts the function knows as its last
    redrive = queue["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": [dlq_id, "Arn"]}
    assert (
        str(redrive["maxReceiveCount"])
        == function["Environment"]["Variables"]["EMBEDROCK_INGEST_MAX_RECEIVES"]
    )
    assert dlq["MessageRetentionPeriod"] == 14 * 24 * 3600
    # And an alarm fires as soon as one message is in the DLQ
    alarm = _queue_depth_alarm(resources, dlq_id)
    assert (alarm["Period"], alarm["EvaluationPeriods"], alarm["TreatMissingData"]) == (60, 1, "notBreaching")
    assert "redrive" in alarm["AlarmDescription"]


def test_queues_are_encrypted_and_tls_only(synthesized: Synthesized) -> None:
    resources = synthesized.resources
    queue_id, queue, dlq_id, dlq = _queues(resources)
    for logical_id, properties in ((queue_id, queue), (dlq_id, dlq)):
        assert properties["SqsManagedSseEnabled"] is True
        assert _denies_plain_http(_policy_statements(resources, "AWS::SQS::QueuePolicy", logical_id))


def test_the_bucket_is_encrypted_versioned_private_tls_only_and_logged(synthesized: Synthesized) -> None:
    # Given the ingestion bucket
    resources = synthesized.resources
    properties = resources[BUCKET_ID]["Properties"]
    # Then it is encrypted, versioned, closed to the public and reachable over TLS only
    assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"
    ] == {"SSEAlgorithm": "AES256"}
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    assert set(properties["PublicAccessBlockConfiguration"].values()) == {True}
    assert _denies_plain_http(_policy_statements(resources, "AWS::S3::BucketPolicy", BUCKET_ID))
    # And its access logs go to a bucket that lets only S3's log delivery write, for this bucket only
    logs_id = properties["LoggingConfiguration"]["DestinationBucketName"]["Ref"]
    logs = resources[logs_id]["Properties"]
    assert "AccessControl" not in logs and logs["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "BucketOwnerEnforced"}
    ]
    (delivery,) = [
        s for s in _policy_statements(resources, "AWS::S3::BucketPolicy", logs_id) if s["Effect"] == "Allow"
    ]
    assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert cfn.render(delivery["Condition"]["ArnLike"]["aws:SourceArn"]) == BUCKET_ARN
    # And the data is kept when the stack is deleted
    assert resources[BUCKET_ID]["DeletionPolicy"] == "Retain"


def test_lifecycle_tiers_outputs_and_expires_work_and_old_versions(synthesized: Synthesized) -> None:
    # Given the ingestion bucket's lifecycle rules
    rules = {
        rule["Id"]: rule
        for rule in synthesized.resources[BUCKET_ID]["Properties"]["LifecycleConfiguration"]["Rules"]
    }
    # Then outputs move to Intelligent-Tiering and their old versions expire
    assert rules["Outputs"]["Prefix"] == "output/"
    assert rules["Outputs"]["Transitions"] == [
        {"StorageClass": "INTELLIGENT_TIERING", "TransitionInDays": 30}
    ]
    assert rules["Outputs"]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}
    assert rules["Inputs"]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}
    # And work areas expire, and so do incomplete multipart uploads
    assert (rules["Work"]["Prefix"], rules["Work"]["ExpirationInDays"]) == ("work/", 7)
    assert rules["IncompleteUploads"]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}


VECTOR_UPSERT = ("s3vectors:GetIndex", "s3vectors:ListTagsForResource", "s3vectors:PutVectors")


def _vector_indexes(resources: dict[str, Any]) -> str:
    bucket_id, _ = cfn.only(resources, "AWS::S3Vectors::VectorBucket")
    return f"${{{bucket_id}.VectorBucketArn}}/index/*"


def _vector_key(resources: dict[str, Any]) -> str:
    key_id, _ = cfn.only(resources, "AWS::KMS::Key")
    return f"${{{key_id}.Arn}}"


def test_ingest_role_is_least_privilege(synthesized: Synthesized) -> None:
    # Given every grant of the ingest function's role
    resources = synthesized.resources
    queue_id, *_ = _queues(resources)
    function_id, function = _ingest(resources)
    log_group = f"${{{function['LoggingConfig']['LogGroup']['Ref']}.Arn}}"
    grants = _grants(resources)
    queue = f"${{{queue_id}.Arn}}"
    # Then they are exactly: its own logs, X-Ray, consume and send on its queue, read input/,
    # read and write output/ and work/, delete under work/, list the bucket, and invoke the catalog's models
    assert grants == {
        "logs:CreateLogStream": {log_group},
        "logs:PutLogEvents": {log_group},
        "xray:PutTraceSegments": {"*"},
        "xray:PutTelemetryRecords": {"*"},
        **{action: {queue} for action in CONSUME},
        "sqs:SendMessage": {queue},
        "s3:GetObject": {f"{BUCKET_ARN}/input/*", f"{BUCKET_ARN}/output/*", f"{BUCKET_ARN}/work/*"},
        "s3:GetObjectVersion": {f"{BUCKET_ARN}/input/*"},
        "s3:PutObject": {f"{BUCKET_ARN}/output/*", f"{BUCKET_ARN}/work/*"},
        "s3:AbortMultipartUpload": {f"{BUCKET_ARN}/output/*", f"{BUCKET_ARN}/work/*"},
        "s3:DeleteObject": {f"{BUCKET_ARN}/work/*"},  # pruning a published run's work area
        "s3:ListBucket": {BUCKET_ARN},
        # the catalog's models, and the allowed inference profiles (test_iam checks their statements)
        "bedrock:InvokeModel": {FOUNDATION_MODEL_ARN + model.id for model in catalog.MODELS}
        | PROFILE_ARNS
        | ROUTED_MODEL_ARNS,
        # batch inference: jobs on the models that have it, read them, and pass them the batch role only
        "bedrock:CreateModelInvocationJob": {
            BATCH_JOBS,
            *(FOUNDATION_MODEL_ARN + model.id for model in catalog.MODELS if model.batch_inference),
        },
        "bedrock:GetModelInvocationJob": {BATCH_JOBS},
        "iam:PassRole": {f"${{{_batch_role(resources)[0]}.Arn}}"},
        # a file's collection: describe its index, read its tags, put its vectors (test_vectors.py)
        **{action: {_vector_indexes(resources)} for action in VECTOR_UPSERT},
        "kms:Decrypt": {_vector_key(resources)},
        "kms:GenerateDataKey": {_vector_key(resources)},
    }
    # And the role is Lambda's alone, with no managed policy
    role = resources[function["Role"]["Fn::GetAtt"][0]]["Properties"]
    assert "ManagedPolicyArns" not in role
    assert function_id


def test_ingest_function_is_configured_for_the_pipeline(synthesized: Synthesized) -> None:
    # Given the ingest function
    resources = synthesized.resources
    queue_id, *_ = _queues(resources)
    _, function = _ingest(resources)
    # Then it runs the ingest handler with room for a file on disk, and knows its queue and limits
    assert function["Handler"] == routes.INGEST.handler
    assert function["MemorySize"] == routes.INGEST.memory_mb
    assert function["EphemeralStorage"] == {"Size": ingestion.EPHEMERAL_STORAGE_MB}
    assert function["TracingConfig"] == {"Mode": "Active"}
    variables = function["Environment"]["Variables"]
    assert variables["EMBEDROCK_INGEST_QUEUE_URL"] == {"Ref": queue_id}
    assert variables["EMBEDROCK_INGEST_CHUNK_LINES"] == "1000"
    assert variables["EMBEDROCK_MAX_CONCURRENCY"] == str(ingestion.BEDROCK_CONCURRENCY_PER_INVOCATION)


def test_the_bucket_name_is_an_output(synthesized: Synthesized) -> None:
    outputs = synthesized.template.find_outputs("IngestionBucketName")
    assert outputs["IngestionBucketName"]["Value"] == {"Ref": BUCKET_ID}


def test_ingestion_acknowledgements_are_exactly_the_reviewed_ones(synthesized: Synthesized) -> None:
    # Given the acknowledgements recorded under the ingestion construct and its policies
    key = cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
    found = {
        re.sub(r"^annotation::", "", rule_id, flags=re.IGNORECASE)
        for construct in synthesized.stack.node.find_child("Ingestion").node.find_all()
        for entry in construct.node.metadata
        if entry.type == key
        for rule_id in entry.data
    }
    # Then they are the reviewed ones (test_compliance checks every one has a real reason)
    assert found == INGESTION_ACKNOWLEDGEMENTS


def test_event_source_concurrency_below_two_is_refused() -> None:
    app = cdk.App(context={config.INGEST_CONCURRENCY: "1"})
    with pytest.raises(ValueError, match="at least 2"):
        config.ingestion_config(app.node)


def test_the_ingest_role_passes_the_batch_role_to_bedrock_only(synthesized: Synthesized) -> None:
    # Given the ingest role's PassRole statement
    _, function = _ingest(synthesized.resources)
    statements = cfn.role_statements(synthesized.resources, function["Role"]["Fn::GetAtt"][0])
    (pass_role,) = [s for s in statements if s["Action"] == "iam:PassRole"]
    # Then the role can be passed to Bedrock and to no other service
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}}


def test_the_batch_role_is_bedrocks_for_this_accounts_jobs_and_reaches_batch_data_only(
    synthesized: Synthesized,
) -> None:
    # Given the batch inference service role
    _, role = _batch_role(synthesized.resources)
    properties = role["Properties"]
    # Then only Bedrock may assume it, for jobs of this account
    (trust,) = properties["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "bedrock.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert cfn.render(trust["Condition"]["ArnLike"]["aws:SourceArn"]) == BATCH_JOBS
    # And it reads and writes the runs' batch folders only, with no managed policy
    assert "ManagedPolicyArns" not in properties
    grants = {
        action: {cfn.render(r) for r in cfn.as_list(statement["Resource"])}
        for policy in properties["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
        for action in cfn.as_list(statement["Action"])
    }
    assert grants == {
        "s3:GetObject": {f"{BUCKET_ARN}/work/*/batch/*"},
        "s3:PutObject": {f"{BUCKET_ARN}/work/*/batch/*"},
        "s3:ListBucket": {BUCKET_ARN},
    }
    # And it may list only the batch folders, where a job's input and output URIs point
    (listing,) = [
        statement
        for policy in properties["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
        if statement["Action"] == "s3:ListBucket"
    ]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["work/*/batch/*"]}}


def test_ended_batch_jobs_reach_the_queue_through_an_eventbridge_rule(synthesized: Synthesized) -> None:
    # Given the rule on Bedrock's batch job events
    resources = synthesized.resources
    queue_id, *_ = _queues(resources)
    rule_id, rule = _one(resources, "AWS::Events::Rule", "IngestionBatchJobsEnded")
    pattern = rule["Properties"]["EventPattern"]
    # Then it matches the pipeline's jobs in a final state, and sends them to the ingestion queue
    assert (pattern["source"], pattern["detail-type"]) == (
        ["aws.bedrock"],
        ["Batch Inference Job State Change"],
    )
    assert set(pattern["detail"]["status"]) == {
        "Completed",
        "PartiallyCompleted",
        "Failed",
        "Stopped",
        "Expired",
    }
    assert pattern["detail"]["batchJobName"] == [{"prefix": "embedrock-"}]
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    # And the queue accepts EventBridge's messages from that rule only
    (allow,) = [
        s
        for s in _policy_statements(resources, "AWS::SQS::QueuePolicy", queue_id)
        if s.get("Principal") == {"Service": "events.amazonaws.com"}
    ]
    assert allow["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]}}}


def test_job_events_eventbridge_cannot_deliver_are_retried_then_kept_with_an_alarm(
    synthesized: Synthesized,
) -> None:
    # Given the rule's target and the queue it keeps undelivered events in
    resources = synthesized.resources
    _, rule = _one(resources, "AWS::Events::Rule", "IngestionBatchJobsEnded")
    (target,) = rule["Properties"]["Targets"]
    rule_id, _ = _one(resources, "AWS::Events::Rule", "IngestionBatchJobsEnded")
    dlq_id, dlq = _one(resources, "AWS::SQS::Queue", "IngestionUndeliveredJobEvents")
    # Then EventBridge retries as long as it allows (24 h, 185 attempts), then uses that queue
    assert target["RetryPolicy"] == {
        "MaximumEventAgeInSeconds": 24 * 3600,
        "MaximumRetryAttempts": ingestion.JOB_EVENT_RETRY_ATTEMPTS,
    }
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [dlq_id, "Arn"]}}
    # And the queue is encrypted and TLS only, keeps events 14 days, and lets EventBridge send
    # for this rule only
    assert dlq["Properties"]["SqsManagedSseEnabled"] is True
    assert dlq["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
    statements = _policy_statements(resources, "AWS::SQS::QueuePolicy", dlq_id)
    assert _denies_plain_http(statements)
    (allow,) = [s for s in statements if s.get("Principal") == {"Service": "events.amazonaws.com"}]
    assert (allow["Effect"], allow["Action"]) == ("Allow", "sqs:SendMessage")
    assert allow["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]}}}
    # And an alarm fires on the first undelivered event, saying what to do
    alarm = _queue_depth_alarm(resources, dlq_id)
    assert "dead-letter queue" in alarm["AlarmDescription"]


def test_the_function_knows_the_batch_role_threshold_and_bucket(synthesized: Synthesized) -> None:
    variables = _ingest(synthesized.resources)[1]["Environment"]["Variables"]
    assert variables["EMBEDROCK_BATCH_ROLE_ARN"] == {
        "Fn::GetAtt": [_batch_role(synthesized.resources)[0], "Arn"]
    }
    assert variables["EMBEDROCK_BATCH_MIN_LINES"] == "10000"
    assert variables["EMBEDROCK_INGEST_BUCKET"] == {"Ref": BUCKET_ID}


def test_a_batch_threshold_under_bedrocks_minimum_is_refused() -> None:
    app = cdk.App(context={config.BATCH_MIN_LINES: "99"})
    with pytest.raises(ValueError, match="at least 100"):
        config.ingestion_config(app.node)


def test_batch_jobs_are_allowed_only_on_the_models_aws_lists_for_batch_inference(
    synthesized: Synthesized,
) -> None:
    # Given the models the ingest role may start batch jobs on
    models = {
        resource.removeprefix(FOUNDATION_MODEL_ARN)
        for resource in _grants(synthesized.resources)["bedrock:CreateModelInvocationJob"]
        if resource.startswith(FOUNDATION_MODEL_ARN)
    }
    # Then they are Titan Text V2 and Titan Multimodal ("Supported Regions and models for batch
    # inference"): not Titan Text V1, not Cohere v3
    assert models == {"amazon.titan-embed-text-v2:0", "amazon.titan-embed-image-v1"}


def test_images_are_read_under_input_only_by_the_ingest_role_and_never_by_the_batch_role(
    synthesized: Synthesized,
) -> None:
    # Given where the pipeline reads the images of JSONL lines
    assert images.IMAGE_PREFIX == "input/"
    # Then the ingest role reads that prefix, and no grant reads the whole bucket
    grants = _grants(synthesized.resources)
    assert f"{BUCKET_ARN}/{images.IMAGE_PREFIX}*" in grants["s3:GetObject"]
    assert all(not resource.endswith(f"{BUCKET_ARN}/*") for resource in grants["s3:GetObject"])
    # And the batch role reads only batch folders: a job's records carry their images inline
    _, role = _batch_role(synthesized.resources)
    reads = {
        cfn.render(resource)
        for policy in role["Properties"]["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
        if "s3:GetObject" in cfn.as_list(statement["Action"])
        for resource in cfn.as_list(statement["Resource"])
    }
    assert reads == {f"{BUCKET_ARN}/work/*/batch/*"}
