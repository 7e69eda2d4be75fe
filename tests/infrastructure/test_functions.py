"""The Chalice functions: runtime, limits, roles, event sources, API Gateway and WAF."""
from __future__ import annotations

from typing import Any, Dict

from .conftest import CONTEXT, SITE_ORIGIN, as_list, assert_least_privilege, only, refs, resources, statements

P = CONTEXT["prefix"]
SUPPORTED_RUNTIMES = {"python3.12", "python3.13", "python3.14"}


def _functions(cfn) -> Dict[str, Dict[str, Any]]:
    return resources(cfn, "AWS::Serverless::Function")


# SQS-driven function → the queue it consumes.
SQS_FUNCTIONS = {
    "BuildExports": f"{P}-exports",
    "DeliverNotifications": f"{P}-notifications",
    "IngestEvidence": f"{P}-ingest",
    "WorkflowEvents": f"{P}-workflow",
}


def test_functions_run_on_a_supported_runtime_with_limits(cfn):
    functions = _functions(cfn)
    assert set(functions) == {"APIHandler", "Housekeeping", "EvidenceRetention", *SQS_FUNCTIONS}
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


def test_sqs_handlers_report_partial_batch_failures(cfn):
    for logical_id, queue_name in SQS_FUNCTIONS.items():
        function = _functions(cfn)[logical_id]["Properties"]
        (event,) = function["Events"].values()
        assert event["Type"] == "SQS", logical_id
        props = event["Properties"]
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"], logical_id
        queue_id = props["Queue"]["Fn::GetAtt"][0]
        assert cfn["Resources"][queue_id]["Properties"]["QueueName"] == queue_name, logical_id
        assert props["ScalingConfig"]["MaximumConcurrency"] <= function["ReservedConcurrentExecutions"], logical_id


def test_queues_hide_messages_for_six_times_their_consumers_timeout(cfn):
    """AWS requires visibility >= the function's timeout and advises six times it, so that a
    batch still being processed (or retried) is never handed to a second consumer."""
    for logical_id, queue_name in SQS_FUNCTIONS.items():
        function = _functions(cfn)[logical_id]["Properties"]
        (event,) = function["Events"].values()
        queue = cfn["Resources"][event["Properties"]["Queue"]["Fn::GetAtt"][0]]["Properties"]
        assert queue["VisibilityTimeout"] >= 6 * function["Timeout"], logical_id


def test_ingest_can_hash_large_uploads_with_modest_concurrency(cfn):
    ingest = _functions(cfn)["IngestEvidence"]["Properties"]
    # It streams objects of up to 16 GiB (Config.max_multipart_bytes) through SHA-256 in constant memory.
    assert ingest["Timeout"] == 900 and ingest["MemorySize"] >= 512
    assert ingest["ReservedConcurrentExecutions"] <= 10


def test_housekeeping_runs_on_an_eventbridge_schedule(cfn):
    events = _functions(cfn)["Housekeeping"]["Properties"]["Events"]
    assert [e["Type"] for e in events.values()] == ["Schedule"]
    assert [e["Properties"]["Schedule"] for e in events.values()] == ["rate(1 hour)"]


def test_function_environment_carries_names_not_secrets(cfn):
    pool_id, _ = only(cfn, "AWS::Cognito::UserPool")
    client_id, _ = only(cfn, "AWS::Cognito::UserPoolClient")
    machine_id, _ = only(cfn, "AWS::StepFunctions::StateMachine")
    for function in _functions(cfn).values():
        env = function["Properties"]["Environment"]["Variables"]
        assert env["SIGHTLINE_SITE_URL"] == SITE_ORIGIN
        assert env["SIGHTLINE_SENDER_EMAIL"] == CONTEXT["sender_email"]
        assert env["SIGHTLINE_FORCE_NAME"] == CONTEXT["force_name"]
        assert env["SIGHTLINE_USER_POOL_ID"] == {"Ref": pool_id}
        assert env["SIGHTLINE_USER_POOL_CLIENT_ID"] == {"Ref": client_id}
        assert pool_id in set(refs(env["SIGHTLINE_JWKS_URL"]))
        assert env["SIGHTLINE_STATE_MACHINE_ARN"] == {"Ref": machine_id}
        assert env["SIGHTLINE_WORKFLOW_QUEUE"] == f"{P}-workflow"
        assert env["SIGHTLINE_INGEST_QUEUE"] == f"{P}-ingest"
        assert env["SIGHTLINE_REQUESTS_TABLE"] == f"{P}-requests"
        assert env["SIGHTLINE_EVIDENCE_TABLE"] == f"{P}-evidence"
        assert f"{P}-evidence-" in str(env["SIGHTLINE_EVIDENCE_BUCKET"])
        # A secret is named by its ARN (a reference), never carried.
        (secret_id, _) = only(cfn, "AWS::SecretsManager::Secret")
        for name, value in env.items():
            if any(word in name for word in ("SECRET", "PASSWORD", "KEY")):
                assert name == "SIGHTLINE_PSEUDONYM_KEY_SECRET" and value == {"Ref": secret_id}, name


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
    rates = {r["Name"]: r for r in props["Rules"] if "RateBasedStatement" in r["Statement"]}
    names = ("public-endpoints-per-ip", "owner-requests-per-ip", "health-per-ip")
    # Each per caller twice: by source address, and by the viewer's through the apps' CloudFront
    assert set(rates) == {name + twin for name in names for twin in ("", "-via-site")}
    for name, rule in rates.items():
        via_site = name.endswith("-via-site")
        rate = rule["Statement"]["RateBasedStatement"]
        assert rate["AggregateKeyType"] == ("FORWARDED_IP" if via_site else "IP") and "Block" in rule["Action"]
        assert ("ForwardedIPConfig" in rate) == via_site

    def paths(or_statement):
        return {s["ByteMatchStatement"]["SearchString"] for s in or_statement["OrStatement"]["Statements"]}

    def scope(name):
        return rates[name]["Statement"]["RateBasedStatement"]["ScopeDownStatement"]["AndStatement"]["Statements"][0]

    matches, excluded = scope("public-endpoints-per-ip")["AndStatement"]["Statements"]
    assert paths(matches) == {"/registrations", "/owner/", "/api/registrations", "/api/owner/"}
    # An owner's footage-request page polls while uploading: its own, larger budget.
    assert paths(excluded["NotStatement"]["Statement"]) == paths(scope("owner-requests-per-ip")) == {
        "/owner/requests/", "/api/owner/requests/"}
    public = rates["public-endpoints-per-ip"]["Statement"]["RateBasedStatement"]
    owner = rates["owner-requests-per-ip"]["Statement"]["RateBasedStatement"]
    assert public["Limit"] < owner["Limit"]
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


def _queue_id(cfn, name: str) -> str:
    (logical_id,) = [k for k, v in resources(cfn, "AWS::SQS::Queue").items()
                     if v["Properties"]["QueueName"] == f"{P}-{name}"]
    return logical_id


def _granted(policies: list, prefix: str) -> set:
    return {a for s in policies for a in as_list(s["Action"]) if a.startswith(prefix)}


def _statements_with(policies: list, action: str) -> list:
    return [s for s in policies if action in as_list(s["Action"])]


def _evidence_resources(cfn, policies: list, actions: set) -> set:
    """What the statements granting any of ``actions`` name, as text ("<bucket>", "<bucket>/requests/*")."""
    bucket_id, _ = _evidence_bucket(cfn)
    found = set()
    for statement in policies:
        if not actions & set(as_list(statement["Action"])) or statement.get("Sid") in ("CopyAuditEntries", "OfficersDownloadExports"):
            continue
        for resource in as_list(statement["Resource"]):
            if resource == {"Fn::GetAtt": [bucket_id, "Arn"]}:
                found.add("<bucket>")
            else:
                parts = resource["Fn::Join"][1]
                assert parts[0] == {"Fn::GetAtt": [bucket_id, "Arn"]}, resource
                found.add("<bucket>" + "".join(parts[1:]))
    return found


def _bucket_id(cfn, kind: str) -> str:
    (found,) = [k for k, v in resources(cfn, "AWS::S3::Bucket").items() if f"{P}-{kind}-" in str(v["Properties"]["BucketName"])]
    return found


def _evidence_bucket(cfn):
    (found,) = [(k, v) for k, v in resources(cfn, "AWS::S3::Bucket").items()
                if f"{P}-evidence-" in str(v["Properties"]["BucketName"])]
    return found


def _kms_through(policies: list, service: str) -> set:
    return {a for s in policies if any(a.startswith("kms:") for a in as_list(s["Action"]))
            and f"{service}.eu-west-2.amazonaws.com" in as_list(s["Condition"]["StringEquals"]["kms:ViaService"])
            for a in as_list(s["Action"])}


def test_each_function_gets_only_what_its_code_uses(cfn):
    policies = _function_policies(cfn)
    registrations, tokens, geo, requests, evidence, audit, claims, counts = (
        _table_id(cfn, s) for s in (
            "registrations", "tokens", "geo-index", "requests", "evidence", "audit", "registration-claims", "email-counts"))
    notifications, ingest_queue, workflow_queue = (_queue_id(cfn, q) for q in ("notifications", "ingest", "workflow"))
    machine_id, _ = only(cfn, "AWS::StepFunctions::StateMachine")
    pool_id, _ = only(cfn, "AWS::Cognito::UserPool")
    send = {"sqs:SendMessage", "sqs:GetQueueUrl"}
    consume = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}

    deliver = policies["DeliverNotifications"]
    # A deletion's tombstone is marked confirmed, then removed with its index entry and claim.
    assert _actions_on(deliver, registrations) == {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}
    assert _actions_on(deliver, geo) == {"dynamodb:DeleteItem"}
    assert _actions_on(deliver, claims) == {"dynamodb:DeleteItem"}
    assert _actions_on(deliver, counts) == {"dynamodb:UpdateItem"}
    assert _actions_on(deliver, tokens) == {"dynamodb:PutItem"}
    # Requests made to a deleted registration are pseudonymised (found through by-registration).
    assert _actions_on(deliver, requests) == {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem"}
    assert _actions_on(deliver, evidence) == {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem"}
    (ses,) = _statements_with(deliver, "ses:SendRawEmail")
    assert ses["Condition"] == {"StringEquals": {"ses:FromAddress": CONTEXT["sender_email"]}}
    assert _actions_on(deliver, notifications) == consume
    (cognito,) = [s for s in deliver if _granted([s], "cognito-idp:")]
    assert as_list(cognito["Action"]) == ["cognito-idp:AdminGetUser"]
    assert cognito["Resource"] == {"Fn::GetAtt": [pool_id, "Arn"]}
    assert not _granted(deliver, "s3:") and not _granted(deliver, "states:")

    housekeeping = policies["Housekeeping"]
    # Purges, and reconciles the geo index and the claims with the registrations; takes
    # registrations through re-confirmation (conditional updates).
    assert _actions_on(housekeeping, registrations) == {"dynamodb:Scan", "dynamodb:GetItem", "dynamodb:BatchGetItem",
                                                        "dynamodb:DeleteItem", "dynamodb:UpdateItem"}
    assert _actions_on(housekeeping, geo) == {"dynamodb:Scan", "dynamodb:PutItem", "dynamodb:DeleteItem"}
    assert _actions_on(housekeeping, claims) == {"dynamodb:Scan", "dynamodb:DeleteItem"}
    assert _actions_on(housekeeping, tokens) == {"dynamodb:Scan", "dynamodb:DeleteItem"}
    assert _actions_on(housekeeping, requests) == {"dynamodb:Scan", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem"}
    assert not _actions_on(housekeeping, counts) and not _granted(housekeeping, "secretsmanager:")
    assert _actions_on(housekeeping, notifications) == send
    assert _granted(housekeeping, "sqs:") == send
    assert not _granted(housekeeping, "ses:") and not _granted(housekeeping, "s3:")

    ingest = policies["IngestEvidence"]
    assert _actions_on(ingest, ingest_queue) == consume
    assert _actions_on(ingest, evidence) == {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}
    assert _actions_on(ingest, requests) == {"dynamodb:GetItem", "dynamodb:UpdateItem"}
    assert _actions_on(ingest, notifications) == send
    # Each exhibit's custody log is append-only; its reference is claimed once in its case.
    assert _actions_on(ingest, _table_id(cfn, "custody")) == {"dynamodb:PutItem", "dynamodb:Query"}
    assert _actions_on(ingest, _table_id(cfn, "exhibits")) == {"dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:Query"}
    assert _granted(ingest, "dynamodb:") == {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"}
    for logical_id, policy in policies.items():  # nothing may change or remove a custody event
        assert not _actions_on(policy, _table_id(cfn, "custody")) & {"dynamodb:UpdateItem", "dynamodb:DeleteItem"}, logical_id
    # Tags are read before a quarantine tag is added, so the malware scan's stays.
    assert _granted(ingest, "s3:") == {"s3:GetObject", "s3:GetObjectVersion", "s3:PutObjectLegalHold",
                                       "s3:PutObjectTagging", "s3:PutObjectVersionTagging",
                                       "s3:GetObjectTagging", "s3:GetObjectVersionTagging"}
    assert _evidence_resources(cfn, ingest, _granted(ingest, "s3:")) == {"<bucket>/requests/*"}
    (hold,) = _statements_with(ingest, "s3:PutObjectLegalHold")  # on, never off
    assert as_list(hold["Action"]) == ["s3:PutObjectLegalHold"]
    assert hold["Condition"] == {"StringEquals": {"s3:object-lock-legal-hold": "ON"}}
    assert _kms_through(ingest, "s3") == {"kms:Decrypt"}
    assert not _granted(ingest, "states:") and not _granted(ingest, "ses:")

    flow = policies["WorkflowEvents"]
    assert _actions_on(flow, workflow_queue) == consume
    assert _actions_on(flow, requests) == {"dynamodb:GetItem", "dynamodb:UpdateItem"}
    assert _granted(flow, "dynamodb:") == {"dynamodb:GetItem", "dynamodb:UpdateItem"}
    assert _actions_on(flow, notifications) == send
    assert _actions_on(flow, machine_id) == {"states:SendTaskSuccess"}
    assert _granted(flow, "states:") == {"states:SendTaskSuccess"}
    assert not _granted(flow, "s3:") and not _granted(flow, "ses:")

    # Only the functions that compute owners' keyed hashes may read their key.
    (secret_id, _) = only(cfn, "AWS::SecretsManager::Secret")
    for name in ("DeliverNotifications", "APIHandler"):
        assert _actions_on(policies[name], secret_id) == {"secretsmanager:GetSecretValue"}, name
    for name in ("IngestEvidence", "WorkflowEvents", "Housekeeping", "BuildExports"):
        assert not _granted(policies[name], "secretsmanager:"), name
    assert _actions_on(deliver, counts) == {"dynamodb:UpdateItem"}

    api = policies["APIHandler"]
    assert _actions_on(api, notifications) == send
    assert _actions_on(api, counts) == {"dynamodb:DescribeTable"}
    assert _granted(api, "sqs:") == send
    assert not _granted(api, "ses:") and "dynamodb:Scan" not in _granted(api, "dynamodb:")
    assert _actions_on(api, requests) == {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
                                          "dynamodb:Query", "dynamodb:DescribeTable"}
    # Evidence items are made by ingest_evidence alone; a download records the scan's verdict.
    assert _actions_on(api, evidence) == {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem",
                                          "dynamodb:DescribeTable"}
    assert _actions_on(api, machine_id) == {"states:StartExecution", "states:SendTaskSuccess"}
    assert _granted(api, "states:") == {"states:StartExecution", "states:SendTaskSuccess"}
    # Presigned POST / multipart upload for owners and presigned GET for officers (after reading
    # the malware scan's tag), under requests/ only; nothing bucket-wide.
    assert _granted(api, "s3:") == {"s3:PutObject", "s3:GetObject", "s3:GetObjectVersion",
                                    "s3:ListMultipartUploadParts", "s3:GetObjectTagging", "s3:GetObjectVersionTagging"}
    assert _evidence_resources(cfn, api, _granted(api, "s3:")) == {"<bucket>/requests/*"}
    # And the presigned GETs of a ready export's files, under exports/ only.
    (exports_get,) = [s for s in api if s.get("Sid") == "OfficersDownloadExports"]
    assert as_list(exports_get["Action"]) == ["s3:GetObject"]
    assert exports_get["Resource"] == {"Fn::Join": ["", [{"Fn::GetAtt": [_bucket_id(cfn, "exports"), "Arn"]}, "/exports/*"]]}
    assert _kms_through(api, "s3") == {"kms:GenerateDataKey", "kms:Decrypt"}

    # Indexes are named only where the code queries them (by-case, by-request), never for a Scan.
    for table, index in ((requests, "by-case"), (evidence, "by-request")):
        (statement,) = [s for s in api if table in set(refs(s["Resource"]))]
        assert any(f"/index/{index}" in str(r) for r in as_list(statement["Resource"])), index
    for statement in _statements_with(housekeeping, "dynamodb:Scan"):
        assert not any("/index/" in str(r) for r in as_list(statement["Resource"]))


def test_no_role_may_destroy_or_unprotect_evidence(cfn):
    """Object Lock keeps originals; no role may bypass retention or change the lock, and only
    the daily retention job may lift a legal hold or delete an object version (of requests/)."""
    forbidden = {"s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObjectRetention", "s3:BypassGovernanceRetention",
                 "s3:PutBucketObjectLockConfiguration", "s3:PutBucketPolicy", "s3:PutLifecycleConfiguration",
                 "s3:PutObjectAcl"}
    for logical_id, role in resources(cfn, "AWS::IAM::Role").items():
        granted = {a for p in role["Properties"].get("Policies", []) for s in statements(p["PolicyDocument"])
                   for a in as_list(s["Action"])}
        if "EvidenceRetention" in logical_id:
            assert granted & forbidden == {"s3:DeleteObjectVersion"}, logical_id
            continue
        assert not granted & forbidden, logical_id
    retention = _function_policies(cfn)["EvidenceRetention"]
    assert _granted(retention, "s3:") == {"s3:PutObjectLegalHold", "s3:DeleteObjectVersion"}
    assert _evidence_resources(cfn, retention, _granted(retention, "s3:")) == {"<bucket>/requests/*"}
    assert not _granted(retention, "sqs:") and not _granted(retention, "ses:")
    events = _functions(cfn)["EvidenceRetention"]["Properties"]["Events"]
    assert [e["Properties"]["Schedule"] for e in events.values()] == ["rate(1 day)"]


def test_only_the_api_may_copy_audit_entries_and_only_put_them(cfn):
    (audit_id,) = [k for k, v in resources(cfn, "AWS::S3::Bucket").items()
                   if f"{P}-audit-" in str(v["Properties"]["BucketName"])]
    for logical_id, policy in _function_policies(cfn).items():
        naming = [s for s in policy if audit_id in set(refs(s["Resource"]))]
        if logical_id != "APIHandler":
            assert naming == [], logical_id
            continue
        (statement,) = naming
        assert as_list(statement["Action"]) == ["s3:PutObject"]
        assert statement["Resource"] == {"Fn::Join": ["", [{"Fn::GetAtt": [audit_id, "Arn"]}, "/audit/*"]]}
    api = _functions(cfn)["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert "SIGHTLINE_AUDIT_BUCKET" in api and api["SIGHTLINE_AUDIT_RETENTION_DAYS"] == "2192"
    for logical_id, function in _functions(cfn).items():
        if logical_id != "APIHandler":
            assert "SIGHTLINE_AUDIT_BUCKET" not in function["Properties"]["Environment"]["Variables"], logical_id


def test_audit_log_is_append_only_for_every_role(cfn):
    audit = _table_id(cfn, "audit")
    for logical_id, role in resources(cfn, "AWS::IAM::Role").items():
        granted = _actions_on([s for p in role["Properties"].get("Policies", [])
                               for s in statements(p["PolicyDocument"])], audit)
        assert not granted & {"dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}, logical_id
    # Its index by registration is written in batches, never updated or deleted by a function.
    index = _table_id(cfn, "audit-registrations")
    for logical_id, role in resources(cfn, "AWS::IAM::Role").items():
        granted = _actions_on([s for p in role["Properties"].get("Policies", [])
                               for s in statements(p["PolicyDocument"])], index)
        assert not granted & {"dynamodb:UpdateItem", "dynamodb:DeleteItem"}, logical_id


def test_kms_use_is_only_through_the_services(cfn):
    for logical_id, statements_ in _function_policies(cfn).items():
        for statement in statements_:
            if any(a.startswith("kms:") for a in as_list(statement["Action"])):
                assert "kms:ViaService" in statement["Condition"]["StringEquals"], logical_id


def test_the_export_worker_copies_server_side_with_least_privilege(cfn):
    """build_exports reads evidence versions and their scan tags, writes under exports/ only,
    never deletes, reads its tables and appends to the custody log (PutItem and Query only)."""
    policies = _function_policies(cfn)["BuildExports"]
    evidence_bucket, exports_bucket = _bucket_id(cfn, "evidence"), _bucket_id(cfn, "exports")
    exports, cases, requests, evidence, custody = (
        _table_id(cfn, s) for s in ("exports", "cases", "requests", "evidence", "custody"))

    def on(bucket_id: str, prefix: str) -> set:
        target = {"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, f"/{prefix}*"]]}
        return {a for s in policies if target in as_list(s["Resource"]) for a in as_list(s["Action"])}

    assert on(evidence_bucket, "requests/") == {"s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging",
                                               "s3:GetObjectVersionTagging"}
    assert on(exports_bucket, "exports/") == {"s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"}
    assert _granted(policies, "s3:") == on(evidence_bucket, "requests/") | on(exports_bucket, "exports/")
    assert _kms_through(policies, "s3") == {"kms:Decrypt", "kms:GenerateDataKey"}
    assert _actions_on(policies, custody) == {"dynamodb:PutItem", "dynamodb:Query"}
    assert _actions_on(policies, exports) == {"dynamodb:GetItem", "dynamodb:UpdateItem"}
    assert _actions_on(policies, cases) == {"dynamodb:GetItem"}
    assert _actions_on(policies, requests) == {"dynamodb:Query"}
    assert _actions_on(policies, evidence) == {"dynamodb:Query", "dynamodb:UpdateItem"}
    assert not {"dynamodb:DeleteItem", "dynamodb:Scan", "dynamodb:BatchWriteItem"} & _granted(policies, "dynamodb:")
    assert _actions_on(policies, _queue_id(cfn, "exports")) == {
        "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:SendMessage", "sqs:GetQueueUrl"}
    assert _actions_on(policies, _queue_id(cfn, "notifications")) == {"sqs:SendMessage", "sqs:GetQueueUrl"}
    assert not _granted(policies, "ses:") and not _granted(policies, "states:")

    function = _functions(cfn)["BuildExports"]["Properties"]
    # A copy of a 50 GiB file is S3's work, not the function's: 15 minutes, modest memory and concurrency.
    assert function["Timeout"] == 900 and function["MemorySize"] == 512
    assert function["ReservedConcurrentExecutions"] <= 5
    variables = function["Environment"]["Variables"]
    assert variables["SIGHTLINE_EXPORTS_QUEUE"] == f"{P}-exports" and variables["SIGHTLINE_EXPORTS_BUCKET"]
    api = _functions(cfn)["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert api["SIGHTLINE_EXPORTS_BUCKET"] == variables["SIGHTLINE_EXPORTS_BUCKET"]
