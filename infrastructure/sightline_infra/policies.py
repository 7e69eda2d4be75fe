"""What each Lambda function may do: hand-written, per function, on named resources.

Each Chalice function (all routes share ``api_handler``; every ``@app.on_sqs_message`` and
``@app.schedule`` handler is its own function) gets its own role with exactly the calls its
code makes. A function the app defines but this module does not know fails the build:
a new handler needs a decision here, not a copy of someone else's rights.

The only ``"*"`` resources are X-Ray's, which has no resource-level permissions.

Presigned URLs are signed with the API function's credentials and authorised, when the
browser uses them, as that role: so the API role holds the S3 (and KMS through S3) rights for
what owners' browsers do with the URLs it hands out (upload under ``requests/``) and what
officers' browsers do (download one object version), and nothing wider.
"""
from __future__ import annotations

import dataclasses
from typing import Callable, Dict, List, Sequence

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from .data import TableSpec
from .queues import MonitoredQueue


@dataclasses.dataclass
class Resources:
    """What the policies can name."""

    stack: Stack
    key: kms.IKey
    tables: Dict[str, dynamodb.Table]
    table_specs: Dict[str, TableSpec]
    queues: Dict[str, MonitoredQueue]
    notifications_queue: str
    ses_identity_arn: str
    ses_configuration_set_arn: str
    sender_email: str
    # The footage-request state machine (executions are named by request id).
    state_machine_arn: str
    # Owners' uploads; every key the app makes is under EVIDENCE_PREFIX.
    evidence_bucket: s3.IBucket
    # The audit log's locked copy; every key is under AUDIT_PREFIX.
    audit_bucket: s3.IBucket
    # The officers' Cognito user pool (their email addresses live there only).
    officers_pool_arn: str
    ingest_queue: str
    workflow_queue: str
    # The key of owners' keyed hashes (chalicelib/base/pseudonyms.py).
    pseudonym_secret_arn: str
    # Case exports: where they are built (every key under EXPORTS_PREFIX) and their work queue.
    exports_bucket: s3.IBucket
    exports_queue: str


@dataclasses.dataclass(frozen=True)
class FunctionSpec:
    chalice_name: str
    # Deployed as "<prefix>-<name_suffix>"; its log group is "/aws/lambda/<that>".
    name_suffix: str
    statements: Callable[[Resources], List[iam.PolicyStatement]]
    description: str


# ------------------------------------------------------------------------------- DynamoDB

# All routes run in api_handler. By default it may do on a table what the domain code does:
# read, write, query (GetItem for /health's DescribeTable too) and BatchGetItem for search.
API_TABLE_ACTIONS = ["GetItem", "BatchGetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "DescribeTable"]
# Tables that need less than the default. The audit log is append-only: nothing may update or
# delete an entry (chalicelib/base/audit.py AuditEntry).
API_TABLE_ACTIONS_BY_TABLE = {
    # GetItem and Query: the chain's head (strongly consistent) and the indexes; BatchGetItem:
    # the entries an auditor's query by registration points to.
    "audit": ["PutItem", "GetItem", "BatchGetItem", "Query", "DescribeTable"],
    # One item per registration an entry shows, written in batches of 25; never changed.
    "audit-registrations": ["BatchWriteItem", "Query", "DescribeTable"],
    # Requests are created, read, answered and listed by case (index by-case); never deleted.
    "requests": ["GetItem", "PutItem", "UpdateItem", "Query", "DescribeTable"],
    # Evidence items are made by ingest_evidence only; the API reads them (index by-request) and
    # updates one at a download: the scan's verdict (clean, or quarantined for a threat).
    "evidence": ["GetItem", "Query", "UpdateItem", "DescribeTable"],
    # Upload records: written when an upload starts, read when it completes, given the SHA-256
    # the owner's browser computed (a conditional update).
    "uploads": ["PutItem", "GetItem", "UpdateItem", "DescribeTable"],
    # Custody logs are append-only: an event is put once (conditional put) and never changed.
    "custody": ["PutItem", "Query", "DescribeTable"],
    # Exhibit references are claimed once (conditional put) and never changed or released.
    "exhibits": ["PutItem", "GetItem", "Query", "DescribeTable"],
    # Public emails are counted by deliver_notifications only.
    "email-counts": ["DescribeTable"],
    # Case exports are asked for (put, then marked queued), listed by case and read; never deleted.
    "exports": ["GetItem", "PutItem", "UpdateItem", "Query", "DescribeTable"],
}

# Readers and writers of a table encrypted with our key need these KMS calls, made by DynamoDB
# or SQS on the function's behalf (kms:ViaService), never directly.
KMS_DATA_ACTIONS = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]


def table_statement(r: Resources, suffix: str, actions: Sequence[str], sid: str) -> iam.PolicyStatement:
    """``actions`` on one table and each of its indexes (named, not ``index/*``); index ARNs
    are listed only with Query, the one index operation the code uses (every Scan it makes
    reads a base table)."""
    table = r.tables[suffix]
    resources = [table.table_arn]
    if "Query" in actions:
        resources += [f"{table.table_arn}/index/{name}" for name in r.table_specs[suffix].index_names]
    return iam.PolicyStatement(sid=sid, actions=[f"dynamodb:{a}" for a in actions], resources=resources)


def kms_statement(r: Resources, services: Sequence[str]) -> iam.PolicyStatement:
    region = r.stack.region
    return iam.PolicyStatement(
        sid="DataKeyThroughServices",
        actions=KMS_DATA_ACTIONS,
        resources=[r.key.key_arn],
        conditions={"StringEquals": {"kms:ViaService": [f"{s}.{region}.amazonaws.com" for s in services]}},
    )


def s3_key_statement(actions: Sequence[str], r: Resources) -> iam.PolicyStatement:
    """The data key, used by S3 on the function's behalf for the evidence bucket's objects
    (SSE-KMS): GenerateDataKey to write, Decrypt to read (and to complete a multipart upload)."""
    return iam.PolicyStatement(
        sid="EvidenceKeyThroughS3",
        actions=list(actions),
        resources=[r.key.key_arn],
        conditions={"StringEquals": {"kms:ViaService": f"s3.{r.stack.region}.amazonaws.com"}},
    )


# Every object the app puts in the evidence bucket is under this prefix (chalicelib/footage/uploads.py).
EVIDENCE_PREFIX = "requests/"


def _evidence_objects(r: Resources) -> str:
    return r.evidence_bucket.arn_for_objects(EVIDENCE_PREFIX + "*")


# Every object the audit writer puts is under this prefix (chalicelib/base/audit.py COPY_PREFIX).
AUDIT_PREFIX = "audit/"
# The functions that write audit entries: they get the bucket's name and may put copies.
AUDIT_WRITERS = ("api_handler",)


def _copy_audit_entries(r: Resources) -> iam.PolicyStatement:
    # PutObject only: no read, no delete, no retention or legal-hold change (Object Lock's
    # default retention applies without s3:PutObjectRetention).
    return iam.PolicyStatement(sid="CopyAuditEntries", actions=["s3:PutObject"],
                               resources=[r.audit_bucket.arn_for_objects(AUDIT_PREFIX + "*")])


# Every object the export worker writes is under this prefix (chalicelib/investigations/exports.py PREFIX).
EXPORTS_PREFIX = "exports/"


def _exports_objects(r: Resources) -> str:
    return r.exports_bucket.arn_for_objects(EXPORTS_PREFIX + "*")


def _queue_exports(r: Resources) -> iam.PolicyStatement:
    # GetQueueUrl: exports.get_export_queue() looks the queue up by name once per process.
    return iam.PolicyStatement(
        sid="QueueExports",
        actions=["sqs:SendMessage", "sqs:GetQueueUrl"],
        resources=[r.queues[r.exports_queue].queue.queue_arn],
    )


def _send_notifications(r: Resources) -> iam.PolicyStatement:
    # GetQueueUrl: notifications.get_queue() looks the queue up by name once per process.
    return iam.PolicyStatement(
        sid="QueueNotifications",
        actions=["sqs:SendMessage", "sqs:GetQueueUrl"],
        resources=[r.queues[r.notifications_queue].queue.queue_arn],
    )


def _consume(r: Resources, queue_name: str, sid: str) -> iam.PolicyStatement:
    # What Lambda's event source mapping does with the function's role.
    return iam.PolicyStatement(
        sid=sid,
        actions=["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
        resources=[r.queues[queue_name].queue.queue_arn],
    )


def _end_waiting_tasks(r: Resources) -> iam.PolicyStatement:
    # chalicelib/footage/workflow.py: send_task_success with the token of the execution's current
    # waitForTaskToken task. IAM authorises it against the state machine that issued the token.
    return iam.PolicyStatement(
        sid="EndWaitingTasks", actions=["states:SendTaskSuccess"], resources=[r.state_machine_arn]
    )


# The functions that compute owners' keyed hashes: they get the secret's ARN and may read it.
PSEUDONYM_READERS = ("api_handler", "deliver_notifications")


def _read_pseudonym_key(r: Resources) -> List[iam.PolicyStatement]:
    return [
        iam.PolicyStatement(sid="ReadPseudonymKey", actions=["secretsmanager:GetSecretValue"],
                            resources=[r.pseudonym_secret_arn]),
        iam.PolicyStatement(
            sid="PseudonymKeyThroughSecretsManager",
            actions=["kms:Decrypt"],
            resources=[r.key.key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"secretsmanager.{r.stack.region}.amazonaws.com"}},
        ),
    ]


def _sid(suffix: str) -> str:
    return "".join(part.title() for part in suffix.split("-"))


# ------------------------------------------------------------------------------- functions


def api_handler(r: Resources) -> List[iam.PolicyStatement]:
    statements = [
        table_statement(r, suffix, API_TABLE_ACTIONS_BY_TABLE.get(suffix, API_TABLE_ACTIONS), f"Table{_sid(suffix)}")
        for suffix in sorted(r.tables)
    ]
    statements += [
        _send_notifications(r),
        # One execution per footage request, named by its id; and the owner's answer ends it.
        iam.PolicyStatement(sid="StartRequestTimers", actions=["states:StartExecution"],
                            resources=[r.state_machine_arn]),
        _end_waiting_tasks(r),
        # Presigned POST, create_multipart_upload, presigned upload_part and
        # complete_multipart_upload are all s3:PutObject.
        iam.PolicyStatement(sid="OwnersUploadEvidence", actions=["s3:PutObject"], resources=[_evidence_objects(r)]),
        # Officers' presigned GET names the object version the ingest handler verified.
        iam.PolicyStatement(sid="OfficersDownloadEvidence", actions=["s3:GetObject", "s3:GetObjectVersion"],
                            resources=[_evidence_objects(r)]),
        # complete_multipart lists the upload's parts itself (browsers cannot read S3's ETags),
        # finding the upload by its record (no bucket-wide ListBucketMultipartUploads).
        iam.PolicyStatement(sid="ListUploadedParts", actions=["s3:ListMultipartUploadParts"],
                            resources=[_evidence_objects(r)]),
        # A download waits for the malware scan's tag on the object version.
        iam.PolicyStatement(sid="ReadScanVerdicts", actions=["s3:GetObjectTagging", "s3:GetObjectVersionTagging"],
                            resources=[_evidence_objects(r)]),
        # An export is built by build_exports, asked for here (one message on its queue).
        _queue_exports(r),
        # Officers' presigned GETs of a ready export's files (the links are audited first).
        iam.PolicyStatement(sid="OfficersDownloadExports", actions=["s3:GetObject"], resources=[_exports_objects(r)]),
        # A case's team takes officers only: their groups are checked when they are added.
        iam.PolicyStatement(sid="CheckTeamMembers", actions=["cognito-idp:AdminListGroupsForUser"],
                            resources=[r.officers_pool_arn]),
        kms_statement(r, ["dynamodb", "sqs"]),
        s3_key_statement(["kms:GenerateDataKey", "kms:Decrypt"], r),
    ]
    return statements


def deliver_notifications(r: Resources) -> List[iam.PolicyStatement]:
    return [
        # The registration an email is about, and the owner's registrations to address a link;
        # a deletion's tombstone is marked confirmed, then removed with its index entry and claim.
        table_statement(r, "registrations", ["GetItem", "Query", "UpdateItem", "DeleteItem"], "ReadRegistrations"),
        table_statement(r, "geo-index", ["DeleteItem"], "RemoveDeletedFromIndex"),
        table_statement(r, "registration-claims", ["DeleteItem"], "ReleaseClaims"),
        # Links are minted when the email is sent, so a token exists in exactly one email
        # (including the owner's "respond" link to a footage request).
        table_statement(r, "tokens", ["PutItem"], "MintLinkTokens"),
        # Public emails counted per recipient (a conditional update per window).
        table_statement(r, "email-counts", ["UpdateItem"], "CountPublicEmails"),
        # The footage request (and the evidence item) an owner's or officer's email is about;
        # the requests made to a deleted registration are pseudonymised (index by-registration).
        table_statement(r, "requests", ["GetItem", "Query", "UpdateItem"], "ReadRequests"),
        # An owner's receipt lists the request's accepted files (by-request) and marks each sent.
        table_statement(r, "evidence", ["GetItem", "Query", "UpdateItem"], "ReadEvidence"),
        # Officers' addresses are looked up in Cognito when an email goes, never copied.
        iam.PolicyStatement(sid="LookUpOfficers", actions=["cognito-idp:AdminGetUser"],
                            resources=[r.officers_pool_arn]),
        iam.PolicyStatement(
            sid="SendAsTheForce",
            actions=["ses:SendRawEmail"],
            resources=[r.ses_identity_arn, r.ses_configuration_set_arn],
            conditions={"StringEquals": {"ses:FromAddress": r.sender_email}},
        ),
        _consume(r, r.notifications_queue, "ConsumeNotifications"),
        kms_statement(r, ["dynamodb", "sqs"]),
    ]


def housekeeping(r: Resources) -> List[iam.PolicyStatement]:
    # Purges what DynamoDB's TTL removes only eventually: expired pending registrations (and
    # their stray geo index entries and claims) and expired tokens. Reconciles the geo index
    # with the registrations (reads both; removes entries where no active registration is,
    # writes missing ones) and removes claims whose registration is gone. Finishes deletions
    # whose confirmation never went. And, as a backstop for a failed workflow execution or a
    # failure after a request closed, expires open footage requests past their deadline (a
    # conditional update) and tells the officer. Takes registrations a year unconfirmed through
    # re-confirmation (conditional UpdateItem: asked, paused, deleted; registry.currency).
    return [
        table_statement(r, "registrations", ["Scan", "GetItem", "BatchGetItem", "DeleteItem", "UpdateItem"], "ReconcileRegistrations"),
        table_statement(r, "geo-index", ["Scan", "PutItem", "DeleteItem"], "ReconcileGeoIndex"),
        table_statement(r, "registration-claims", ["Scan", "DeleteItem"], "PurgeClaims"),
        table_statement(r, "tokens", ["Scan", "DeleteItem"], "PurgeTokens"),
        table_statement(r, "requests", ["Scan"], "FindOverdueRequests"),
        # Expire and tell (GetItem, UpdateItem); pseudonymise a deleted owner's (by-registration).
        table_statement(r, "requests", ["GetItem", "Query", "UpdateItem"], "ExpireOverdueRequests"),
        _send_notifications(r),
        # Exports recorded but never queued (the API failed after the put): queue and mark them.
        table_statement(r, "exports", ["Scan", "UpdateItem"], "RequeueUnsentExports"),
        _queue_exports(r),
        kms_statement(r, ["dynamodb", "sqs"]),
    ]


def ingest_evidence(r: Resources) -> List[iam.PolicyStatement]:
    # S3 ObjectCreated → ingest queue → this function: stream the object version to hash it,
    # record the evidence item (conditional put on a key derived from the object), hold
    # verified footage (legal hold) or tag quarantined objects, mark the request uploading,
    # and tell the officer.
    return [
        _consume(r, r.ingest_queue, "ConsumeIngest"),
        iam.PolicyStatement(sid="ReadUploads", actions=["s3:GetObject", "s3:GetObjectVersion"],
                            resources=[_evidence_objects(r)]),
        # Tags are read first: a quarantine tag is added beside the malware scan's, not over it.
        iam.PolicyStatement(
            sid="TagUploads",
            actions=["s3:PutObjectTagging", "s3:PutObjectVersionTagging", "s3:GetObjectTagging", "s3:GetObjectVersionTagging"],
            resources=[_evidence_objects(r)],
        ),
        # It may put a legal hold on, never take one off: only evidence_retention may.
        iam.PolicyStatement(
            sid="HoldUploads", actions=["s3:PutObjectLegalHold"], resources=[_evidence_objects(r)],
            conditions={"StringEquals": {"s3:object-lock-legal-hold": "ON"}},
        ),
        table_statement(r, "evidence", ["GetItem", "PutItem", "UpdateItem"], "RecordEvidence"),
        # The size the owner declared for the upload an object came from.
        table_statement(r, "uploads", ["GetItem"], "ReadDeclaredSizes"),
        table_statement(r, "requests", ["GetItem", "UpdateItem"], "MarkRequestsUploading"),
        # Each exhibit's custody log (append-only) and its reference, claimed once in its case.
        table_statement(r, "custody", ["PutItem", "Query"], "LogCustody"),
        table_statement(r, "exhibits", ["PutItem", "GetItem", "Query"], "ClaimExhibitReferences"),
        _send_notifications(r),
        kms_statement(r, ["dynamodb", "sqs"]),
        # Reading an SSE-KMS object needs Decrypt; legal holds and tags need no key.
        s3_key_statement(["kms:Decrypt"], r),
    ]


def evidence_retention(r: Resources) -> List[iam.PolicyStatement]:
    # The one role that may delete evidence (chalicelib/investigations/retention.py): once a day,
    # closed cases no supervisor holds, past the force's retention period; each item's legal
    # hold lifted and its exact object version deleted, each step first in its custody log
    # (append-only), the item kept, marked deleted. Nothing here can change Object Lock itself,
    # bypass a retention period, or touch anything outside requests/.
    return [
        table_statement(r, "cases", ["Scan", "UpdateItem"], "FindCasesPastRetention"),
        table_statement(r, "requests", ["Query"], "ListCaseRequests"),
        table_statement(r, "evidence", ["Query", "UpdateItem"], "MarkEvidenceDeleted"),
        table_statement(r, "custody", ["PutItem", "Query"], "LogRetention"),
        iam.PolicyStatement(sid="DeleteEvidencePastRetention",
                            actions=["s3:PutObjectLegalHold", "s3:DeleteObjectVersion"],
                            resources=[_evidence_objects(r)]),
        kms_statement(r, ["dynamodb"]),
    ]


def build_exports(r: Resources) -> List[iam.PolicyStatement]:
    # Exports queue → this function: copy each clean exhibit's exact version from the evidence
    # bucket into the exports bucket (S3 copies: CopyObject, or CreateMultipartUpload +
    # UploadPartCopy + CompleteMultipartUpload, all s3:PutObject on the target and a read of the
    # source version), write the small files, record an exported custody event per exhibit,
    # mark the export ready, and queue the officer's email (and its own continuations).
    return [
        _consume(r, r.exports_queue, "ConsumeExports"),
        _queue_exports(r),
        _send_notifications(r),
        # HeadObject and CopySource of a version; the malware scan's tag on it.
        iam.PolicyStatement(
            sid="ReadEvidenceVersions",
            actions=["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging", "s3:GetObjectVersionTagging"],
            resources=[_evidence_objects(r)],
        ),
        # Copies and the small files; HeadObject of a copy (s3:GetObject); a failed multipart copy aborted.
        iam.PolicyStatement(sid="WriteExports", actions=["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"],
                            resources=[_exports_objects(r)]),
        table_statement(r, "exports", ["GetItem", "UpdateItem"], "TrackExports"),
        table_statement(r, "cases", ["GetItem"], "ReadCases"),
        table_statement(r, "requests", ["Query"], "ReadCaseRequests"),
        # The evidence of each request (by-request); the malware scan's verdict recorded on an item.
        table_statement(r, "evidence", ["Query", "UpdateItem"], "ReadEvidence"),
        # Append-only: the log is read (strongly consistent) and one event put after the last.
        table_statement(r, "custody", ["PutItem", "Query"], "RecordExported"),
        kms_statement(r, ["dynamodb", "sqs"]),
        # Decrypt to read the source version, GenerateDataKey to write the copy (both SSE-KMS).
        s3_key_statement(["kms:Decrypt", "kms:GenerateDataKey"], r),
    ]


def workflow_events(r: Resources) -> List[iam.PolicyStatement]:
    # The state machine's messages: keep the waiting task's token on the request (or end the
    # task at once if the owner already answered), remind, expire (conditional update).
    return [
        _consume(r, r.workflow_queue, "ConsumeWorkflow"),
        table_statement(r, "requests", ["GetItem", "UpdateItem"], "TrackRequests"),
        _end_waiting_tasks(r),
        _send_notifications(r),
        kms_statement(r, ["dynamodb", "sqs"]),
    ]


FUNCTIONS: Dict[str, FunctionSpec] = {
    spec.chalice_name: spec
    for spec in [
        FunctionSpec("api_handler", "api", api_handler, "Every API Gateway route"),
        FunctionSpec("build_exports", "build-exports", build_exports,
                     "Builds case exports in S3 by server-side copies"),
        FunctionSpec("deliver_notifications", "deliver-notifications", deliver_notifications, "Sends queued emails"),
        FunctionSpec("housekeeping", "housekeeping", housekeeping,
                     "Hourly purge of expired items and expiry of overdue footage requests"),
        FunctionSpec("evidence_retention", "evidence-retention", evidence_retention,
                     "Daily deletion of evidence whose case's retention has ended"),
        FunctionSpec("ingest_evidence", "ingest-evidence", ingest_evidence,
                     "Verifies and records each uploaded evidence object"),
        FunctionSpec("workflow_events", "workflow-events", workflow_events,
                     "Handles the footage-request state machine's messages"),
    ]
}


def role_for(stack: Stack, scope, spec: FunctionSpec, function_name: str, r: Resources) -> iam.Role:
    log_stream_arn = stack.format_arn(
        service="logs",
        resource="log-group",
        resource_name=f"/aws/lambda/{function_name}:*",
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )
    statements = [
        iam.PolicyStatement(
            sid="WriteOwnLogs", actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_stream_arn]
        ),
        iam.PolicyStatement(
            sid="XRayHasNoResourceLevelPermissions",
            actions=["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
            resources=["*"],
        ),
        *spec.statements(r),
        *([_copy_audit_entries(r)] if spec.chalice_name in AUDIT_WRITERS else []),
        *(_read_pseudonym_key(r) if spec.chalice_name in PSEUDONYM_READERS else []),
    ]
    return iam.Role(
        scope,
        f"{_sid(spec.name_suffix)}Role",
        description=f"Sightline {function_name}: {spec.description}",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        inline_policies={"least-privilege": iam.PolicyDocument(statements=statements)},
    )
