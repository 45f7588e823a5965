"""Metric alarms evaluated from their datapoints, against hand-computed cases.

The clock is paused 30 s into a 60 s period, so the evaluation range of an alarm with
EvaluationPeriods=N is the N+2 periods ending with the current one: index 0 is the oldest.
X is a breaching value, Z (zero) a non-breaching one, None a missing period.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from sandbox import Sandbox

from .conftest import aligned, wait_until

PERIOD = 60
NAMESPACE = "Sandbox/Test"
X, Z = [5.0], [0.0]  # a breaching and a non-breaching (zero) value
_names = itertools.count()


@dataclass
class Case:
    statistic: str
    comparison: str
    threshold: float
    periods: list[list[float] | None]  # oldest first; the last one is the current period
    expected: str
    evaluation_periods: int = 1
    datapoints_to_alarm: int | None = None
    treat_missing_data: str | None = None
    reason: str = ""
    name: str = field(default_factory=lambda: f"case-{next(_names)}")


def put_data(sandbox: Sandbox, now: float, case: Case) -> None:
    current = now - now % PERIOD
    first = current - (len(case.periods) - 1) * PERIOD
    data = [
        {
            "MetricName": case.name,
            "Value": value,
            "Timestamp": datetime.fromtimestamp(first + i * PERIOD + 7 + j, tz=UTC),
            "Dimensions": [{"Name": "Case", "Value": case.name}],
        }
        for i, values in enumerate(case.periods)
        for j, value in enumerate(values or [])
    ]
    if data:
        sandbox.client("cloudwatch").put_metric_data(Namespace=NAMESPACE, MetricData=data)


def put_alarm(sandbox: Sandbox, case: Case) -> None:
    extra = {}
    if case.datapoints_to_alarm:
        extra["DatapointsToAlarm"] = case.datapoints_to_alarm
    if case.treat_missing_data:
        extra["TreatMissingData"] = case.treat_missing_data
    sandbox.client("cloudwatch").put_metric_alarm(
        AlarmName=case.name,
        Namespace=NAMESPACE,
        MetricName=case.name,
        Statistic=case.statistic,
        Dimensions=[{"Name": "Case", "Value": case.name}],
        Period=PERIOD,
        EvaluationPeriods=case.evaluation_periods,
        Threshold=case.threshold,
        ComparisonOperator=case.comparison,
        **extra,
    )


def alarm(sandbox: Sandbox, name: str) -> dict:
    return sandbox.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"][0]


def check(sandbox: Sandbox, cases: list[Case]) -> None:
    now = aligned(PERIOD, offset=30)(sandbox)
    for case in cases:
        put_data(sandbox, now, case)  # data first: each alarm is evaluated once, on everything
        put_alarm(sandbox, case)
    sandbox.settle()
    wrong = []
    for case in cases:
        got = alarm(sandbox, case.name)
        if got["StateValue"] != case.expected or case.reason not in got["StateReason"]:
            wrong.append((case, got["StateValue"], got["StateReason"]))
    assert not wrong, "\n".join(f"{c}: got {s} ({r})" for c, s, r in wrong)


CURRENT = [[1.0, 2.0, 3.0, 10.0]]  # one period: SampleCount 4, Sum 16, Average 4, Min 1, Max 10


def test_each_statistic(sandbox: Sandbox) -> None:
    check(
        sandbox,
        [
            Case("SampleCount", "GreaterThanThreshold", 3, CURRENT, "ALARM"),
            Case("SampleCount", "GreaterThanThreshold", 4, CURRENT, "OK"),
            Case("Sum", "GreaterThanOrEqualToThreshold", 16, CURRENT, "ALARM"),
            Case("Sum", "GreaterThanThreshold", 16, CURRENT, "OK"),
            Case("Average", "LessThanOrEqualToThreshold", 4, CURRENT, "ALARM"),
            Case("Average", "LessThanThreshold", 4, CURRENT, "OK"),
            Case("Minimum", "LessThanThreshold", 2, CURRENT, "ALARM"),
            Case("Minimum", "LessThanThreshold", 1, CURRENT, "OK"),
            Case("Maximum", "GreaterThanOrEqualToThreshold", 10, CURRENT, "ALARM"),
            Case("Maximum", "GreaterThanThreshold", 10, CURRENT, "OK"),
        ],
    )


def test_each_comparison_at_and_around_the_threshold(sandbox: Sandbox) -> None:
    at, below, above = [[5.0]], [[4.0]], [[6.0]]
    check(
        sandbox,
        [
            Case("Maximum", "GreaterThanOrEqualToThreshold", 5, at, "ALARM"),
            Case("Maximum", "GreaterThanOrEqualToThreshold", 5, below, "OK"),
            Case("Maximum", "GreaterThanThreshold", 5, at, "OK"),
            Case("Maximum", "GreaterThanThreshold", 5, above, "ALARM"),
            Case("Maximum", "LessThanThreshold", 5, at, "OK"),
            Case("Maximum", "LessThanThreshold", 5, below, "ALARM"),
            Case("Maximum", "LessThanOrEqualToThreshold", 5, at, "ALARM"),
            Case("Maximum", "LessThanOrEqualToThreshold", 5, above, "OK"),
        ],
    )


def test_m_out_of_n(sandbox: Sandbox) -> None:
    def case(periods: list, expected: str, reason: str = "") -> Case:
        return Case(
            "Sum",
            "GreaterThanOrEqualToThreshold",
            1,
            periods,
            expected,
            evaluation_periods=3,
            datapoints_to_alarm=2,
            reason=reason,
        )

    check(
        sandbox,
        [
            case([X, Z, X], "ALARM", "Threshold Crossed: 2 out of the last 3 datapoints"),
            case([X, Z, Z], "OK", "Threshold Crossed: 1 out of the last 3 datapoints"),
            case([Z, X, X], "ALARM"),
            # more real datapoints than N in the range: only the N most recent count
            case([X, X, Z, Z, X], "OK"),
            case([Z, Z, X, Z, X], "ALARM"),
        ],
    )


# AWS's table (EvaluationPeriods 3, DatapointsToAlarm 3), "How alarm state is evaluated when data is missing"
TABLE = {
    "0 - X - X": (
        [Z, None, X, None, X],
        {"missing": "OK", "ignore": "OK", "breaching": "OK", "notBreaching": "OK"},
    ),
    "- - - - 0": (
        [None, None, None, None, Z],
        {"missing": "OK", "ignore": "OK", "breaching": "OK", "notBreaching": "OK"},
    ),
    "- - - - -": (
        [None] * 5,
        {
            "missing": "INSUFFICIENT_DATA",
            "ignore": "INSUFFICIENT_DATA",
            "breaching": "ALARM",
            "notBreaching": "OK",
        },
    ),
    "0 X X - X": (
        [Z, X, X, None, X],
        {"missing": "ALARM", "ignore": "ALARM", "breaching": "ALARM", "notBreaching": "ALARM"},
    ),
    "- - X - -": (
        [None, None, X, None, None],
        {"missing": "ALARM", "ignore": "INSUFFICIENT_DATA", "breaching": "ALARM", "notBreaching": "OK"},
    ),
}


def test_treat_missing_data_table(sandbox: Sandbox) -> None:
    # "ignore" keeps the state the alarm had: a new alarm's INSUFFICIENT_DATA here
    check(
        sandbox,
        [
            Case(
                "Sum",
                "GreaterThanOrEqualToThreshold",
                1,
                periods,
                expected,
                evaluation_periods=3,
                treat_missing_data=mode,
                name=f"{row.replace(' ', '')}-{mode}",
            )
            for row, (periods, outcomes) in TABLE.items()
            for mode, expected in outcomes.items()
        ],
    )


def test_default_treat_missing_data_is_missing(sandbox: Sandbox) -> None:
    check(
        sandbox,
        [
            Case("Sum", "GreaterThanOrEqualToThreshold", 1, [None] * 3, "INSUFFICIENT_DATA"),
            Case(
                "Sum",
                "GreaterThanOrEqualToThreshold",
                1,
                [None] * 3,
                "OK",
                treat_missing_data="notBreaching",
                reason="treated as [NonBreaching]",
            ),
        ],
    )


@pytest.mark.parametrize("manual", ["OK", "ALARM"])
def test_ignore_keeps_a_state_set_by_hand(sandbox: Sandbox, manual: str) -> None:
    now = aligned(PERIOD, offset=30)(sandbox)
    case = Case(
        "Sum",
        "GreaterThanOrEqualToThreshold",
        1,
        [None, None, X, None, None],
        manual,
        evaluation_periods=3,
        treat_missing_data="ignore",
    )
    put_alarm(sandbox, case)
    sandbox.client("cloudwatch").set_alarm_state(AlarmName=case.name, StateValue=manual, StateReason="by hand")
    put_data(sandbox, now, case)  # new data: evaluated again, and "ignore" keeps the state
    sandbox.settle()
    assert alarm(sandbox, case.name)["StateValue"] == manual


def test_alarm_follows_data_and_the_clock(sandbox: Sandbox) -> None:
    """Evaluated when data arrives (no settle) and when periods pass; the range looks 2 periods back."""
    now = aligned(PERIOD, offset=30)(sandbox)
    case = Case("Sum", "GreaterThanOrEqualToThreshold", 1, [X], "ALARM", treat_missing_data="notBreaching")
    put_alarm(sandbox, case)
    wait_until(lambda: alarm(sandbox, case.name)["StateValue"] == "OK", what="no data, notBreaching: OK")
    put_data(sandbox, now, case)
    wait_until(lambda: alarm(sandbox, case.name)["StateValue"] == "ALARM", what="ALARM on arrival")
    sandbox.advance(2 * PERIOD)  # the breaching period is still in the evaluation range
    sandbox.settle()
    assert alarm(sandbox, case.name)["StateValue"] == "ALARM"
    sandbox.advance(PERIOD)  # now it is not: three missing periods, treated as not breaching
    wait_until(lambda: alarm(sandbox, case.name)["StateValue"] == "OK", what="OK once the data ages out")


def test_a_state_set_by_hand_sticks_until_new_data(sandbox: Sandbox) -> None:
    now = aligned(PERIOD, offset=30)(sandbox)
    case = Case("Sum", "GreaterThanOrEqualToThreshold", 1, [Z], "OK", treat_missing_data="notBreaching")
    put_alarm(sandbox, case)
    sandbox.settle()
    assert alarm(sandbox, case.name)["StateValue"] == "OK"
    sandbox.client("cloudwatch").set_alarm_state(AlarmName=case.name, StateValue="ALARM", StateReason="by hand")
    for _ in range(3):
        sandbox.advance(PERIOD)
        sandbox.settle()
        assert alarm(sandbox, case.name)["StateValue"] == "ALARM"
    put_data(sandbox, now + 3 * PERIOD, case)  # a non-breaching datum after the manual state
    wait_until(lambda: alarm(sandbox, case.name)["StateValue"] == "OK", what="back to OK on new data")


def test_new_alarm_starts_insufficient_data_like_aws(sandbox: Sandbox) -> None:
    aligned(PERIOD, offset=30)(sandbox)
    case = Case("Sum", "GreaterThanOrEqualToThreshold", 1, [], "INSUFFICIENT_DATA")
    put_alarm(sandbox, case)
    sandbox.settle()
    described = alarm(sandbox, case.name)
    assert described["StateValue"] == "INSUFFICIENT_DATA"
