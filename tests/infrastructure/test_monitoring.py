"""Alarms on errors, throttles, queues and the state machine, to one topic; one dashboard."""
from __future__ import annotations

from .conftest import CONTEXT, only, resources


def _alarms(cfn):
    return {a["Properties"]["AlarmName"]: a["Properties"] for a in resources(cfn, "AWS::CloudWatch::Alarm").values()}


def test_alarms_cover_functions_api_and_queues(cfn):
    alarms = _alarms(cfn)
    for function in resources(cfn, "AWS::Serverless::Function").values():
        name = function["Properties"]["FunctionName"]
        assert {f"{name}-errors", f"{name}-throttles"} <= set(alarms), name
    p = CONTEXT["prefix"]
    assert {f"{p}-api-5xx", f"{p}-footage-request-failed"} <= set(alarms)
    for queue in ("notifications", "ingest", "workflow"):
        assert {f"{p}-{queue}-dlq-not-empty", f"{p}-{queue}-backlog"} <= set(alarms), queue
    # ingest_evidence may hold a message for its whole 15-minute timeout: the backlog alarm
    # must not fire on one long hash.
    assert alarms[f"{p}-ingest-backlog"]["Threshold"] > 900


def test_every_alarm_notifies_the_alarm_topic_which_emails_on_call(cfn):
    topic_id, topic = only(cfn, "AWS::SNS::Topic")
    assert "KmsMasterKeyId" in topic["Properties"]
    for name, alarm in _alarms(cfn).items():
        assert alarm["AlarmActions"] == [{"Ref": topic_id}], name
        assert alarm["TreatMissingData"] == "notBreaching", name
    subscriptions = resources(cfn, "AWS::SNS::Subscription").values()
    assert [(s["Properties"]["Protocol"], s["Properties"]["Endpoint"]) for s in subscriptions] == [
        ("email", CONTEXT["alert_email"])]


def test_one_dashboard(cfn):
    _, dashboard = only(cfn, "AWS::CloudWatch::Dashboard")
    assert dashboard["Properties"]["DashboardName"] == f"{CONTEXT['prefix']}-operations"
