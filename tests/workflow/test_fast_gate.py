"""The fast gate end to end on the sandbox: real ASL, real handlers (the FastGate function too),
traffic through the alias, the candidate's log lines delivered by the sandbox's subscription filter.
No alarm, no judge.

The sandbox clock runs at real time here (scale 1): the gate's promise is seconds of the sandbox
clock from the candidate's first error to the alias back on stable, and at the suite's 50x a
second of the clock is 20 ms of work on a shared machine.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from promoter.models import Status
from sandbox import Sandbox
from sandbox.clock import CLOCK
from tests.workflow.helpers import alias_writes, assert_settled, lock_holder, request
from tests.workflow.test_judge import flaky_target

pytestmark = pytest.mark.slow

RATE = 20.0  # requests per second of the sandbox clock, through the alias


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(time_scale=1.0) as box:
        yield box


def paced(sandbox: Sandbox, function: str, done: threading.Event, rate: float = RATE, callers: int = 2):
    """``rate`` requests per second of the sandbox clock through the alias, shared by ``callers``."""
    lambdas = sandbox.client("lambda")
    interval = callers / rate

    def run(offset: float) -> None:
        due = CLOCK.now() + offset
        while not done.is_set():
            wait = due - CLOCK.now()
            if wait > 0:
                done.wait(CLOCK.real(wait))
                continue
            lambdas.invoke(FunctionName=f"{function}:live", Payload=b"{}")
            due += interval

    threads = [threading.Thread(target=run, args=(i * interval / callers,), daemon=True) for i in range(callers)]
    for thread in threads:
        thread.start()
    return threads


def promote(sandbox, target, bake_seconds: int, fast_gate: dict):
    strategy = {"type": "canary", "weight": 0.5, "bake_seconds": bake_seconds}
    started = sandbox.service().start(request(target, strategy=strategy, fast_gate=fast_gate), actor="alice")
    done = threading.Event()
    traffic = paced(sandbox, target.function, done)
    try:
        return sandbox.wait_until_final(started.id, timeout=120)
    finally:
        done.set()
        for thread in traffic:
            thread.join(timeout=10)


def first_candidate_error_ms(sandbox: Sandbox, function: str, version: str) -> int:
    """The timestamp of the candidate's first uncaught exception in its log group (sandbox clock)."""
    logs = sandbox.client("logs")
    pages = logs.get_paginator("filter_log_events").paginate(
        logGroupName=f"/aws/lambda/{function}", filterPattern='"[ERROR]"'
    )
    return min(e["timestamp"] for page in pages for e in page["events"] if f"/[{version}]" in e["logStreamName"])


def subscription_filters(sandbox: Sandbox, function: str) -> list[str]:
    found = sandbox.client("logs").describe_subscription_filters(logGroupName=f"/aws/lambda/{function}")
    return [f["filterName"] for f in found["subscriptionFilters"]]


def test_the_fast_gate_rolls_back_within_10_s_of_the_candidates_first_errors(sandbox, targets):
    target = flaky_target(targets, "orders", share=0.3)
    # a 10-minute bake: only the fast gate can end this promotion in the test's time
    final = promote(sandbox, target, 600, {"max_errors": 5, "window_seconds": 60})

    assert final.status is Status.ROLLED_BACK, final.outcome_reason
    assert final.outcome_reason.startswith("fast gate: ")
    assert "errors of version 2 in 60 s (more than 5)" in final.outcome_reason
    assert final.ending.actor == "fast-gate"
    assert_settled(sandbox, targets, target, "1")
    assert alias_writes("orders") == [("1", {"2": 0.5}), ("1", {})]
    assert lock_holder(sandbox, final) is None
    state = final.fast_gate_state
    trip = state.trip
    assert trip.errors > 5 and trip.window_seconds == 60
    first_error = first_candidate_error_ms(sandbox, "orders", "2") / 1000
    assert trip.first_error_at.timestamp() <= first_error + 1  # counted from the first one (to the second)
    assert trip.at.timestamp() - first_error <= 10, (trip, first_error)
    assert any(e.type == "rolled_back" and e.actor == "fast-gate" for e in final.events)
    # removed at Finalize, on this end too
    assert state.removed and subscription_filters(sandbox, "orders") == []
    assert any(e.type == "fast_gate" and "removed" in e.message for e in final.events)


def test_a_healthy_candidate_with_the_fast_gate_is_promoted_and_the_filter_removed(sandbox, targets):
    target = flaky_target(targets, "orders", share=0.0)
    final = promote(sandbox, target, 8, {})

    assert final.status is Status.SUCCEEDED, final.outcome_reason
    assert_settled(sandbox, targets, target, "2")
    assert final.fast_gate_state is not None and final.fast_gate_state.trip is None
    assert final.fast_gate_state.removed and subscription_filters(sandbox, "orders") == []
    made = next(e for e in final.events if e.type == "fast_gate")
    assert "lambda-promoter-fast-gate-" in made.message and "/aws/lambda/orders" in made.message


def test_concurrent_deliveries_lose_no_count_and_a_redelivery_adds_none(sandbox):
    from promoter.aws.fast_gate_counts import FastGateCounts

    counts = FastGateCounts(sandbox.settings.table_name)
    second = 1_800_000_000
    batches = [{second + (i % 3): [f"{i:056d}", f"{i + 1000:056d}"]} for i in range(24)]
    threads = [threading.Thread(target=counts.add, args=("p-1", batch)) for batch in batches + batches[:6]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    window = counts.window("p-1", second, second + 2)
    assert window.errors == 48  # 24 deliveries of 2 ids; the 6 redelivered added nothing
    assert (window.first_second, window.last_second) == (second, second + 2)
    assert counts.window("p-1", second + 1, second + 2).errors == 32
    assert counts.window("p-2", second, second + 2).errors == 0
