"""CloudWatch GetMetricData: each version's AWS/Lambda metrics behind an alias, per period.

A weighted alias's invocations carry ``{FunctionName, Resource=name:alias, ExecutedVersion}``
(Lambda's dimension set for ExecutedVersion); the judge reads both versions from it over the same
periods. Returned as typed series (promoter.analysis.models), one value per period, oldest first.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ..analysis.models import CustomMetric, VersionSeries
from .clients import LazyClient

NAMESPACE = "AWS/Lambda"
# (series field, metric, statistic); counts default to 0 in a period with no point (Lambda writes
# Invocations and Errors for every invocation), values to None.
LAMBDA_QUERIES = (
    ("invocations", "Invocations", "Sum"),
    ("errors", "Errors", "Sum"),
    ("throttles", "Throttles", "Sum"),
    ("duration_p50", "Duration", "p50"),
    ("duration_p99", "Duration", "p99"),
)
COUNTS = ("invocations", "errors")


class MetricsAdapter(LazyClient):
    service = "cloudwatch"

    def version_series(
        self,
        function: str,
        alias: str,
        versions: list[str],
        start: datetime,
        end: datetime,
        period: int = 60,
        custom: dict[str, CustomMetric] | None = None,
    ) -> dict[str, VersionSeries]:
        """Each version's series over the periods starting at ``start`` and ending by ``end``."""
        custom = custom or {}
        periods = max(0, int((end - start).total_seconds()) // period)
        starts = [int((start + timedelta(seconds=i * period)).timestamp()) for i in range(periods)]
        queries: list[dict[str, Any]] = []
        fields: dict[str, tuple[str, str, str | None]] = {}  # query id -> (version, field, custom metric)
        for v_index, version in enumerate(versions):
            lambda_dims = [
                {"Name": "FunctionName", "Value": function},
                {"Name": "Resource", "Value": f"{function}:{alias}"},
                {"Name": "ExecutedVersion", "Value": version},
            ]
            for q_index, (field, metric, stat) in enumerate(LAMBDA_QUERIES):
                query_id = f"v{v_index}m{q_index}"
                fields[query_id] = (version, field, None)
                queries.append(_query(query_id, NAMESPACE, metric, lambda_dims, period, stat))
            for c_index, (name, spec) in enumerate(sorted(custom.items())):
                dims = [{"Name": k, "Value": v} for k, v in sorted(spec.dimensions.items())]
                dims.append({"Name": spec.version_dimension, "Value": version})
                query_id = f"v{v_index}c{c_index}"
                fields[query_id] = (version, "custom", name)
                queries.append(_query(query_id, spec.namespace, spec.metric_name, dims, period, spec.statistic))
        found: dict[str, dict[int, float]] = {query_id: {} for query_id in fields}
        if periods:
            end_at = start + timedelta(seconds=periods * period)
            for chunk in range(0, len(queries), 500):  # GetMetricData takes 500 queries a call
                kwargs = {"MetricDataQueries": queries[chunk : chunk + 500], "StartTime": start, "EndTime": end_at}
                for page in self.client.get_paginator("get_metric_data").paginate(**kwargs):
                    for result in page.get("MetricDataResults", []):
                        for at, value in zip(result.get("Timestamps", []), result.get("Values", []), strict=False):
                            found[result["Id"]][int(at.timestamp())] = float(value)
        series: dict[str, dict[str, Any]] = {v: {"version": v, "custom": {}} for v in versions}
        for query_id, (version, field, custom_name) in fields.items():
            points = found[query_id]
            values: list[float | None] = [points.get(at) for at in starts]
            if field in COUNTS:
                values = [v or 0.0 for v in values]
            elif field == "throttles" and not points:
                values = None  # type: ignore[assignment]  # no Throttles series at all: NoData
            if custom_name is not None:
                series[version]["custom"][custom_name] = values
            else:
                series[version][field] = values
        return {v: VersionSeries.model_validate(s) for v, s in series.items()}


def _query(
    query_id: str, namespace: str, metric: str, dims: list[dict[str, str]], period: int, stat: str
) -> dict[str, Any]:
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {"Namespace": namespace, "MetricName": metric, "Dimensions": dims},
            "Period": period,
            "Stat": stat,
        },
        "ReturnData": True,
    }
