"""Pure decisions: gates, next moves, allowed signals, final statuses."""

import pytest

from promoter.decisions import after_check, alarm_failures, ensure_signal_allowed, final_status_for
from promoter.errors import AlarmFired, InvalidTransition, PromotionAborted
from promoter.models import Promotion, Signal, Status, StepRecord


def promotion(steps=(0.1, 0.5, 1.0), status=Status.RUNNING, signal=None) -> Promotion:
    return Promotion(
        id="p-1", function="f", function_arn="arn:aws:lambda:us-east-1:1:function:f", alias="live",
        stable_version="1", candidate_version="2", status=status, signal=signal,
        steps=[StepRecord(index=i, weight=w, bake_seconds=1) for i, w in enumerate(steps)],
    )


def test_missing_and_firing_alarms_fail_the_gate():
    assert alarm_failures({"a": "OK", "b": "ALARM", "c": "MISSING"}, "fail") == ["b is ALARM", "c is MISSING"]


@pytest.mark.parametrize(("policy", "fails"), [("fail", True), ("pass", False)])
def test_insufficient_data_follows_the_policy(policy, fails):
    assert bool(alarm_failures({"a": "INSUFFICIENT_DATA"}, policy)) is fails


def test_next_then_promote_after_the_last_weighted_step():
    assert after_check(promotion(), 0, []) == "next"
    assert after_check(promotion(), 1, []) == "promote"


def test_gate_failure_raises_alarm_fired():
    with pytest.raises(AlarmFired, match="b is ALARM"):
        after_check(promotion(), 0, ["b is ALARM"])


def test_abort_wins_over_everything():
    with pytest.raises(PromotionAborted):
        after_check(promotion(signal=Signal.ABORT), 0, ["b is ALARM"])


@pytest.mark.parametrize(("signal", "move"), [(Signal.PROMOTE_NOW, "promote"), (Signal.PAUSE, "pause")])
def test_signals_change_the_next_move(signal, move):
    assert after_check(promotion(signal=signal), 0, []) == move


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
