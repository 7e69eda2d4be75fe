"""SQS queues: every one with a dead-letter queue, encryption, TLS only and depth alarms."""
from __future__ import annotations

from typing import Dict, List

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct


class MonitoredQueue(Construct):
    """A work queue and its dead-letter queue, with the two alarms that matter:
    anything in the DLQ (a message failed ``max_receive_count`` times) and work piling up."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        queue_name: str,
        key: kms.IKey,
        visibility_timeout: Duration,
        max_receive_count: int = 5,
        backlog_age: Duration = Duration.minutes(15),
    ) -> None:
        super().__init__(scope, id)
        self.queue_name = queue_name
        self.dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            queue_name=f"{queue_name}-dlq",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            data_key_reuse=Duration.hours(1),
            enforce_ssl=True,
            retention_period=Duration.days(14),
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.queue = sqs.Queue(
            self,
            "Queue",
            queue_name=queue_name,
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            data_key_reuse=Duration.hours(1),
            enforce_ssl=True,
            visibility_timeout=visibility_timeout,
            retention_period=Duration.days(4),
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dead_letters, max_receive_count=max_receive_count),
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.alarms: List[cloudwatch.Alarm] = [
            cloudwatch.Alarm(
                self,
                "DeadLettersAlarm",
                alarm_name=f"{queue_name}-dlq-not-empty",
                alarm_description=f"Messages of {queue_name} failed repeatedly and wait in {queue_name}-dlq. "
                "Find the cause in the consumer's logs, fix it, then redrive the DLQ.",
                metric=self.dead_letters.metric_approximate_number_of_messages_visible(
                    period=Duration.minutes(5), statistic="Maximum"
                ),
                threshold=0,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            cloudwatch.Alarm(
                self,
                "BacklogAlarm",
                alarm_name=f"{queue_name}-backlog",
                alarm_description=f"The oldest message in {queue_name} has waited over "
                f"{int(backlog_age.to_minutes())} minutes: its consumer is failing, throttled or too slow.",
                metric=self.queue.metric_approximate_age_of_oldest_message(
                    period=Duration.minutes(5), statistic="Maximum"
                ),
                threshold=backlog_age.to_seconds(),
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=2,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
        ]


class Queues(Construct):
    """All of the app's queues, by name, so the Chalice SQS handlers can be wired to them."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        self.by_name: Dict[str, MonitoredQueue] = {}

    def add(self, id: str, **kwargs) -> MonitoredQueue:
        queue = MonitoredQueue(self, id, **kwargs)
        self.by_name[queue.queue_name] = queue
        return queue
