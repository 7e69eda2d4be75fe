"""What watches the evidence bucket: GuardDuty's malware scan of every new object, and a
CloudTrail trail of every object-level call on it (each officer's download is a GetObject)."""
from __future__ import annotations

from aws_cdk import Aws, Duration
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_guardduty as guardduty
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .data import DataKey
from .settings import Settings
from .storage import private_bucket_defaults
from .suppressions import skip_checks

# GuardDuty keeps an EventBridge rule of its own per protected bucket, named with this prefix.
GUARDDUTY_RULES = "rule/DO-NOT-DELETE-AmazonGuardDutyMalwareProtectionS3*"
GUARDDUTY_PLAN_SERVICE = "malware-protection-plan.guardduty.amazonaws.com"


class MalwareScan(Construct):
    """GuardDuty Malware Protection for S3 on the whole evidence bucket, tagging each object it
    scanned ``GuardDutyMalwareScanStatus`` (downloads wait for ``NO_THREATS_FOUND``). The role
    has the permissions GuardDuty documents for a protected bucket: its managed EventBridge rule,
    the bucket's EventBridge notifications, its validation object, reading and tagging objects,
    and the data key through S3 only."""

    def __init__(self, scope: Construct, id: str, *, bucket: s3.IBucket, bucket_name: str, data_key: DataKey) -> None:
        super().__init__(scope, id)
        bucket_arn = f"arn:{Aws.PARTITION}:s3:::{bucket_name}"
        rules = f"arn:{Aws.PARTITION}:events:{Aws.REGION}:{Aws.ACCOUNT_ID}:{GUARDDUTY_RULES}"
        statements = [
            iam.PolicyStatement(sid="ManageOwnEventBridgeRule",
                                actions=["events:PutRule", "events:DeleteRule", "events:PutTargets", "events:RemoveTargets"],
                                resources=[rules], conditions={"StringLike": {"events:ManagedBy": GUARDDUTY_PLAN_SERVICE}}),
            iam.PolicyStatement(sid="WatchOwnEventBridgeRule", actions=["events:DescribeRule", "events:ListTargetsByRule"],
                                resources=[rules]),
            iam.PolicyStatement(sid="EnableBucketEventBridgeEvents",
                                actions=["s3:PutBucketNotification", "s3:GetBucketNotification", "s3:ListBucket"],
                                resources=[bucket_arn]),
            iam.PolicyStatement(sid="PutValidationObject", actions=["s3:PutObject"],
                                resources=[f"{bucket_arn}/malware-protection-resource-validation-object"]),
            iam.PolicyStatement(sid="ScanAndTagObjects",
                                actions=["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging",
                                         "s3:GetObjectVersionTagging", "s3:PutObjectTagging", "s3:PutObjectVersionTagging"],
                                resources=[f"{bucket_arn}/*"]),
            iam.PolicyStatement(sid="DataKeyThroughS3", actions=["kms:GenerateDataKey", "kms:Decrypt"],
                                resources=[data_key.key.key_arn],
                                conditions={"StringLike": {"kms:ViaService": f"s3.{Aws.REGION}.amazonaws.com"}}),
        ]
        self.role = iam.Role(
            self,
            "Role",
            description="GuardDuty Malware Protection for S3: scans and tags the evidence bucket's objects",
            assumed_by=iam.ServicePrincipal(
                GUARDDUTY_PLAN_SERVICE,
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            ),
            inline_policies={"scan-evidence": iam.PolicyDocument(statements=statements)},
        )
        self.plan = guardduty.CfnMalwareProtectionPlan(
            self,
            "Plan",
            role=self.role.role_arn,
            protected_resource=guardduty.CfnMalwareProtectionPlan.CFNProtectedResourceProperty(
                s3_bucket=guardduty.CfnMalwareProtectionPlan.S3BucketProperty(bucket_name=bucket.bucket_name),
            ),
            actions=guardduty.CfnMalwareProtectionPlan.CFNActionsProperty(
                tagging=guardduty.CfnMalwareProtectionPlan.CFNTaggingProperty(status="ENABLED"),
            ),
        )
        # GuardDuty checks the role when the plan is created: its policy must exist first.
        self.plan.node.add_dependency(self.role)


class EvidenceTrail(Construct):
    """A trail of the evidence bucket's data events only (reads and writes of its objects),
    to its own bucket, encrypted with the data key, with digest files to prove it unaltered."""

    def __init__(self, scope: Construct, id: str, *, settings: Settings, evidence: s3.IBucket, data_key: DataKey,
                 access_logs: s3.IBucket) -> None:
        super().__init__(scope, id)
        trail_name = f"{settings.prefix}-evidence-access"
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            bucket_name=f"{settings.prefix}-trail-{Aws.ACCOUNT_ID}-{Aws.REGION}",
            # CloudTrail encrypts each log file with the data key itself (below).
            encryption=s3.BucketEncryption.S3_MANAGED,
            versioned=True,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-trail-with-the-audit-log",
                    expiration=Duration.days(settings.audit_retention_days),
                    noncurrent_version_expiration=Duration.days(30),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="trail/",
            **private_bucket_defaults(),
        )
        trail_arn = f"arn:{Aws.PARTITION}:cloudtrail:{Aws.REGION}:{Aws.ACCOUNT_ID}:trail/{trail_name}"
        data_key.allow_service("CloudTrailEncryptsEvidenceTrail", "cloudtrail.amazonaws.com",
                               ["kms:GenerateDataKey*", "kms:DescribeKey"], trail_arn)
        self.trail = cloudtrail.Trail(
            self,
            "Trail",
            trail_name=trail_name,
            bucket=self.bucket,
            enable_file_validation=True,
            # Data events only: the account's management events are another trail's business.
            management_events=cloudtrail.ReadWriteType.NONE,
            include_global_service_events=False,
            is_multi_region_trail=False,
        )
        self.trail.add_s3_event_selector([cloudtrail.S3EventSelector(bucket=evidence)],
                                         read_write_type=cloudtrail.ReadWriteType.ALL,
                                         include_management_events=False)
        cfn_trail: cloudtrail.CfnTrail = self.trail.node.default_child  # type: ignore[assignment]
        cfn_trail.kms_key_id = data_key.key.key_arn
        skip_checks(cfn_trail, {
            "CKV_AWS_67": "A trail of one bucket's data events; the bucket is in this Region only.",
        })
