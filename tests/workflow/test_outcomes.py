"""The real ASL and the real handlers, on the sandbox: the three outcomes of a promotion."""

import threading

from promoter.models import Status
from tests.workflow.helpers import alias_writes, assert_settled, lock_holder, request


def test_healthy_canary_succeeds_and_every_weight_is_observed_in_order(sandbox, targets):
    target = targets.function("orders")
    targets.alarm("orders-errors", "orders")
    strategy = {"steps": [{"weight": 0.1, "bake_seconds": 2}, {"weight": 0.5, "bake_seconds": 2}]}

    started = sandbox.service().start(request(target, strategy=strategy, alarms=["orders-errors"]), actor="alice")
    final = sandbox.wait_until_final(started.id)

    assert final.status is Status.SUCCEEDED
    assert_settled(sandbox, targets, target, "2")
    assert alias_writes("orders") == [("1", {"2": 0.1}), ("1", {"2": 0.5}), ("2", {})]
    assert [s.weight for s in final.steps] == [0.1, 0.5, 1.0]
    assert all(s.started_at and s.ended_at and s.started_at <= s.ended_at for s in final.steps)
    assert final.events[0].actor == "alice"
    assert lock_holder(sandbox, final) is None


def test_alarm_during_a_bake_rolls_back_to_stable(sandbox, targets):
    target = targets.function("orders")
    targets.alarm("orders-errors", "orders")
    started = sandbox.service().start(
        request(target, strategy={"type": "canary", "weight": 0.1, "bake_seconds": 30}, alarms=["orders-errors"]),
        actor="alice",
    )
    sandbox.wait_for_status(started.id, Status.RUNNING)
    # Fire the alarm once traffic is on the candidate, in the middle of the bake.
    fired = threading.Event()

    def fire_when_shifted() -> None:
        while not alias_writes("orders"):
            threading.Event().wait(0.01)
        targets.set_alarm("orders-errors", "ALARM", "errors on the canary")
        fired.set()

    threading.Thread(target=fire_when_shifted, daemon=True).start()
    final = sandbox.wait_until_final(started.id)

    assert fired.is_set()
    assert final.status is Status.ROLLED_BACK
    assert "orders-errors is ALARM" in final.outcome_reason
    assert_settled(sandbox, targets, target, "1")
    assert alias_writes("orders") == [("1", {"2": 0.1}), ("1", {})]
    assert lock_holder(sandbox, final) is None


def test_failing_pre_traffic_hook_sends_no_traffic_to_the_candidate(sandbox, targets):
    target = targets.function("orders")
    hook = targets.hook("orders-smoke", passed=False)
    started = sandbox.service().start(request(target, hooks={"pre_traffic": hook}), actor="alice")
    final = sandbox.wait_until_final(started.id)

    assert final.status is Status.ROLLED_BACK
    assert "pre_traffic hook orders-smoke failed" in final.outcome_reason
    assert alias_writes("orders") == []  # the alias was never written: zero traffic reached version 2
    assert_settled(sandbox, targets, target, "1")
    assert lock_holder(sandbox, final) is None


def test_passing_hooks_run_before_and_after_traffic(sandbox, targets):
    target = targets.function("orders")
    pre, post = targets.hook("orders-pre"), targets.hook("orders-post")
    started = sandbox.service().start(
        request(target, strategy={"type": "all-at-once"}, hooks={"pre_traffic": pre, "post_traffic": post}),
        actor="alice",
    )
    final = sandbox.wait_until_final(started.id)

    assert final.status is Status.SUCCEEDED
    hook_events = [e.message for e in final.events if e.type.startswith("hook.")]
    assert hook_events == ["orders-pre: passed", "orders-post: passed"]
    assert alias_writes("orders") == [("2", {})]


def test_failing_post_traffic_hook_rolls_back_from_full_traffic(sandbox, targets):
    target = targets.function("orders")
    post = targets.hook("orders-post", passed=False)
    started = sandbox.service().start(
        request(target, strategy={"type": "all-at-once"}, hooks={"post_traffic": post}), actor="alice"
    )
    final = sandbox.wait_until_final(started.id)

    assert final.status is Status.ROLLED_BACK
    assert alias_writes("orders") == [("2", {}), ("1", {})]
    assert_settled(sandbox, targets, target, "1")
