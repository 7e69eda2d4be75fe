"""What each Lambda function may do: hand-written, per function, on named resources.

Each Chalice function (all routes share ``api_handler``; every ``@app.on_sqs_message`` and
``@app.schedule`` handler is its own function) gets its own role with exactly the calls its
code makes. A function the app defines but this module does not know fails the build:
a new handler needs a decision here, not a copy of someone else's rights.

The only ``"*"`` resources are X-Ray's, which has no resource-level permissions.
"""
from __future__ import annotations

import dataclasses
from typing import Callable, Dict, List, Sequence

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms

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
# delete an entry (chalicelib/models.py AuditEntry).
API_TABLE_ACTIONS_BY_TABLE = {
    "audit": ["PutItem", "GetItem", "Query", "DescribeTable"],
}

# Readers and writers of a table encrypted with our key need these KMS calls, made by DynamoDB
# or SQS on the function's behalf (kms:ViaService), never directly.
KMS_DATA_ACTIONS = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]


def table_statement(r: Resources, suffix: str, actions: Sequence[str], sid: str) -> iam.PolicyStatement:
    """``actions`` on one table and each of its indexes (named, not ``index/*``); index ARNs
    are listed only for the actions that can target an index (Query, Scan)."""
    table = r.tables[suffix]
    resources = [table.table_arn]
    if any(a in ("Query", "Scan") for a in actions):
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


def _sid(suffix: str) -> str:
    return "".join(part.title() for part in suffix.split("-"))


# ------------------------------------------------------------------------------- functions


def api_handler(r: Resources) -> List[iam.PolicyStatement]:
    statements = [
        table_statement(r, suffix, API_TABLE_ACTIONS_BY_TABLE.get(suffix, API_TABLE_ACTIONS), f"Table{_sid(suffix)}")
        for suffix in sorted(r.tables)
    ]
    notifications = r.queues[r.notifications_queue].queue
    statements.append(
        iam.PolicyStatement(
            sid="QueueNotifications",
            actions=["sqs:SendMessage", "sqs:GetQueueUrl"],
            resources=[notifications.queue_arn],
        )
    )
    statements.append(kms_statement(r, ["dynamodb", "sqs"]))
    return statements


def deliver_notifications(r: Resources) -> List[iam.PolicyStatement]:
    notifications = r.queues[r.notifications_queue].queue
    return [
        # The registration an email is about, and the owner's registrations to address a link.
        table_statement(r, "registrations", ["GetItem", "Query"], "ReadRegistrations"),
        # Links are minted when the email is sent, so a token exists in exactly one email.
        table_statement(r, "tokens", ["PutItem"], "MintLinkTokens"),
        iam.PolicyStatement(
            sid="SendAsTheForce",
            actions=["ses:SendRawEmail"],
            resources=[r.ses_identity_arn, r.ses_configuration_set_arn],
            conditions={"StringEquals": {"ses:FromAddress": r.sender_email}},
        ),
        # What Lambda's event source mapping does with the function's role.
        iam.PolicyStatement(
            sid="ConsumeNotifications",
            actions=["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
            resources=[notifications.queue_arn],
        ),
        kms_statement(r, ["dynamodb", "sqs"]),
    ]


def housekeeping(r: Resources) -> List[iam.PolicyStatement]:
    # Purges what DynamoDB's TTL removes only eventually: expired pending registrations (and
    # their stray geo index entries) and expired tokens.
    return [
        table_statement(r, "registrations", ["Scan", "DeleteItem"], "PurgeRegistrations"),
        table_statement(r, "geo-index", ["DeleteItem"], "PurgeGeoIndex"),
        table_statement(r, "tokens", ["Scan", "DeleteItem"], "PurgeTokens"),
        kms_statement(r, ["dynamodb"]),
    ]


FUNCTIONS: Dict[str, FunctionSpec] = {
    spec.chalice_name: spec
    for spec in [
        FunctionSpec("api_handler", "api", api_handler, "Every API Gateway route"),
        FunctionSpec("deliver_notifications", "deliver-notifications", deliver_notifications, "Sends queued emails"),
        FunctionSpec("housekeeping", "housekeeping", housekeeping, "Hourly purge of expired items"),
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
    ]
    return iam.Role(
        scope,
        f"{_sid(spec.name_suffix)}Role",
        description=f"Sightline {function_name}: {spec.description}",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        inline_policies={"least-privilege": iam.PolicyDocument(statements=statements)},
    )
