"""GetMetricData percentiles as CloudWatch computes them: ``Stat`` ``pNN`` (``p50``, ``p99``, ``p99.9``).

Patch (moto 5.2.5, ``compute_percentiles``): ``moto.cloudwatch.models.Statistics.
get_statistics_for_type`` answers only Sum, Average, Minimum, Maximum and SampleCount; a
percentile returned None and the response failed to render. It now returns the nearest-rank
percentile of the period's values, the rule the sandbox's alarms use (``alarms.statistic``). The
canary judge reads each version's Duration p50 and p99 this way.

Not modelled: percentiles of statistic sets (``StatisticValues``) have no values and return None,
as CloudWatch has no percentile for them either.
"""

from __future__ import annotations

import math
import re
from typing import Any

PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d+)?)$")


def percentile(values: list[float], percent: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(percent / 100.0 * len(ordered))) - 1]


def compute_percentiles() -> None:
    """GetMetricData's percentile statistics (``p99``), nearest rank, as CloudWatch defines them.
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Percentiles"""
    from moto.cloudwatch import models

    original = models.Statistics.get_statistics_for_type

    def get_statistics_for_type(self: Any, stat: str) -> Any:
        match = PERCENTILE.match(stat)
        if match:
            return percentile(self.metric_single_values_list, float(match.group(1)))
        return original(self, stat)

    models.Statistics.get_statistics_for_type = get_statistics_for_type
