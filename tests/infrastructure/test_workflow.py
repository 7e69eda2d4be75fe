"""The footage-request state machine: built from its ASL file, with a role derived from the
definition's Task states."""
from __future__ import annotations

import json
import sys

import pytest

from .conftest import CONTEXT, INFRASTRUCTURE, as_list, assert_least_privilege, only, resources, statements

P = CONTEXT["prefix"]

sys.path.insert(0, str(INFRASTRUCTURE))

from sightline_infra import workflow  # noqa: E402

SAMPLE = {
    "StartAt": "Wait",
    "States": {
        "Wait": {"Type": "Wait", "Seconds": 60, "Next": "Expire"},
        "Expire": {
            "Type": "Task",
            "Resource": "arn:aws:states:::dynamodb:updateItem",
            "Parameters": {"TableName": "${FootageRequestsTable}", "Key": {}},
            "Next": "Tell",
        },
        "Tell": {
            "Type": "Parallel",
            "Branches": [
                {
                    "StartAt": "Queue",
                    "States": {
                        "Queue": {
                            "Type": "Task",
                            "Resource": "arn:aws:states:::sqs:sendMessage",
                            "Parameters": {"QueueUrl": "${WorkflowQueueUrl}", "MessageBody": {}},
                            "End": True,
                        }
                    },
                }
            ],
            "End": True,
        },
    },
}


def _json(statements):
    import aws_cdk as cdk

    stack = cdk.Stack()
    return [stack.resolve(s.to_statement_json()) for s in statements]


def test_role_grants_exactly_the_calls_the_definition_makes():
    found = _json(workflow.policy_statements(
        SAMPLE,
        table_arns={"FootageRequestsTable": "arn:table/requests"},
        queue_arns={"WorkflowQueueUrl": "arn:queue/workflow"},
        key_arn="arn:key",
        region="eu-west-2",
    ))
    assert {"Action": "dynamodb:UpdateItem", "Effect": "Allow", "Resource": "arn:table/requests"} in found
    assert {"Action": "sqs:SendMessage", "Effect": "Allow", "Resource": "arn:queue/workflow"} in found
    (kms,) = [s for s in found if "kms:Decrypt" in s["Action"]]
    assert kms["Condition"]["StringEquals"]["kms:ViaService"] == [
        "dynamodb.eu-west-2.amazonaws.com", "sqs.eu-west-2.amazonaws.com"]


def test_resources_must_be_named_by_placeholder_and_tasks_known():
    literal = {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem",
                                                "Parameters": {"TableName": "some-table"}, "End": True}}}
    with pytest.raises(workflow.UnsupportedTask):
        workflow.policy_statements(literal, {}, {}, "arn:key", "eu-west-2")
    lambda_task = {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                                                    "End": True}}}
    with pytest.raises(workflow.UnsupportedTask):
        workflow.service_calls(lambda_task)


def test_substitution_names():
    names = workflow.substitutions({"geo-index": "p-geo-index"}, {"p-notifications": "https://q"}, "p")
    assert names == {"GeoIndexTable": "p-geo-index", "NotificationsQueueUrl": "https://q"}


def _queue_id(cfn, name: str) -> str:
    (logical_id,) = [k for k, v in resources(cfn, "AWS::SQS::Queue").items()
                     if v["Properties"]["QueueName"] == f"{P}-{name}"]
    return logical_id


def test_state_machine_is_built_from_the_asl_file_with_logging(cfn):
    (machine,) = resources(cfn, "AWS::StepFunctions::StateMachine").values()
    props = machine["Properties"]
    assert props["StateMachineName"] == f"{P}-footage-request"
    # Inline: what is deployed is the file the service tests execute.
    assert json.loads(props["DefinitionString"]) == json.loads(workflow.ASL_FILE.read_text())
    assert props["DefinitionSubstitutions"] == {"WorkflowQueueUrl": {"Ref": _queue_id(cfn, "workflow")}}
    assert props["LoggingConfiguration"]["Level"] == "ALL"
    assert props["LoggingConfiguration"]["IncludeExecutionData"] is False
    assert props["TracingConfiguration"] == {"Enabled": True}
    names = {a["Properties"]["AlarmName"] for a in resources(cfn, "AWS::CloudWatch::Alarm").values()}
    assert any(n.endswith("footage-request-failed") for n in names)


def test_state_machine_role_may_only_send_to_the_workflow_queue(cfn):
    (machine,) = resources(cfn, "AWS::StepFunctions::StateMachine").values()
    role = cfn["Resources"][machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]]
    found = [s for p in role["Properties"]["Policies"] for s in statements(p["PolicyDocument"])]
    key_id, _ = only(cfn, "AWS::KMS::Key")
    assert {"Action": "sqs:SendMessage", "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [_queue_id(cfn, "workflow"), "Arn"]}} in found
    (kms,) = [s for s in found if "kms:GenerateDataKey" in as_list(s["Action"])]
    assert kms["Resource"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert kms["Condition"] == {"StringEquals": {"kms:ViaService": ["sqs.eu-west-2.amazonaws.com"]}}
    actions = {a for s in found for a in as_list(s["Action"])}
    assert actions == {"sqs:SendMessage", "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"}
    assert_least_privilege(cfn)


def test_workflow_construct_builds_a_logged_traced_machine_with_its_own_role(tmp_path):
    """The construct itself, on a sample definition with a DynamoDB task (which the real one lacks)."""
    import json

    import aws_cdk as cdk
    from aws_cdk import aws_kms as kms
    from aws_cdk.assertions import Match, Template

    from sightline_infra.settings import Settings

    asl = tmp_path / "footage_request.asl.json"
    asl.write_text(json.dumps(SAMPLE))
    stack = cdk.Stack(cdk.App(), "T", env=cdk.Environment(region="eu-west-2"))
    key = kms.Key(stack, "K")
    workflow.FootageRequestWorkflow(
        stack, "W", settings=Settings(), asl_file=asl,
        names={"FootageRequestsTable": "sightline-footage-requests", "WorkflowQueueUrl": "https://q"},
        table_arns={"FootageRequestsTable": "arn:aws:dynamodb:eu-west-2:1:table/sightline-footage-requests"},
        queue_arns={"WorkflowQueueUrl": "arn:aws:sqs:eu-west-2:1:sightline-workflow"},
        key=key, region="eu-west-2",
    )
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::StepFunctions::StateMachine", {
        "StateMachineName": "sightline-footage-request",
        "TracingConfiguration": {"Enabled": True},
        "LoggingConfiguration": Match.object_like({"Level": "ALL", "IncludeExecutionData": False}),
        "DefinitionSubstitutions": {"FootageRequestsTable": "sightline-footage-requests", "WorkflowQueueUrl": "https://q"},
    })
    template.has_resource_properties("AWS::IAM::Role", {
        "Policies": [{"PolicyName": "least-privilege", "PolicyDocument": Match.object_like({
            "Statement": Match.array_with([Match.object_like({
                "Action": "dynamodb:UpdateItem",
                "Resource": "arn:aws:dynamodb:eu-west-2:1:table/sightline-footage-requests"})])})}],
    })
    assert_least_privilege(template.to_json())
