"""State transitions, Lambda invocations and Lambda control-plane calls per promotion, and the wall
time of one promotion.

Runs the real ASL and handlers on the sandbox. Bakes are multiplied by 10 in the second run of
each strategy: if Hold is built right, the counts do not change.

    make bench      # or: .venv/bin/python -m bench.transitions
"""

from __future__ import annotations

import statistics
import time
from collections import Counter

from promoter.models import PromotionRequest
from sandbox import Sandbox
from sandbox.fixtures.targets import Targets

from .calls import lambda_control_plane, recording

TIME_SCALE = 1000.0  # a 600 s bake lasts 0.6 s
CASES = [
    ("canary 10% (2 steps)", {"type": "canary", "weight": 0.1, "bake_seconds": 60}),
    ("linear 10% (10 steps)", {"type": "linear", "step": 0.1, "interval_seconds": 60}),
]


def scaled(strategy: dict, factor: int) -> dict:
    key = "bake_seconds" if "bake_seconds" in strategy else "interval_seconds"
    return strategy | {key: strategy[key] * factor}


def measure(strategy: dict) -> tuple[int, int, float, str, Counter[str]]:
    with Sandbox(time_scale=TIME_SCALE) as box:
        target = Targets(region=box.region).function("bench")
        request = PromotionRequest(function="bench", alias="live", version=target.versions[-1], strategy=strategy)
        with recording() as calls:
            began = time.perf_counter()
            promotion = box.service().start(request, actor="bench")
            final = box.wait_until_final(promotion.id, timeout=600)
            wall = time.perf_counter() - began
            control = Counter(lambda_control_plane(calls))
        history = box.client("stepfunctions").get_execution_history(executionArn=final.execution_arn, maxResults=1000)[
            "events"
        ]
        transitions = sum(1 for e in history if e["type"].endswith("StateEntered"))
        invocations = sum(1 for e in history if e["type"] == "TaskScheduled")
        return transitions, invocations, wall, final.status, control


def main() -> None:
    print(f"{'strategy':<24}{'bake':>6}{'transitions':>13}{'invocations':>13}{'lambda calls':>14}{'status':>11}")
    breakdown: dict[str, Counter[str]] = {}
    for label, strategy in CASES:
        for factor in (1, 10):
            transitions, invocations, _, status, control = measure(scaled(strategy, factor))
            total = sum(control.values())
            print(f"{label:<24}{'x' + str(factor):>6}{transitions:>13}{invocations:>13}{total:>14}{status:>11}")
            breakdown.setdefault(label, control)
    print("\nLambda control-plane calls per promotion (start to final record), by action:")
    for label, control in breakdown.items():
        print(f"  {label}: " + ", ".join(f"{action} {n}" for action, n in sorted(control.items())))
    walls = [measure(CASES[0][1])[2] for _ in range(5)]
    bake_real = CASES[0][1]["bake_seconds"] / TIME_SCALE
    print(
        f"\nwall time of one sandbox promotion (canary, bake {bake_real:.2f} s real), 5 runs: "
        f"median {statistics.median(walls):.2f} s, min {min(walls):.2f} s, max {max(walls):.2f} s"
    )


if __name__ == "__main__":
    main()
