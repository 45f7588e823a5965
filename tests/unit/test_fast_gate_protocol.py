"""The fast gate's receiver on the protocol's fakes: what it counts, and that its rollback is the
alarm listener's (the record read, the claim on that read, the alias write first)."""

from __future__ import annotations

from collections.abc import Iterator
from unittest import mock

import pytest

from promoter import fast_gate
from promoter.models import Signal, Status
from tests.unit.test_protocol import CANDIDATE, STABLE, World, calls_around

GATE = {"max_errors": 2, "window_seconds": 30}
LOG_GROUP = "/aws/lambda/orders"


@pytest.fixture
def world() -> Iterator[World]:
    created = World()
    with mock.patch("promoter.clock.now", created.clock.now):
        yield created


def canary_with_gate(world: World) -> None:
    world.start(fast_gate=GATE)
    world.service.tasks.prepare(world.promotion_id)
    world.service.tasks.shift(world.promotion_id, 0)


def delivery(world: World, version: str, *messages: str, first_id: int = 0, at_ms: int | None = None) -> dict:
    at = at_ms if at_ms is not None else int(world.clock.now().timestamp() * 1000)
    return fast_gate.encode(
        {
            "messageType": "DATA_MESSAGE",
            "owner": "123456789012",
            "logGroup": LOG_GROUP,
            "logStream": f"2026/12/04/[{version}]0123456789abcdef0123456789abcdef",
            "subscriptionFilters": [fast_gate.filter_name_for(world.promotion_id)],
            "logEvents": [
                {"id": f"{first_id + i:056d}", "timestamp": at + i, "message": m} for i, m in enumerate(messages)
            ],
        }
    )


def test_prepare_subscribes_the_candidates_log_group_before_any_traffic(world: World) -> None:
    world.start(fast_gate=GATE)
    since = len(world.fakes.calls.log)
    world.service.tasks.prepare(world.promotion_id)
    assert world.fakes.logs.filters == {(LOG_GROUP, f"lambda-promoter-fast-gate-{world.promotion_id}"): mock.ANY}
    assert "logs.subscribe" in world.fakes.calls.log[since:]
    assert "lambda.update_alias" not in world.fakes.calls.log[since:]
    state = world.record.fast_gate_state
    assert state is not None and state.log_group == LOG_GROUP and not state.removed


def test_errors_up_to_the_threshold_are_counted_and_one_more_writes_the_alias_after_the_claim(world: World) -> None:
    canary_with_gate(world)
    counted = world.service.logs_delivered(delivery(world, CANDIDATE, "[ERROR] a", "[ERROR] b"))
    assert counted[0]["action"] == "counted" and counted[0]["errors"] == 2
    assert world.record.status is Status.RUNNING

    since = len(world.fakes.calls.log)
    outcome = world.service.logs_delivered(delivery(world, CANDIDATE, "[ERROR] c", first_id=2))
    before, after = calls_around(world, since, "lambda.update_alias")
    assert before == ["dynamodb.get_with_rev", "counts.add", "counts.window", "dynamodb.save"]
    assert "dynamodb.finish" in after and "events.put" in after
    assert outcome[0]["action"] == "rolled_back" and outcome[0]["errors"] == 3
    record = world.record
    assert record.status is Status.ROLLED_BACK and record.ending.actor == "fast-gate"
    assert record.outcome_reason.startswith(f"fast gate: 3 errors of version {CANDIDATE} in 30 s (more than 2)")
    trip = record.fast_gate_state.trip
    assert (trip.errors, trip.window_seconds) == (3, 30)
    world.assert_settled_on(STABLE)


def test_a_redelivered_batch_counts_once(world: World) -> None:
    canary_with_gate(world)
    batch = delivery(world, CANDIDATE, "[ERROR] a", "[ERROR] b")
    for _ in range(3):  # Lambda retries an asynchronous invocation that failed
        world.service.logs_delivered(batch)
    assert world.record.status is Status.RUNNING


def test_stable_streams_other_lines_and_old_errors_do_not_count(world: World) -> None:
    canary_with_gate(world)
    ignored = world.service.logs_delivered(delivery(world, STABLE, "[ERROR] a", "[ERROR] b", "[ERROR] c"))
    assert ignored[0]["action"] == "ignored" and world.fakes.calls.count("counts.add") == 0
    world.service.logs_delivered(delivery(world, CANDIDATE, "START RequestId: x", "all good", "END RequestId: x"))
    assert world.fakes.calls.count("counts.add") == 0
    now_ms = int(world.clock.now().timestamp() * 1000)
    world.service.logs_delivered(delivery(world, CANDIDATE, "[ERROR] a", "[ERROR] b", at_ms=now_ms - 60_000))
    outcome = world.service.logs_delivered(delivery(world, CANDIDATE, "[ERROR] c", first_id=9, at_ms=now_ms))
    assert outcome[0] == outcome[0] | {"action": "counted", "errors": 1}  # the older two left the 30 s window
    assert world.record.status is Status.RUNNING


def test_a_delivery_after_the_end_changes_nothing(world: World) -> None:
    canary_with_gate(world)
    world.signal(Signal.ABORT)
    outcome = world.service.logs_delivered(delivery(world, CANDIDATE, "[ERROR] a", "[ERROR] b", "[ERROR] c"))
    assert outcome[0]["action"] == "ignored"
    assert world.fakes.calls.count("counts.add") == 0


@pytest.mark.parametrize("ending", ["success", "abort", "rollback"])
def test_finalize_removes_the_filter_on_every_end(world: World, ending: str) -> None:
    world.start(fast_gate=GATE, alarms=["orders-errors"])

    def end_it(parked) -> None:  # noqa: ANN001 - the harness's Parked
        if ending == "abort":
            world.signal(Signal.ABORT)
        elif ending == "rollback":
            world.fakes.alarms.alarm_states["orders-errors"] = "ALARM"

    world.run(on_wait=end_it if ending != "success" else None)
    record = world.record
    expected = {"success": Status.SUCCEEDED, "abort": Status.ABORTED, "rollback": Status.ROLLED_BACK}[ending]
    assert record.status is expected, record.outcome_reason
    assert world.fakes.logs.filters == {}
    assert record.fast_gate_state is not None and record.fast_gate_state.removed
    assert any(e.type == "fast_gate" and "removed" in e.message for e in record.events)


def test_a_promotion_ended_by_an_alarm_whose_execution_stopped_loses_its_filter_to_the_reconciler(
    world: World,
) -> None:
    """Found by tests/unit/test_interleavings.py (seed 82): StopExecution right after Prepare, then
    the alarm listener ends the record. Finalize never runs and the record is final, so the repair
    of live records does not see it either: the reconciler's sweep of recent records removes it."""
    world.start(fast_gate=GATE, alarms=["orders-errors"])
    world.service.tasks.prepare(world.promotion_id)
    world.fakes.workflow.stop(world.fakes.workflow.started[-1][0])
    world.alarm()
    assert world.record.status is Status.ROLLED_BACK and world.fakes.logs.filters != {}

    outcomes = world.service.reconcile(min_age_seconds=60)

    assert {"promotion_id": world.promotion_id, "action": "filter_removed"} in outcomes
    assert world.fakes.logs.filters == {} and world.record.fast_gate_state.removed
    assert world.service.reconcile(min_age_seconds=60) == []  # once: the record says it is gone


def test_the_reconciler_leaves_the_filter_of_a_running_execution_to_its_finalize(world: World) -> None:
    world.start(fast_gate=GATE, alarms=["orders-errors"])
    world.service.tasks.prepare(world.promotion_id)
    world.alarm()  # the record is final; its execution still runs to Rollback and Finalize
    assert world.record.status is Status.ROLLED_BACK

    assert world.service.reconcile(min_age_seconds=60) == []
    assert world.fakes.logs.filters != {}
    world.service.tasks.finalize(world.promotion_id, "ROLLED_BACK", "alarm")
    assert world.fakes.logs.filters == {} and world.record.fast_gate_state.removed
