"""Shared fixtures. Service tests run on moto; the app is imported after the mock starts."""
from __future__ import annotations

import email
import json
import os
import re
from typing import Iterator, List

import pytest

REGION = "eu-west-2"
SENDER = "no-reply@sightline.test"
SITE_URL = "http://127.0.0.1:8080"

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "SIGHTLINE_SITE_URL": SITE_URL,
        "SIGHTLINE_SENDER_EMAIL": SENDER,
        "SIGHTLINE_FORCE_NAME": "West Midlands Police",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "SIGHTLINE_PSEUDONYM_KEY": "test-key-" + "k" * 32,
    }
)


def _reset_singletons() -> None:
    from chalicelib.base.lazy import reset_all

    reset_all()


OFFICERS = {
    "pc.jones": ["officer"],
    "pc.other": ["officer"],
    "sgt.patel": ["officer", "supervisor"],
    "auditor.khan": ["auditor"],
    "civilian.smith": [],
}
PASSWORD = "Correct-Horse-Battery-9"


def _create_officer_pool() -> None:
    """A Cognito pool like the deployed one, with users in each group; ids go to the config."""
    import boto3

    cognito = boto3.client("cognito-idp", region_name=REGION)
    pool_id = cognito.create_user_pool(PoolName="sightline-officers")["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id, ClientName="officer-api", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    for group in ("officer", "supervisor", "auditor"):
        cognito.create_group(UserPoolId=pool_id, GroupName=group)
    for username, groups in OFFICERS.items():
        cognito.admin_create_user(
            UserPoolId=pool_id, Username=username, MessageAction="SUPPRESS",
            UserAttributes=[{"Name": "email", "Value": f"{username}@police.example"}],
        )
        cognito.admin_set_user_password(UserPoolId=pool_id, Username=username, Password=PASSWORD, Permanent=True)
        for group in groups:
            cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=username, GroupName=group)
    os.environ["SIGHTLINE_USER_POOL_ID"] = pool_id
    os.environ["SIGHTLINE_USER_POOL_CLIENT_ID"] = client_id


def moto_jwks(private: bool = False) -> dict:
    from moto.utilities.utils import load_resource

    return load_resource(f"cognitoidp/resources/jwks-{'private' if private else 'public'}.json")


@pytest.fixture
def aws() -> Iterator[None]:
    """A fresh moto account with Sightline's tables, queues, SES identity and audit bucket."""
    from moto import mock_aws

    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        import boto3

        _reset_singletons()
        from chalicelib.base.config import get_config
        from chalicelib.tables import create_tables

        create_tables()
        config = get_config()
        sqs = boto3.client("sqs", region_name=REGION)
        dlq = sqs.create_queue(QueueName=f"{config.notifications_queue}-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sqs.create_queue(
            QueueName=config.notifications_queue,
            Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"})},
        )
        boto3.client("ses", region_name=REGION).verify_email_identity(EmailAddress=SENDER)
        from local.provision import create_audit_bucket

        create_audit_bucket(boto3.client("s3", region_name=REGION), config.audit_bucket, config.audit_retention_days)
        yield
        _reset_singletons()


@pytest.fixture
def officers(aws) -> Iterator[None]:
    """The officers' Cognito pool (users in each group), and the app verifying its tokens."""
    from chalicelib.base import officers
    from chalicelib.base.config import get_config

    _create_officer_pool()
    get_config.reset()
    config = get_config()
    # In-process moto serves no JWKS over HTTP: the key set fetches moto's keys directly.
    officers.get_authenticator.set(
        officers.Authenticator(config, officers.KeySet(config.jwks_url, fetch=lambda url: moto_jwks()))
    )
    yield
    for name in ("SIGHTLINE_USER_POOL_ID", "SIGHTLINE_USER_POOL_CLIENT_ID"):
        os.environ.pop(name, None)


@pytest.fixture
def footage(officers) -> Iterator[None]:
    """The evidence bucket (S3 → ingest queue), the workflow queue and the state machine."""
    import boto3

    from chalicelib.base.config import get_config
    from chalicelib.footage.workflow import get_workflow
    from local.provision import (
        EXPORTS_VISIBILITY_S,
        create_evidence_bucket,
        create_exports_bucket,
        create_queue_with_dlq,
        create_state_machine,
    )

    config = get_config()
    sqs = boto3.client("sqs", region_name=REGION)
    workflow_url = create_queue_with_dlq(sqs, config.workflow_queue)
    ingest_url = create_queue_with_dlq(sqs, config.ingest_queue)
    create_evidence_bucket(boto3.client("s3", region_name=REGION), sqs, config.evidence_bucket, ingest_url)
    # Case exports: their queue and the bucket they are built in.
    create_queue_with_dlq(sqs, config.exports_queue, visibility_timeout_s=EXPORTS_VISIBILITY_S)
    create_exports_bucket(boto3.client("s3", region_name=REGION), config.exports_bucket, config.export_ttl_days)
    os.environ["SIGHTLINE_STATE_MACHINE_ARN"] = create_state_machine(boto3.client("stepfunctions", region_name=REGION), workflow_url)
    get_config.reset()
    get_workflow.reset()
    yield
    os.environ.pop("SIGHTLINE_STATE_MACHINE_ARN", None)


@pytest.fixture
def client(aws):
    from chalice.test import Client

    import app as sightline_app

    with Client(sightline_app.app) as test_client:
        yield test_client


class Outbox:
    """Delivers queued notifications through the app's SQS handler and reads what SES sent."""

    def __init__(self, client):
        self._client = client

    def pump(self, queue: str = "", handler: str = "deliver_notifications") -> int:
        """Deliver every message waiting on ``queue`` (default: notifications) to ``handler``."""
        import boto3

        from chalicelib.base.config import get_config

        queue = queue or get_config().notifications_queue
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        delivered = 0
        while True:
            batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return delivered
            event = self._client.events.generate_sqs_event(message_bodies=[m["Body"] for m in batch], queue_name=queue)
            result = self._client.lambda_.invoke(handler, event).payload
            assert result == {"batchItemFailures": []}, result
            for message in batch:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            delivered += len(batch)

    def messages(self) -> List[email.message.EmailMessage]:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.ses.models import ses_backends

        sent = ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages
        return [email.message_from_bytes(m.raw_data.encode() if isinstance(m.raw_data, str) else m.raw_data, policy=email.policy.default) for m in sent]

    def to(self, address: str) -> List[email.message.EmailMessage]:
        return [m for m in self.messages() if m["To"] == address]

    def last_link(self, address: str, page: str) -> str:
        """The token of the newest link to ``page`` emailed to ``address``."""
        for message in reversed(self.to(address)):
            text = message.get_body(preferencelist=("plain",)).get_content()
            match = re.search(rf"/{re.escape(page)}#token=([A-Za-z0-9_-]+)", text)
            if match:
                return match.group(1)
        raise AssertionError(f"no {page} link emailed to {address}")


def officer_token(username: str) -> str:
    import boto3

    from chalicelib.base.config import get_config

    config = get_config()
    result = boto3.client("cognito-idp", region_name=REGION).initiate_auth(
        ClientId=config.user_pool_client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    return result["AccessToken"]


def bearer(username: str) -> dict:
    return {"Authorization": f"Bearer {officer_token(username)}"}


def open_case(client, case_ref: str, user: str = "pc.jones", category: str = "Criminal damage and arson") -> dict:
    """Open a case in ``user``'s charge through the API; its view."""
    response = post_json(client, "/officer/cases", {"case_ref": case_ref, "category": category}, headers=bearer(user))
    assert response.status_code == 201, response.body
    return json.loads(response.body)


@pytest.fixture
def outbox(client) -> Outbox:
    return Outbox(client)


def registration_body(**overrides) -> dict:
    body = {
        "name": "Ada Lovelace",
        "email": "ada@example.org",
        "phone": "0121 496 0000",
        "address": {"line1": "12 Colmore Row", "town": "Birmingham", "postcode": "B3 2BJ"},
        "location": {"lat": 52.4812, "lon": -1.8984},
        "camera_count": 2,
        "cameras": [{"direction_deg": 90, "description": "Doorbell, faces the street"}],
        "retention_days": 30,
        "consent": True,
    }
    body.update(overrides)
    return body


def post_json(client, path: str, body, headers=None):
    return client.http.post(
        path,
        headers={"Content-Type": "application/json", **(headers or {})},
        body=json.dumps(body),
    )


def statement_body(observed_at: str, recorder_shows: str, **overrides) -> dict:
    """An owner's statement about their footage, with a clock check (see footage.statements)."""
    body = {
        "name": "Jane Smith",
        "operator": "me",
        "system": "Hikvision DS-7604NI",
        "cameras": [1],
        "source": "recorder_export",
        "gaps_or_edits": False,
        "clock": {"checked": True, "recorder_shows": recorder_shows, "observed_at": observed_at, "uncertainty_ms": 120},
        "witness_statement": "yes",
        "declaration": True,
    }
    body.update(overrides)
    return body


def give_statement(client, request_id: str, headers: dict, fast_by_s: int = 18, **overrides):
    """Save a statement whose recorder clock is ``fast_by_s`` seconds fast (now, in London)."""
    from datetime import datetime, timedelta, timezone
    from zoneinfo import ZoneInfo

    observed = datetime.now(timezone.utc).replace(microsecond=0)
    shown = (observed + timedelta(seconds=fast_by_s)).astimezone(ZoneInfo("Europe/London"))
    body = statement_body(observed.isoformat().replace("+00:00", "Z"), shown.strftime("%Y-%m-%dT%H:%M:%S"), **overrides)
    response = client.http.put(
        f"/owner/requests/{request_id}/statement",
        headers={"Content-Type": "application/json", **headers},
        body=json.dumps(body),
    )
    assert response.status_code == 200, response.body
    return json.loads(response.body)
