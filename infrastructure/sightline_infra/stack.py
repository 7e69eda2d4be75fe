"""The whole of Sightline in one stack."""
from __future__ import annotations

from typing import Dict, Optional

from aws_cdk import ArnFormat, CfnOutput, Duration, Fn, Stack, Tags
from constructs import Construct

from chalicelib.base.config import Config as AppConfig
from chalicelib.investigations.schemas import MAX_REGISTRATIONS_PER_CALL, MAX_RESULTS

from . import workflow
from .api import API_DOMAIN, API_GATEWAY_STAGE, ChaliceApi
from .data import DataKey, Tables, table_specs
from .guard import EvidenceTrail, MalwareScan
from .mail import Mail
from .monitoring import Monitoring
from .officers import OfficerPool
from .policies import AUDIT_WRITERS, PSEUDONYM_READERS, Resources
from .queues import Queues
from .settings import Settings
from .security_headers import API_PREFIX, console_content_security_policy
from .site import Site
from .storage import AccessLogBucket, AuditBucket, EvidenceBucket, ExportsBucket, SiteBucket

# The Chalice stage whose settings (.chalice/config.json) the functions get: chalice.cdk
# names the stage after the construct's scope, i.e. this stack's id.
CHALICE_STAGE = "prod"


class SightlineStack(Stack):
    def __init__(self, scope: Construct, *, settings: Settings, **kwargs) -> None:
        super().__init__(scope, CHALICE_STAGE, stack_name=settings.prefix, **kwargs)
        Tags.of(self).add("project", "sightline")
        Tags.of(self).add("sightline:deployment", settings.prefix)
        prefix = settings.prefix

        data_key = DataKey(self, "DataKey", settings=settings)
        key = data_key.key
        specs = table_specs()
        tables = Tables(self, "Tables", settings=settings, key=key, specs=specs)

        queues = Queues(self, "Queues")
        # Visibility timeout: six times the consumer's timeout (AWS's advice for Lambda; a test
        # checks it against .chalice/config.json), so a batch still being worked on, and its
        # retries, are never handed to a second consumer.
        notifications = queues.add("Notifications", queue_name=f"{prefix}-notifications", key=key,
                                   visibility_timeout=Duration.minutes(6))
        # ingest_evidence streams objects of up to 16 GiB to hash them: a 15-minute timeout,
        # so its messages stay hidden 90 minutes and may be in flight a quarter of an hour
        # without the backlog alarm firing.
        ingest = queues.add("Ingest", queue_name=f"{prefix}-ingest", key=key, visibility_timeout=Duration.minutes(90),
                            backlog_age=Duration.minutes(30))
        # The footage-request state machine's messages (wait with a task token, remind, expire).
        workflow_queue = queues.add("Workflow", queue_name=f"{prefix}-workflow", key=key,
                                    visibility_timeout=Duration.minutes(6))
        # build_exports runs up to 15 minutes a message (a long build continues in a new message).
        exports_queue = queues.add("Exports", queue_name=f"{prefix}-exports", key=key,
                                   visibility_timeout=Duration.minutes(90), backlog_age=Duration.minutes(30))

        access_logs = AccessLogBucket(self, "AccessLogs", settings=settings).bucket
        site_bucket = SiteBucket(self, "SiteBucket", settings=settings, access_logs=access_logs).bucket

        # With a custom domain the site's CloudFront routes /api/* to API Gateway: one origin, no
        # CORS, and the CSP names no API. On CloudFront's own domain that would be a dependency
        # cycle (the functions' SIGHTLINE_SITE_URL is the distribution's name, and the distribution
        # would name the API), so a trial calls the API on its execute-api host, which the CSP
        # then allows for any API in the region (docs/decisions.md, 2026-12-02).
        evidence_name = f"{prefix}-evidence-{self.account}-{self.region}"
        upload_origin = f"https://{evidence_name}.s3.{self.region}.amazonaws.com"
        if settings.has_site_domain:
            api_domain: Optional[str] = Fn.sub(API_DOMAIN)
            connect_origins = [upload_origin]
        else:
            api_domain = None
            connect_origins = [f"https://*.execute-api.{self.region}.amazonaws.com", upload_origin]
        site = Site(
            self,
            "Site",
            settings=settings,
            bucket=site_bucket,
            api_domain=api_domain,
            connect_origins=connect_origins,
        )
        site_url = f"https://{site.domain_name}"
        # The officers' console: its own bucket and distribution, a stricter CSP (our origin and
        # Cognito's API only), and /api/* always on its origin (nothing the API is built with
        # names the console, so there is no cycle to avoid).
        console_bucket = SiteBucket(self, "ConsoleBucket", settings=settings, access_logs=access_logs, app="console").bucket
        cognito_endpoint = f"https://cognito-idp.{self.region}.amazonaws.com"
        console = Site(
            self,
            "Console",
            settings=settings,
            bucket=console_bucket,
            api_domain=Fn.sub(API_DOMAIN),
            app="console",
            csp=console_content_security_policy(cognito_endpoint=cognito_endpoint, tile_url=settings.tile_url,
                                                geocoder_url=settings.geocoder_url),
            domain=(settings.console_domain, settings.console_certificate_arn) if settings.console_domain else None,
        )
        evidence = EvidenceBucket(self, "Evidence", settings=settings, data_key=data_key, site_origin=site_url,
                                  ingest=ingest, access_logs=access_logs)
        # Downloads wait for GuardDuty's verdict on each object; every object-level call is on record.
        MalwareScan(self, "EvidenceMalwareScan", bucket=evidence.bucket, bucket_name=evidence.bucket_name, data_key=data_key)
        EvidenceTrail(self, "EvidenceTrail", settings=settings, evidence=evidence.bucket, data_key=data_key,
                      access_logs=access_logs)

        audit = AuditBucket(self, "Audit", settings=settings, data_key=data_key, access_logs=access_logs)
        export_ttl_days = AppConfig.from_environ({}).export_ttl_days
        exports = ExportsBucket(self, "Exports", settings=settings, data_key=data_key, access_logs=access_logs,
                                ttl_days=export_ttl_days)

        officers = OfficerPool(self, "Officers", settings=settings)
        mail = Mail(self, "Mail", settings=settings)
        monitoring = Monitoring(self, "Monitoring", settings=settings, key=key)
        data_key.allow_service("CloudWatchAlarmsPublishToAlarmTopic", "cloudwatch.amazonaws.com",
                               ["kms:Decrypt", "kms:GenerateDataKey"],
                               self.format_arn(service="cloudwatch", resource="alarm", resource_name=f"{prefix}-*",
                                               arn_format=ArnFormat.COLON_RESOURCE_NAME))

        table_names = {spec.suffix: tables.name(settings, spec.suffix) for spec in specs}
        # Built before the functions, which start its executions and end its waiting tasks:
        # it depends on the queues and the key only, so its ARN can be referenced without a cycle.
        flow = workflow.FootageRequestWorkflow(
            self,
            "FootageRequest",
            settings=settings,
            asl_file=workflow.ASL_FILE,
            names=workflow.substitutions(
                table_names, {name: q.queue.queue_url for name, q in queues.by_name.items()}, prefix
            ),
            table_arns={workflow.table_placeholder(s): t.table_arn for s, t in tables.by_suffix.items()},
            queue_arns={
                workflow.queue_placeholder(name, prefix): q.queue.queue_arn for name, q in queues.by_name.items()
            },
            key=key,
            region=self.region,
        )
        state_machine = flow.state_machine
        environment: Dict[str, str] = {
            "SIGHTLINE_RESOURCE_PREFIX": prefix,
            **{spec.env_var: table_names[spec.suffix] for spec in specs},
            "SIGHTLINE_NOTIFICATIONS_QUEUE": notifications.queue_name,
            # Known at deploy time: a function's first message needs no GetQueueUrl call.
            "SIGHTLINE_NOTIFICATIONS_QUEUE_URL": notifications.queue.queue_url,
            "SIGHTLINE_INGEST_QUEUE": ingest.queue_name,
            "SIGHTLINE_WORKFLOW_QUEUE": workflow_queue.queue_name,
            "SIGHTLINE_STATE_MACHINE_ARN": state_machine.state_machine_arn,
            "SIGHTLINE_EVIDENCE_BUCKET": evidence.bucket_name,
            "SIGHTLINE_EXPORTS_BUCKET": exports.bucket_name,
            "SIGHTLINE_EXPORTS_QUEUE": exports_queue.queue_name,
            # The bucket's lifecycle expires exports a day after this.
            "SIGHTLINE_EXPORT_TTL_DAYS": str(export_ttl_days),
            "SIGHTLINE_SITE_URL": site_url,
            "SIGHTLINE_SENDER_EMAIL": settings.sender_email,
            "SIGHTLINE_FORCE_NAME": settings.force_name,
            "SIGHTLINE_USER_POOL_ID": officers.pool.user_pool_id,
            "SIGHTLINE_USER_POOL_CLIENT_ID": officers.client.user_pool_client_id,
            "SIGHTLINE_JWKS_URL": officers.jwks_url,
            # Entries' TTL; the audit bucket's lock and lifecycle use the same period.
            "SIGHTLINE_AUDIT_RETENTION_DAYS": str(settings.audit_retention_days),
        }
        if settings.console_domain:
            # Officers' emails link to the console; on CloudFront's own name it would be a cycle
            # (the console's distribution names the API), so without a domain they name no link.
            environment["SIGHTLINE_CONSOLE_URL"] = f"https://{settings.console_domain}"
        pseudonym_key = data_key.pseudonym_key(settings)
        # Only the functions that write audit entries learn where their copies go, and only
        # those that compute keyed hashes where their key is.
        function_environment: Dict[str, Dict[str, str]] = {name: {} for name in (*AUDIT_WRITERS, *PSEUDONYM_READERS)}
        for name in AUDIT_WRITERS:
            function_environment[name]["SIGHTLINE_AUDIT_BUCKET"] = audit.bucket_name
        for name in PSEUDONYM_READERS:
            function_environment[name]["SIGHTLINE_PSEUDONYM_KEY_SECRET"] = pseudonym_key.secret_arn
        resources = Resources(
            stack=self,
            key=key,
            tables=tables.by_suffix,
            table_specs={spec.suffix: spec for spec in specs},
            queues=queues.by_name,
            notifications_queue=notifications.queue_name,
            ses_identity_arn=self.format_arn(service="ses", resource="identity", resource_name=mail.identity_name),
            ses_configuration_set_arn=self.format_arn(service="ses", resource="configuration-set",
                                                      resource_name=mail.configuration_set_name),
            sender_email=settings.sender_email,
            state_machine_arn=state_machine.state_machine_arn,
            evidence_bucket=evidence.bucket,
            audit_bucket=audit.bucket,
            exports_bucket=exports.bucket,
            exports_queue=exports_queue.queue_name,
            officers_pool_arn=officers.pool.user_pool_arn,
            ingest_queue=ingest.queue_name,
            workflow_queue=workflow_queue.queue_name,
            pseudonym_secret_arn=pseudonym_key.secret_arn,
        )
        api = ChaliceApi(self, "Api", settings=settings, resources=resources, environment=environment,
                         function_environment=function_environment, log_key=key)

        monitoring.watch_functions(api.function_names)
        monitoring.watch_api(f"{prefix}-api", API_GATEWAY_STAGE, f"{prefix}-api", self.region)
        monitoring.watch_queues(list(queues.by_name.values()))
        monitoring.watch_state_machine(state_machine)
        monitoring.add_alarms(mail.alarms)
        monitoring.dashboard()

        outputs = {
            "ApiUrl": (api.url, "Base URL of the API (the site's apiUrl)"),
            "SiteUrl": (site_url, "The residents' site"),
            "SiteBucketName": (site_bucket.bucket_name, "Where `make deploy` publishes site/"),
            "DistributionId": (site.distribution.distribution_id, "CloudFront distribution of the site"),
            "DistributionDomainName": (site.distribution.distribution_domain_name,
                                       "Point the site's DNS name (CNAME/alias) here"),
            "UserPoolId": (officers.pool.user_pool_id, "Officers' Cognito user pool"),
            "UserPoolClientId": (officers.client.user_pool_client_id, "Officer API app client"),
            "EvidenceBucketName": (evidence.bucket_name, "Owners' uploaded footage"),
            "AuditBucketName": (audit.bucket_name, "The audit log's locked copy (python -m tools.verify_audit)"),
            "ExportsBucketName": (exports.bucket_name, "Case exports, built for the force's evidence system"),
            "AlarmTopicArn": (monitoring.topic.topic_arn, "Subscribe on-call channels here"),
        }
        outputs.update({
            "ConsoleUrl": (f"https://{console.domain_name}", "The officers' console"),
            "ConsoleBucketName": (console_bucket.bucket_name, "Where `make deploy` publishes console/"),
            "ConsoleDistributionId": (console.distribution.distribution_id, "CloudFront distribution of the console"),
            "ConsoleDistributionDomainName": (console.distribution.distribution_domain_name,
                                              "Point the console's DNS name (CNAME/alias) here"),
        })
        for name, (value, description) in outputs.items():
            CfnOutput(self, name, value=value, description=description)
        lat, lon = (float(v) for v in settings.map_center.split(","))
        CfnOutput(
            self,
            "SiteConfig",
            description="window.SIGHTLINE_CONFIG for the site's config.js (written by publish_site.py)",
            value=self.to_json_string(
                {
                    "apiUrl": API_PREFIX if api_domain is not None else api.url,
                    "tileUrl": settings.tile_url,
                    "tileAttribution": settings.tile_attribution,
                    "forceName": settings.force_name,
                    "mapCenter": [lat, lon],
                    "mapZoom": settings.map_zoom,
                }
            ),
        )
        CfnOutput(
            self,
            "ConsoleConfig",
            description="window.SIGHTLINE_CONFIG for the console's config.js (written by publish_site.py)",
            value=self.to_json_string(
                {
                    "apiUrl": API_PREFIX,
                    "cognitoEndpoint": cognito_endpoint,
                    "userPoolClientId": officers.client.user_pool_client_id,
                    "idleMinutes": settings.console_idle_minutes,
                    "tileUrl": settings.tile_url,
                    "tileAttribution": settings.tile_attribution,
                    "forceName": settings.force_name,
                    "mapCenter": [lat, lon],
                    "mapZoom": settings.map_zoom,
                    "categories": list(AppConfig.from_environ({}).case_categories),
                    "timeZone": AppConfig.from_environ({}).force_timezone,
                    "maxRegistrationsPerRequest": MAX_REGISTRATIONS_PER_CALL,
                    "maxResults": MAX_RESULTS,
                    "geocoderUrl": settings.geocoder_url,
                }
            ),
        )

