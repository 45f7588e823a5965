"""AWS/Lambda metrics, as Lambda records them for each invocation.

Each invoke that runs (sandbox/aws/awslambda/invoke.py) records, in moto's CloudWatch backend of the
function's account and region, at the sandbox clock's time (sandbox/clock.py):
``Invocations`` = 1 (Count), ``Errors`` = 1 if the function raised else 0 (Count) and ``Duration`` =
the handler's wall time in ms (Milliseconds), each under the dimension sets Lambda uses
(https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html):

- ``{FunctionName}`` always;
- ``{FunctionName, Resource}`` for a qualified invoke, ``Resource`` = ``name:alias`` or ``name:version``;
- ``{FunctionName, Resource, ExecutedVersion}`` for an alias invoke (``Resource`` = ``name:alias``,
  ``ExecutedVersion`` = the version that ran). This is Lambda's set for ExecutedVersion; an alarm on
  ``{FunctionName, ExecutedVersion}`` alone would never see data in AWS, so none is recorded here.

Recording goes through ``CloudWatchBackend.put_metric_data``, so alarms on these metrics are
evaluated as data arrives (sandbox/aws/cloudwatch/alarms.py).

Not modelled: ``Throttles``, ``ConcurrentExecutions`` and the other Lambda metrics; the
account-wide aggregate without dimensions; Duration is this process's wall time (no cold starts,
no billing rounding).
"""

from __future__ import annotations

from typing import Any

from ...clock import CLOCK

NAMESPACE = "AWS/Lambda"


def metric_data(
    function: str, resource: str | None, executed_version: str | None, *, errored: bool, duration_ms: float
) -> list[dict[str, Any]]:
    dimension_sets = [[{"Name": "FunctionName", "Value": function}]]
    if resource:
        dimension_sets.append([{"Name": "FunctionName", "Value": function}, {"Name": "Resource", "Value": resource}])
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
