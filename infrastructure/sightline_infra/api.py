"""The Chalice app (API Gateway and every function) packaged by ``chalice.cdk``, and what
Chalice has no setting for: roles per function, log groups, limits, the SQS mapping's
partial batch responses, API Gateway throttling and access logs, and the WAF web ACL."""
from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional, Sequence

from aws_cdk import Fn, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from chalice.cdk import Chalice
from chalice.utils import to_cfn_resource_name
from constructs import Construct

from . import capacity, edge, packaging
from .policies import FUNCTIONS, Resources, role_for
from .settings import Settings
from .suppressions import skip_checks

# Named as the site's API prefix (security_headers.API_PREFIX): CloudFront passes "/api/x" on
# unchanged, which on the execute-api host is this stage's resource "/x".
API_GATEWAY_STAGE = "api"
# Chalice names the API resource "RestAPI"; this is its default (execute-api) host.
API_DOMAIN = "${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}"
# Throttling, per method (API Gateway applies each setting to each method on its own), across
# all clients. Each public method gets the budget an appeal to 2,000 owners needs and no more
# (capacity.py), so a flood is refused at the gateway (429) before it reaches the function, and
# what residents can hold of the API function's reserved concurrency leaves officers theirs.
PUBLIC_PATH_PREFIXES = ("/registrations", "/owner")
# An owner's footage-request session (WAF gives these paths their own per-IP budget).
OWNER_REQUEST_PATHS = ("/owner/requests/",)
HEALTH_PATH = "/health"
OFFICER_PATH = "/officer/"

_ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "requestTime": "$context.requestTime",
        "ip": "$context.identity.sourceIp",
        "method": "$context.httpMethod",
        "resource": "$context.resourcePath",
        "status": "$context.status",
        "responseLength": "$context.responseLength",
        "latencyMs": "$context.responseLatency",
        "integrationError": "$context.integration.error",
        "wafStatus": "$context.waf.status",
        "xrayTraceId": "$context.xrayTraceId",
    },
    separators=(",", ":"),
)


class UnknownFunction(RuntimeError):
    pass


class ChaliceApi(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        settings: Settings,
        resources: Resources,
        environment: Dict[str, str],
        log_key: kms.IKey,
        function_environment: Optional[Dict[str, Dict[str, str]]] = None,
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        self.settings = settings
        self.function_names = {name: f"{settings.prefix}-{spec.name_suffix}" for name, spec in FUNCTIONS.items()}
        self.roles = {
            name: role_for(stack, self, spec, self.function_names[name], resources) for name, spec in FUNCTIONS.items()
        }
        self.log_groups = {
            name: logs.LogGroup(
                self,
                f"{to_cfn_resource_name(name)}Logs",
                log_group_name=f"/aws/lambda/{function_name}",
                retention=settings.log_retention,
                encryption_key=log_key,
                removal_policy=RemovalPolicy.RETAIN,
            )
            for name, function_name in self.function_names.items()
        }

        project = packaging.stage_project()
        stage = stack.node.id
        self._write_stage_roles(project, stage, function_environment or {})
        # Chalice imports app.py to package it, and the app reads its configuration (the SQS
        # queue its handler consumes, the CORS origin) at import: give it the deployed values.
        os.environ.update(environment)
        # The Chalice stage is the scope's path, so the construct sits directly in the stack
        # and .chalice/config.json's stage of the same name holds the functions' limits.
        self.app = Chalice(
            stack,
            "Chalice",
            source_dir=str(project),
            stage_config={"environment_variables": environment},
        )
        self._sam = self._read_sam_template()
        self._configure_functions(resources)
        self._configure_rest_api(settings, log_key)
        self.web_acl = self._web_acl(settings, log_key)

    # ------------------------------------------------------------------ packaging

    def _write_stage_roles(self, project, stage: str, function_environment: Dict[str, Dict[str, str]]) -> None:
        """Give each function its own role: Chalice reads per-function settings only from
        .chalice/config.json, so the staged copy gets each role's ARN (a CDK token that the
        construct resolves when it imports Chalice's template), and the variables only some
        functions get (added to the stage's)."""
        path = project / ".chalice" / "config.json"
        config = json.loads(path.read_text())
        stage_config = config.setdefault("stages", {}).setdefault(stage, {})
        stage_config["manage_iam_role"] = False
        functions = stage_config.setdefault("lambda_functions", {})
        for name, role in self.roles.items():
            functions.setdefault(name, {})["iam_role_arn"] = role.role_arn
        for name, variables in function_environment.items():
            functions.setdefault(name, {}).setdefault("environment_variables", {}).update(variables)
        path.write_text(json.dumps(config, indent=2))

    def _read_sam_template(self) -> Dict[str, Any]:
        # chalice.cdk keeps Chalice's own template beside the package it built.
        path = os.path.join(self.app._sam_package_dir, "sam.json")  # noqa: SLF001 (no public accessor)
        with open(path) as f:
            return json.load(f)

    def _sam_resources(self, type_: str) -> Dict[str, Dict[str, Any]]:
        return {k: v for k, v in self._sam["Resources"].items() if v["Type"] == type_}

    # ------------------------------------------------------------------ functions

    def _configure_functions(self, resources: Resources) -> None:
        by_logical_id = {("APIHandler" if n == "api_handler" else to_cfn_resource_name(n)): n for n in FUNCTIONS}
        self.functions: Dict[str, Any] = {}
        self.reserved_concurrency: Dict[str, int] = {}
        for logical_id, definition in self._sam_resources("AWS::Serverless::Function").items():
            name = by_logical_id.get(logical_id)
            if name is None:
                raise UnknownFunction(
                    f"The app defines a function {logical_id!r} that infrastructure/sightline_infra/policies.py "
                    "does not know: add a FunctionSpec with the least privileges its code needs."
                )
            function = self.app.get_resource(logical_id)
            self.functions[name] = function
            function.add_property_override("FunctionName", self.function_names[name])
            # Chalice names the runtime after the Python that packages; the dependencies in
            # vendor/ are built for this one (see packaging.py).
            function.add_property_override("Runtime", packaging.LAMBDA_RUNTIME)
            function.node.add_dependency(self.log_groups[name].node.default_child)
            reserved = definition["Properties"].get("ReservedConcurrentExecutions")
            if not reserved:
                raise ValueError(f".chalice/config.json: set reserved_concurrency for {name}")
            self.reserved_concurrency[name] = reserved
            for event_name, event in definition["Properties"].get("Events", {}).items():
                if event["Type"] == "SQS":
                    self._wire_sqs_event(function, event_name, event, resources, reserved)
            skip_checks(
                function,
                {
                    "CKV_AWS_116": "No asynchronous invocations to lose: API Gateway calls synchronously and "
                    "SQS-driven functions use the queue's own dead-letter queue (alarmed). The hourly "
                    "schedule simply runs again and its errors raise an alarm.",
                    "CKV_AWS_117": "The functions call only AWS APIs (DynamoDB, SQS, SES, S3) over TLS with "
                    "IAM; no private network resource to reach, so a VPC adds NAT cost and cold start only.",
                    "CKV_AWS_173": "The environment holds resource names and ids only, never a secret; "
                    "Lambda encrypts it at rest with an AWS managed key.",
                },
            )

    def _wire_sqs_event(self, function, event_name: str, event: Dict[str, Any], resources: Resources,
                        reserved: int) -> None:
        queue_ref = event["Properties"]["Queue"]
        arn = queue_ref["Fn::Sub"] if isinstance(queue_ref, dict) else queue_ref
        queue_name = arn.rsplit(":", 1)[1]
        queue = resources.queues.get(queue_name)
        if queue is None:
            raise UnknownFunction(f"{event_name}: the app reads SQS queue {queue_name!r}, which the stack does not define")
        base = f"Events.{event_name}.Properties"
        # A reference (not Chalice's ARN string) so CloudFormation creates the queue first.
        function.add_property_override(f"{base}.Queue", queue.queue.queue_arn)
        # The handlers answer with Powertools' partial batch response: only failed records
        # return to the queue (and, after max_receive_count, its DLQ).
        function.add_property_override(f"{base}.FunctionResponseTypes", ["ReportBatchItemFailures"])
        # Never let the mapping scale past the reserved concurrency (which would throttle it).
        function.add_property_override(f"{base}.ScalingConfig", {"MaximumConcurrency": max(2, reserved)})

    # ------------------------------------------------------------------ API Gateway

    def _configure_rest_api(self, settings: Settings, log_key: kms.IKey) -> None:
        self.rest_api = self.app.get_resource("RestAPI")
        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            log_group_name=f"/aws/apigateway/{settings.prefix}-access",
            retention=settings.log_retention,
            encryption_key=log_key,
            removal_policy=RemovalPolicy.RETAIN,
        )
        def throttled(resource_path: str, method: str, rate: int) -> Dict[str, Any]:
            return {
                "ResourcePath": resource_path,
                "HttpMethod": method,
                "ThrottlingRateLimit": rate,
                "ThrottlingBurstLimit": capacity.burst(rate),
                "LoggingLevel": "ERROR",
                "DataTraceEnabled": False,  # would log request bodies: residents' personal data
                "MetricsEnabled": True,
            }

        method_settings: List[Dict[str, Any]] = [throttled("/*", "*", capacity.STAGE_RATE_LIMIT)]
        public: List[tuple] = []
        for path, methods in sorted(self._sam["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["paths"].items()):
            for method in sorted(m.upper() for m in methods if m != "options"):
                if path.startswith(PUBLIC_PATH_PREFIXES):
                    public.append((method, path))
                    rate = capacity.method_rate(method, path)
                elif path == HEALTH_PATH:
                    rate = capacity.HEALTH_RATE_LIMIT
                else:
                    continue
                # "/a/b" is "/~1a~1b"
                method_settings.append(throttled("/" + path.replace("/", "~1"), method, rate))
        self.public_methods = [("/" + path.replace("/", "~1"), method) for method, path in public]
        # Residents' throttles bound the executions they can hold; officers keep the rest.
        needed = capacity.resident_concurrency(public) + capacity.OFFICER_CONCURRENCY
        if self.reserved_concurrency["api_handler"] < needed:
            raise ValueError(
                f".chalice/config.json: api_handler's reserved_concurrency must be at least {needed} "
                "(residents' throttles x time, plus officers' share; see capacity.py)"
            )
        self.rest_api.add_property_override("Name", f"{settings.prefix}-api")
        self.rest_api.add_property_override("MethodSettings", method_settings)
        self.rest_api.add_property_override(
            "AccessLogSetting", {"DestinationArn": self.access_logs.log_group_arn, "Format": _ACCESS_LOG_FORMAT}
        )
        self.rest_api.add_property_override("TracingEnabled", True)
        self.rest_api.add_property_override("CacheClusterEnabled", False)
        if settings.apigateway_cloudwatch_role:
            self.rest_api.node.add_dependency(self._apigateway_account_role())
        skip_checks(
            self.rest_api,
            {
                "CKV_AWS_120": "Responses carry one resident's or officer's personal data and must never be "
                "served from a shared cache.",
            },
        )
        self.url = Fn.sub("https://" + API_DOMAIN + "/" + API_GATEWAY_STAGE)
        # SAM resolves ${RestAPI.Stage} to the stage it generates, so the WAF association
        # waits for the stage to exist.
        self.stage_arn = Fn.sub(
            "arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/${RestAPI}/stages/${RestAPI.Stage}"
        )

    def _apigateway_account_role(self) -> apigateway.CfnAccount:
        """API Gateway writes execution and access logs through one role set per account and
        region (``apigateway_cloudwatch_role=false`` if the platform team manages it)."""
        role = iam.Role(
            self,
            "ApiGatewayLogsRole",
            description="API Gateway's account-wide role for writing logs to CloudWatch",
            assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"),
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AmazonAPIGatewayPushToCloudWatchLogs")
            ],
        )
        account = apigateway.CfnAccount(self, "ApiGatewayAccount", cloud_watch_role_arn=role.role_arn)
        account.apply_removal_policy(RemovalPolicy.RETAIN)
        return account

    # ------------------------------------------------------------------ WAF

    def _web_acl(self, settings: Settings, log_key: kms.IKey) -> wafv2.CfnWebACL:
        def visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
            return wafv2.CfnWebACL.VisibilityConfigProperty(
                cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
            )

        def managed(priority: int, name: str) -> wafv2.CfnWebACL.RuleProperty:
            return wafv2.CfnWebACL.RuleProperty(
                name=name,
                priority=priority,
                override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                        vendor_name="AWS", name=name
                    )
                ),
                visibility_config=visibility(name),
            )

        def rate_rule(name: str, priority: int, limit: int, scope: wafv2.CfnWebACL.StatementProperty,
                      via_site: bool) -> wafv2.CfnWebACL.RuleProperty:
            return wafv2.CfnWebACL.RuleProperty(
                name=name,
                priority=priority,
                action=wafv2.CfnWebACL.RuleActionProperty(
                    block=wafv2.CfnWebACL.BlockActionProperty(
                        custom_response=wafv2.CfnWebACL.CustomResponseProperty(response_code=429)
                    )
                ),
                statement=wafv2.CfnWebACL.StatementProperty(
                    rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                        aggregate_key_type="FORWARDED_IP" if via_site else "IP",
                        forwarded_ip_config=edge.viewer_ip_config("MATCH") if via_site else None,
                        limit=limit,
                        evaluation_window_sec=300,
                        scope_down_statement=edge.both(scope, edge.via_edge() if via_site else edge.not_via_edge()),
                    )
                ),
                visibility_config=visibility(name),
            )

        priorities = iter(range(1, 10))

        def per_ip(name: str, limit: int, scope: wafv2.CfnWebACL.StatementProperty) -> List[wafv2.CfnWebACL.RuleProperty]:
            """Per caller: by the viewer's address for requests through the apps' CloudFront
            (``edge``), by the source address for the rest."""
            return [
                rate_rule(name, next(priorities), limit, scope, via_site=False),
                rate_rule(f"{name}-via-site", next(priorities), limit, scope, via_site=True),
            ]

        # An owner answering a footage request works in a session: the page starts each
        # upload, completes it and looks at the request while files are checked, backing off
        # (site/js/poll.js): about 23 requests in 5 minutes, and many owners may share one
        # address (capacity.py). So those paths get their own, larger per-IP budget.
        owner_requests = paths_starting_with(*OWNER_REQUEST_PATHS)
        rate_rules = [
            *per_ip(
                "public-endpoints-per-ip", settings.api_rate_limit_per_ip,
                wafv2.CfnWebACL.StatementProperty(
                    and_statement=wafv2.CfnWebACL.AndStatementProperty(
                        statements=[
                            paths_starting_with("/registrations", "/owner/"),
                            wafv2.CfnWebACL.StatementProperty(
                                not_statement=wafv2.CfnWebACL.NotStatementProperty(statement=owner_requests)
                            ),
                        ]
                    )
                ),
            ),
            *per_ip("owner-requests-per-ip", settings.owner_request_rate_limit_per_ip, owner_requests),
            # Monitors only: a flood from one address stops at WAF, before API Gateway's
            # throttle (shared by every caller of /health) turns the monitors away too.
            *per_ip("health-per-ip", settings.health_rate_limit_per_ip, paths_starting_with(HEALTH_PATH)),
        ]
        # A viewer address on a request that did not come through CloudFront is forged: its
        # sender would otherwise choose the address its requests are counted under.
        forged = wafv2.CfnWebACL.RuleProperty(
            name="forged-viewer-address",
            priority=0,
            action=wafv2.CfnWebACL.RuleActionProperty(block={}),
            statement=edge.both(edge.names_a_viewer(), edge.not_via_edge()),
            visibility_config=visibility("forged-viewer-address"),
        )
        officers_only = officer_allow_list(self, settings, priority=next(priorities))
        acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            name=f"{settings.prefix}-api",
            description="Sightline API: AWS managed rules and per-IP rate limits on the public endpoints",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=visibility(f"{settings.prefix}-api"),
            rules=[
                forged,
                *rate_rules,
                *([officers_only] if officers_only else []),
                managed(10, "AWSManagedRulesAmazonIpReputationList"),
                managed(20, "AWSManagedRulesCommonRuleSet"),
                managed(30, "AWSManagedRulesKnownBadInputsRuleSet"),
            ],
        )
        wafv2.CfnWebACLAssociation(self, "WebAclAssociation", resource_arn=self.stage_arn, web_acl_arn=acl.attr_arn)
        # Only requests WAF blocked or counted are logged (with the Authorization header
        # redacted): enough to investigate an attack without a log of every resident's visit.
        waf_logs = logs.LogGroup(
            self,
            "WafLogs",
            log_group_name=f"aws-waf-logs-{settings.prefix}-api",
            retention=settings.log_retention,
            encryption_key=log_key,
            removal_policy=RemovalPolicy.RETAIN,
        )
        wafv2.CfnLoggingConfiguration(
            self,
            "WafLogging",
            resource_arn=acl.attr_arn,
            log_destination_configs=[
                Fn.sub(
                    "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${Name}",
                    {"Name": waf_logs.log_group_name},
                )
            ],
            redacted_fields=[wafv2.CfnLoggingConfiguration.FieldToMatchProperty(single_header={"Name": "authorization"})],
            logging_filter={
                "DefaultBehavior": "DROP",
                "Filters": [
                    {
                        "Behavior": "KEEP",
                        "Requirement": "MEETS_ANY",
                        "Conditions": [
                            {"ActionCondition": {"Action": "BLOCK"}},
                            {"ActionCondition": {"Action": "COUNT"}},
                        ],
                    }
                ],
            },
        )
        return acl


def paths_starting_with(*paths: str, transformations: Sequence[str] = ("LOWERCASE",)) -> wafv2.CfnWebACL.StatementProperty:
    """A request whose path starts with one of ``paths`` (after ``transformations``). WAF sees
    the path with the stage on the execute-api host ("/api/registrations") and without it behind
    a custom domain ("/registrations"): both are matched."""
    return wafv2.CfnWebACL.StatementProperty(
        or_statement=wafv2.CfnWebACL.OrStatementProperty(
            statements=[
                wafv2.CfnWebACL.StatementProperty(
                    byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
                        field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(uri_path={}),
                        positional_constraint="STARTS_WITH",
                        search_string=prefix + path,
                        text_transformations=[
                            wafv2.CfnWebACL.TextTransformationProperty(priority=n, type=kind)
                            for n, kind in enumerate(transformations)
                        ],
                    )
                )
                for prefix in ("", f"/{API_GATEWAY_STAGE}")
                for path in paths
            ]
        )
    )


def officer_allow_list(scope: Construct, settings: Settings, priority: int) -> Optional[wafv2.CfnWebACL.RuleProperty]:
    """With ``officer_ip_ranges`` set: one IP set per IP version in ``scope``, and a rule that
    blocks (403) every request to ``/officer/*`` from outside them. None when unset."""
    ranges = settings.officer_ranges_by_version
    if not ranges:
        return None
    name = "officer-routes-from-force-ranges"
    ip_sets = [
        wafv2.CfnIPSet(
            scope,
            f"OfficerRangesIPv{version}",
            name=f"{settings.prefix}-officer-ranges-ipv{version}",
            description=f"The force's IPv{version} ranges, the only sources of /officer/* requests",
            scope="REGIONAL",
            ip_address_version=f"IPV{version}",
            addresses=addresses,
        ).attr_arn
        for version, addresses in sorted(ranges.items())
    ]

    def in_ranges(via_site: bool) -> wafv2.CfnWebACL.StatementProperty:
        """The caller's address (the viewer's, through the apps' CloudFront) in a range."""
        forwarded = wafv2.CfnWebACL.IPSetForwardedIPConfigurationProperty(
            header_name=edge.VIEWER_IP_HEADER, fallback_behavior="NO_MATCH", position="FIRST"
        )
        statements = [
            wafv2.CfnWebACL.StatementProperty(
                ip_set_reference_statement=wafv2.CfnWebACL.IPSetReferenceStatementProperty(
                    arn=arn, ip_set_forwarded_ip_config=forwarded if via_site else None
                )
            )
            for arn in ip_sets
        ]
        matched = statements[0] if len(statements) == 1 else wafv2.CfnWebACL.StatementProperty(
            or_statement=wafv2.CfnWebACL.OrStatementProperty(statements=statements)
        )
        return edge.both(edge.via_edge() if via_site else edge.not_via_edge(), matched)

    # Decoded and normalised first (WAF's NORMALIZE_PATH folds "//" and "/./"), so that an
    # encoded or doubled path that API Gateway still routes to /officer/* is caught too.
    officer_paths = paths_starting_with(OFFICER_PATH, transformations=("URL_DECODE", "NORMALIZE_PATH", "LOWERCASE"))
    from_force = wafv2.CfnWebACL.StatementProperty(
        or_statement=wafv2.CfnWebACL.OrStatementProperty(statements=[in_ranges(False), in_ranges(True)])
    )
    return wafv2.CfnWebACL.RuleProperty(
        name=name,
        priority=priority,
        action=wafv2.CfnWebACL.RuleActionProperty(block={}),
        statement=wafv2.CfnWebACL.StatementProperty(
            and_statement=wafv2.CfnWebACL.AndStatementProperty(
                statements=[
                    officer_paths,
                    wafv2.CfnWebACL.StatementProperty(
                        not_statement=wafv2.CfnWebACL.NotStatementProperty(statement=from_force)
                    ),
                ]
            )
        ),
        visibility_config=wafv2.CfnWebACL.VisibilityConfigProperty(
            cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
        ),
    )
