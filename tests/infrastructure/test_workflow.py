"""The footage-request state machine: built from its ASL file once that file exists, with a
role derived from the definition's Task states."""
from __future__ import annotations

import sys

import pytest

from .conftest import INFRASTRUCTURE, assert_least_privilege, resources

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


@pytest.mark.skipif(not workflow.ASL_FILE.exists(), reason="the footage-request change adds the ASL file")
def test_state_machine_is_built_from_the_asl_file_with_logging(cfn):
    (machine,) = resources(cfn, "AWS::StepFunctions::StateMachine").values()
    props = machine["Properties"]
    assert props["LoggingConfiguration"]["Level"] == "ALL"
    assert props["LoggingConfiguration"]["IncludeExecutionData"] is False
    assert props["TracingConfiguration"] == {"Enabled": True}
    names = {a["Properties"]["AlarmName"] for a in resources(cfn, "AWS::CloudWatch::Alarm").values()}
    assert any(n.endswith("footage-request-failed") for n in names)


def test_workflow_construct_builds_a_logged_traced_machine_with_its_own_role(tmp_path):
    """The construct itself, on a sample definition, until the real ASL file exists."""
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
