"""Pure decisions: gates, hook answers, the move after a hold, allowed signals, final statuses."""

from datetime import UTC, datetime, timedelta

import pytest

from promoter.decisions import (
    after_hold,
    alarm_failures,
    ensure_signal_allowed,
    final_status_for,
    hook_passed,
)
from promoter.errors import InvalidTransition
from promoter.models import Ending, Hold, Promotion, Signal, SignalEntry, Status, StepRecord

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def promotion(steps=(0.1, 0.5, 1.0), status=Status.RUNNING, signals=(), hold=None) -> Promotion:
    return Promotion(
        id="p-1",
        function="f",
        function_arn="arn:aws:lambda:us-east-1:1:function:f",
        alias="live",
        stable_version="1",
        candidate_version="2",
        status=status,
        hold=hold,
        signals=[SignalEntry(seq=i + 1, signal=s, actor="a") for i, s in enumerate(signals)],
        steps=[StepRecord(index=i, weight=w, bake_seconds=60) for i, w in enumerate(steps)],
    )


def test_missing_and_firing_alarms_fail_the_gate():
    assert alarm_failures({"a": "OK", "b": "ALARM", "c": "MISSING"}, "fail") == ["b is ALARM", "c is MISSING"]


@pytest.mark.parametrize(("policy", "fails"), [("fail", True), ("pass", False)])
def test_insufficient_data_follows_the_policy(policy, fails):
    assert bool(alarm_failures({"a": "INSUFFICIENT_DATA"}, policy)) is fails


@pytest.mark.parametrize(
    "answer",
    [
        {"passed": "false"},
        {"passed": 0},
        {"passed": None},
        None,
        "FAIL: x",
        [False],
        {"ok": False},
        {"status": "FAILED"},
        {"passed": "true"},
        {"passed": 1},
        [True],
        True,
    ],
)
def test_hooks_fail_closed(answer):
    assert hook_passed(answer) is False


def test_a_hook_passes_only_with_the_boolean_true():
    assert hook_passed({"passed": True, "details": "ok"}) is True


def test_each_step_goes_to_the_next_and_the_last_to_post_traffic():
    assert after_hold(promotion(), 0, True, NOW).move == "next"
    assert after_hold(promotion(), 1, True, NOW).step == 2
    assert after_hold(promotion(), 2, True, NOW).move == "post_traffic"
    assert after_hold(promotion(), 3, True, NOW).move == "done"  # the watch window


def test_a_single_full_step_still_holds_and_is_checked():
    one = promotion(steps=(1.0,), hold=Hold(step=0, seconds=600, running_since=NOW))
    assert after_hold(one, 0, False, NOW + timedelta(seconds=3)).move == "hold"


def test_a_woken_hold_continues_with_the_time_that_remains():
    hold = Hold(step=0, seconds=120, baked=6, running_since=NOW)
    after = after_hold(promotion(hold=hold), 0, False, NOW + timedelta(seconds=4))
    assert (after.move, after.hold_seconds) == ("hold", 110)


def test_paused_stays_paused_and_promote_now_jumps_to_the_last_step():
    assert after_hold(promotion(status=Status.PAUSED), 0, False, NOW).move == "pause"
    assert after_hold(promotion(signals=[Signal.PROMOTE_NOW]), 0, False, NOW).step == 2


@pytest.mark.parametrize(
    ("signal", "status"),
    [
        (Signal.APPROVE, Status.RUNNING),
        (Signal.RESUME, Status.RUNNING),
        (Signal.PAUSE, Status.PAUSED),
        (Signal.ABORT, Status.SUCCEEDED),
        (Signal.PROMOTE_NOW, Status.AWAITING_APPROVAL),
    ],
)
def test_signals_not_allowed_in_a_status_are_409_with_the_status(signal, status):
    with pytest.raises(InvalidTransition) as error:
        ensure_signal_allowed(promotion(status=status), signal)
    assert error.value.status_code == 409
    assert error.value.details["current_status"] == status.value


@pytest.mark.parametrize("signal", [Signal.PAUSE, Signal.PROMOTE_NOW, Signal.RESUME])
def test_once_an_ending_is_decided_only_the_same_abort_is_accepted(signal):
    ending = promotion(signals=[Signal.ABORT])
    ending.ending = Ending(status=Status.ABORTED, reason="stop", actor="a")
    ensure_signal_allowed(ending, Signal.ABORT)
    with pytest.raises(InvalidTransition, match="already ending ABORTED"):
        ensure_signal_allowed(ending, signal)


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (None, Status.SUCCEEDED),
        ("PromotionAborted", Status.ABORTED),
        ("AlarmFired", Status.ROLLED_BACK),
        ("HookFailed", Status.ROLLED_BACK),
        ("AliasDrift", Status.FAILED),
        ("States.Timeout", Status.FAILED),
        ("ClientError", Status.FAILED),
    ],
)
def test_final_status_tells_why(error, status):
    assert final_status_for(error) is status
