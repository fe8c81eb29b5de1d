"""Log groups and the stack's encryption key.

Every log the stack writes has an owner, a retention, goes away with the stack, and is
encrypted at rest with the stack's customer-managed KMS key (rotated yearly). The key's
policy lets CloudWatch Logs use it for this account's log groups in this region only,
CloudWatch alarms use it to publish to the encrypted alarm topic (infra/alarms.py), and S3
Vectors use it to index the collections' vector bucket (infra/vector_bucket.py).
"""

from __future__ import annotations

from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

LOG_RETENTION = logs.RetentionDays.ONE_MONTH
KEY_ID = "EncryptionKey"
# What CloudWatch Logs does with the key when a log group names it.
LOGS_KEY_ACTIONS = ("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*")
# What CloudWatch alarms need to publish to a topic encrypted with the key.
ALARMS_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey*")


def encryption_key(scope: Construct) -> kms.Key:
    """The stack's one customer-managed key, created on first use."""
    stack = Stack.of(scope)
    existing = stack.node.try_find_child(KEY_ID)
    if isinstance(existing, kms.Key):
        return existing
    key = kms.Key(
        stack,
        KEY_ID,
        description="Embedrock: encrypts the stack's logs, alarm topic and vector bucket at rest",
        enable_key_rotation=True,
        # Kept when the stack is deleted: the vector bucket it encrypts is kept with the users'
        # collections (infra/vector_bucket.py), which would be unreadable without it. Scheduling its
        # deletion by hand still waits this long.
        removal_policy=RemovalPolicy.RETAIN,
        pending_window=Duration.days(30),
    )
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="CloudWatchLogsEncryptsThisAccountsLogGroups",
            principals=[iam.ServicePrincipal(f"logs.{Aws.REGION}.amazonaws.com")],
            actions=list(LOGS_KEY_ACTIONS),
            resources=["*"],  # in a key policy, "*" is this key
            conditions={
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": (
                        f"arn:{Aws.PARTITION}:logs:{Aws.REGION}:{Aws.ACCOUNT_ID}:log-group:*"
                    )
                }
            },
        )
    )
    return key


def allow_alarms_to_use(key: kms.Key) -> None:
    """Let CloudWatch alarms publish to an SNS topic encrypted with `key`."""
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="CloudWatchAlarmsPublishToTheEncryptedTopic",
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            actions=list(ALARMS_KEY_ACTIONS),
            # Only this stack's topic names the key, and only this account's alarms may publish
            # to it (the topic's own policy): no condition needed here.
            resources=["*"],
        )
    )


def log_group(scope: Construct, construct_id: str, name: str | None = None) -> logs.LogGroup:
    # Named only when a service dictates the name; otherwise two deployments would collide.
    return logs.LogGroup(
        scope,
        construct_id,
        log_group_name=name,
        retention=LOG_RETENTION,
        removal_policy=RemovalPolicy.DESTROY,
        encryption_key=encryption_key(scope),
    )
