"""pydantic models of canary analysis: the request's spec, the series the judge reads, its evidence.

No scipy here: the workflow and the API validate and show these without loading the statistics.

Defaults (each documented in the README, "Canary analysis"):

- ``warmup_seconds`` 60: the first period after a shift is not judged (cold starts of the candidate).
- ``period_seconds`` 60: Lambda's metrics are per minute at standard resolution.
- ``min_candidate_invocations`` 100: fewer judged candidate invocations is Inconclusive, never Pass.
- ``alpha`` 0.005: the one-sided significance of each test. Two tests can fail a step alone (the
  critical error rate, and the p99 latency whose weight takes the score under ``marginal_score``),
  so a healthy candidate fails a step with probability at most about 2 x 0.005 = 1% (the exact
  tests are conservative; the replay harness measures it: tests/unit/test_judge_replay.py,
  bench/judge.py).
- metrics: error rate (critical, weight 40), Duration p99 (30, tolerance 10%), Duration p50 (15,
  tolerance 10%), throttle rate (15). ``pass_score`` 90, ``marginal_score`` 75: the p99 alone
  failing scores 70 (Fail); p50 or throttles alone score 85 (Marginal).
- marginal or inconclusive: the bake is extended by ``extension_seconds`` (300) up to
  ``max_extensions`` (2) times, then ``on_marginal`` / ``on_inconclusive`` (both ``fail``): the
  default never promotes on no data, and never on a doubt.
"""

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, model_validator
from pydantic.types import Strict

from ..model_base import Model

Share = Annotated[float, Strict()]
Seconds = Annotated[int, Strict()]
Flag = Annotated[bool, Strict()]

# The metrics the judge reads from AWS/Lambda by ExecutedVersion; custom ones carry their own query.
BUILTIN_METRICS = ("errors", "duration_p99", "duration_p50", "throttles")
MAX_METRICS = 10
MAX_PERIODS = 1440  # one day of one-minute periods per judgement: GetMetricData's points stay bounded
METRIC_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"


class Verdict(StrEnum):
    PASS = "Pass"
    HIGH = "High"
    LOW = "Low"
    NODATA = "NoData"


class StepVerdict(StrEnum):
    PASS = "pass"
    MARGINAL = "marginal"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"


class CustomMetric(Model):
    """A CloudWatch metric of the user's that carries the version in one of its dimensions."""

    model_config = ConfigDict(extra="forbid")

    namespace: str = Field(min_length=1, max_length=255, pattern=r"^[^:].*$")
    metric_name: str = Field(min_length=1, max_length=255)
    version_dimension: str = Field(default="ExecutedVersion", min_length=1, max_length=255)
    dimensions: dict[str, str] = Field(default_factory=dict, max_length=29, description="the other dimensions")
    # count: summed and judged as a rate per invocation (exact test); samples: one value per period
    # (Mann-Whitney U with a tolerance on the Hodges-Lehmann estimate).
    kind: Literal["count", "samples"] = "samples"
    statistic: str = Field(default="Average", pattern=r"^(Average|Sum|Maximum|Minimum|SampleCount|p\d{1,2}(\.\d+)?)$")


class MetricSpec(Model):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        pattern=METRIC_NAME_PATTERN, description="errors, duration_p99, duration_p50, throttles, or your own"
    )
    weight: Share = Field(default=10.0, ge=0, le=100)
    critical: Flag = Field(default=False, description="a High (or Low, by direction) fails the step alone")
    direction: Literal["increase", "decrease", "either"] = Field(
        default="increase", description="which change is a failure: a higher, lower, or any different candidate"
    )
    tolerance: Share = Field(
        default=0.1, ge=0, le=10, description="relative change allowed even when significant (0.1 = 10%)"
    )
    custom: CustomMetric | None = None

    @model_validator(mode="after")
    def _custom_or_builtin(self) -> "MetricSpec":
        if (self.custom is None) != (self.name in BUILTIN_METRICS):
            raise ValueError(
                f"metric {self.name!r}: give 'custom' for a metric of your own, and only then "
                f"(built in: {', '.join(BUILTIN_METRICS)})"
            )
        return self


def default_metrics() -> list[MetricSpec]:
    return [
        MetricSpec(name="errors", weight=40, critical=True, tolerance=0.1),
        MetricSpec(name="duration_p99", weight=30, tolerance=0.1),
        MetricSpec(name="duration_p50", weight=15, tolerance=0.1),
        MetricSpec(name="throttles", weight=15, tolerance=0.1),
    ]


class AnalysisSpec(Model):
    """The request's ``"analysis"``: opt-in; with it each weighted step is judged after its bake."""

    model_config = ConfigDict(extra="forbid")

    warmup_seconds: Seconds = Field(default=60, ge=0, le=3600)
    period_seconds: Literal[60, 300] = 60
    min_candidate_invocations: Seconds = Field(default=100, ge=1, le=10_000_000)
    alpha: Share = Field(default=0.005, gt=0, le=0.2, description="one-sided significance of each test")
    metrics: list[MetricSpec] = Field(default_factory=default_metrics, min_length=1, max_length=MAX_METRICS)
    pass_score: Share = Field(default=90.0, ge=0, le=100)
    marginal_score: Share = Field(default=75.0, ge=0, le=100)
    # Bounded: extensions add history events and time the request's own limits do not count.
    max_extensions: Seconds = Field(default=2, ge=0, le=5)
    extension_seconds: Seconds = Field(default=300, ge=60, le=3600)
    on_marginal: Literal["fail", "pause"] = "fail"
    on_inconclusive: Literal["fail", "pause"] = "fail"

    @model_validator(mode="after")
    def _consistent(self) -> "AnalysisSpec":
        if self.marginal_score > self.pass_score:
            raise ValueError("marginal_score must not exceed pass_score")
        names = [m.name for m in self.metrics]
        if len(set(names)) != len(names):
            raise ValueError("metrics: each name once")
        if not any(m.weight > 0 or m.critical for m in self.metrics):
            raise ValueError("metrics: at least one needs a weight or critical")
        return self


# --- what the judge reads ----------------------------------------------------------------------


class VersionSeries(Model):
    """One version's per-period values, oldest first; ``None`` where CloudWatch had no point."""

    model_config = ConfigDict(extra="forbid")

    version: str
    invocations: list[float] = Field(max_length=MAX_PERIODS)
    errors: list[float | None] = Field(max_length=MAX_PERIODS)
    throttles: list[float | None] | None = Field(default=None, max_length=MAX_PERIODS)
    duration_p50: list[float | None] = Field(default_factory=list, max_length=MAX_PERIODS)
    duration_p99: list[float | None] = Field(default_factory=list, max_length=MAX_PERIODS)
    custom: dict[str, list[float | None]] = Field(default_factory=dict)


class MetricWindow(Model):
    """Both versions over the same judged periods (the warm-up already left out)."""

    model_config = ConfigDict(extra="forbid")

    period_seconds: int = 60
    stable: VersionSeries
    candidate: VersionSeries


# --- what the judge returns ----------------------------------------------------------------------


class MetricEvidence(Model):
    name: str
    test: str = Field(description="fisher_exact, mann_whitney_u, or none")
    stable: float | None = Field(default=None, description="rate (count metrics) or median of periods")
    candidate: float | None = None
    stable_n: int = Field(default=0, description="invocations (count metrics) or periods (samples)")
    candidate_n: int = 0
    p_value: float | None = None
    effect: float | None = Field(
        default=None, description="relative change: rate ratio - 1, or Hodges-Lehmann estimate / stable median"
    )
    verdict: Verdict
    failed: bool = Field(description="the verdict counts against the candidate (by direction and tolerance)")
    weight: float = 0.0
    critical: bool = False
    detail: str = ""


class StepEvidence(Model):
    step: int | None = None
    periods: int
    candidate_invocations: int
    stable_invocations: int
    score: float | None
    verdict: StepVerdict
    reason: str
    metrics: list[MetricEvidence]


# --- what the record keeps ---------------------------------------------------------------------

MAX_REASON = 500  # a step summary's reason, cut: the record item stays bounded (200 steps)


class StepJudgement(Model):
    """A judged step, in short: every judgement's full evidence is in the event history."""

    verdict: StepVerdict
    action: Literal["promote", "extend", "pause", "fail"]
    score: float | None = None
    reason: str = Field(default="", max_length=MAX_REASON)
    extensions: int = 0


class AnalysisRecord(Model):
    """The promotion's analysis: its spec, each judged step in short, the latest evidence in full."""

    spec: AnalysisSpec
    steps: dict[str, StepJudgement] = Field(default_factory=dict, description="by step index")
    last: StepEvidence | None = Field(default=None, description="the latest judgement's evidence")


class JudgeInput(Model):
    promotion_id: str = Field(min_length=1)
    step: int = Field(ge=0)
