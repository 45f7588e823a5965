"""Rollback latency: from an alarm entering ALARM to the alias back on stable with empty routing
(the sandbox accepting that UpdateAlias).

Two paths, 20 runs each, on the sandbox with the real ASL and handlers:

- event path: the alarm's state-change event reaches the alarm listener, which rolls back at once;
- workflow check: the listener's rule is disabled, so only the workflow's own Check (at the end
  of the bake) notices the alarm.

Also prints the state transitions of a promotion whose bake an alarm ended early, the AWS calls the
alarm listener makes before its UpdateAlias, and the event path next to a bare GetAlias +
UpdateAlias on the same sandbox (the floor: what any rollback must at least do).

    .venv/bin/python -m bench.rollback_latency
"""

from __future__ import annotations

import random
import statistics
import time
from collections import Counter

from promoter.models import PromotionRequest, Status
from sandbox import Sandbox
from sandbox.aws.awslambda.versions import ALIAS_WRITES
from sandbox.fixtures.targets import Targets

from .calls import before_first, recording

RUNS = 20
BAKE_SECONDS = 2  # real seconds at time scale 1: the workflow path waits for the end of the bake
RULE_LOGICAL_ID = "AlarmListenerFunctionAlarmStateChange"


def one_run(box: Sandbox, targets: Targets, index: int, *, event_path: bool) -> tuple[float, int, list[str] | None]:
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
    with recording() as calls:
        since = len(ALIAS_WRITES)
        fired = time.perf_counter()
        targets.set_alarm(alarm, "ALARM", "errors on the canary")
        # Watch the writes the sandbox accepted (no request: polling GetAlias would compete with the
        # listener for the interpreter and slow down what it measures)
        while not any(w[:3] == (name, "live", "1") and not w[3] for w in ALIAS_WRITES[since:]):
            time.sleep(0.0005)
        latency = time.perf_counter() - fired
        before = before_first(list(calls), "AlarmListener", "lambda", "UpdateAlias") if event_path else None
    final = box.wait_until_final(promotion.id)
    assert final.status is Status.ROLLED_BACK, final.outcome_reason
    history = box.client("stepfunctions").get_execution_history(executionArn=final.execution_arn, maxResults=1000)
    transitions = sum(1 for e in history["events"] if e["type"].endswith("StateEntered"))
    return latency, transitions, before


def measure(event_path: bool) -> tuple[list[float], list[int], list[list[str]]]:
    latencies, transitions, befores = [], [], []
    with Sandbox(time_scale=1.0) as box:
        if not event_path:
            rule = box.physical_id(RULE_LOGICAL_ID)
            box.client("events").disable_rule(Name=rule)
        targets = Targets(region=box.region)
        for index in range(RUNS):
            latency, count, before = one_run(box, targets, index, event_path=event_path)
            latencies.append(latency)
            transitions.append(count)
            if before is not None:
                befores.append(before)
    return latencies, transitions, befores


def bare_rollback() -> list[float]:
    """GetAlias + UpdateAlias (with its RevisionId) and nothing else, on the same sandbox."""
    times = []
    with Sandbox(time_scale=1.0) as box:
        targets = Targets(region=box.region)
        targets.function("bare")
        client = box.client("lambda")
        for index in range(RUNS):
            routing = {"AdditionalVersionWeights": {"2": 0.1}} if index % 2 else {}
            began = time.perf_counter()
            revision = client.get_alias(FunctionName="bare", Name="live")["RevisionId"]
            client.update_alias(
                FunctionName="bare", Name="live", FunctionVersion="1", RoutingConfig=routing, RevisionId=revision
            )
            times.append(time.perf_counter() - began)
    return times


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def main() -> None:
    event, event_transitions, befores = measure(event_path=True)
    check, check_transitions, _ = measure(event_path=False)
    bare = bare_rollback()
    print(f"rollback latency over {RUNS} runs (alarm enters ALARM -> alias on stable, empty routing)")
    print(f"bake {BAKE_SECONDS} s; the alarm fires at a random moment in the bake\n")
    print(f"{'path':<18}{'p50 ms':>10}{'p95 ms':>10}")
    for label, values in (("event path", event), ("workflow check", check), ("bare Get+UpdateAlias", bare)):
        print(f"{label:<18}{p(values, 50) * 1000:>10.1f}{p(values, 95) * 1000:>10.1f}")
    print(f"\nratio workflow/event: p50 {p(check, 50) / p(event, 50):.0f}x, p95 {p(check, 95) / p(event, 95):.0f}x")
    print(f"ratio event/bare GetAlias+UpdateAlias: p50 {p(event, 50) / p(bare, 50):.1f}x (goal: at most 5x)")
    if befores:
        counts = sorted(len(b) for b in befores)
        common = Counter(tuple(b) for b in befores).most_common(1)[0][0]
        print(
            f"AWS calls by the alarm listener before its UpdateAlias: median {statistics.median(counts):.0f} "
            f"(min {counts[0]}, max {counts[-1]}; {len(befores)} of {RUNS} runs), most often: {', '.join(common)}"
        )
    else:
        print("AWS calls by the alarm listener before its UpdateAlias: the listener wrote no alias (workflow won)")
    print(
        "state transitions of a promotion whose bake an alarm ended early: "
        f"{statistics.median(event_transitions):.0f} (event path), "
        f"{statistics.median(check_transitions):.0f} (workflow check, bake ran out)"
    )


if __name__ == "__main__":
    main()
