"""CloudWatch Logs: each invocation's output in its function's log group, as Lambda writes it.

No patch of moto's Logs: the Lambda invoke path (sandbox/aws/awslambda/invoke.py) calls
``write_invocation`` after each run, with the output the runtime captured for that invocation alone
(sandbox/aws/awslambda/runtime.py), also while pytest captures stdout.
"""

from __future__ import annotations

import time
from typing import Any


def write_invocation(fn: Any, context: Any, logs: str, duration_ms: float) -> None:
    """The invocation's output, framed by START/END/REPORT, in ``/aws/lambda/<name>`` under the stream
    name AWS uses, ``YYYY/MM/DD/[VERSION]<id>`` (the context's ``log_stream_name``).
    https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html"""
    request = context.aws_request_id
    lines = [
        f"START RequestId: {request} Version: {context.function_version}",
        *logs.splitlines(),
        f"END RequestId: {request}",
        f"REPORT RequestId: {request}\tDuration: {duration_ms:.2f} ms\tMemory Size: {context.memory_limit_in_mb} MB",
    ]
    now = int(time.time() * 1000)
    backend = fn.logs_backend
    backend.create_log_stream(context.log_group_name, context.log_stream_name)
    events = [{"timestamp": now, "message": line} for line in lines]
    backend.put_log_events(context.log_group_name, context.log_stream_name, events)
