"""The customer-managed KMS key and the DynamoDB tables, built from the PynamoDB models.

Tables are not described twice: each model in ``chalicelib.tables.ALL_MODELS`` becomes one
table with the model's key schema, indexes and TTL attribute, so a model added by a later
change gets its table (and the comparison test checks it) without touching this file.
"""
from __future__ import annotations

import dataclasses
from typing import Dict, List, Optional, Sequence

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from .settings import Settings

# Every model names its table by a suffix (``Meta.table``); the deployed name is
# "<prefix>-<suffix>" and the function finds it in SIGHTLINE_<SUFFIX>_TABLE
# (the names chalicelib.base.config reads).

_ATTRIBUTE_TYPES = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}
_PROJECTIONS = {
    "ALL": dynamodb.ProjectionType.ALL,
    "KEYS_ONLY": dynamodb.ProjectionType.KEYS_ONLY,
    "INCLUDE": dynamodb.ProjectionType.INCLUDE,
}


@dataclasses.dataclass(frozen=True)
class TableSpec:
    """One model's table, as the stack needs it."""

    suffix: str
    model_name: str
    schema: dict
    ttl_attribute: Optional[str]

    @property
    def env_var(self) -> str:
        return f"SIGHTLINE_{self.suffix.upper().replace('-', '_')}_TABLE"

    @property
    def index_names(self) -> List[str]:
        return [i["index_name"] for i in self.schema["global_secondary_indexes"]] + [
            i["index_name"] for i in self.schema["local_secondary_indexes"]
        ]


def table_specs() -> List[TableSpec]:
    """Read the models (imported from the staged project, see ``packaging``)."""
    from chalicelib.tables import ALL_MODELS

    specs = []
    for model in ALL_MODELS:
        ttl = model._ttl_attribute()
        specs.append(
            TableSpec(
                suffix=model.Meta.table,
                model_name=model.__name__,
                schema=model._get_schema(),
                ttl_attribute=ttl.attr_name if ttl is not None else None,
            )
        )
    return specs


class DataKey(Construct):
    """The customer-managed key for every store of personal data: tables, queues, evidence,
    logs and the alarm topic. Rotated yearly by KMS; never deleted with the stack."""

    def __init__(self, scope: Construct, id: str, *, settings: Settings) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        self.key = kms.Key(
            self,
            "Key",
            alias=f"alias/{settings.prefix}-data",
            description=f"Sightline ({settings.prefix}): personal data at rest",
            enable_key_rotation=True,
            rotation_period=Duration.days(365),
            pending_window=Duration.days(30),
            removal_policy=RemovalPolicy.RETAIN,
        )
        # CloudWatch Logs encrypts our log groups (and only ours) with the key.
        log_group_arns = [
            stack.format_arn(service="logs", resource="log-group", resource_name=pattern, arn_format=ArnFormat.COLON_RESOURCE_NAME)
            for pattern in log_group_patterns(settings)
        ]
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchLogsEncryptsSightlineLogGroups",
                principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
                actions=[
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncryptFrom",
                    "kms:ReEncryptTo",
                    "kms:GenerateDataKey",
                    "kms:GenerateDataKeyWithoutPlaintext",
                    "kms:DescribeKey",
                ],
                resources=["*"],  # in a key policy "*" means this key
                conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_group_arns}},
            )
        )

    def pseudonym_key(self, settings: Settings) -> secretsmanager.Secret:
        """The key of owners' keyed hashes (``chalicelib/base/pseudonyms.py``), generated once
        and never rotated (a new key would make every owner's sessions, links and duplicate
        checks miss their registrations); kept if the stack is deleted, like the data key."""
        secret = secretsmanager.Secret(
            self,
            "PseudonymKey",
            secret_name=f"{settings.prefix}-pseudonym-key",
            description=f"Sightline ({settings.prefix}): key of the keyed hashes of owners' email addresses",
            encryption_key=self.key,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64, exclude_punctuation=True, include_space=False
            ),
            removal_policy=RemovalPolicy.RETAIN,
        )
        return secret

    def allow_service(self, sid: str, service: str, actions: Sequence[str], source_arn: str) -> None:
        """Let an AWS service use the key on behalf of one of our resources only."""
        stack = Stack.of(self)
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid=sid,
                principals=[iam.ServicePrincipal(service)],
                actions=list(actions),
                resources=["*"],
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {"aws:SourceArn": source_arn},
                },
            )
        )


def log_group_patterns(settings: Settings) -> List[str]:
    p = settings.prefix
    return [f"/aws/lambda/{p}-*", f"/aws/apigateway/{p}-*", f"aws-waf-logs-{p}-*", f"/aws/vendedlogs/states/{p}-*"]


class Tables(Construct):
    """One table per model: on-demand, PITR, encrypted with the data key, kept on delete."""

    def __init__(self, scope: Construct, id: str, *, settings: Settings, key: kms.IKey, specs: List[TableSpec]) -> None:
        super().__init__(scope, id)
        self.specs = specs
        self.by_suffix: Dict[str, dynamodb.Table] = {}
        for spec in specs:
            self.by_suffix[spec.suffix] = self._table(settings, key, spec)

    def name(self, settings: Settings, suffix: str) -> str:
        return f"{settings.prefix}-{suffix}"

    def _table(self, settings: Settings, key: kms.IKey, spec: TableSpec) -> dynamodb.Table:
        schema = spec.schema
        types = {a["AttributeName"]: a["AttributeType"] for a in schema["attribute_definitions"]}

        def attribute(key_schema: list, key_type: str) -> Optional[dynamodb.Attribute]:
            for element in key_schema:
                if element["KeyType"] == key_type:
                    name = element["AttributeName"]
                    return dynamodb.Attribute(name=name, type=_ATTRIBUTE_TYPES[types[name]])
            return None

        table = dynamodb.Table(
            self,
            spec.model_name,
            table_name=self.name(settings, spec.suffix),
            partition_key=attribute(schema["key_schema"], "HASH"),
            sort_key=attribute(schema["key_schema"], "RANGE"),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True, recovery_period_in_days=35
            ),
            time_to_live_attribute=spec.ttl_attribute,
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        for index in schema["global_secondary_indexes"]:
            types.update({a["AttributeName"]: a["AttributeType"] for a in index["attribute_definitions"]})
            projection = index["projection"]
            table.add_global_secondary_index(
                index_name=index["index_name"],
                partition_key=attribute(index["key_schema"], "HASH"),
                sort_key=attribute(index["key_schema"], "RANGE"),
                projection_type=_PROJECTIONS[projection["ProjectionType"]],
                non_key_attributes=projection.get("NonKeyAttributes"),
            )
        for index in schema["local_secondary_indexes"]:
            types.update({a["AttributeName"]: a["AttributeType"] for a in index.get("attribute_definitions", [])})
            projection = index["projection"]
            table.add_local_secondary_index(
                index_name=index["index_name"],
                sort_key=attribute(index["key_schema"], "RANGE"),
                projection_type=_PROJECTIONS[projection["ProjectionType"]],
                non_key_attributes=projection.get("NonKeyAttributes"),
            )
        return table
