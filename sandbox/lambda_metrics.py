"""Lambda ``Invoke`` as AWS does it: alias routing weights, ``ExecutedVersion``, and AWS/Lambda metrics.

Patch (moto 5.2.5, applied once by ``engine.apply()``):

- ``moto.awslambda.models.LambdaBackend.invoke``: every invoke (the Invoke API in ``mock_aws`` and in
  server mode, Step Functions ``lambda:invoke`` and aws-sdk tasks, EventBridge and Scheduler
  deliveries) goes through it.

  1. **Routing.** An alias qualifier (``fn:alias``, or the alias ARN) whose ``RoutingConfig`` has
     ``AdditionalVersionWeights {v: w}`` runs version ``v`` with probability ``w`` and the alias's
     ``FunctionVersion`` otherwise (one draw of ``random.random()`` per invoke, as Lambda's router
     does per request). The chosen version's own code runs and sees its own
     ``AWS_LAMBDA_FUNCTION_VERSION``. moto itself always ran the alias's primary version.
  2. **ExecutedVersion.** A synchronous response carries ``X-Amz-Executed-Version`` (boto3:
     ``ExecutedVersion``) with the version that ran, as Lambda does.
  3. **Invocation types.** ``Event`` returns 202 at once and runs the function on a delivery worker
     thread (moto ran it on the caller's thread); ``DryRun`` runs nothing (moto ran the function).
  4. **Metrics.** Each invoke that runs records, in moto's CloudWatch backend of the function's account and
     region, at the sandbox clock's time (sandbox/clock.py):
     ``Invocations`` = 1 (Count), ``Errors`` = 1 if the function raised else 0 (Count) and
     ``Duration`` = the handler's wall time in ms (Milliseconds), each under the dimension sets
     Lambda uses:

     - ``{FunctionName}`` always;
     - ``{FunctionName, Resource}`` for a qualified invoke, ``Resource`` = ``name:alias`` or
       ``name:version``;
     - ``{FunctionName, Resource, ExecutedVersion}`` for an alias invoke (``Resource`` =
       ``name:alias``, ``ExecutedVersion`` = the version that ran). This is Lambda's set for
       ExecutedVersion (CloudWatch's metric metadata, as in CDK's ``LambdaMetrics``); an alarm on
       ``{FunctionName, ExecutedVersion}`` alone would never see data in AWS, so none is recorded here.

     Recording goes through ``CloudWatchBackend.put_metric_data``, so alarms on these metrics are
     evaluated as data arrives (sandbox/alarms.py).

Not modelled: ``Throttles``, ``ConcurrentExecutions`` and the other Lambda metrics; the
account-wide aggregate without dimensions; Duration is this process's wall time (no cold starts,
no billing rounding).
"""

from __future__ import annotations

import random
import time
from typing import Any

from .clock import CLOCK

NAMESPACE = "AWS/Lambda"
_random = random.Random()


def choose_version(alias: Any) -> str:
    """The version an alias routes one request to, by its weights."""
    weights = (alias.routing_config or {}).get("AdditionalVersionWeights") or {}
    draw = _random.random()
    for version, weight in weights.items():
        if draw < float(weight):
            return str(version)
        draw -= float(weight)
    return str(alias.function_version)


def _split(name_or_arn: str, qualifier: str | None) -> tuple[str, str | None]:
    """(function name, qualifier) from a name, ``name:qualifier``, a partial ARN or an ARN."""
    rest = name_or_arn.split(":function:", 1)[1] if ":function:" in name_or_arn else name_or_arn
    name, _, in_name = rest.partition(":")
    return name, (in_name or qualifier or None)


def metric_data(
    function: str, resource: str | None, executed_version: str | None, *, errored: bool, duration_ms: float
) -> list[dict[str, Any]]:
    dimension_sets = [[{"Name": "FunctionName", "Value": function}]]
    if resource:
        dimension_sets.append(
            [{"Name": "FunctionName", "Value": function}, {"Name": "Resource", "Value": resource}]
        )
        if executed_version:
            dimension_sets.append(
                [
                    {"Name": "FunctionName", "Value": function},
                    {"Name": "Resource", "Value": resource},
                    {"Name": "ExecutedVersion", "Value": executed_version},
                ]
            )
    timestamp = CLOCK.datetime()
    values = (
        ("Invocations", 1.0, "Count"),
        ("Errors", 1.0 if errored else 0.0, "Count"),
        ("Duration", round(duration_ms, 3), "Milliseconds"),
    )
    return [
        {"MetricName": name, "Value": value, "Unit": unit, "Dimensions": dims, "Timestamp": timestamp}
        for name, value, unit in values
        for dims in dimension_sets
    ]


def record(account_id: str, region: str, data: list[dict[str, Any]]) -> None:
    from moto.cloudwatch.models import cloudwatch_backends

    cloudwatch_backends[account_id][region].put_metric_data(NAMESPACE, data)


INLINE = "x-sandbox-inline"  # header: run an Event invoke on this thread (already a worker's)


def _header(headers: Any, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return value
    return None


def apply() -> None:
    from moto.awslambda import models as lambda_models

    from . import eventbus

    def run(
        fn: Any, qualifier: str | None, alias: Any, body: Any, headers: Any, response_headers: Any
    ) -> Any:
        started = time.perf_counter()
        payload = fn.invoke(body, headers, response_headers)
        duration_ms = (time.perf_counter() - started) * 1000.0
        executed = str(fn.version)
        resource = (
            None if qualifier is None or qualifier.lower() == "$latest" else f"{fn.function_name}:{qualifier}"
        )
        data = metric_data(
            fn.function_name,
            resource,
            executed if alias is not None else None,
            errored="x-amz-function-error" in response_headers,
            duration_ms=duration_ms,
        )
        record(fn.account_id, fn.region, data)
        return payload

    def invoke(
        self: Any, function_name: str, qualifier: str | None, body: Any, headers: Any, response_headers: Any
    ) -> Any:
        name, qualifier = _split(function_name, qualifier)
        alias = None
        if qualifier and qualifier.lower() != "$latest" and not qualifier.isdigit():
            try:
                alias = self._lambdas._get_function_aliases(name).get(qualifier)
            except Exception:  # noqa: BLE001 - unknown function: moto raises its own error below
                alias = None
        version = choose_version(alias) if alias is not None else qualifier
        fn = self.get_function(name, version)
        kind = _header(headers, "x-amz-invocation-type") or "RequestResponse"
        if kind == "DryRun":  # permission and parameter check only: nothing runs, nothing is counted
            response_headers["Content-Length"] = "0"
            return b""
        if kind == "Event" and not _header(headers, INLINE):
            request = {k: v for k, v in (headers or {}).items()}
            eventbus.DISPATCHER.submit(
                f"async invoke {fn.function_arn}", lambda: run(fn, qualifier, alias, body, request, {})
            )
            response_headers["Content-Length"] = "0"
            return b""
        payload = run(fn, qualifier, alias, body, headers, response_headers)
        response_headers["x-amz-executed-version"] = str(fn.version)
        response_headers["Content-Length"] = str(len(payload))
        return payload

    lambda_models.LambdaBackend.invoke = invoke
