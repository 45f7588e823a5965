"""Rollback latency: from an alarm entering ALARM to the alias back on stable with empty routing
(the sandbox accepting that UpdateAlias).

Two paths, 20 runs each, on the sandbox with the real ASL and handlers:

- event path: the alarm's state-change event reaches the alarm listener, which rolls back at once;
- workflow check: the listener's rule is disabled, so only the workflow's own Check (at the end
  of the bake) notices the alarm.

Also prints the state transitions of a promotion whose bake an alarm ended early, the AWS calls the
alarm listener makes before its UpdateAlias, and the event path next to a bare GetAlias +
UpdateAlias on the same sandbox (the floor: what any rollback must at least do).

Both ends are moments the sandbox's own threads record (``Moments``): the alarm's state change in
the CloudWatch backend, and the alias write the Lambda backend accepted. The bench's thread waits
on an event instead of polling, so it takes no interpreter time from the listener it measures.

    .venv/bin/python -m bench.rollback_latency
"""

from __future__ import annotations

import random
import statistics
import threading
import time
from collections import Counter
from typing import Any

from promoter.models import PromotionRequest, Status
from sandbox import Sandbox
from sandbox.aws.awslambda.versions import ALIAS_WRITES
from sandbox.fixtures.targets import Targets

from .calls import before_first, recording

RUNS = 20
BAKE_SECONDS = 2  # real seconds at time scale 1: the workflow path waits for the end of the bake
RULE_LOGICAL_ID = "AlarmListenerFunctionAlarmStateChange"


class Moments:
    """perf_counter moments recorded where they happen: an alarm changing state, and the sandbox
    accepting a write of ``watched`` (function, alias) to one version with empty routing."""

    def __init__(self) -> None:
        self.changed: float | None = None
        self.landed = threading.Event()
        self.watched: tuple[str, str, str] | None = None
        self.written: float | None = None
        from moto.awslambda import models as lambda_models
        from moto.cloudwatch import models as cw

        update_state, update_alias = cw.Alarm.update_state, lambda_models.LambdaAlias.update

        def on_state(alarm: Any, reason: str, reason_data: str, state_value: str) -> None:
            if state_value == "ALARM" and alarm.state_value != "ALARM":
                self.changed = time.perf_counter()
            update_state(alarm, reason, reason_data, state_value)

        def on_alias(alias: Any, *args: Any, **kwargs: Any) -> None:
            update_alias(alias, *args, **kwargs)
            function = alias.arn.split(":function:")[1].rsplit(":", 1)[0]
            weights = (alias.routing_config or {}).get("AdditionalVersionWeights")
            if (function, alias.name, alias.function_version) == self.watched and not weights:
                self.written = time.perf_counter()
                self.landed.set()

        cw.Alarm.update_state, lambda_models.LambdaAlias.update = on_state, on_alias
        self._originals = (
            (cw.Alarm, "update_state", update_state),
            (lambda_models.LambdaAlias, "update", update_alias),
        )

    def watch(self, function: str, alias: str, version: str) -> None:
        self.changed = self.written = None
        self.landed.clear()
        self.watched = (function, alias, version)

    def restore(self) -> None:
        for owner, name, original in self._originals:
            setattr(owner, name, original)


def one_run(
    box: Sandbox, targets: Targets, moments: Moments, index: int, *, event_path: bool
) -> tuple[float, int, list[str] | None]:
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
        moments.watch(name, "live", "1")
        targets.set_alarm(alarm, "ALARM", "errors on the canary")
        assert moments.landed.wait(60), "the alias never went back to stable"
        assert moments.changed is not None and moments.written is not None
        latency = moments.written - moments.changed
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
        moments = Moments()
        try:
            for index in range(RUNS):
                latency, count, before = one_run(box, targets, moments, index, event_path=event_path)
                latencies.append(latency)
                transitions.append(count)
                if before is not None:
                    befores.append(before)
        finally:
            moments.restore()
    return latencies, transitions, befores


def bare_rollback() -> list[float]:
    """GetAlias + UpdateAlias (with its RevisionId) and nothing else, on the same sandbox: from the
    GetAlias to the sandbox accepting the write back to version 1, as the event path is measured."""
    times = []
    with Sandbox(time_scale=1.0) as box:
        targets = Targets(region=box.region)
        targets.function("bare")
        client = box.client("lambda")
        moments = Moments()
        try:
            for _ in range(RUNS):
                time.sleep(0.25)  # 3 control-plane calls a run: under Lambda's 15/s, so none is throttled
                client.update_alias(
                    FunctionName="bare",
                    Name="live",
                    FunctionVersion="1",
                    RoutingConfig={"AdditionalVersionWeights": {"2": 0.1}},
                )
                moments.watch("bare", "live", "1")
                began = time.perf_counter()
                revision = client.get_alias(FunctionName="bare", Name="live")["RevisionId"]
                client.update_alias(
                    FunctionName="bare", Name="live", FunctionVersion="1", RoutingConfig={}, RevisionId=revision
                )
                assert moments.written is not None
                times.append(moments.written - began)
        finally:
            moments.restore()
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
