"""The statistical judge: the candidate against the stable version over the same periods. Pure.

Imported only by the judge function: it loads scipy (see the package docstring).

Per metric:

- **Counts** (errors per invocation, throttles per request): summed over the judged periods and
  compared with Fisher's exact test on the 2x2 table, one-sided in the failing direction. Counts,
  not per-minute rates: a minute with 0 errors of 120 and a minute with 0 of 1,080 are not the
  same evidence (a rank test on per-minute error rates judged a candidate with 3% errors against a
  stable one with none as Pass: spinnaker/kayenta#799). A custom count metric, which may exceed the
  invocations, is compared as two Poisson rates (exact binomial test conditional on the total).
- **Samples** (Duration p50 and p99, custom value metrics): one value per period per version,
  Mann-Whitney U, one-sided; as Kayenta does, a significant difference fails only if the
  Hodges-Lehmann estimate of the shift (median of all candidate - stable differences) is beyond
  ``tolerance`` x the stable median.

A metric fails by its ``direction``: ``increase`` fails on High only (Low is reported and passes).

The step: too few candidate invocations, no stable traffic, or no metric with data is
Inconclusive. A critical metric failing fails the step alone; otherwise the score is the weight of
passing metrics over the weight of metrics with data (x100), against ``pass_score`` and
``marginal_score``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats

from .models import (
    AnalysisSpec,
    MetricEvidence,
    MetricSpec,
    MetricWindow,
    StepEvidence,
    StepVerdict,
    Verdict,
    VersionSeries,
)

MIN_SAMPLE_PERIODS = 3  # fewer periods with a value, in either version, is NoData for a samples metric


def _total(values: Sequence[float | None] | None) -> int | None:
    if values is None:
        return None
    present = [v for v in values if v is not None]
    return int(round(sum(present))) if present else None


def _present(values: Sequence[float | None] | None) -> list[float]:
    return [float(v) for v in values or () if v is not None and math.isfinite(v)]


def _verdict(spec: MetricSpec, high: bool, low: bool) -> tuple[Verdict, bool]:
    verdict = Verdict.HIGH if high else Verdict.LOW if low else Verdict.PASS
    failed = (high and spec.direction in ("increase", "either")) or (low and spec.direction in ("decrease", "either"))
    return verdict, failed


def _nodata(spec: MetricSpec, test: str, detail: str) -> MetricEvidence:
    return MetricEvidence(
        name=spec.name,
        test=test,
        verdict=Verdict.NODATA,
        failed=False,
        weight=spec.weight,
        critical=spec.critical,
        detail=detail,
    )


def judge_counts(
    spec: MetricSpec, alpha: float, stable: tuple[int, int], candidate: tuple[int, int], *, poisson: bool = False
) -> MetricEvidence:
    """(events, exposure) for each version: errors/invocations, throttles/requests, or a custom count."""
    (s_k, s_n), (c_k, c_n) = stable, candidate
    test = "poisson_rate_binomial" if poisson else "fisher_exact"
    if s_n <= 0 or c_n <= 0:
        return _nodata(spec, test, "no invocations of one version")
    s_rate, c_rate = s_k / s_n, c_k / c_n

    def p_greater(k1: int, n1: int, k2: int, n2: int) -> float:
        """P-value that version 1's rate is above version 2's."""
        if poisson:
            total = k1 + k2
            if total == 0:
                return 1.0
            return float(stats.binomtest(k1, total, n1 / (n1 + n2), alternative="greater").pvalue)
        table = np.array([[k1, n1 - k1], [k2, n2 - k2]])
        return float(stats.fisher_exact(table, alternative="greater").pvalue)

    p_high = p_greater(c_k, c_n, s_k, s_n)
    p_low = p_greater(s_k, s_n, c_k, c_n)
    high = p_high < alpha and c_rate > s_rate * (1 + spec.tolerance)
    low = p_low < alpha and c_rate < s_rate / (1 + spec.tolerance)
    verdict, failed = _verdict(spec, high, low)
    effect = (c_rate / s_rate - 1.0) if s_rate > 0 else None
    change = f"{effect:+.0%}" if effect is not None else ("from none" if c_rate > 0 else "none on either")
    return MetricEvidence(
        name=spec.name,
        test=test,
        stable=s_rate,
        candidate=c_rate,
        stable_n=s_n,
        candidate_n=c_n,
        p_value=p_low if verdict is Verdict.LOW else p_high,
        effect=effect,
        verdict=verdict,
        failed=failed,
        weight=spec.weight,
        critical=spec.critical,
        detail=f"{c_k}/{c_n} = {c_rate:.3%} vs {s_k}/{s_n} = {s_rate:.3%} ({change})",
    )


def hodges_lehmann(candidate: Sequence[float], stable: Sequence[float]) -> float:
    """Median of all pairwise differences candidate - stable: the shift Mann-Whitney U measures."""
    return float(np.median(np.subtract.outer(np.asarray(candidate), np.asarray(stable))))


def judge_samples(
    spec: MetricSpec, alpha: float, stable: Sequence[float], candidate: Sequence[float]
) -> MetricEvidence:
    test = "mann_whitney_u"
    if len(stable) < MIN_SAMPLE_PERIODS or len(candidate) < MIN_SAMPLE_PERIODS:
        return _nodata(
            spec,
            test,
            f"periods with a value: stable {len(stable)}, candidate {len(candidate)} (needs {MIN_SAMPLE_PERIODS} each)",
        )
    s_median, c_median = float(np.median(stable)), float(np.median(candidate))
    shift = hodges_lehmann(candidate, stable)
    allowed = spec.tolerance * abs(s_median)
    p_high = float(stats.mannwhitneyu(candidate, stable, alternative="greater").pvalue)
    p_low = float(stats.mannwhitneyu(candidate, stable, alternative="less").pvalue)
    high = p_high < alpha and shift > allowed
    low = p_low < alpha and -shift > allowed
    verdict, failed = _verdict(spec, high, low)
    effect = shift / abs(s_median) if s_median else None
    return MetricEvidence(
        name=spec.name,
        test=test,
        stable=s_median,
        candidate=c_median,
        stable_n=len(stable),
        candidate_n=len(candidate),
        p_value=p_low if verdict is Verdict.LOW else p_high,
        effect=effect,
        verdict=verdict,
        failed=failed,
        weight=spec.weight,
        critical=spec.critical,
        detail=f"median of periods {c_median:.4g} vs {s_median:.4g}; Hodges-Lehmann shift {shift:+.4g}"
        + (f" ({effect:+.0%}, tolerance {spec.tolerance:.0%})" if effect is not None else ""),
    )


def judge_metric(spec: MetricSpec, alpha: float, stable: VersionSeries, candidate: VersionSeries) -> MetricEvidence:
    s_inv, c_inv = _total(stable.invocations) or 0, _total(candidate.invocations) or 0
    if spec.name == "errors":
        s_err, c_err = _total(stable.errors), _total(candidate.errors)
        if s_err is None or c_err is None:
            return _nodata(spec, "fisher_exact", "no Errors points for one version")
        return judge_counts(spec, alpha, (s_err, s_inv), (c_err, c_inv))
    if spec.name == "throttles":
        s_thr, c_thr = _total(stable.throttles), _total(candidate.throttles)
        if s_thr is None or c_thr is None:
            return _nodata(spec, "fisher_exact", "no Throttles points for one version")
        # A throttled request is not an invocation: the rate is over all requests.
        return judge_counts(spec, alpha, (s_thr, s_inv + s_thr), (c_thr, c_inv + c_thr))
    if spec.name in ("duration_p50", "duration_p99"):
        return judge_samples(spec, alpha, _present(getattr(stable, spec.name)), _present(getattr(candidate, spec.name)))
    assert spec.custom is not None  # a MetricSpec is built in or custom (its validator)
    s_values, c_values = stable.custom.get(spec.name), candidate.custom.get(spec.name)
    if spec.custom.kind == "count":
        s_k, c_k = _total(s_values), _total(c_values)
        if s_k is None or c_k is None:
            return _nodata(spec, "poisson_rate_binomial", f"no {spec.custom.metric_name} points for one version")
        return judge_counts(spec, alpha, (s_k, s_inv), (c_k, c_inv), poisson=True)
    return judge_samples(spec, alpha, _present(s_values), _present(c_values))


def judge(spec: AnalysisSpec, window: MetricWindow, *, step: int | None = None) -> StepEvidence:
    """The step's verdict with the evidence for each metric."""
    stable, candidate = window.stable, window.candidate
    s_inv, c_inv = _total(stable.invocations) or 0, _total(candidate.invocations) or 0
    periods = len(candidate.invocations)

    def ending(
        verdict: StepVerdict, reason: str, metrics: list[MetricEvidence], score: float | None = None
    ) -> StepEvidence:
        return StepEvidence(
            step=step,
            periods=periods,
            candidate_invocations=c_inv,
            stable_invocations=s_inv,
            score=score,
            verdict=verdict,
            reason=reason,
            metrics=metrics,
        )

    if c_inv < spec.min_candidate_invocations:
        return ending(
            StepVerdict.INCONCLUSIVE,
            f"{c_inv} candidate invocations in {periods} periods, "
            f"fewer than the {spec.min_candidate_invocations} needed",
            [],
        )
    if s_inv == 0:
        return ending(StepVerdict.INCONCLUSIVE, "no invocations of the stable version to compare with", [])
    evidence = [judge_metric(m, spec.alpha, stable, candidate) for m in spec.metrics]
    with_data = [e for e in evidence if e.verdict is not Verdict.NODATA]
    if not with_data:
        return ending(StepVerdict.INCONCLUSIVE, "no metric had data for both versions", evidence)
    critical = [e for e in with_data if e.critical and e.failed]
    weight = sum(e.weight for e in with_data)
    score = 100.0 * sum(e.weight for e in with_data if not e.failed) / weight if weight else None
    failing = "; ".join(f"{e.name} {e.verdict.value}: {e.detail}" for e in with_data if e.failed)
    if critical:
        return ending(StepVerdict.FAIL, f"critical metric failed: {failing}", evidence, score)
    if score is None or score >= spec.pass_score:
        return ending(
            StepVerdict.PASS,
            f"score {score:.0f}" if score is not None else "no critical metric failed",
            evidence,
            score,
        )
    if score >= spec.marginal_score:
        reason = f"score {score:.0f} below {spec.pass_score:.0f}: {failing}"
        return ending(StepVerdict.MARGINAL, reason, evidence, score)
    return ending(StepVerdict.FAIL, f"score {score:.0f} below {spec.marginal_score:.0f}: {failing}", evidence, score)
