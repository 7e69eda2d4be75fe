"""The DynamoDB tables in the stack are exactly the PynamoDB models' tables."""
from __future__ import annotations

import json
import subprocess
import sys
from typing import Any, Dict, List

import pytest

from .conftest import CONTEXT, REPO, clean_environment, only, refs, resources

_DESCRIBE_MODELS = """
import json
from chalicelib.tables import ALL_MODELS
print(json.dumps([
    {"model": m.__name__, "table": m.Meta.table_name, "schema": m._get_schema(),
     "ttl": (m._ttl_attribute().attr_name if m._ttl_attribute() else None)}
    for m in ALL_MODELS
]))
"""


@pytest.fixture(scope="module")
def models() -> List[Dict[str, Any]]:
    """The models as a fresh interpreter sees them (this session's tests rebind table names)."""
    out = subprocess.run([sys.executable, "-c", _DESCRIBE_MODELS], cwd=REPO, env=clean_environment(),
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def _deployed_name(model: Dict[str, Any]) -> str:
    assert model["table"].startswith("sightline-"), model
    return CONTEXT["prefix"] + "-" + model["table"][len("sightline-"):]


def _tables_by_name(cfn) -> Dict[str, Dict[str, Any]]:
    return {t["Properties"]["TableName"]: t for t in resources(cfn, "AWS::DynamoDB::Table").values()}


def _key_schema(elements: List[Dict[str, str]]) -> List[tuple]:
    return sorted((e["AttributeName"], e["KeyType"]) for e in elements)


def _projection(projection: Dict[str, Any]) -> tuple:
    return projection["ProjectionType"], tuple(sorted(projection.get("NonKeyAttributes", [])))


def test_every_model_has_a_table_and_every_table_a_model(cfn, models):
    deployed = set(_tables_by_name(cfn))
    expected = {_deployed_name(m) for m in models}
    assert expected - deployed == set(), "models without a table in the stack"
    assert deployed - expected == set(), "tables in the stack that no model describes"


def test_key_schemas_indexes_and_ttl_match_the_models(cfn, models):
    tables = _tables_by_name(cfn)
    for model in models:
        table = tables[_deployed_name(model)]["Properties"]
        schema = model["schema"]
        assert _key_schema(table["KeySchema"]) == _key_schema(schema["key_schema"]), model["model"]

        expected_attributes = {(a["AttributeName"], a["AttributeType"]) for a in schema["attribute_definitions"]}
        for index in schema["global_secondary_indexes"] + schema["local_secondary_indexes"]:
            expected_attributes |= {(a["AttributeName"], a["AttributeType"]) for a in index.get("attribute_definitions", [])}
        assert {(a["AttributeName"], a["AttributeType"]) for a in table["AttributeDefinitions"]} == expected_attributes

        for kind, cfn_key in (("global_secondary_indexes", "GlobalSecondaryIndexes"),
                              ("local_secondary_indexes", "LocalSecondaryIndexes")):
            deployed = {i["IndexName"]: i for i in table.get(cfn_key, [])}
            expected = {i["index_name"]: i for i in schema[kind]}
            assert set(deployed) == set(expected), f"{model['model']} {kind}"
            for name, index in expected.items():
                assert _key_schema(deployed[name]["KeySchema"]) == _key_schema(index["key_schema"]), name
                assert _projection(deployed[name]["Projection"]) == _projection(index["projection"]), name

        ttl = table.get("TimeToLiveSpecification")
        if model["ttl"] is None:
            assert ttl is None, model["model"]
        else:
            assert ttl == {"AttributeName": model["ttl"], "Enabled": True}, model["model"]


def test_tables_are_encrypted_recoverable_and_kept(cfn):
    key_id, _ = only(cfn, "AWS::KMS::Key")
    for logical_id, table in resources(cfn, "AWS::DynamoDB::Table").items():
        props = table["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
        assert props["SSESpecification"]["SSEEnabled"] is True
        assert props["SSESpecification"]["SSEType"] == "KMS"
        assert key_id in set(refs(props["SSESpecification"]["KMSMasterKeyId"]))
        assert props["DeletionProtectionEnabled"] is True
        assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain", logical_id


def test_data_key_is_rotated_and_kept(cfn):
    _, key = only(cfn, "AWS::KMS::Key")
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain"


def test_functions_are_told_the_table_names_the_config_reads(cfn):
    """chalicelib's config, given a function's environment, names exactly the stack's tables."""
    from chalicelib.base.config import Config
    from chalicelib.tables import ALL_MODELS

    deployed = set(_tables_by_name(cfn))
    for function in resources(cfn, "AWS::Serverless::Function").values():
        env = function["Properties"]["Environment"]["Variables"]
        literal = {k: v for k, v in env.items() if isinstance(v, str)}
        config = Config.from_environ(literal)
        configured = {config.table_name(model.Meta.table) for model in ALL_MODELS}
        assert configured == deployed
        assert config.notifications_queue == f"{CONTEXT['prefix']}-notifications"
