"""EventBridge Scheduler: one schedule per lambda-promoter schedule, in the stack's group."""

import json
from typing import Any

from botocore.exceptions import ClientError

from .clients import LazyClient
from .errors import code_of


class SchedulerAdapter(LazyClient):
    service = "scheduler"

    def create(
        self,
        *,
        name: str,
        group: str,
        expression: str,
        timezone: str,
        target_arn: str,
        role_arn: str,
        payload: dict[str, Any],
        one_time: bool,
    ) -> str:
        arn: str = self.client.create_schedule(
            Name=name,
            GroupName=group,
            ScheduleExpression=expression,
            ScheduleExpressionTimezone=timezone,
            FlexibleTimeWindow={"Mode": "OFF"},
            State="ENABLED",
            # A one-time schedule removes itself once it fired; the record keeps the history.
            ActionAfterCompletion="DELETE" if one_time else "NONE",
            Target={
                "Arn": target_arn,
                "RoleArn": role_arn,
                "Input": json.dumps(payload),
                # The trigger records "busy" or "frozen" as a skipped run; never retry blindly.
                "RetryPolicy": {"MaximumRetryAttempts": 0},
            },
        )["ScheduleArn"]
        return arn

    def delete(self, name: str, group: str) -> None:
        try:
            self.client.delete_schedule(Name=name, GroupName=group)
        except ClientError as error:
            if code_of(error) != "ResourceNotFoundException":
                raise  # already gone: a one-time schedule deletes itself after it fired
