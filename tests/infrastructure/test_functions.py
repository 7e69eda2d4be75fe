"""The Chalice functions: runtime, limits, roles, event sources, API Gateway and WAF."""
from __future__ import annotations

from typing import Any, Dict

from .conftest import CONTEXT, SITE_ORIGIN, as_list, assert_least_privilege, only, refs, resources, statements

P = CONTEXT["prefix"]
SUPPORTED_RUNTIMES = {"python3.12", "python3.13", "python3.14"}


def _functions(cfn) -> Dict[str, Dict[str, Any]]:
    return resources(cfn, "AWS::Serverless::Function")


def test_functions_run_on_a_supported_runtime_with_limits(cfn):
    functions = _functions(cfn)
    assert set(functions) == {"APIHandler", "DeliverNotifications", "Housekeeping"}
    for logical_id, function in functions.items():
        props = function["Properties"]
        assert props["Runtime"] in SUPPORTED_RUNTIMES, logical_id
        assert props["MemorySize"] <= 1024 and props["Timeout"] > 0
        assert props["ReservedConcurrentExecutions"] >= 1, logical_id
        assert props["Tracing"] == "Active"
        assert props["FunctionName"].startswith(P + "-")
    # API Gateway gives up after 29 s: the API function must finish (or fail) before that.
    assert functions["APIHandler"]["Properties"]["Timeout"] < 29
    # Public and officer routes share this function: its reserved concurrency is the pool
    # that per-method throttling keeps the public endpoints from draining.
    assert functions["APIHandler"]["Properties"]["ReservedConcurrentExecutions"] >= 50


def test_each_function_has_its_own_role(cfn):
    roles = [f["Properties"]["Role"]["Fn::GetAtt"][0] for f in _functions(cfn).values()]
    assert len(set(roles)) == len(roles)


def test_sqs_handler_reports_partial_batch_failures(cfn):
    events = _functions(cfn)["DeliverNotifications"]["Properties"]["Events"]
    (event,) = events.values()
    assert event["Type"] == "SQS"
    props = event["Properties"]
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue_id = props["Queue"]["Fn::GetAtt"][0]
    assert cfn["Resources"][queue_id]["Properties"]["QueueName"] == f"{P}-notifications"
    assert props["ScalingConfig"]["MaximumConcurrency"] <= _functions(cfn)["DeliverNotifications"]["Properties"][
        "ReservedConcurrentExecutions"]


def test_housekeeping_runs_on_an_eventbridge_schedule(cfn):
    events = _functions(cfn)["Housekeeping"]["Properties"]["Events"]
    assert [e["Type"] for e in events.values()] == ["Schedule"]
    assert [e["Properties"]["Schedule"] for e in events.values()] == ["rate(1 hour)"]


def test_function_environment_carries_names_not_secrets(cfn):
    pool_id, _ = only(cfn, "AWS::Cognito::UserPool")
    client_id, _ = only(cfn, "AWS::Cognito::UserPoolClient")
    for function in _functions(cfn).values():
        env = function["Properties"]["Environment"]["Variables"]
        assert env["SIGHTLINE_SITE_URL"] == SITE_ORIGIN
        assert env["SIGHTLINE_SENDER_EMAIL"] == CONTEXT["sender_email"]
        assert env["SIGHTLINE_FORCE_NAME"] == CONTEXT["force_name"]
        assert env["SIGHTLINE_USER_POOL_ID"] == {"Ref": pool_id}
        assert env["SIGHTLINE_USER_POOL_CLIENT_ID"] == {"Ref": client_id}
        assert pool_id in set(refs(env["SIGHTLINE_JWKS_URL"]))
        assert not any(word in name for name in env for word in ("SECRET", "PASSWORD", "KEY"))


def test_every_function_logs_to_an_encrypted_log_group_kept_a_year(cfn):
    groups = {g["Properties"]["LogGroupName"]: (k, g) for k, g in resources(cfn, "AWS::Logs::LogGroup").items()}
    for logical_id, function in _functions(cfn).items():
        group_id, _ = groups[f"/aws/lambda/{function['Properties']['FunctionName']}"]
        # Created before the function, so Lambda never creates an unencrypted one itself.
        assert group_id in as_list(function.get("DependsOn", [])), logical_id
    for name, (_, group) in groups.items():
        assert group["Properties"]["RetentionInDays"] >= 365, name
        assert "KmsKeyId" in group["Properties"], name


# ------------------------------------------------------------------------------ API Gateway


def test_api_is_regional_throttled_traced_and_access_logged(cfn):
    api = cfn["Resources"]["RestAPI"]["Properties"]
    assert api["EndpointConfiguration"] == "REGIONAL"
    assert api["TracingEnabled"] is True
    assert api["CacheClusterEnabled"] is False
    settings = {(s["ResourcePath"], s["HttpMethod"]): s for s in api["MethodSettings"]}
    stage = settings[("/*", "*")]
    assert stage["ThrottlingRateLimit"] > 0 and stage["ThrottlingBurstLimit"] > 0
    assert stage["LoggingLevel"] == "ERROR" and stage["DataTraceEnabled"] is False
    # Every public entry point has its own, smaller budget than the stage's.
    for public in [("/~1registrations", "POST"), ("/~1registrations~1verify", "POST"),
                   ("/~1owner~1links", "POST"), ("/~1owner~1sessions", "POST")]:
        assert settings[public]["ThrottlingRateLimit"] < stage["ThrottlingRateLimit"], public
    assert not any(path.startswith("/~1officer") for path, _ in settings)
    access_log = api["AccessLogSetting"]
    group_id = access_log["DestinationArn"]["Fn::GetAtt"][0]
    assert cfn["Resources"][group_id]["Type"] == "AWS::Logs::LogGroup"
    assert "$context.identity.sourceIp" in access_log["Format"]


def test_api_cors_allows_the_site_only(cfn):
    paths = cfn["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    origins = {
        method["x-amazon-apigateway-integration"]["responses"]["default"]["responseParameters"][
            "method.response.header.Access-Control-Allow-Origin"]
        for path in paths.values() for name, method in path.items() if name == "options"
    }
    assert origins == {f"'{SITE_ORIGIN}'"}


def test_waf_guards_the_api_stage(cfn):
    acl_id, acl = only(cfn, "AWS::WAFv2::WebACL")
    props = acl["Properties"]
    assert props["Scope"] == "REGIONAL"
    managed = {r["Statement"]["ManagedRuleGroupStatement"]["Name"] for r in props["Rules"]
               if "ManagedRuleGroupStatement" in r["Statement"]}
    assert {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet",
            "AWSManagedRulesAmazonIpReputationList"} <= managed
    (rate,) = [r for r in props["Rules"] if "RateBasedStatement" in r["Statement"]]
    statement = rate["Statement"]["RateBasedStatement"]
    assert statement["AggregateKeyType"] == "IP" and "Block" in rate["Action"]
    scoped = {s["ByteMatchStatement"]["SearchString"]
              for s in statement["ScopeDownStatement"]["OrStatement"]["Statements"]}
    assert {"/registrations", "/owner/", "/api/registrations", "/api/owner/"} == scoped
    _, association = only(cfn, "AWS::WAFv2::WebACLAssociation")
    assert association["Properties"]["WebACLArn"] == {"Fn::GetAtt": [acl_id, "Arn"]}
    assert "${RestAPI.Stage}" in association["Properties"]["ResourceArn"]["Fn::Sub"]
    _, logging = only(cfn, "AWS::WAFv2::LoggingConfiguration")
    assert logging["Properties"]["RedactedFields"] == [{"SingleHeader": {"Name": "authorization"}}]


# ------------------------------------------------------------------------------ IAM

def _function_policies(cfn) -> Dict[str, list]:
    found = {}
    for logical_id, function in _functions(cfn).items():
        role = cfn["Resources"][function["Properties"]["Role"]["Fn::GetAtt"][0]]
        found[logical_id] = [s for p in role["Properties"]["Policies"] for s in statements(p["PolicyDocument"])]
    return found


def test_no_wildcard_actions_and_no_wildcard_resources_where_one_can_be_named(cfn):
    assert_least_privilege(cfn)


def _actions_on(policies: list, logical_id: str) -> set:
    return {a for s in policies if logical_id in set(refs(s["Resource"])) for a in as_list(s["Action"])}


def _table_id(cfn, suffix: str) -> str:
    (logical_id,) = [k for k, v in resources(cfn, "AWS::DynamoDB::Table").items()
                     if v["Properties"]["TableName"] == f"{P}-{suffix}"]
    return logical_id


def test_each_function_gets_only_what_its_code_uses(cfn):
    policies = _function_policies(cfn)
    registrations, tokens, geo = (_table_id(cfn, s) for s in ("registrations", "tokens", "geo-index"))

    deliver = policies["DeliverNotifications"]
    assert _actions_on(deliver, registrations) == {"dynamodb:GetItem", "dynamodb:Query"}
    assert _actions_on(deliver, tokens) == {"dynamodb:PutItem"}
    (ses,) = [s for s in deliver if "ses:SendRawEmail" in as_list(s["Action"])]
    assert ses["Condition"] == {"StringEquals": {"ses:FromAddress": CONTEXT["sender_email"]}}
    assert {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"} <= {
        a for s in deliver for a in as_list(s["Action"]) if a.startswith("sqs:")}

    housekeeping = policies["Housekeeping"]
    assert _actions_on(housekeeping, registrations) == {"dynamodb:Scan", "dynamodb:DeleteItem"}
    assert _actions_on(housekeeping, geo) == {"dynamodb:DeleteItem"}
    assert _actions_on(housekeeping, tokens) == {"dynamodb:Scan", "dynamodb:DeleteItem"}
    assert not any(a.startswith(("sqs:", "ses:")) for s in housekeeping for a in as_list(s["Action"]))

    api = policies["APIHandler"]
    assert {"sqs:SendMessage", "sqs:GetQueueUrl"} <= {a for s in api for a in as_list(s["Action"])}
    assert not any(a.startswith("ses:") or a == "dynamodb:Scan" for s in api for a in as_list(s["Action"]))


def test_audit_log_is_append_only_for_every_role(cfn):
    audit = _table_id(cfn, "audit")
    for logical_id, role in resources(cfn, "AWS::IAM::Role").items():
        granted = _actions_on([s for p in role["Properties"].get("Policies", [])
                               for s in statements(p["PolicyDocument"])], audit)
        assert not granted & {"dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}, logical_id


def test_kms_use_is_only_through_the_services(cfn):
    for logical_id, statements_ in _function_policies(cfn).items():
        for statement in statements_:
            if any(a.startswith("kms:") for a in as_list(statement["Action"])):
                assert "kms:ViaService" in statement["Condition"]["StringEquals"], logical_id
