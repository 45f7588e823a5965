"""Rollback latency: from an alarm entering ALARM to the alias back on stable with empty routing.

Two paths, 20 runs each, on the sandbox with the real ASL and handlers:

- event path: the alarm's state-change event reaches the alarm listener, which rolls back at once;
- workflow check: the listener's rule is disabled, so only the workflow's own Check (at the end
  of the bake) notices the alarm.

Also prints the state transitions of a promotion whose bake an alarm ended early.

    .venv/bin/python -m bench.rollback_latency
"""

from __future__ import annotations

import random
import statistics
import time

from promoter.models import PromotionRequest, Status
from sandbox import Sandbox
from sandbox.aws.awslambda.versions import ALIAS_WRITES
from sandbox.fixtures.targets import Targets

RUNS = 20
BAKE_SECONDS = 2  # real seconds at time scale 1: the workflow path waits for the end of the bake
RULE_LOGICAL_ID = "AlarmListenerFunctionAlarmStateChange"


def one_run(box: Sandbox, targets: Targets, index: int, *, event_path: bool) -> tuple[float, int]:
    name = f"bench{index}"
    targets.function(name)
    alarm = targets.alarm(f"{name}-errors", name)
    request = PromotionRequest(
        function=name,
        alias="live",
        version="2",
        strategy={"type": "canary", "weight": 0.1, "bake_seconds": BAKE_SECONDS},
        alarms=[alarm],
    )
    promotion = box.service().start(request, actor="bench")
    while not [w for w in ALIAS_WRITES if w[0] == name]:  # the canary is live
        time.sleep(0.001)
    time.sleep(random.uniform(0.1, BAKE_SECONDS * 0.8))  # the alarm fires somewhere in the bake
    fired = time.perf_counter()
    targets.set_alarm(alarm, "ALARM", "errors on the canary")
    while True:
        state = targets.alias_state(name, "live")
        if state["version"] == "1" and not state["weights"]:
            break
        time.sleep(0.001)
    latency = time.perf_counter() - fired
    final = box.wait_until_final(promotion.id)
    assert final.status is Status.ROLLED_BACK, final.outcome_reason
    history = box.client("stepfunctions").get_execution_history(executionArn=final.execution_arn, maxResults=1000)
    transitions = sum(1 for e in history["events"] if e["type"].endswith("StateEntered"))
    return latency, transitions


def measure(event_path: bool) -> tuple[list[float], list[int]]:
    latencies, transitions = [], []
    with Sandbox(time_scale=1.0) as box:
        if not event_path:
            rule = box.physical_id(RULE_LOGICAL_ID)
            box.client("events").disable_rule(Name=rule)
        targets = Targets(region=box.region)
        for index in range(RUNS):
            latency, count = one_run(box, targets, index, event_path=event_path)
            latencies.append(latency)
            transitions.append(count)
    return latencies, transitions


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def main() -> None:
    event, event_transitions = measure(event_path=True)
    check, check_transitions = measure(event_path=False)
    print(f"rollback latency over {RUNS} runs (alarm enters ALARM -> alias on stable, empty routing)")
    print(f"bake {BAKE_SECONDS} s; the alarm fires at a random moment in the bake\n")
    print(f"{'path':<18}{'p50 ms':>10}{'p95 ms':>10}")
    for label, values in (("event path", event), ("workflow check", check)):
        print(f"{label:<18}{p(values, 50) * 1000:>10.0f}{p(values, 95) * 1000:>10.0f}")
    print(f"\nratio workflow/event: p50 {p(check, 50) / p(event, 50):.0f}x, p95 {p(check, 95) / p(event, 95):.0f}x")
    print(
        "state transitions of a promotion whose bake an alarm ended early: "
        f"{statistics.median(event_transitions):.0f} (event path), "
        f"{statistics.median(check_transitions):.0f} (workflow check, bake ran out)"
    )


if __name__ == "__main__":
    main()
