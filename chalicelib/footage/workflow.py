"""The footage-request timer: one Step Functions execution per request.

The state machine (``infrastructure/state_machines/footage_request.asl.json``) only waits and
sends messages to the workflow queue; this module starts executions, ends them when the owner
answers (by completing the execution's current task token), and handles its messages:

- ``waiting``: the execution is waiting on a new task token: keep it on the request, or, if
  the owner has already answered, complete it at once (the answer may have come first);
- ``remind``: half-way to the deadline: remind an owner who has not answered;
- ``expire``: the deadline: mark the request expired (conditionally: a late answer and the
  expiry cannot both win) and tell the officer.
"""
from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any, Dict, Optional

from pynamodb.exceptions import UpdateError

from chalicelib.base import clients
from chalicelib.base.batches import each_message
from chalicelib.base.config import get_config
from chalicelib.base.lazy import Lazy
from chalicelib.base.messages import Notify
from chalicelib.base.store import condition_failed
from chalicelib.footage import requests
from chalicelib.footage.tables import OPEN, FootageRequest

# Answers for a task token that is no longer waiting: nothing to do.
_FINISHED_TOKEN_ERRORS = {"InvalidToken", "TaskTimedOut", "TaskDoesNotExist"}


class Workflow:
    """Starts and ends executions; its Step Functions client is built on first use (an owner's
    reminder or the expiry never needs one)."""

    def __init__(self, state_machine_arn: str, sfn: Optional[Any] = None):
        self._arn = state_machine_arn
        self._client = sfn

    @property
    def _sfn(self) -> Any:
        if self._client is None:
            self._client = clients.client("stepfunctions")
        return self._client

    def start(self, item: FootageRequest, now: datetime) -> None:
        """Start the request's execution, named by its id so a retried start is harmless."""
        reminder_after = max(1, math.ceil((item.reminder_at - now).total_seconds()))
        deadline_after = max(1, math.ceil((item.deadline - item.reminder_at).total_seconds()))
        try:
            self._sfn.start_execution(
                stateMachineArn=self._arn,
                name=item.request_id,
                input=json.dumps(
                    {
                        "request_id": item.request_id,
                        "reminder_after_s": reminder_after,
                        "deadline_after_reminder_s": deadline_after,
                    }
                ),
            )
        except self._sfn.exceptions.ExecutionAlreadyExists:
            pass

    def answered(self, item: FootageRequest) -> None:
        """End the execution of an answered request, if it is waiting on a token now."""
        if item.task_token:
            self.finish(item.task_token, item.status)

    def finish(self, task_token: str, status: str) -> None:
        try:
            self._sfn.send_task_success(taskToken=task_token, output=json.dumps({"status": status}))
        except self._sfn.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in _FINISHED_TOKEN_ERRORS:
                raise


def handle(message: Dict[str, Any], *, workflow: Workflow, notify: Notify, now: datetime) -> None:
    request_id = message["request_id"]
    stage = message["stage"]
    item = requests.find(request_id)
    if item is None:
        if stage == "waiting":
            workflow.finish(message["task_token"], "missing")
        return
    if stage == "waiting":
        _keep_token(item, message["task_token"], workflow)
    elif stage == "remind":
        if item.status in OPEN:
            notify({"type": "footage_reminder", "request_id": request_id})
    elif stage == "expire":
        requests.expire(request_id, now)
        # Whether this delivery or an earlier one (which failed after the move) expired it.
        requests.tell_officer(requests.find(request_id), notify)
    else:
        raise ValueError(f"unknown workflow stage {stage!r}")


def handle_batch(event: Dict[str, Any], *, workflow: Workflow, notify: Notify, now: datetime) -> Dict[str, Any]:
    """An SQS batch of the state machine's messages; a failed one goes back for retry alone."""
    return each_message(event, lambda message: handle(message, workflow=workflow, notify=notify, now=now))


def _keep_token(item: FootageRequest, task_token: str, workflow: Workflow) -> None:
    try:
        item.update(
            actions=[FootageRequest.task_token.set(task_token)],
            condition=FootageRequest.status.is_in(*OPEN),
        )
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        item.refresh(consistent_read=True)
        workflow.finish(task_token, item.status)  # answered before the timer got here


get_workflow: Lazy[Workflow] = Lazy(lambda: Workflow(get_config().state_machine_arn))
