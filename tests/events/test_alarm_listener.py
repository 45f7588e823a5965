"""Instant rollback: the alarm listener (real handler, invoked as Lambda) against live promotions."""

import json
from pathlib import Path

from promoter.models import Signal, Status
from tests.workflow.helpers import alias_writes, assert_settled, lock_holder, request, wait_for_writes

EVENT = json.loads((Path(__file__).parents[2] / "events/alarm_listener/alarm_state_change.json").read_text())


def alarm_event(name: str, value: str = "ALARM") -> dict:
    event = json.loads(json.dumps(EVENT))
    event["detail"]["alarmName"] = name
    event["detail"]["state"]["value"] = value
    return event


def hold_alarm_in(state: str, name: str = "orders-errors") -> None:
    """Put the alarm in ``state`` as CloudWatch holds it, without its state-change event, so the
    test hands the listener the event itself (as a retried or duplicated delivery would)."""
    from moto.cloudwatch.models import cloudwatch_backends

    cloudwatch_backends["123456789012"]["us-east-1"].alarms[name].state_value = state


def invoke_listener(sandbox, event: dict) -> dict:
    answer = sandbox.client("lambda").invoke(
        FunctionName=sandbox.physical_id("AlarmListenerFunction"), Payload=json.dumps(event).encode()
    )
    body = json.loads(answer["Payload"].read())
    assert "FunctionError" not in answer, body
    return body


def start_long_bake(sandbox, targets, **overrides):
    target = targets.function("orders")
    targets.alarm("orders-errors", "orders")
    body = request(target, strategy={"type": "canary", "weight": 0.1, "bake_seconds": 3600}, alarms=["orders-errors"])
    started = sandbox.service().start(body.model_copy(update=overrides), actor="alice")
    sandbox.wait_for_status(started.id, Status.RUNNING)
    wait_for_writes("orders", bool)
    return target, started


def test_alarm_mid_bake_rolls_back_at_once_and_ends_the_workflow(sandbox, targets):
    target, started = start_long_bake(sandbox, targets)
    hold_alarm_in("ALARM")

    answer = invoke_listener(sandbox, alarm_event("orders-errors"))

    assert answer["promotions"] == [{"promotion_id": started.id, "action": "rolled_back", "status": "ROLLED_BACK"}]
    assert_settled(sandbox, targets, target, "1")  # back on stable before the listener returned
    final = sandbox.wait_until_final(started.id)  # a one-hour bake ended now, not at its end
    assert final.status is Status.ROLLED_BACK
    assert "alarm orders-errors is ALARM" in final.outcome_reason
    assert any(e.actor == "alarm:orders-errors" and e.type == "rolled_back" for e in final.events)
    assert alias_writes("orders") == [("1", {"2": 0.1}), ("1", {})]  # no step ran after the alarm
    assert lock_holder(sandbox, final) is None


def test_duplicate_alarm_events_roll_back_once(sandbox, targets):
    _, started = start_long_bake(sandbox, targets)
    hold_alarm_in("ALARM")

    first = invoke_listener(sandbox, alarm_event("orders-errors"))
    second = invoke_listener(sandbox, alarm_event("orders-errors"))
    final = sandbox.wait_until_final(started.id)

    assert first["promotions"][0]["action"] == "rolled_back"
    assert second["promotions"] in ([], [{"promotion_id": started.id, "action": "ignored", "status": "ROLLED_BACK"}])
    assert alias_writes("orders").count(("1", {})) == 1
    assert [e.type for e in final.events].count("rolled_back") == 1


def test_alarm_after_the_promotion_ended_changes_nothing(sandbox, targets):
    target = targets.function("orders")
    targets.alarm("orders-errors", "orders")
    started = sandbox.service().start(request(target, alarms=["orders-errors"]), actor="alice")
    final = sandbox.wait_until_final(started.id)
    writes_before = list(alias_writes("orders"))
    hold_alarm_in("ALARM")

    answer = invoke_listener(sandbox, alarm_event("orders-errors"))

    assert final.status is Status.SUCCEEDED
    assert answer["promotions"] == []
    assert alias_writes("orders") == writes_before
    assert sandbox.service().get(started.id).status is Status.SUCCEEDED


def test_alarm_leaving_alarm_state_does_nothing(sandbox, targets):
    _, started = start_long_bake(sandbox, targets)
    assert invoke_listener(sandbox, alarm_event("orders-errors", "OK"))["promotions"] == []
    assert sandbox.service().get(started.id).status is Status.RUNNING
    sandbox.service().signal(started.id, Signal.ABORT, "alice")
    assert sandbox.wait_until_final(started.id).status is Status.ABORTED


def test_alarm_in_the_watch_window_returns_the_alias_to_the_previous_stable(sandbox, targets):
    target = targets.function("orders")
    targets.alarm("orders-errors", "orders")
    body = request(target, strategy={"type": "all-at-once"}, alarms=["orders-errors"], watch_seconds=3600)
    started = sandbox.service().start(body, actor="alice")
    wait_for_writes("orders", lambda writes: writes == [("2", {})])  # promoted: 100% on the candidate
    assert sandbox.service().get(started.id).status is Status.RUNNING  # still watching
    hold_alarm_in("ALARM")

    invoke_listener(sandbox, alarm_event("orders-errors"))
    final = sandbox.wait_until_final(started.id)

    assert final.status is Status.ROLLED_BACK
    # straight back, no steps replayed. Under load the listener and the workflow's Rollback may both
    # write the same stable state (a redundant write, not a split alias): at least one, only that one.
    promoted, *back = alias_writes("orders")
    assert promoted == ("2", {}) and back and all(write == ("1", {}) for write in back)
    assert_settled(sandbox, targets, target, "1")


def test_a_stale_alarm_event_is_ignored(sandbox, targets):
    """An ALARM event delivered after the alarm went back to OK (a retry, minutes late) rolls nothing back."""
    _, started = start_long_bake(sandbox, targets)
    writes_before = list(alias_writes("orders"))

    answer = invoke_listener(sandbox, alarm_event("orders-errors"))

    assert answer["promotions"] == [
        {"promotion_id": started.id, "action": "ignored", "reason": "alarm is OK now (stale event)"}
    ]
    assert sandbox.service().get(started.id).status is Status.RUNNING
    assert alias_writes("orders") == writes_before


def test_a_quiet_watch_window_ends_succeeded(sandbox, targets):
    target = targets.function("orders")
    targets.alarm("orders-errors", "orders")
    body = request(target, strategy={"type": "all-at-once"}, alarms=["orders-errors"], watch_seconds=2)
    final = sandbox.wait_until_final(sandbox.service().start(body, actor="alice").id)
    assert final.status is Status.SUCCEEDED
    assert "watched" in [e.type for e in final.events]
    assert_settled(sandbox, targets, target, "2")


def test_bad_alarm_event_is_refused_by_the_parser(sandbox):
    answer = sandbox.client("lambda").invoke(
        FunctionName=sandbox.physical_id("AlarmListenerFunction"), Payload=json.dumps({"detail": {}}).encode()
    )
    assert answer.get("FunctionError")
    assert json.loads(answer["Payload"].read())["errorType"] == "ValidationError"
