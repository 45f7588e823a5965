"""Pure: a strategy spec becomes the ordered list of traffic steps.

Every list ends with weight 1.0: that last step is the promotion itself (alias moves to the
candidate with empty routing); earlier steps are weighted routing on the alias. A list never holds
more than ``promoter.limits.MAX_STEPS`` steps (the models refuse more, counting without building).
"""

from .limits import MAX_STEPS, linear_step_count
from .models import (
    AllAtOnceStrategy,
    CanaryStrategy,
    CustomStrategy,
    LinearStrategy,
    Step,
    StrategySpec,
)

FULL = 1.0


def steps_for(strategy: StrategySpec) -> list[Step]:
    match strategy:
        case CanaryStrategy(weight=weight, bake_seconds=bake):
            steps = [Step(weight=weight, bake_seconds=bake)]
        case LinearStrategy(step=increment, interval_seconds=interval):
            count = linear_step_count(increment)
            _ensure_bounded(count)  # a model built without validation must not build a million steps
            weights = [round(increment * k, 12) for k in range(1, count)]
            steps = [Step(weight=w, bake_seconds=interval) for w in weights if w < FULL]
        case AllAtOnceStrategy():
            steps = []
        case CustomStrategy(steps=custom):
            steps = list(custom)
        case _:
            raise TypeError(f"unknown strategy {strategy!r}")
    if not steps or steps[-1].weight < FULL:
        steps.append(Step(weight=FULL, bake_seconds=0))
    _ensure_bounded(len(steps))
    return steps


def _ensure_bounded(count: int) -> None:
    if count > MAX_STEPS:
        raise ValueError(f"{count} steps; at most {MAX_STEPS} fit one Step Functions execution")
