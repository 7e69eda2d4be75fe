"""Alarms (to one SNS topic) and the operations dashboard."""
from __future__ import annotations

from typing import Dict, List, Optional

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from .queues import MonitoredQueue
from .settings import Settings

FIVE_MINUTES = Duration.minutes(5)


def _lambda_metric(function_name: str, metric: str, statistic: str = "Sum") -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace="AWS/Lambda",
        metric_name=metric,
        dimensions_map={"FunctionName": function_name},
        period=FIVE_MINUTES,
        statistic=statistic,
    )


def _api_metric(api_name: str, stage: str, metric: str, statistic: str = "Sum") -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace="AWS/ApiGateway",
        metric_name=metric,
        dimensions_map={"ApiName": api_name, "Stage": stage},
        period=FIVE_MINUTES,
        statistic=statistic,
    )


class Monitoring(Construct):
    def __init__(self, scope: Construct, id: str, *, settings: Settings, key: kms.IKey) -> None:
        super().__init__(scope, id)
        self.settings = settings
        self.topic = sns.Topic(
            self,
            "AlarmTopic",
            topic_name=f"{settings.prefix}-alarms",
            display_name="Sightline alarms",
            master_key=key,
            enforce_ssl=True,
        )
        if settings.alert_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(settings.alert_email))
        self.alarms: List[cloudwatch.Alarm] = []
        self.widgets: List[cloudwatch.IWidget] = []

    def add_alarms(self, alarms: List[cloudwatch.Alarm]) -> None:
        for alarm in alarms:
            alarm.add_alarm_action(actions.SnsAction(self.topic))
            alarm.add_ok_action(actions.SnsAction(self.topic))
            self.alarms.append(alarm)

    def _alarm(self, id: str, name: str, description: str, metric: cloudwatch.IMetric, threshold: float,
               evaluation_periods: int = 1) -> cloudwatch.Alarm:
        return cloudwatch.Alarm(
            self,
            id,
            alarm_name=name,
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            evaluation_periods=evaluation_periods,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )

    def watch_functions(self, function_names: Dict[str, str]) -> None:
        for name, function_name in sorted(function_names.items()):
            self.add_alarms(
                [
                    self._alarm(f"{name}Errors", f"{function_name}-errors",
                                f"{function_name} raised errors: read its log group /aws/lambda/{function_name}.",
                                _lambda_metric(function_name, "Errors"), 0),
                    self._alarm(f"{name}Throttles", f"{function_name}-throttles",
                                f"{function_name} hit its reserved concurrency: requests or messages were refused.",
                                _lambda_metric(function_name, "Throttles"), 0),
                ]
            )
        names = [function_names[n] for n in sorted(function_names)]
        self.widgets += [
            cloudwatch.GraphWidget(title="Lambda invocations", width=8,
                                   left=[_lambda_metric(n, "Invocations") for n in names]),
            cloudwatch.GraphWidget(title="Lambda errors and throttles", width=8,
                                   left=[_lambda_metric(n, "Errors") for n in names]
                                   + [_lambda_metric(n, "Throttles") for n in names]),
            cloudwatch.GraphWidget(title="Lambda duration p95 (ms)", width=8,
                                   left=[_lambda_metric(n, "Duration", "p95") for n in names]),
            cloudwatch.GraphWidget(title="Lambda concurrent executions", width=8,
                                   left=[_lambda_metric(n, "ConcurrentExecutions", "Maximum") for n in names]),
        ]

    def watch_api(self, api_name: str, stage: str, web_acl_name: str, region: str) -> None:
        self.add_alarms(
            [
                self._alarm("Api5xx", f"{api_name}-5xx", "The API answered with server errors (5xx).",
                            _api_metric(api_name, stage, "5XXError"), 5),
                self._alarm("ApiLatency", f"{api_name}-latency-p99",
                            "The API's p99 latency stayed above 5 s for 15 minutes.",
                            _api_metric(api_name, stage, "Latency", "p99"), 5000, evaluation_periods=3),
            ]
        )
        waf = [
            cloudwatch.Metric(namespace="AWS/WAFV2", metric_name=metric,
                              dimensions_map={"WebACL": web_acl_name, "Region": region, "Rule": "ALL"},
                              period=FIVE_MINUTES, statistic="Sum")
            for metric in ("AllowedRequests", "BlockedRequests")
        ]
        self.widgets += [
            cloudwatch.GraphWidget(title="API requests and errors", width=8,
                                   left=[_api_metric(api_name, stage, m) for m in ("Count", "4XXError", "5XXError")]),
            cloudwatch.GraphWidget(title="API latency p50/p99 (ms)", width=8,
                                   left=[_api_metric(api_name, stage, "Latency", s) for s in ("p50", "p99")]),
            cloudwatch.GraphWidget(title="WAF allowed / blocked", width=8, left=waf),
        ]

    def watch_queues(self, queues: List[MonitoredQueue]) -> None:
        for queue in queues:
            self.add_alarms(queue.alarms)
        self.widgets += [
            cloudwatch.GraphWidget(title="Queue depth", width=8,
                                   left=[q.queue.metric_approximate_number_of_messages_visible(period=FIVE_MINUTES,
                                                                                              statistic="Maximum")
                                         for q in queues]),
            cloudwatch.GraphWidget(title="Dead-letter queue depth", width=8,
                                   left=[q.dead_letters.metric_approximate_number_of_messages_visible(
                                       period=FIVE_MINUTES, statistic="Maximum") for q in queues]),
        ]

    def watch_state_machine(self, state_machine: Optional[sfn.StateMachine]) -> None:
        if state_machine is None:
            return
        self.add_alarms(
            [
                self._alarm("WorkflowFailed", f"{self.settings.prefix}-footage-request-failed",
                            "A footage-request execution failed: the owner or officer may not have been told.",
                            state_machine.metric_failed(period=FIVE_MINUTES), 0),
                self._alarm("WorkflowTimedOut", f"{self.settings.prefix}-footage-request-timed-out",
                            "A footage-request execution timed out.",
                            state_machine.metric_timed_out(period=FIVE_MINUTES), 0),
                self._alarm("WorkflowAborted", f"{self.settings.prefix}-footage-request-aborted",
                            "A footage-request execution was aborted.",
                            state_machine.metric_aborted(period=FIVE_MINUTES), 0),
            ]
        )
        self.widgets.append(
            cloudwatch.GraphWidget(title="Footage-request executions", width=8,
                                   left=[state_machine.metric_started(period=FIVE_MINUTES),
                                         state_machine.metric_succeeded(period=FIVE_MINUTES),
                                         state_machine.metric_failed(period=FIVE_MINUTES)])
        )

    def dashboard(self) -> cloudwatch.Dashboard:
        board = cloudwatch.Dashboard(self, "Dashboard", dashboard_name=f"{self.settings.prefix}-operations")
        board.add_widgets(
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=self.alarms, width=24,
                                         height=max(3, 1 + len(self.alarms) // 4))
        )
        for start in range(0, len(self.widgets), 3):
            board.add_widgets(*self.widgets[start:start + 3])
        return board
