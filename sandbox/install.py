"""The sandbox's one entry point into moto: every patch, in order, once per process.

``install(time_scale, function_env)`` applies ``PATCHES`` the first time it is called in a process,
then (every time) sets what every sandboxed function sees and restarts the background threads
(sandbox/workers.py) on the clock at ``time_scale``. ``Sandbox`` (in-process) and the server of
``make sandbox`` both start through ``sandbox.core.start_local_aws``, which calls it.

Each patch is a function of the module of the AWS service it fakes (sandbox/aws/<service>), named
for the AWS behaviour it reproduces, with a docstring that cites AWS's documentation for it.
The order matters where two patches touch one call: the Lambda runtime's per-invocation stdout
and environment come before any function runs; IAM comes last, so it authorises every request
before any other patch's code sees it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from . import workers
from .aws import backends, cloudformation, dynamodb, logs, scheduler
from .aws.awslambda import code, invoke, runtime, throttling, versions
from .aws.cloudwatch import alarms, percentiles
from .aws.events import delivery
from .aws.iam import policy
from .aws.stepfunctions import execution, limits, reuse
from .clock import CLOCK

Patch = Callable[[], None]


def run_the_protocol_on_the_sandbox_clock() -> None:
    """Bakes and watch windows are Step Functions timeouts, which the sandbox speeds up; the
    promotion protocol measures how long a paused hold has held with ``promoter.clock.now``, so it
    reads the same scaled clock (on AWS both are real time: https://docs.aws.amazon.com/step-functions/latest/dg/state-wait.html)."""
    from promoter import clock

    clock.now = CLOCK.datetime


PATCHES: tuple[Patch, ...] = (
    backends.look_up_known_accounts_directly,
    # Lambda
    runtime.install_stdout_capture,
    runtime.install_environ,
    invoke.run_own_code,
    invoke.route_invokes,
    invoke.report_unhandled_errors,
    invoke.resolve_function_names,
    versions.keep_alias_revisions,
    versions.answer_alias_reads_200,
    versions.check_publish_precondition,
    code.serve_code_locations,
    code.image_digests_as_code_sha,
    code.refuse_oversized_zip_uploads,
    code.refuse_code_over_the_unzipped_limit,
    throttling.limit_control_plane_rates,
    # EventBridge
    delivery.deliver_to_targets,
    delivery.refuse_reserved_sources,
    # CloudWatch
    percentiles.compute_percentiles,
    alarms.evaluate_alarms,
    # CloudWatch Logs
    logs.deliver_subscriptions_to_lambda,
    logs.refuse_lambda_destinations_without_permission,
    # EventBridge Scheduler
    scheduler.fire_schedules,
    # Step Functions
    execution.name_sdk_errors,
    execution.name_executions,
    execution.scale_time,
    limits.limit_history,
    limits.terminal_errors,
    limits.limit_task_input,
    limits.parallel_branch_errors,
    reuse.parse_each_definition_once,
    reuse.compile_each_json_path_once,
    reuse.one_client_per_service,
    run_the_protocol_on_the_sandbox_clock,
    # CloudFormation (and the API Gateway and IAM resources it creates)
    cloudformation.keep_function_properties,
    cloudformation.ref_names_and_arns,
    cloudformation.create_schedule_groups,
    cloudformation.keep_bucket_properties,
    cloudformation.executable_state_machines,
    cloudformation.import_rest_api_bodies,
    policy.attach_managed_policy_arns,
    # DynamoDB
    dynamodb.transactions_undo_their_own_items,
    dynamodb.transactions_honour_client_request_tokens,
    dynamodb.atomic_conditional_writes,
    dynamodb.reads_between_writes,
    # IAM, last: it authorises every request before the rest sees it
    policy.enforce_on_every_call,
    policy.tags_only_with_list_tags,
)

_lock = threading.Lock()
_installed = False


def install(time_scale: float = 1.0, function_env: dict[str, str] | None = None) -> None:
    """Patch moto (once per process), then set every function's extra environment and (re)start the
    background threads at ``time_scale``."""
    global _installed
    with _lock:
        if not _installed:
            for patch in PATCHES:
                patch()
            _installed = True
        invoke.FUNCTION_ENV.clear()
        invoke.FUNCTION_ENV.update(function_env or {})
    workers.start(time_scale)


def installed() -> bool:
    return _installed
