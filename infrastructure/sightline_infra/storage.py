"""S3: the evidence bucket (owners' footage), the case exports bucket, the audit log's locked
copy, the static site bucket and the access-log bucket."""
from __future__ import annotations

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .data import DataKey
from .queues import MonitoredQueue
from .settings import Settings
from .suppressions import skip_checks


def private_bucket_defaults() -> dict:
    return dict(
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        enforce_ssl=True,
        minimum_tls_version=1.2,
        removal_policy=RemovalPolicy.RETAIN,
    )


class AccessLogBucket(Construct):
    """Where S3 writes server access logs of the evidence and site buckets."""

    def __init__(self, scope: Construct, id: str, *, settings: Settings) -> None:
        super().__init__(scope, id)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            bucket_name=f"{settings.prefix}-access-logs-{Aws.ACCOUNT_ID}-{Aws.REGION}",
            # S3 server access logging can only deliver to SSE-S3 buckets, not SSE-KMS.
            encryption=s3.BucketEncryption.S3_MANAGED,
            versioned=True,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-access-logs",
                    expiration=Duration.days(settings.log_retention_days),
                    noncurrent_version_expiration=Duration.days(30),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            **private_bucket_defaults(),
        )
        skip_checks(
            self.bucket.node.default_child,
            {
                "CKV_AWS_18": "This is the access-log bucket; logging its own access would loop.",
            },
        )


class EvidenceBucket(Construct):
    """Owners' uploads. Private, versioned, Object Lock, KMS, TLS only; CORS for the site
    alone (presigned POST, or presigned multipart PUTs, from the browser); every new object is
    announced on ``ingest``."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        settings: Settings,
        data_key: DataKey,
        site_origin: str,
        ingest: MonitoredQueue,
        access_logs: s3.IBucket,
    ) -> None:
        super().__init__(scope, id)
        self.bucket_name = f"{settings.prefix}-evidence-{Aws.ACCOUNT_ID}-{Aws.REGION}"
        bucket_arn = f"arn:{Aws.PARTITION}:s3:::{self.bucket_name}"
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            bucket_name=self.bucket_name,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=data_key.key,
            bucket_key_enabled=True,
            versioned=True,
            # Object Lock must be switched on when the bucket is created. No default retention:
            # S3 then demands a checksum header on every upload, which the browser's presigned
            # POST does not send; the ingest handler puts a legal hold on each verified item.
            object_lock_enabled=True,
            # The owner's page uploads with a presigned POST (small files) or presigned PUTs
            # of each part (multipart). Its XMLHttpRequests watch upload progress, which makes
            # browsers send a preflight even for the POST; they set no header of their own
            # (a Content-Type at most). No exposed headers: the server lists the parts itself.
            cors=[
                s3.CorsRule(
                    allowed_origins=[site_origin],
                    allowed_methods=[s3.HttpMethods.POST, s3.HttpMethods.PUT],
                    allowed_headers=["content-type"],
                    max_age=600,
                )
            ],
            lifecycle_rules=[
                s3.LifecycleRule(id="abort-incomplete-uploads", abort_incomplete_multipart_upload_after=Duration.days(1))
            ],
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="evidence/",
            **private_bucket_defaults(),
        )
        # ObjectCreated → ingest queue, declared on the bucket itself (no CDK custom resource
        # Lambda). S3 checks the destination when the bucket is created, so the queue policy
        # and key policy must exist first; they name the bucket by its ARN string, not a Ref,
        # which keeps the dependency one-way.
        queue_policy = ingest.queue.add_to_resource_policy(
            iam.PolicyStatement(
                sid="EvidenceBucketNotifies",
                principals=[iam.ServicePrincipal("s3.amazonaws.com")],
                actions=["sqs:SendMessage"],
                resources=[ingest.queue.queue_arn],
                conditions={
                    "ArnEquals": {"aws:SourceArn": bucket_arn},
                    "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                },
            )
        )
        data_key.allow_service(
            "S3EncryptsEvidenceEventsForIngestQueue",
            "s3.amazonaws.com",
            ["kms:GenerateDataKey", "kms:Decrypt"],
            bucket_arn,
        )
        cfn_bucket: s3.CfnBucket = self.bucket.node.default_child  # type: ignore[assignment]
        cfn_bucket.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
            # GuardDuty's malware scan (guard.py) hears of new objects through EventBridge and
            # switches this on itself; declared here too, or the next stack update would turn
            # it off again (CloudFormation owns the whole notification configuration).
            event_bridge_configuration=s3.CfnBucket.EventBridgeConfigurationProperty(event_bridge_enabled=True),
            queue_configurations=[
                s3.CfnBucket.QueueConfigurationProperty(event="s3:ObjectCreated:*", queue=ingest.queue.queue_arn)
            ]
        )
        if queue_policy.policy_dependable is not None:
            self.bucket.node.add_dependency(queue_policy.policy_dependable)


class ExportsBucket(Construct):
    """Case exports for the force's evidence system (``chalicelib/investigations/exports.py``):
    built by server-side copies from the evidence bucket, apart from its ingest path (no
    notifications, no Object Lock, nothing uploaded by the public). Private, KMS with the data
    key, TLS only, access logged; every object expires a day after its export's links stop
    (``ttl_days``), and a rebuilt file's old version a day after it is replaced."""

    def __init__(
        self, scope: Construct, id: str, *, settings: Settings, data_key: DataKey, access_logs: s3.IBucket, ttl_days: int
    ) -> None:
        super().__init__(scope, id)
        self.bucket_name = f"{settings.prefix}-exports-{Aws.ACCOUNT_ID}-{Aws.REGION}"
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            bucket_name=self.bucket_name,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=data_key.key,
            bucket_key_enabled=True,
            # Not needed for the exports themselves (the evidence bucket keeps the originals);
            # on so a mistaken overwrite is recoverable for a day, and as every bucket here is.
            versioned=True,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-exports",
                    prefix=EXPORTS_PREFIX,
                    expiration=Duration.days(ttl_days + 1),
                    noncurrent_version_expiration=Duration.days(1),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="exports/",
            **private_bucket_defaults(),
        )


# Every object the export worker writes is under this prefix (chalicelib/investigations/exports.py PREFIX).
EXPORTS_PREFIX = "exports/"


class AuditBucket(Construct):
    """The audit log's copy: one object per entry (``audit/<seq>.json``, the bytes its hash was
    taken over), locked in compliance mode for the retention period from the moment it is
    written, then expired by a lifecycle rule. Nobody can delete or shorten the lock of a
    version before then, whatever their permissions; no role is granted a delete anyway."""

    def __init__(
        self, scope: Construct, id: str, *, settings: Settings, data_key: DataKey, access_logs: s3.IBucket
    ) -> None:
        super().__init__(scope, id)
        self.bucket_name = f"{settings.prefix}-audit-{Aws.ACCOUNT_ID}-{Aws.REGION}"
        days = settings.audit_retention_days
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            bucket_name=self.bucket_name,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=data_key.key,
            bucket_key_enabled=True,
            versioned=True,
            object_lock_enabled=True,
            # Every PutObject then needs a checksum header; the writer sends the entry's own
            # SHA-256 (chalicelib/base/audit.py), so S3 also refuses a body that is not what was
            # hashed.
            object_lock_default_retention=s3.ObjectLockRetention.compliance(Duration.days(days)),
            lifecycle_rules=[
                # Lifecycle never removes a locked version: these act once the lock has ended.
                s3.LifecycleRule(
                    id="expire-after-audit-retention",
                    expiration=Duration.days(days + 1),
                    noncurrent_version_expiration=Duration.days(1),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="audit/",
            **private_bucket_defaults(),
        )


class SiteBucket(Construct):
    """A static app's files (``app``: the residents' ``site``, the officers' ``console``);
    readable only by its CloudFront distribution (OAC)."""

    def __init__(self, scope: Construct, id: str, *, settings: Settings, access_logs: s3.IBucket, app: str = "site") -> None:
        super().__init__(scope, id)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            bucket_name=f"{settings.prefix}-{app}-{Aws.ACCOUNT_ID}-{Aws.REGION}",
            # Public static files (HTML, JS, CSS): SSE-S3 encrypts them at rest; a KMS key would
            # protect nothing secret and cost a KMS call per uncached request.
            encryption=s3.BucketEncryption.S3_MANAGED,
            versioned=True,
            lifecycle_rules=[
                s3.LifecycleRule(id="expire-old-site-versions", noncurrent_version_expiration=Duration.days(30))
            ],
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix=f"{app}/",
            **private_bucket_defaults(),
        )
