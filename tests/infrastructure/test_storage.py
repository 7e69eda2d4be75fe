"""The evidence bucket, the site and log buckets, and the queues."""
from __future__ import annotations

from .conftest import CONTEXT, SITE_ORIGIN, as_list, only, refs, resources, statements, site_distribution

P = CONTEXT["prefix"]
ALL_BLOCKED = {"BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True,
               "RestrictPublicBuckets": True}


def _bucket(cfn, kind: str):
    (found,) = [(k, v) for k, v in resources(cfn, "AWS::S3::Bucket").items()
                if f"{P}-{kind}-" in str(v["Properties"]["BucketName"])]
    return found


def _denies_insecure_transport(cfn, bucket_id: str) -> bool:
    for policy in resources(cfn, "AWS::S3::BucketPolicy").values():
        if policy["Properties"]["Bucket"] != {"Ref": bucket_id}:
            continue
        for statement in statements(policy["Properties"]["PolicyDocument"]):
            if statement["Effect"] == "Deny" and statement.get("Condition", {}).get("Bool", {}).get(
                    "aws:SecureTransport") == "false":
                return True
    return False


def test_every_bucket_is_private_versioned_encrypted_and_tls_only(cfn):
    for logical_id, bucket in resources(cfn, "AWS::S3::Bucket").items():
        props = bucket["Properties"]
        assert props["PublicAccessBlockConfiguration"] == ALL_BLOCKED, logical_id
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}, logical_id
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"], logical_id
        assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}], logical_id
        assert _denies_insecure_transport(cfn, logical_id), logical_id
        assert bucket["DeletionPolicy"] == "Retain", logical_id


def test_evidence_bucket(cfn):
    key_id, _ = only(cfn, "AWS::KMS::Key")
    bucket_id, bucket = _bucket(cfn, "evidence")
    props = bucket["Properties"]
    assert props["ObjectLockEnabled"] is True
    (sse,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert key_id in set(refs(sse["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]))
    (cors,) = props["CorsConfiguration"]["CorsRules"]
    assert cors["AllowedOrigins"] == [SITE_ORIGIN]
    # Presigned POST for small files, presigned PUT of each part for multipart uploads.
    assert sorted(cors["AllowedMethods"]) == ["POST", "PUT"]
    assert [h.lower() for h in cors["AllowedHeaders"]] == ["content-type"]
    assert "ExposedHeaders" not in cors  # the server lists the parts (and their ETags) itself
    (notification,) = props["NotificationConfiguration"]["QueueConfigurations"]
    assert notification["Event"] == "s3:ObjectCreated:*"
    queue_id = notification["Queue"]["Fn::GetAtt"][0]
    assert cfn["Resources"][queue_id]["Properties"]["QueueName"] == f"{P}-ingest"
    assert "LoggingConfiguration" in props
    # S3 tests the destination when it creates the bucket: the queue policy must come first.
    policy_ids = [k for k, v in resources(cfn, "AWS::SQS::QueuePolicy").items()
                  if {"Ref": queue_id} in v["Properties"]["Queues"]]
    assert set(policy_ids) <= set(as_list(bucket.get("DependsOn", [])))


def test_audit_bucket_locks_every_copy_for_the_retention_period(cfn):
    key_id, _ = only(cfn, "AWS::KMS::Key")
    _, bucket = _bucket(cfn, "audit")
    props = bucket["Properties"]
    assert props["ObjectLockEnabled"] is True
    assert props["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 2192}}}
    (sse,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert key_id in set(refs(sse["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]))
    (rule,) = props["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == 2193 and rule["Status"] == "Enabled"
    assert props["LoggingConfiguration"]["LogFilePrefix"] == "audit/"


def test_every_queue_has_a_dead_letter_queue_encryption_and_alarms(cfn):
    key_id, _ = only(cfn, "AWS::KMS::Key")
    queues = resources(cfn, "AWS::SQS::Queue")
    alarms = resources(cfn, "AWS::CloudWatch::Alarm").values()
    watched = {(a["Properties"]["MetricName"], d["Value"]["Fn::GetAtt"][0])
               for a in alarms for d in a["Properties"].get("Dimensions", [])
               if d["Name"] == "QueueName" and isinstance(d["Value"], dict)}
    work_queues = [k for k, q in queues.items() if not q["Properties"]["QueueName"].endswith("-dlq")]
    assert {queues[k]["Properties"]["QueueName"] for k in work_queues} == {
        f"{P}-notifications", f"{P}-ingest", f"{P}-workflow", f"{P}-exports"}
    assert len(queues) == 2 * len(work_queues)
    for logical_id in work_queues:
        props = queues[logical_id]["Properties"]
        dlq_id = props["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        assert queues[dlq_id]["Properties"]["QueueName"] == props["QueueName"] + "-dlq"
        assert ("ApproximateNumberOfMessagesVisible", dlq_id) in watched, logical_id
        assert ("ApproximateAgeOfOldestMessage", logical_id) in watched, logical_id
    for logical_id, queue in queues.items():
        assert key_id in set(refs(queue["Properties"]["KmsMasterKeyId"])), logical_id


def test_site_bucket_is_readable_only_by_the_distribution(cfn):
    bucket_id, _ = _bucket(cfn, "site")
    distribution_id, _ = site_distribution(cfn)
    (policy,) = [p for p in resources(cfn, "AWS::S3::BucketPolicy").values()
                 if p["Properties"]["Bucket"] == {"Ref": bucket_id}]
    allows = [s for s in statements(policy["Properties"]["PolicyDocument"]) if s["Effect"] == "Allow"]
    assert allows and all(s["Principal"] == {"Service": "cloudfront.amazonaws.com"} for s in allows)
    assert all(distribution_id in set(refs(s["Condition"])) for s in allows)


def test_scanned_guardduty_scans_and_tags_every_evidence_object(cfn):
    """Issue 10, "scanned": GuardDuty Malware Protection for S3 on the evidence bucket, tagging."""
    bucket_id, bucket = _bucket(cfn, "evidence")
    _, plan = only(cfn, "AWS::GuardDuty::MalwareProtectionPlan")
    props = plan["Properties"]
    assert props["ProtectedResource"]["S3Bucket"]["BucketName"] == {"Ref": bucket_id}
    assert "ObjectPrefixes" not in props["ProtectedResource"]["S3Bucket"]  # the whole bucket
    assert props["Actions"] == {"Tagging": {"Status": "ENABLED"}}
    role_id = props["Role"]["Fn::GetAtt"][0]
    role = cfn["Resources"][role_id]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "malware-protection-plan.guardduty.amazonaws.com"}
    granted = {a for policy in role["Policies"] for s in statements(policy["PolicyDocument"]) for a in as_list(s["Action"])}
    assert {"s3:GetObject", "s3:GetObjectVersion", "s3:PutObjectTagging", "s3:PutObjectVersionTagging",
            "s3:PutBucketNotification", "events:PutRule", "kms:Decrypt"} <= granted
    # GuardDuty hears of objects through EventBridge; the template keeps that switched on.
    assert bucket["Properties"]["NotificationConfiguration"]["EventBridgeConfiguration"] == {"EventBridgeEnabled": True}


def test_scanned_cloudtrail_records_every_read_of_the_evidence_bucket(cfn):
    """Issue 10, "scanned": CloudTrail data events for every object-level call on the evidence bucket."""
    bucket_id, _ = _bucket(cfn, "evidence")
    key_id, _ = only(cfn, "AWS::KMS::Key")
    _, trail = only(cfn, "AWS::CloudTrail::Trail")
    props = trail["Properties"]
    assert props["IsLogging"] is True and props["EnableLogFileValidation"] is True
    assert key_id in set(refs(props["KMSKeyId"]))
    (selector,) = props["EventSelectors"]
    assert selector["ReadWriteType"] in ("All", "ReadOnly") and selector["IncludeManagementEvents"] is False
    (resource,) = selector["DataResources"]
    assert resource["Type"] == "AWS::S3::Object"
    assert bucket_id in str(resource["Values"])


def test_exports_bucket_keeps_exports_only_as_long_as_their_links(cfn):
    key_id, _ = only(cfn, "AWS::KMS::Key")
    bucket_id, bucket = _bucket(cfn, "exports")
    props = bucket["Properties"]
    (sse,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms" and sse["BucketKeyEnabled"] is True
    assert key_id in set(refs(sse["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]))
    assert props["PublicAccessBlockConfiguration"] == ALL_BLOCKED and _denies_insecure_transport(cfn, bucket_id)
    assert props["LoggingConfiguration"]["LogFilePrefix"] == "exports/"
    # Apart from the ingest path: no notifications, no CORS, no Object Lock.
    assert "NotificationConfiguration" not in props and "CorsConfiguration" not in props
    assert "ObjectLockEnabled" not in props
    from chalicelib.base.config import Config

    ttl_days = Config.from_environ({}).export_ttl_days
    (rule,) = props["LifecycleConfiguration"]["Rules"]
    assert rule["Status"] == "Enabled" and rule["Prefix"] == "exports/"
    assert rule["ExpirationInDays"] == ttl_days + 1
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 1}
    # The items' links stop at the same age (the functions are told it).
    for function in resources(cfn, "AWS::Serverless::Function").values():
        assert function["Properties"]["Environment"]["Variables"]["SIGHTLINE_EXPORT_TTL_DAYS"] == str(ttl_days)
