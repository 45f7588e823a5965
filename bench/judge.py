"""Replay harness of the canary judge: synthetic, seeded metric streams of both versions.

Each run is one weighted step: an alias at ``rps`` requests/s sends each request to the candidate
with probability ``weight`` (as Lambda's router does), every one-minute period gives each
version's Invocations, Errors (binomial at its error rate), Throttles (none) and Duration p50/p99
(the percentiles of that period's lognormal durations, as CloudWatch computes them from the
period's values). The first ``warmup_seconds`` are not judged. The judge runs at the end of the
bake; a marginal or inconclusive step is extended as its policy says and judged again.

    .venv/bin/python -m bench.judge            # the issue's counts (1,000 healthy runs, ...)
    .venv/bin/python -m bench.judge --runs 200 # fewer runs per case
"""

from __future__ import annotations

import argparse
import math
from collections import Counter
from dataclasses import dataclass, replace

import numpy as np
from scipy import stats

from promoter.analysis.judge import judge
from promoter.analysis.models import AnalysisSpec, MetricWindow, StepVerdict, VersionSeries
from promoter.analysis.policy import next_action

Z99 = float(stats.norm.ppf(0.99))


@dataclass(frozen=True)
class Scenario:
    name: str
    weight: float = 0.1
    rps: float = 20.0
    periods: int = 10  # the bake, warm-up included, in one-minute periods
    stable_error_rate: float = 0.01
    candidate_error_rate: float = 0.01
    median_ms: float = 100.0
    sigma: float = 0.5  # lognormal shape of Duration: p99 = median x e^(2.33 sigma) = 3.2 x median
    candidate_p99_factor: float = 1.0  # the candidate's p99 this much worse, its median unchanged


@dataclass(frozen=True)
class Outcome:
    action: str  # promote, fail, pause
    verdict: StepVerdict  # of the first judgement, at the end of the bake
    failed_in_bake: bool  # the first judgement (within ``periods``) ended the step in Fail
    periods: int  # periods read by the last judgement (warm-up included)
    reason: str


def _period(rng: np.random.Generator, n: int, error_rate: float, sigma: float, median: float) -> tuple:
    errors = int(rng.binomial(n, error_rate)) if n else 0
    if n == 0:
        return n, errors, None, None
    durations = median * np.exp(sigma * rng.standard_normal(n))
    p50, p99 = np.percentile(durations, [50, 99])
    return n, errors, float(p50), float(p99)


def _stream(rng: np.random.Generator, s: Scenario, periods: int) -> tuple[list, list]:
    per_period = int(round(s.rps * 60))
    candidate_sigma = s.sigma + math.log(s.candidate_p99_factor) / Z99
    stable, candidate = [], []
    for _ in range(periods):
        n_candidate = int(rng.binomial(per_period, s.weight))
        stable.append(_period(rng, per_period - n_candidate, s.stable_error_rate, s.sigma, s.median_ms))
        candidate.append(_period(rng, n_candidate, s.candidate_error_rate, candidate_sigma, s.median_ms))
    return stable, candidate


def _series(version: str, points: list) -> VersionSeries:
    return VersionSeries(
        version=version,
        invocations=[p[0] for p in points],
        errors=[p[1] for p in points],
        throttles=[0.0 for _ in points],
        duration_p50=[p[2] for p in points],
        duration_p99=[p[3] for p in points],
    )


def replay(scenario: Scenario, spec: AnalysisSpec, seed: int) -> Outcome:
    """One step judged as the workflow would: at the end of the bake, then after each extension."""
    rng = np.random.default_rng(seed)
    warmup = -(-spec.warmup_seconds // 60)
    stable, candidate = _stream(rng, scenario, scenario.periods)
    first: StepVerdict | None = None
    extensions = 0
    while True:
        window = MetricWindow(
            period_seconds=60,
            stable=_series("1", stable[warmup:]),
            candidate=_series("2", candidate[warmup:]),
        )
        evidence = judge(spec, window)
        first = first or evidence.verdict
        action = next_action(spec, evidence.verdict, extensions)
        if action != "extend":
            return Outcome(
                action=action,
                verdict=first,
                failed_in_bake=extensions == 0 and action == "fail",
                periods=len(stable),
                reason=evidence.reason,
            )
        extensions += 1
        more_stable, more_candidate = _stream(rng, scenario, spec.extension_seconds // 60)
        stable += more_stable
        candidate += more_candidate


def rates(scenario: Scenario, spec: AnalysisSpec, runs: int, seed: int = 0) -> dict[str, float]:
    outcomes = [replay(scenario, spec, seed * 1_000_003 + i) for i in range(runs)]
    actions = Counter(o.action for o in outcomes)
    first = Counter(o.verdict.value for o in outcomes)
    return {
        "runs": runs,
        "fail_in_bake": sum(o.failed_in_bake for o in outcomes) / runs,
        "ended_fail": actions["fail"] / runs,
        "ended_promote": actions["promote"] / runs,
        "ended_pause": actions["pause"] / runs,
        **{f"first_{k}": v / runs for k, v in sorted(first.items())},
    }


SCENARIOS = {
    "healthy": Scenario("healthy: candidate like stable (1% errors, same latency)"),
    "errors_2pct": Scenario("errors 1% stable vs 2% candidate", candidate_error_rate=0.02),
    "p99_25pct": Scenario("p99 25% worse on the candidate (median unchanged)", candidate_p99_factor=1.25),
    "zero_vs_3pct": Scenario("stable 0 errors, candidate 3%", stable_error_rate=0.0, candidate_error_rate=0.03),
    "too_few": Scenario("too few candidate invocations (0.5% weight, 2 rps)", weight=0.005, rps=2.0),
}


def neyman_pearson_power(n: int, p0: float, p1: float, alpha: float) -> float:
    """The most power any test can have at level alpha for n candidate invocations, the stable rate
    p0 known exactly (an upper bound for the judge, which estimates p0): the one-sided exact binomial
    test, randomised at the boundary."""
    k = int(stats.binom.isf(alpha, n, p0)) + 1  # smallest k with P(X >= k | p0) <= alpha
    below = stats.binom.sf(k - 1, n, p0)
    gamma = (alpha - below) / stats.binom.pmf(k - 1, n, p0)
    return float(stats.binom.sf(k - 1, n, p1) + gamma * stats.binom.pmf(k - 1, n, p1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    spec = AnalysisSpec()
    print(
        f"judge defaults: alpha {spec.alpha}, pass {spec.pass_score:.0f}, marginal {spec.marginal_score:.0f}, "
        f"warm-up {spec.warmup_seconds}s, min candidate invocations {spec.min_candidate_invocations}"
    )
    for key, scenario in SCENARIOS.items():
        measured = rates(scenario, spec, args.runs, args.seed)
        shown = ", ".join(f"{k} {v:.3f}" for k, v in measured.items() if k != "runs")
        print(f"{key:<13} {scenario.name}\n{'':<13} runs {args.runs}: {shown}")
    print("\nWhat the traffic allows (the best possible test, and the judge, at other traffic):")
    for weight, rps in ((0.1, 20.0), (0.2, 20.0), (0.1, 40.0), (0.1, 60.0), (0.1, 200.0)):
        judged = int((SCENARIOS["errors_2pct"].periods - 1) * 60 * rps * weight)
        bound = neyman_pearson_power(judged, 0.01, 0.02, spec.alpha)
        scenario = replace(SCENARIOS["errors_2pct"], weight=weight, rps=rps)
        measured = rates(scenario, spec, args.runs, args.seed)["fail_in_bake"]
        print(
            f"  errors 1% vs 2%, {weight:.0%} of {rps:.0f} rps ({judged} judged candidate invocations): "
            f"judge {measured:.3f}, best possible at alpha {spec.alpha} {bound:.3f}"
        )
    healthy = rates(replace(SCENARIOS["healthy"], rps=200.0), spec, args.runs, args.seed)
    print(f"  healthy, 10% of 200 rps: ended_fail {healthy['ended_fail']:.3f}")
    for weight, rps, periods in ((0.1, 200.0, 10), (0.1, 20.0, 30), (0.1, 60.0, 10)):
        scenario = replace(SCENARIOS["p99_25pct"], weight=weight, rps=rps, periods=periods)
        measured = rates(scenario, spec, args.runs, args.seed)["fail_in_bake"]
        print(f"  p99 25% worse, {weight:.0%} of {rps:.0f} rps, {periods} periods: judge {measured:.3f}")


if __name__ == "__main__":
    main()
