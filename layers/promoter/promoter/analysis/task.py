"""The workflow's Judge task: after a weighted step's bake, judge the candidate against stable.

Imported only by functions/judge/app.py (it loads the judge, so scipy). The ASL runs it after a
step's hold when the promotion has ``"analysis"`` (statemachines/promotion.asl.json, HoldJudged ->
Judge). It reads both versions' metrics from the bake (the warm-up left out) in the target's
account, judges, keeps the evidence (the record's ``analysis``, and a ``judged`` event with every
metric) and answers the next move:

- ``check``: go on to Check as after any hold (a pass, a step not judged, a hold woken early);
- ``extend``: hold again for ``extension_seconds`` and judge again over the whole bake;
- ``pause``: the record is PAUSED, the workflow waits for resume or promote-now;
- a Fail raises ``JudgeFailed`` naming the metric and by how much: the workflow rolls back.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from .. import clock
from ..aws.metrics import MetricsAdapter
from ..models import Hold, Promotion, Status
from ..promotions.protocol import Records, ensure_live
from .judge import judge
from .models import MAX_REASON, MetricWindow, StepEvidence, StepJudgement
from .policy import JudgeFailed, next_action

JUDGE = "judge"


def window_of(started: datetime, now: datetime, warmup_seconds: int, period: int) -> tuple[datetime, datetime]:
    """Whole periods from the first period boundary after the warm-up to the last one before now."""
    first = math.ceil((started.timestamp() + warmup_seconds) / period) * period
    last = math.floor(now.timestamp() / period) * period
    start = datetime.fromtimestamp(first, UTC)
    return start, max(start, datetime.fromtimestamp(last, UTC))


def summary(evidence: StepEvidence) -> str:
    lines = [f"step {(evidence.step or 0) + 1}: {evidence.verdict.value} ({evidence.reason})"]
    for m in evidence.metrics:
        p = f", p={m.p_value:.2g}" if m.p_value is not None else ""
        lines.append(f"{m.name} {m.verdict.value} [{m.test}{p}]: {m.detail}")
    return "\n".join(lines)


class JudgeTask:
    def __init__(self, records: Records, metrics_for: Callable[[Promotion], MetricsAdapter]) -> None:
        self.records = records
        self.metrics_for = metrics_for

    def judge(self, promotion_id: str, step: int) -> dict[str, Any]:
        promotion = self.records.get(promotion_id)
        ensure_live(promotion)
        skip = {"move": "check", "step": step, "hold_seconds": 0}
        analysis = promotion.analysis
        if analysis is None or step >= len(promotion.steps) or promotion.steps[step].weight >= 1.0:
            return skip  # nothing to compare with at 100%, or no analysis asked for
        now = clock.now()
        if promotion.hold is None or promotion.hold.step != step or promotion.hold.remaining(now) >= 1:
            return skip  # woken early (pause, promote-now): Check acts on the signal
        spec = analysis.spec
        started = promotion.steps[step].started_at or now
        start, end = window_of(started, now, spec.warmup_seconds, spec.period_seconds)
        custom = {m.name: m.custom for m in spec.metrics if m.custom is not None}
        stable, candidate = promotion.stable_version, promotion.candidate
        series = self.metrics_for(promotion).version_series(
            promotion.function_arn.split(":")[6],
            promotion.alias,
            [stable, candidate],
            start,
            end,
            spec.period_seconds,
            custom,
        )
        window = MetricWindow(period_seconds=spec.period_seconds, stable=series[stable], candidate=series[candidate])
        evidence = judge(spec, window, step=step)
        taken = analysis.steps[str(step)].extensions if str(step) in analysis.steps else 0
        action = next_action(spec, evidence.verdict, taken)

        def keep(p: Promotion) -> None:
            ensure_live(p)
            assert p.analysis is not None
            p.analysis.last = evidence
            p.analysis.steps[str(step)] = StepJudgement(
                verdict=evidence.verdict,
                action=action,
                score=evidence.score,
                reason=evidence.reason[:MAX_REASON],
                extensions=taken + (action == "extend"),
            )
            p.record(JUDGE, "judged", summary(evidence), weight=p.steps[step].weight)
            if action == "extend":
                p.hold = Hold(step=step, seconds=spec.extension_seconds, running_since=clock.now())
                p.record(
                    JUDGE,
                    "bake_extended",
                    f"step {step + 1}: {spec.extension_seconds}s more "
                    f"({taken + 1} of {spec.max_extensions}): {evidence.verdict.value}",
                )
            elif action == "pause":
                if p.hold:
                    p.hold.running_since = None
                p.status = Status.PAUSED
                p.record(
                    JUDGE,
                    "paused",
                    f"step {step + 1}: canary analysis {evidence.verdict.value}, waiting for resume (promote) or abort",
                )

        self.records.mutate(promotion_id, keep, actor=JUDGE)
        if action == "fail":
            raise JudgeFailed(f"canary analysis failed at step {step + 1}: {evidence.reason}"[:1000])
        if action == "extend":
            return {"move": "extend", "step": step, "hold_seconds": spec.extension_seconds}
        if action == "pause":
            return {"move": "pause", "step": step, "hold_seconds": 0}
        return skip
