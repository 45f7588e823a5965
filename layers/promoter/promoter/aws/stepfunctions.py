"""Step Functions: start an execution named after the promotion; answer a task token."""

import json
from typing import Any

from botocore.exceptions import ClientError

from .clients import LazyClient
from .errors import code_of

# The token is gone: the wait already ended (bake timed out, or another signal answered it).
STALE_TOKEN_CODES = {"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"}


class WorkflowAdapter(LazyClient):
    service = "stepfunctions"

    def start(self, state_machine_arn: str, name: str, payload: dict[str, Any]) -> str:
        arn: str = self.client.start_execution(stateMachineArn=state_machine_arn, name=name, input=json.dumps(payload))[
            "executionArn"
        ]
        return arn

    def status(self, execution_arn: str) -> str | None:
        """RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED; None if there is no such execution."""
        try:
            status: str = self.client.describe_execution(executionArn=execution_arn)["status"]
            return status
        except ClientError as error:
            if code_of(error) == "ExecutionDoesNotExist":
                return None
            raise

    def succeed(self, token: str, output: dict[str, Any]) -> bool:
        """Answer a wait. False if the wait had already ended."""
        return self._answer(lambda: self.client.send_task_success(taskToken=token, output=json.dumps(output)))

    def fail(self, token: str, error: str, cause: str) -> bool:
        return self._answer(lambda: self.client.send_task_failure(taskToken=token, error=error, cause=cause[:32_000]))

    @staticmethod
    def _answer(call: Any) -> bool:
        try:
            call()
        except ClientError as error:
            if code_of(error) in STALE_TOKEN_CODES:
                return False
            raise
        return True
