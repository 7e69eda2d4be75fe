"""The footage-request state machine, from the ASL file its tests execute.

The definition is used as written, with ``${Name}`` placeholders replaced by the deployed
names (``definition_substitutions``): ``${<Table>Table}`` for each table (e.g.
``${RegistrationsTable}``, ``${GeoIndexTable}``) and ``${<Queue>QueueUrl}`` for each queue
(e.g. ``${NotificationsQueueUrl}``). The role is derived from the Task states themselves, so
it grants exactly the service calls the definition makes on exactly the resources it names.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Set, Tuple

from aws_cdk import RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from .settings import Settings

ASL_FILE = Path(__file__).resolve().parents[1] / "state_machines" / "footage_request.asl.json"

_DYNAMODB_TASKS = {"getItem": "GetItem", "putItem": "PutItem", "updateItem": "UpdateItem", "deleteItem": "DeleteItem"}
_SQS_TASKS = {"sendMessage": "SendMessage"}


class UnsupportedTask(ValueError):
    pass


def camel(name: str) -> str:
    return "".join(part.title() for part in name.replace("_", "-").split("-"))


def table_placeholder(suffix: str) -> str:
    return f"{camel(suffix)}Table"


def queue_placeholder(queue_name: str, prefix: str) -> str:
    short = queue_name[len(prefix) + 1:] if queue_name.startswith(prefix + "-") else queue_name
    return f"{camel(short)}QueueUrl"


def substitutions(table_names: Dict[str, str], queue_urls: Dict[str, str], prefix: str) -> Dict[str, str]:
    """``table_names``: suffix → name; ``queue_urls``: queue name → URL."""
    values = {table_placeholder(suffix): name for suffix, name in table_names.items()}
    values.update({queue_placeholder(queue_name, prefix): url for queue_name, url in queue_urls.items()})
    return values


def _states(definition: Dict[str, Any]) -> Iterator[Dict[str, Any]]:
    for state in definition.get("States", {}).values():
        yield state
        for branch in state.get("Branches", []):
            yield from _states(branch)
        for key in ("Iterator", "ItemProcessor"):
            if key in state:
                yield from _states(state[key])


def service_calls(definition: Dict[str, Any]) -> Set[Tuple[str, str, str]]:
    """(service, action, placeholder-or-literal of the resource) for each Task state."""
    calls = set()
    for state in _states(definition):
        if state.get("Type") != "Task":
            continue
        resource = state["Resource"]
        args = state.get("Parameters") or state.get("Arguments") or {}
        prefix = "arn:aws:states:::"
        if not resource.startswith(prefix):
            raise UnsupportedTask(f"Task resource {resource!r}: only service integrations are supported")
        service, _, api = resource[len(prefix):].partition(":")
        api = api.split(".", 1)[0]  # ".waitForTaskToken", ".sync"
        if service == "dynamodb" and api in _DYNAMODB_TASKS:
            calls.add(("dynamodb", _DYNAMODB_TASKS[api], args.get("TableName") or args.get("TableName.$", "")))
        elif service == "sqs" and api in _SQS_TASKS:
            calls.add(("sqs", _SQS_TASKS[api], args.get("QueueUrl") or args.get("QueueUrl.$", "")))
        else:
            raise UnsupportedTask(f"Task {resource!r}: add it to sightline_infra/workflow.py with its least privilege")
    return calls


def _placeholder(value: str) -> Optional[str]:
    if value.startswith("${") and value.endswith("}"):
        return value[2:-1]
    return None


def policy_statements(
    definition: Dict[str, Any],
    table_arns: Dict[str, str],
    queue_arns: Dict[str, str],
    key_arn: str,
    region: str,
) -> List[iam.PolicyStatement]:
    """``table_arns`` / ``queue_arns`` are keyed by placeholder name (``RegistrationsTable``,
    ``NotificationsQueueUrl``). A resource the definition names by anything but one of our
    placeholders (a literal, or a ``.$`` path chosen at run time) is refused."""
    grants: Dict[Tuple[str, str], Set[str]] = {}
    for service, action, target in sorted(service_calls(definition)):
        name = _placeholder(target)
        arns = table_arns if service == "dynamodb" else queue_arns
        if name is None or name not in arns:
            raise UnsupportedTask(f"{service}:{action} on {target!r}: name the resource with a ${{...}} placeholder")
        grants.setdefault((service, arns[name]), set()).add(f"{service}:{action}")
    statements = [
        iam.PolicyStatement(actions=sorted(actions), resources=[arn]) for (service, arn), actions in sorted(grants.items())
    ]
    services = sorted({service for service, _ in grants})
    if services:
        statements.append(
            iam.PolicyStatement(
                actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                resources=[key_arn],
                conditions={"StringEquals": {"kms:ViaService": [f"{s}.{region}.amazonaws.com" for s in services]}},
            )
        )
    return statements


class FootageRequestWorkflow(Construct):
    """The state machine, its role (derived from the definition), log group and X-Ray tracing."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        settings: Settings,
        asl_file: Path,
        names: Dict[str, str],
        table_arns: Dict[str, str],
        queue_arns: Dict[str, str],
        key: kms.IKey,
        region: str,
    ) -> None:
        super().__init__(scope, id)
        text = asl_file.read_text()
        definition = json.loads(text)
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"/aws/vendedlogs/states/{settings.prefix}-footage-request",
            retention=settings.log_retention,
            encryption_key=key,
            removal_policy=RemovalPolicy.RETAIN,
        )
        role = iam.Role(
            self,
            "Role",
            description="Sightline footage-request state machine",
            assumed_by=iam.ServicePrincipal("states.amazonaws.com"),
            inline_policies={
                "least-privilege": iam.PolicyDocument(
                    statements=policy_statements(definition, table_arns, queue_arns, key.key_arn, region)
                )
            },
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=f"{settings.prefix}-footage-request",
            # Inline, not an S3 asset: the template shows exactly the definition the tests
            # execute, and cfn-lint checks it.
            definition_body=sfn.DefinitionBody.from_string(text),
            definition_substitutions={k: v for k, v in names.items() if "${" + k + "}" in text},
            role=role,
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
            removal_policy=RemovalPolicy.RETAIN,
        )
