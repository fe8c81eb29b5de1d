"""The event-driven pipeline: ingestion bucket -> SQS (with a DLQ and its alarm) -> ingest Lambda.

S3 notifies the queue directly. The notification is plain CloudFormation (no custom resource,
no extra Lambda): the bucket's name is derived from the account, the region and this stack's id,
so the queue policy can name the bucket without referring to it, and the bucket can wait for
that policy, which S3 checks when the notification is created.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Aws, Duration, Fn, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from embedrock import catalog, routes
from embedrock import settings as function_settings
from embedrock.bedrock.batch_limits import TERMINAL
from embedrock.cache_table import EXPIRES_AT, KEY
from embedrock.ingest import settings as ingest_settings
from embedrock.ingest.layout import INPUT_PREFIX, OUTPUT_PREFIX, WORK_PREFIX
from embedrock.settings import environment
from infra import nag
from infra.bedrock_policy import foundation_model_arn
from infra.config import IngestionConfig

S3_ACCESS_LOGS_USE_BUCKET_POLICY = "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy"

# Messages of one invocation; each is a file to plan or a chunk to embed.
BATCH_SIZE = 4
# Bedrock calls in flight per invocation, instead of the API's per-request cap: times the event
# source's concurrency, the most the pipeline ever has in flight (quotas are low requests-per-minute).
BEDROCK_CONCURRENCY_PER_INVOCATION = 8
EPHEMERAL_STORAGE_MB = 2048
BATCH_JOB_PREFIX = "embedrock-"  # embedrock.ingest.batch_inference names its jobs so  # a file and its output are spooled to /tmp

# EventBridge's delivery of a batch job's end to the queue: retried for as long as EventBridge allows
# (AWS: at most 185 attempts and 24 h, "Retry policies and dead-letter queues"), then kept in a
# dead-letter queue with an alarm. A lost event would leave its file waiting for that job forever.
JOB_EVENT_MAX_AGE = Duration.hours(24)
JOB_EVENT_RETRY_ATTEMPTS = 185

# Where a batch job's records and results live: work/<run id>/batch/<job>/...
BATCH_DATA_PREFIX = f"{WORK_PREFIX}*/batch/*"

OUTPUT_TIERING_AFTER = Duration.days(30)
NONCURRENT_VERSIONS_EXPIRE_AFTER = Duration.days(30)
WORK_EXPIRES_AFTER = Duration.days(7)
ACCESS_LOGS_EXPIRE_AFTER = Duration.days(90)


def bucket_name() -> str:
    """embedrock-ingest-<account>-<region>-<first 8 hex digits of this stack's id>: unique, known early."""
    stack_guid = Fn.select(2, Fn.split("/", Aws.STACK_ID))
    return Fn.join(
        "-", ["embedrock-ingest", Aws.ACCOUNT_ID, Aws.REGION, Fn.select(0, Fn.split("-", stack_guid))]
    )


class Ingestion(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, function: lambda_.Function, config: IngestionConfig
    ) -> None:
        super().__init__(scope, construct_id)
        # Server access logs are allowed by a bucket policy, not the legacy LogDeliveryWrite ACL
        # (CDK's recommended flag for new apps; set here so it applies to this construct only).
        self.node.set_context(S3_ACCESS_LOGS_USE_BUCKET_POLICY, True)
        self.function = function
        self.dead_letters = self._dead_letter_queue("DeadLetters")
        # Batch job events EventBridge could not deliver to the queue (its own DLQ; the queue's
        # DLQ is for messages the function failed on).
        self.undelivered_job_events = self._dead_letter_queue("UndeliveredJobEvents")
        nag.acknowledge(
            self.undelivered_job_events,
            "AwsSolutions-SQS3",
            "This queue is a dead-letter queue: the EventBridge rule's target names it in its "
            "DeadLetterConfig, which cdk-nag does not recognize (it looks only at SQS redrive policies).",
        )
        # A message that failed this many times moves to the DLQ; the function is told, so that its
        # last attempt writes a failed manifest first.
        self.max_receives = ingest_settings.IngestSettings().max_receives
        timeout = function.timeout or Duration.minutes(15)
        self.queue = sqs.Queue(
            self,
            "Queue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            # Longer than the function's timeout (AWS advises six times), so no message is handed
            # to a second invocation while the first still works on it; failed messages come back
            # sooner, after the handler's backoff.
            visibility_timeout=Duration.seconds(6 * timeout.to_seconds()),
            retention_period=Duration.days(4),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dead_letters, max_receive_count=self.max_receives
            ),
        )
        self.bucket = self._bucket()
        self._notify_queue()
        self._wire_function(config)
        self._grant_data_access()
        self.batch_role = self._batch_inference(config)
        self.alarm = self._dead_letter_alarm()
        # Every alarm of the pipeline, for the stack to notify and show (EmbedrockAlarms.add).
        self.alarms = [self.alarm, self._undelivered_job_events_alarm()]

    def _dead_letter_queue(self, construct_id: str) -> sqs.Queue:
        return sqs.Queue(
            self,
            construct_id,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )

    def _bucket(self) -> s3.Bucket:
        access_logs = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            # No ACLs: S3's log delivery is allowed by the bucket policy CDK writes.
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=RemovalPolicy.RETAIN,
            lifecycle_rules=[s3.LifecycleRule(expiration=ACCESS_LOGS_EXPIRE_AFTER)],
        )
        nag.acknowledge(
            access_logs,
            "AwsSolutions-S1",
            "This bucket receives the ingestion bucket's server access logs; logging it in turn would "
            "need another bucket without logs, or a loop of log deliveries logging themselves.",
        )
        return s3.Bucket(
            self,
            "Bucket",
            bucket_name=bucket_name(),
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            versioned=True,
            removal_policy=RemovalPolicy.RETAIN,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="ingestion/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="Outputs",
                    prefix=OUTPUT_PREFIX,
                    transitions=[
                        s3.Transition(
                            storage_class=s3.StorageClass.INTELLIGENT_TIERING,
                            transition_after=OUTPUT_TIERING_AFTER,
                        )
                    ],
                    noncurrent_version_expiration=NONCURRENT_VERSIONS_EXPIRE_AFTER,
                ),
                s3.LifecycleRule(
                    id="Inputs",
                    prefix=INPUT_PREFIX,
                    noncurrent_version_expiration=NONCURRENT_VERSIONS_EXPIRE_AFTER,
                ),
                # Runs' work areas: a re-upload within this time reuses its finished chunks.
                s3.LifecycleRule(
                    id="Work",
                    prefix=WORK_PREFIX,
                    expiration=WORK_EXPIRES_AFTER,
                    noncurrent_version_expiration=Duration.days(1),
                ),
                s3.LifecycleRule(
                    id="IncompleteUploads", abort_incomplete_multipart_upload_after=Duration.days(1)
                ),
            ],
        )

    def _notify_queue(self) -> None:
        source_arn = Fn.join("", ["arn:", Aws.PARTITION, ":s3:::", bucket_name()])
        self.queue.add_to_resource_policy(
            iam.PolicyStatement(
                sid="IngestionBucketNotifications",
                principals=[iam.ServicePrincipal("s3.amazonaws.com")],
                actions=["sqs:SendMessage"],
                resources=[self.queue.queue_arn],
                conditions={
                    "ArnEquals": {"aws:SourceArn": source_arn},
                    "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                },
            )
        )
        cfn_bucket = self.bucket.node.default_child
        assert isinstance(cfn_bucket, s3.CfnBucket)
        cfn_bucket.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
            queue_configurations=[
                s3.CfnBucket.QueueConfigurationProperty(
                    event="s3:ObjectCreated:*",
                    queue=self.queue.queue_arn,
                    filter=s3.CfnBucket.NotificationFilterProperty(
                        s3_key=s3.CfnBucket.S3KeyFilterProperty(
                            rules=[s3.CfnBucket.FilterRuleProperty(name="prefix", value=INPUT_PREFIX)]
                        )
                    ),
                )
            ]
        )
        # S3 sends a test message when the notification is created: the queue must accept it by then.
        self.bucket.node.add_dependency(self.queue.node.find_child("Policy"))

    def _wire_function(self, config: IngestionConfig) -> None:
        function = self.function
        variables = {
            **environment(
                ingest_settings.IngestSettings,
                queue_url=self.queue.queue_url,
                max_receives=self.max_receives,
                chunk_lines=config.chunk_lines,
            ),
            **environment(function_settings.Settings, max_concurrency=BEDROCK_CONCURRENCY_PER_INVOCATION),
        }
        for name, value in variables.items():
            function.add_environment(name, value)
        cfn_function = function.node.default_child
        assert isinstance(cfn_function, lambda_.CfnFunction)
        cfn_function.ephemeral_storage = lambda_.CfnFunction.EphemeralStorageProperty(
            size=EPHEMERAL_STORAGE_MB
        )
        function.add_event_source(
            event_sources.SqsEventSource(
                self.queue,
                batch_size=BATCH_SIZE,
                report_batch_item_failures=True,
                # The bound on Bedrock concurrency: invocations x calls per invocation. Unlike
                # reserved concurrency it never throttles the poller into extra receives.
                max_concurrency=config.concurrency,
            )
        )
        # Large files: the function queues their chunks on its own queue.
        self.queue.grant_send_messages(function)

    def _grant_data_access(self) -> None:
        bucket = self.bucket
        policy = iam.Policy(
            self,
            "DataAccess",
            statements=[
                # input/ holds the uploaded files and the images their JSONL lines reference
                # (s3://<bucket>/input/..., embedrock.ingest.images): images anywhere else are refused
                # by the code, and this grant is all it takes to read them. Batch jobs carry images
                # inline in their records, so the batch role reads none.
                iam.PolicyStatement(
                    sid="ReadInputs",
                    actions=["s3:GetObject", "s3:GetObjectVersion"],
                    resources=[bucket.arn_for_objects(f"{INPUT_PREFIX}*")],
                ),
                iam.PolicyStatement(
                    sid="WriteOutputsAndWork",
                    actions=["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
                    resources=[
                        bucket.arn_for_objects(f"{OUTPUT_PREFIX}*"),
                        bucket.arn_for_objects(f"{WORK_PREFIX}*"),
                    ],
                ),
                # A published run prunes its chunks' data (DeleteObjects needs DeleteObject per key).
                iam.PolicyStatement(
                    sid="PruneWork",
                    actions=["s3:DeleteObject"],
                    resources=[bucket.arn_for_objects(f"{WORK_PREFIX}*")],
                ),
                # Without it S3 answers 403, not 404, for a missing key (a sidecar, a plan).
                iam.PolicyStatement(
                    sid="ListBucket", actions=["s3:ListBucket"], resources=[bucket.bucket_arn]
                ),
            ],
        )
        role = self.function.role
        assert role is not None
        policy.attach_to_role(role)
        for prefix, reason in {
            INPUT_PREFIX: "reads the uploaded files (any key under input/, any version) it is notified of, "
            "and the images their lines reference under input/",
            OUTPUT_PREFIX: "writes each file's output and manifest (one key per input file under output/)",
            WORK_PREFIX: "keeps each run's plan and chunks (keys named by run id under work/)",
        }.items():
            nag.acknowledge(
                policy,
                f"AwsSolutions-IAM5[Resource::<{_logical_id(bucket)}.Arn>/{prefix}*]",
                f"The ingest function {reason}: the keys are only known at run time, so the grant is "
                f"on the {prefix} prefix of this one bucket.",
            )

    def _batch_inference(self, config: IngestionConfig) -> iam.Role:
        """The service role Bedrock runs batch jobs with, the ingest function's right to start jobs with
        it (and only it), and the EventBridge rule that sends job completions to the queue."""
        jobs = f"arn:{Aws.PARTITION}:bedrock:{Aws.REGION}:{Aws.ACCOUNT_ID}:model-invocation-job/*"
        role = iam.Role(
            self,
            "BatchRole",
            description="Amazon Bedrock batch inference jobs of the Embedrock pipeline: read their records, write their results",
            assumed_by=iam.ServicePrincipal(
                "bedrock.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                    "ArnLike": {"aws:SourceArn": jobs},
                },
            ),
            inline_policies={
                "BatchData": iam.PolicyDocument(
                    statements=[
                        iam.PolicyStatement(
                            actions=["s3:GetObject", "s3:PutObject"],
                            resources=[self.bucket.arn_for_objects(BATCH_DATA_PREFIX)],
                        ),
                        # Listing only where jobs read records and write results: the input and
                        # output URIs CreateModelInvocationJob gets (embedrock.ingest.layout).
                        iam.PolicyStatement(
                            actions=["s3:ListBucket"],
                            resources=[self.bucket.bucket_arn],
                            conditions={"StringLike": {"s3:prefix": [BATCH_DATA_PREFIX]}},
                        ),
                    ]
                )
            },
        )
        own_policies = role.node.default_child
        assert own_policies is not None
        nag.acknowledge(
            own_policies,
            f"AwsSolutions-IAM5[Resource::<{_logical_id(self.bucket)}.Arn>/{BATCH_DATA_PREFIX}]",
            "Bedrock reads each job's records and writes its results under work/<run id>/batch/ of this "
            "bucket; run ids are only known at run time.",
        )
        policy = iam.Policy(
            self,
            "BatchJobs",
            statements=[
                iam.PolicyStatement(
                    sid="CreateJobsOnBatchModels",
                    actions=["bedrock:CreateModelInvocationJob"],
                    resources=[
                        jobs,
                        *(foundation_model_arn(m.id) for m in catalog.MODELS if m.batch_inference),
                    ],
                ),
                iam.PolicyStatement(
                    sid="ReadJobs", actions=["bedrock:GetModelInvocationJob"], resources=[jobs]
                ),
                iam.PolicyStatement(
                    sid="PassOnlyTheBatchRole",
                    actions=["iam:PassRole"],
                    resources=[role.role_arn],
                    conditions={"StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}},
                ),
            ],
        )
        assert self.function.role is not None
        policy.attach_to_role(self.function.role)
        nag.acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:<AWS::Region>:<AWS::AccountId>:model-invocation-job/*]",
            "Batch job ids are chosen by Bedrock when a job is created: the ingest function may create and "
            "read jobs of this account and region only, and pass them only the batch role.",
        )
        for name, value in environment(
            ingest_settings.IngestSettings,
            batch_role_arn=role.role_arn,
            batch_min_lines=config.batch_min_lines,
            bucket=self.bucket.bucket_name,
        ).items():
            self.function.add_environment(name, value)
        events.Rule(
            self,
            "BatchJobsEnded",
            description="Bedrock batch inference jobs of the pipeline that ended: their results are collected",
            event_pattern=events.EventPattern(
                source=["aws.bedrock"],
                detail_type=["Batch Inference Job State Change"],
                detail={"status": sorted(TERMINAL), "batchJobName": [{"prefix": BATCH_JOB_PREFIX}]},
            ),
            # CDK adds the DLQ's policy: events.amazonaws.com may send, for this rule only.
            targets=[
                targets.SqsQueue(
                    self.queue,
                    dead_letter_queue=self.undelivered_job_events,
                    max_event_age=JOB_EVENT_MAX_AGE,
                    retry_attempts=JOB_EVENT_RETRY_ATTEMPTS,
                )
            ],
        )
        return role

    def _undelivered_job_events_alarm(self) -> cloudwatch.Alarm:
        return self._queue_alarm(
            "UndeliveredJobEventsAlarm",
            self.undelivered_job_events,
            "EventBridge could not deliver the end of a Bedrock batch inference job to the ingestion "
            "queue (retried up to 24 hours, or not at all when denied): its file waits for that job. "
            "Check the ingestion queue's policy, then send each message's body (the event) from this "
            "dead-letter queue to the ingestion queue.",
        )

    def _dead_letter_alarm(self) -> cloudwatch.Alarm:
        return self._queue_alarm(
            "DeadLettersAlarm",
            self.dead_letters,
            "Ingestion messages failed every retry and are in the dead-letter queue: see the failed "
            "manifests under output/ and the ingest function's logs, fix the cause, then redrive the DLQ.",
        )

    def _queue_alarm(self, construct_id: str, queue: sqs.Queue, description: str) -> cloudwatch.Alarm:
        """In alarm while any message waits in `queue` (a dead-letter queue: none should)."""
        return cloudwatch.Alarm(
            self,
            construct_id,
            alarm_description=description,
            metric=queue.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(1), statistic="Maximum"
            ),
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )


def _logical_id(bucket: s3.Bucket) -> str:
    from aws_cdk import Stack

    cfn_bucket = bucket.node.default_child
    assert isinstance(cfn_bucket, s3.CfnBucket)
    return Stack.of(bucket).get_logical_id(cfn_bucket)


class EmbeddingCacheTable(Construct):
    """The opt-in embeddings cache (embedrock.cache): a table the embedding functions read and write."""

    def __init__(
        self, scope: Construct, construct_id: str, *, functions: list[lambda_.Function], ttl_days: int
    ) -> None:
        super().__init__(scope, construct_id)
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name=KEY, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute=EXPIRES_AT,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            removal_policy=RemovalPolicy.DESTROY,
        )
        nag.acknowledge(
            self.table,
            "AwsSolutions-DDB3",
            "The table is a cache of embeddings that Bedrock recomputes on a miss and that expire "
            "through TTL: point-in-time recovery would pay to back up data that is never restored.",
        )
        variables = environment(
            function_settings.Settings, cache_table=self.table.table_name, cache_ttl_days=ttl_days
        )
        for function in functions:
            for name, value in variables.items():
                function.add_environment(name, value)
            function.add_to_role_policy(
                iam.PolicyStatement(
                    actions=[
                        "dynamodb:BatchGetItem",
                        "dynamodb:GetItem",
                        "dynamodb:BatchWriteItem",
                        "dynamodb:PutItem",
                    ],
                    resources=[self.table.table_arn],
                )
            )


def add_cache(
    scope: Construct,
    functions: Mapping[str, lambda_.Function],
    ingest: lambda_.Function,
    ttl_days: int | None,
) -> EmbeddingCacheTable | None:
    """The cache table when on (`ttl_days` given: infra.config.cache_ttl_days), for every function
    that embeds."""
    if ttl_days is None:
        return None
    embedding = [
        function
        for name, function in functions.items()
        if routes.function_named(name).bedrock_access is routes.BedrockAccess.INVOKE_EMBEDDING_MODELS
    ]
    return EmbeddingCacheTable(scope, "Cache", functions=[*embedding, ingest], ttl_days=ttl_days)
