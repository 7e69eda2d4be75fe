"""Create the local stack's resources: what the CDK app defines in AWS, made by hand here."""
from __future__ import annotations

import json
from secrets import token_hex
from pathlib import Path
from typing import Dict, Optional

import boto3

QUEUE_MAX_RECEIVES = 5
ASL_FILE = Path(__file__).resolve().parent.parent / "infrastructure" / "state_machines" / "footage_request.asl.json"


def provision(
    aws_endpoint: str, region: str, sender: str, demo_officer: Dict[str, str], demo_supervisor: Dict[str, str],
    demo_auditor: Optional[Dict[str, str]] = None,
) -> Dict[str, str]:
    from chalicelib.base.config import get_config
    from chalicelib.tables import create_tables

    config = get_config()
    create_tables()
    session = boto3.session.Session(region_name=region)
    sqs = session.client("sqs", endpoint_url=aws_endpoint)
    notifications_url = create_queue_with_dlq(sqs, config.notifications_queue)
    create_queue_with_dlq(sqs, config.workflow_queue)
    ingest_url = create_queue_with_dlq(sqs, config.ingest_queue, visibility_timeout_s=360)
    scan_url = create_queue_with_dlq(sqs, scan_queue_name(config.prefix))
    create_evidence_bucket(session.client("s3", endpoint_url=aws_endpoint), sqs, config.evidence_bucket, ingest_url, scan_url)
    create_audit_bucket(session.client("s3", endpoint_url=aws_endpoint), config.audit_bucket, config.audit_retention_days)
    create_queue_with_dlq(sqs, config.exports_queue, visibility_timeout_s=EXPORTS_VISIBILITY_S)
    create_exports_bucket(session.client("s3", endpoint_url=aws_endpoint), config.exports_bucket, config.export_ttl_days)
    session.client("ses", endpoint_url=aws_endpoint).verify_email_identity(EmailAddress=sender)
    resources = create_officer_pool(
        session.client("cognito-idp", endpoint_url=aws_endpoint), aws_endpoint, demo_officer, demo_supervisor, demo_auditor
    )
    workflow_url = sqs.get_queue_url(QueueName=config.workflow_queue)["QueueUrl"]
    resources["state_machine_arn"] = create_state_machine(session.client("stepfunctions", endpoint_url=aws_endpoint), workflow_url)
    resources["notifications_queue_url"] = notifications_url
    resources["pseudonym_key_secret"] = create_pseudonym_key(session.client("secretsmanager", endpoint_url=aws_endpoint), config.prefix)
    resources["scan_queue_url"] = scan_url
    return resources


def create_pseudonym_key(secrets, prefix: str) -> str:
    """The key of the owners' keyed hashes, as the CDK app makes it: a generated secret the
    functions read once (``chalicelib.base.pseudonyms``). The local stack keeps no data between
    runs, so a new key each run loses nothing."""
    return secrets.create_secret(Name=f"{prefix}-pseudonym-key", SecretString=token_hex(32))["ARN"]


def scan_queue_name(prefix: str) -> str:
    """The local malware scanner's queue (local/scanner.py); AWS has GuardDuty instead."""
    return f"{prefix}-scan-local"


def create_evidence_bucket(s3, sqs, bucket: str, ingest_queue_url: str, scan_queue_url: Optional[str] = None) -> None:
    """Versioned, Object Lock enabled (legal holds on verified footage), ObjectCreated → ingest
    (and → the local malware scanner's queue, when given)."""
    s3.create_bucket(
        Bucket=bucket,
        CreateBucketConfiguration={"LocationConstraint": s3.meta.region_name},
        ObjectLockEnabledForBucket=True,
    )
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    queue_urls = [ingest_queue_url] + ([scan_queue_url] if scan_queue_url else [])
    arns = [sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"] for url in queue_urls]
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={"QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]} for arn in arns]},
    )


# The export worker's timeout (15 minutes) and then some, as the CDK app's exports queue.
EXPORTS_VISIBILITY_S = 960


def create_exports_bucket(s3, bucket: str, ttl_days: int) -> None:
    """Where case exports are built (chalicelib/investigations/exports.py): apart from the
    evidence bucket, no notifications, and every object expired a day after its export's links
    stop working (as the CDK app's ExportsBucket)."""
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": s3.meta.region_name})
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket,
        LifecycleConfiguration={"Rules": [{
            "ID": "expire-exports", "Status": "Enabled", "Filter": {"Prefix": "exports/"},
            "Expiration": {"Days": ttl_days + 1}, "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
        }]},
    )


def create_audit_bucket(s3, bucket: str, retention_days: int) -> None:
    """The audit log's copy: versioned, Object Lock in compliance mode for the retention period
    by default (as the CDK app's AuditBucket; moto stores the setting but enforces none of it)."""
    s3.create_bucket(
        Bucket=bucket,
        CreateBucketConfiguration={"LocationConstraint": s3.meta.region_name},
        ObjectLockEnabledForBucket=True,
    )
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object_lock_configuration(
        Bucket=bucket,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": retention_days}},
        },
    )


def state_machine_definition(workflow_queue_url: str) -> str:
    """The deployed ASL, with the placeholder the CDK app substitutes filled in here."""
    return ASL_FILE.read_text().replace("${WorkflowQueueUrl}", workflow_queue_url)


def create_state_machine(sfn, workflow_queue_url: str) -> str:
    return sfn.create_state_machine(
        name="sightline-footage-request",
        definition=state_machine_definition(workflow_queue_url),
        roleArn="arn:aws:iam::123456789012:role/sightline-footage-request",
    )["stateMachineArn"]


def create_queue_with_dlq(sqs, name: str, visibility_timeout_s: int = 60) -> str:
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return sqs.create_queue(
        QueueName=name,
        Attributes={
            "VisibilityTimeout": str(visibility_timeout_s),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(QUEUE_MAX_RECEIVES)}
            ),
        },
    )["QueueUrl"]


# The officers' app client, as the CDK app's OfficerApiClient (infrastructure/sightline_infra/officers.py).
OFFICER_CLIENT = dict(
    ClientName="sightline-officer-api",
    GenerateSecret=False,
    ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    PreventUserExistenceErrors="ENABLED",
    EnableTokenRevocation=True,
    AccessTokenValidity=15,
    IdTokenValidity=15,
    RefreshTokenValidity=12 * 60,
    TokenValidityUnits={"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "minutes"},
    AuthSessionValidity=3,
)


def create_officer_pool(
    cognito, aws_endpoint: str, demo_officer: Dict[str, str], demo_supervisor: Dict[str, str],
    demo_auditor: Optional[Dict[str, str]] = None,
) -> Dict[str, str]:
    pool_id = cognito.create_user_pool(
        PoolName="sightline-officers",
        Policies={
            "PasswordPolicy": {
                "MinimumLength": 14,
                "RequireUppercase": True,
                "RequireLowercase": True,
                "RequireNumbers": True,
                "RequireSymbols": True,
            }
        },
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
    )["UserPool"]["Id"]
    for group in ("officer", "supervisor", "auditor"):
        cognito.create_group(UserPoolId=pool_id, GroupName=group)
    # TOTP only, required of everyone, as the deployed pool. CreateUserPool cannot turn TOTP on
    # (it has no SoftwareTokenMfaConfiguration), in Cognito as in moto: SetUserPoolMfaConfig does.
    cognito.set_user_pool_mfa_config(
        UserPoolId=pool_id, SoftwareTokenMfaConfiguration={"Enabled": True}, MfaConfiguration="ON"
    )
    client_id = cognito.create_user_pool_client(UserPoolId=pool_id, **OFFICER_CLIENT)["UserPoolClient"]["ClientId"]
    users = [(demo_officer, ["officer"]), (demo_supervisor, ["officer", "supervisor"])]
    users += [(demo_auditor, ["auditor"])] if demo_auditor else []
    for user, groups in users:
        cognito.admin_create_user(
            UserPoolId=pool_id,
            Username=user["username"],
            MessageAction="SUPPRESS",
            UserAttributes=[{"Name": "email", "Value": user["email"]}, {"Name": "email_verified", "Value": "true"}],
        )
        cognito.admin_set_user_password(
            UserPoolId=pool_id, Username=user["username"], Password=user["password"], Permanent=True
        )
        for group in groups:
            cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=user["username"], GroupName=group)
        totp_secret = enrol_totp(cognito, client_id, user["username"], user["password"])
    return {
        "user_pool_id": pool_id,
        "user_pool_client_id": client_id,
        "jwks_url": f"{aws_endpoint}/{pool_id}/.well-known/jwks.json",
        "cognito_endpoint": aws_endpoint,
        "demo_totp_secret": totp_secret,
    }


def enrol_totp(cognito, client_id: str, username: str, password: str) -> str:
    """Register an authenticator for a demo user, as an officer does once; its secret.

    moto gives every user the same secret, and signs a user without an authenticator straight
    in even when MFA is required (Cognito would answer ``MFA_SETUP``): so enrol with the access
    token, which both accept, and make TOTP the user's MFA."""
    from local.officer_sign_in import AUTH_FLOW, totp_code

    answer = cognito.initiate_auth(
        ClientId=client_id, AuthFlow=AUTH_FLOW, AuthParameters={"USERNAME": username, "PASSWORD": password}
    )
    access_token = answer["AuthenticationResult"]["AccessToken"]
    secret = cognito.associate_software_token(AccessToken=access_token)["SecretCode"]
    cognito.verify_software_token(AccessToken=access_token, UserCode=totp_code(secret), FriendlyDeviceName="demo")
    cognito.set_user_mfa_preference(
        AccessToken=access_token, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True}
    )
    return secret
