"""CloudWatch Logs: each invocation's output in its function's log group, as Lambda writes it, and
subscription filters that deliver to Lambda functions as CloudWatch Logs does.

The Lambda invoke path (sandbox/aws/awslambda/invoke.py) calls ``write_invocation`` after each
run, with the output the runtime captured for that invocation alone (sandbox/aws/awslambda/runtime.py),
also while pytest captures stdout. The patches (installed by sandbox/install.py):

- ``deliver_subscriptions_to_lambda``: moto sent every event of a put, unfiltered, to a Lambda
  destination and ran it on the writer's thread (inside the function whose log it was). Here the
  filter's pattern chooses the events and the destination is invoked asynchronously on a delivery
  worker (sandbox/dispatch.py), through the Lambda backend, with AWS's payload.
- ``refuse_lambda_destinations_without_permission``: AWS refuses PutSubscriptionFilter to a function
  whose resource policy does not let logs.amazonaws.com invoke it for this log group; moto only
  checked that the function exists. moto already refuses a third filter on a log group
  (LimitExceededException), as AWS does.

Filter patterns: terms, quoted terms, ``?term`` (any of) and ``-term`` (none of), matched
case-sensitively as AWS matches them in unstructured events; JSON (``{...}``) and space-delimited
(``[...]``) patterns match every event (moto's own fallback): the sandbox does not evaluate them.
https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
"""

from __future__ import annotations

import json
import shlex
from typing import Any

from ..clock import CLOCK
from ..dispatch import DISPATCHER, INLINE
from .awslambda.permissions import service_may_invoke
from .awslambda.runtime import ONE_EVENT_NEWLINE

# The Python runtime writes an uncaught exception as one event: "[ERROR] Type: message" and the
# traceback (https://docs.aws.amazon.com/lambda/latest/dg/python-exceptions.html). The runtime
# (sandbox/aws/awslambda/runtime.py) joins its lines with ONE_EVENT_NEWLINE instead of a newline.


def write_invocation(fn: Any, context: Any, logs: str, duration_ms: float) -> None:
    """The invocation's output, framed by START/END/REPORT, in ``/aws/lambda/<name>`` under the stream
    name AWS uses, ``YYYY/MM/DD/[VERSION]<id>`` (the context's ``log_stream_name``), timestamped on
    the sandbox clock (the one every faked service reads).
    https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html"""
    request = context.aws_request_id
    lines = [
        f"START RequestId: {request} Version: {context.function_version}",
        *(line.replace(ONE_EVENT_NEWLINE, "\n") for line in logs.splitlines()),
        f"END RequestId: {request}",
        f"REPORT RequestId: {request}\tDuration: {duration_ms:.2f} ms\tMemory Size: {context.memory_limit_in_mb} MB",
    ]
    now = int(CLOCK.now() * 1000)
    backend = fn.logs_backend
    backend.create_log_stream(context.log_group_name, context.log_stream_name)
    events = [{"timestamp": now, "message": line} for line in lines]
    backend.put_log_events(context.log_group_name, context.log_stream_name, events)


# --- filter patterns (unstructured events) -----------------------------------------------------------
def pattern_matches(pattern: str, message: str) -> bool:
    """Whether ``message`` matches a term pattern: every plain term, at least one ``?`` term if
    there are any, and no ``-`` term. An empty pattern matches every event."""
    pattern = pattern.strip()
    if not pattern or pattern.startswith(("{", "[")):
        return True
    try:
        terms = shlex.split(pattern, posix=True)
    except ValueError:
        return True
    required, any_of, none_of = [], [], []
    for term in terms:
        if term.startswith("?") and len(term) > 1:
            any_of.append(term[1:])
        elif term.startswith("-") and len(term) > 1:
            none_of.append(term[1:])
        else:
            required.append(term)
    return (
        all(t in message for t in required)
        and (not any_of or any(t in message for t in any_of))
        and not any(t in message for t in none_of)
    )


# --- delivery -------------------------------------------------------------------------------------
def event_id(number: int) -> str:
    """AWS's event ids are 56-digit strings."""
    return f"{number:056d}"


def delivery_payload(
    owner: str, log_group: str, log_stream: str, filter_name: str, events: list[dict[str, Any]]
) -> dict[str, Any]:
    """``{"awslogs": {"data": base64(gzip(json))}}``, as a Lambda destination receives it.
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html#LambdaFunctionExample"""
    import base64
    import gzip

    data = {
        "messageType": "DATA_MESSAGE",
        "owner": owner,
        "logGroup": log_group,
        "logStream": log_stream,
        "subscriptionFilters": [filter_name],
        "logEvents": [
            {"id": event_id(int(e["id"])), "timestamp": e["timestamp"], "message": e["message"]} for e in events
        ],
    }
    raw = json.dumps(data, separators=(",", ":")).encode()
    return {"awslogs": {"data": base64.b64encode(gzip.compress(raw)).decode()}}


def _invoke_async(function_arn: str, payload: dict[str, Any], account: str, region: str) -> None:
    """Lambda ``Invoke`` with ``InvocationType=Event`` through the backend (routing and metrics
    apply), run on this delivery worker's thread."""
    from moto.awslambda.models import lambda_backends

    headers = {"x-amz-invocation-type": "Event", INLINE: "1"}
    lambda_backends[account][region].invoke(function_arn, None, json.dumps(payload), headers, {})


def deliver_subscriptions_to_lambda() -> None:
    """A subscription filter with a Lambda destination sends the events its pattern matches, base64
    gzip JSON, in an asynchronous invocation (moto sent every event, unfiltered, synchronously on
    the writer's thread).
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html#LambdaFunctionExample"""
    from moto.logs import models as logs_models

    original = logs_models.LogStream._send_log_events

    def send_log_events(
        self: Any, service: str, destination_arn: str, filter_name: str, log_events: list[dict[str, Any]]
    ) -> None:
        if service != "lambda":
            return original(self, service, destination_arn, filter_name, log_events)
        subscription = self.log_group.subscription_filters.get(filter_name)
        pattern = subscription.filter_pattern if subscription is not None else ""
        matched = [e for e in log_events if pattern_matches(pattern, e["message"])]
        if not matched:
            return None
        payload = delivery_payload(self.account_id, self.log_group.name, self.log_stream_name, filter_name, matched)
        parts = destination_arn.split(":")
        account, region = parts[4] or self.account_id, parts[3] or self.region
        label = f"subscription {filter_name} -> {destination_arn}"
        DISPATCHER.submit(label, lambda: _invoke_async(destination_arn, payload, account, region))
        return None

    logs_models.LogStream._send_log_events = send_log_events


# --- PutSubscriptionFilter: the destination must let CloudWatch Logs invoke it ----------------------
def refuse_lambda_destinations_without_permission() -> None:
    """PutSubscriptionFilter with a Lambda destination needs a resource-based policy on the function
    that lets ``logs.amazonaws.com`` invoke it (``lambda:AddPermission`` or AWS::Lambda::Permission,
    with SourceArn and SourceAccount if given); without one AWS answers InvalidParameterException
    "Could not execute the lambda function. Make sure you have given CloudWatch Logs permission to
    execute your function." moto only checked that the function exists.
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html#LambdaFunctionExample"""
    from moto.logs import models as logs_models
    from moto.logs.exceptions import InvalidParameterException

    original = logs_models.LogsBackend.put_subscription_filter

    def put_subscription_filter(
        self: Any, log_group_name: str, filter_name: str, filter_pattern: str, destination_arn: str, role_arn: str
    ) -> None:
        parts = destination_arn.split(":")
        if len(parts) >= 7 and parts[2] == "lambda" and log_group_name in self.groups:
            from moto.awslambda.utils import get_backend

            try:
                function = get_backend(parts[4] or self.account_id, parts[3] or self.region_name).get_function(
                    destination_arn
                )
            except Exception:  # noqa: BLE001 - no such function: moto's own refusal below
                function = None
            group_arn = f"arn:aws:logs:{self.region_name}:{self.account_id}:log-group:{log_group_name}"
            if function is not None and not service_may_invoke(function, "logs", group_arn, self.account_id):
                raise InvalidParameterException(
                    "Could not execute the lambda function. Make sure you have given CloudWatch Logs "
                    "permission to execute your function."
                )
        return original(self, log_group_name, filter_name, filter_pattern, destination_arn, role_arn)

    logs_models.LogsBackend.put_subscription_filter = put_subscription_filter
