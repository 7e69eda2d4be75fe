"""SES: the sender's domain identity (DKIM) and a configuration set.

No SES templates: the app renders every email itself with Jinja2 from ``templates/email/``
(packaged inside the function) and sends it with SendRawEmail, so the same rendering code
runs locally, in tests and in AWS.
"""
from __future__ import annotations

from aws_cdk import CfnOutput, Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ses as ses
from constructs import Construct

from .settings import Settings


class Mail(Construct):
    def __init__(self, scope: Construct, id: str, *, settings: Settings) -> None:
        super().__init__(scope, id)
        self.configuration_set = ses.ConfigurationSet(
            self,
            "ConfigurationSet",
            configuration_set_name=f"{settings.prefix}-mail",
            reputation_metrics=True,
            sending_enabled=True,
            suppression_reasons=ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
            tls_policy=ses.ConfigurationSetTlsPolicy.REQUIRE,
        )
        # The identity is the sender's domain; SES sends every message from it through our
        # configuration set (set as the identity's default, as the app names none).
        self.identity = ses.EmailIdentity(
            self,
            "Identity",
            identity=ses.Identity.domain(settings.sender_domain),
            configuration_set=self.configuration_set,
            dkim_signing=True,
        )
        self.identity_name = settings.sender_domain
        self.configuration_set_name = f"{settings.prefix}-mail"
        for n in (1, 2, 3):
            CfnOutput(
                self,
                f"DkimRecord{n}",
                description=f"DKIM CNAME record {n} of 3 to publish in {settings.sender_domain}'s DNS",
                value=f"{getattr(self.identity, f'dkim_dns_token_name{n}')} CNAME "
                f"{getattr(self.identity, f'dkim_dns_token_value{n}')}",
            )
        self.alarms = [
            cloudwatch.Alarm(
                self,
                "BounceRateAlarm",
                alarm_name=f"{settings.prefix}-ses-bounce-rate",
                alarm_description="Over 4% of emails bounce; SES reviews accounts at 5% and may pause sending.",
                metric=cloudwatch.Metric(
                    namespace="AWS/SES", metric_name="Reputation.BounceRate", period=Duration.hours(1), statistic="Maximum"
                ),
                threshold=0.04,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            cloudwatch.Alarm(
                self,
                "ComplaintRateAlarm",
                alarm_name=f"{settings.prefix}-ses-complaint-rate",
                alarm_description="Over 0.08% of emails are marked as spam; SES reviews accounts at 0.1%.",
                metric=cloudwatch.Metric(
                    namespace="AWS/SES", metric_name="Reputation.ComplaintRate", period=Duration.hours(1), statistic="Maximum"
                ),
                threshold=0.0008,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
        ]
