"""Each invoke records AWS/Lambda Invocations, Errors and Duration under Lambda's dimension sets."""

from __future__ import annotations

from datetime import timedelta

from sandbox import Sandbox
from sandbox.fixtures.targets import Targets

from .conftest import aligned


def stats(sandbox: Sandbox, metric: str, dimensions: dict[str, str]) -> dict[str, float]:
    now = sandbox.clock.datetime()
    points = sandbox.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/Lambda",
        MetricName=metric,
        Dimensions=[{"Name": k, "Value": v} for k, v in dimensions.items()],
        StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(minutes=1),
        Period=7200,
        Statistics=["Sum", "SampleCount", "Minimum", "Maximum"],
    )["Datapoints"]
    assert len(points) <= 1
    return points[0] if points else {}


def test_metrics_with_lambdas_dimension_sets(sandbox: Sandbox, targets: Targets) -> None:
    aligned(3600, offset=600)(sandbox)  # all datapoints in one hour, whatever the real time
    targets.function("orders", builds=("v1", "v2"), failing=("v2",))
    lambdas = sandbox.client("lambda")
    lambdas.update_alias(FunctionName="orders", Name="live", RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})
    ran = {"1": 0, "2": 0}
    for _ in range(40):
        ran[lambdas.invoke(FunctionName="orders:live", Payload=b"{}")["ExecutedVersion"]] += 1
    for _ in range(3):
        lambdas.invoke(FunctionName="orders:1", Payload=b"{}")
    lambdas.invoke(FunctionName="orders", Payload=b"{}")  # unqualified: $LATEST (v2 code, fails)
    assert ran["1"] and ran["2"]  # 2**-39 chance of a false failure

    by_function = {"FunctionName": "orders"}
    assert stats(sandbox, "Invocations", by_function)["Sum"] == 44
    assert stats(sandbox, "Errors", by_function)["Sum"] == ran["2"] + 1
    assert stats(sandbox, "Errors", by_function)["SampleCount"] == 44  # Errors is 0 on success
    duration = stats(sandbox, "Duration", by_function)
    assert duration["SampleCount"] == 44 and duration["Minimum"] > 0

    alias = by_function | {"Resource": "orders:live"}
    assert stats(sandbox, "Invocations", alias)["Sum"] == 40
    assert stats(sandbox, "Errors", alias)["Sum"] == ran["2"]

    for version, count in ran.items():
        executed = alias | {"ExecutedVersion": version}
        assert stats(sandbox, "Invocations", executed)["Sum"] == count
        assert stats(sandbox, "Errors", executed)["Sum"] == (count if version == "2" else 0)
        assert stats(sandbox, "Duration", executed)["SampleCount"] == count

    version_1 = by_function | {"Resource": "orders:1"}
    assert stats(sandbox, "Invocations", version_1)["Sum"] == 3
    assert stats(sandbox, "Errors", version_1)["Sum"] == 0
    # ExecutedVersion is an alias dimension only; $LATEST has no Resource series
    assert stats(sandbox, "Invocations", version_1 | {"ExecutedVersion": "1"}) == {}
    assert stats(sandbox, "Invocations", by_function | {"Resource": "orders:$LATEST"}) == {}


def test_metric_timestamps_follow_the_sandbox_clock(sandbox: Sandbox, targets: Targets) -> None:
    start = aligned(60, offset=5)(sandbox)
    targets.function("orders")
    lambdas = sandbox.client("lambda")
    lambdas.invoke(FunctionName="orders:live", Payload=b"{}")
    sandbox.advance(120)
    lambdas.invoke(FunctionName="orders:live", Payload=b"{}")
    points = sandbox.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/Lambda",
        MetricName="Invocations",
        Dimensions=[{"Name": "FunctionName", "Value": "orders"}],
        StartTime=sandbox.clock.datetime() - timedelta(minutes=10),
        EndTime=sandbox.clock.datetime() + timedelta(minutes=1),
        Period=60,
        Statistics=["Sum"],
    )["Datapoints"]
    stamps = sorted(p["Timestamp"].timestamp() for p in points)
    assert stamps == [start, start + 120]  # moto's periods start at the first datum
