"""Step Functions executions as AWS runs them: error names, execution names, time.

moto 5.2.5's ASL interpreter runs the real ASL (statemachines/). Its limits are in
sandbox/aws/stepfunctions/limits.py.
"""

from __future__ import annotations

import time
from typing import Any

from moto.moto_api._internal import mock_random
from moto.stepfunctions.parser import models as sfn_models
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import Timeout, TimeoutSeconds
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_aws_sdk,
)
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

from ...clock import CLOCK


def name_sdk_errors() -> None:
    """An aws-sdk task's error is named ``<Service>.<ErrorCode>`` with AWS's service names
    (``Lambda.ResourceNotFoundException``), so the ASL's Catch and Retry match as on AWS.
    https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html#use-awssdk-integ-handle-exception"""
    state_task_service_aws_sdk._SERVICE_ERROR_NAMES.update(
        {"lambda": "Lambda", "cloudwatch": "CloudWatch", "eventbridge": "EventBridge", "sns": "Sns"}
    )


def name_executions() -> None:
    """StartExecution without a name gets a generated one (a UUID), as AWS does.
    https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html#StepFunctions-StartExecution-request-name"""
    original_start = sfn_models.StepFunctionsParserBackend.start_execution

    def start_execution(self: Any, state_machine_arn: str, name: Any = None, *args: Any, **kwargs: Any):
        return original_start(self, state_machine_arn, name or str(mock_random.uuid4()), *args, **kwargs)

    sfn_models.StepFunctionsParserBackend.start_execution = start_execution


def scale_time() -> None:
    """Wait states, Retry intervals and task timeouts last ``seconds / scale`` real seconds on the
    sandbox clock (sandbox/clock.py), so a 30 s bake lasts 3 s at scale 10; a fixed
    ``TimeoutSeconds`` keeps a floor (``SandboxClock.real_timeout``), since a handler's real run time
    does not shrink with the clock, while bakes (``TimeoutSecondsPath``) scale fully. A Retry
    interval keeps a floor of up to 1 s (``SandboxClock.retry_wait``): the throttling it waits out
    is counted in real seconds, so a retry scaled to nothing would be refused again, as it would
    not be on AWS. On AWS these are
    real time. https://docs.aws.amazon.com/step-functions/latest/dg/state-wait.html,
    https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html#error-handling-retrying-after-an-error"""

    original_timeout = Timeout._eval_body

    def scaled_timeout(self: Any, env: Any) -> None:
        original_timeout(self, env)
        seconds = env.stack.pop()
        scaled = CLOCK.real(seconds)
        if isinstance(self, TimeoutSeconds):
            # A handler's real run time does not shrink with the clock: keep a floor for fixed
            # timeouts; bakes (TimeoutSecondsPath) scale fully.
            scaled = CLOCK.real_timeout(seconds)
        env.stack.append(scaled)

    Timeout._eval_body = scaled_timeout

    def wait_interval(self: Any, env: Any, wait_seconds: float) -> None:
        deadline = time.monotonic() + CLOCK.real(wait_seconds)
        while env.is_running() and (left := deadline - time.monotonic()) > 0:
            env.program_state_event.wait(left)

    WaitFunction._wait_interval = wait_interval

    class _ScaledTimeModule:
        def __getattr__(self, name: str) -> Any:
            return getattr(time, name)

        @staticmethod
        def sleep(seconds: float) -> None:
            time.sleep(CLOCK.retry_wait(seconds))

    retrier_decl.time = _ScaledTimeModule()  # type: ignore[assignment]  # a module's stand-in: its sleep on the sandbox clock
