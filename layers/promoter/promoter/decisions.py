"""Pure decisions: what happens next, given a promotion's status, signals and gate results."""

from typing import Literal

from .errors import AlarmFired, InvalidTransition, NotAllowed, PromotionAborted
from .models import Promotion, Signal, Status

# Which statuses each outside signal may act on. Anything else is a 409.
ALLOWED_SIGNALS: dict[Signal, frozenset[Status]] = {
    Signal.ABORT: frozenset(
        {Status.PENDING, Status.AWAITING_APPROVAL, Status.RUNNING, Status.PAUSED}
    ),
    Signal.PAUSE: frozenset({Status.RUNNING}),
    Signal.RESUME: frozenset({Status.PAUSED}),
    Signal.APPROVE: frozenset({Status.AWAITING_APPROVAL}),
    Signal.PROMOTE_NOW: frozenset({Status.RUNNING, Status.PAUSED}),
}

NextMove = Literal["next", "promote", "pause"]

# Signals that end a wait of the workflow early, by the kind of wait (abort ends any of them).
WAKES: dict[str, frozenset[Signal]] = {
    "approval": frozenset({Signal.APPROVE}),
    "bake": frozenset({Signal.PROMOTE_NOW, Signal.PAUSE}),
    "watch": frozenset({Signal.PROMOTE_NOW, Signal.PAUSE}),
    "pause": frozenset({Signal.RESUME, Signal.PROMOTE_NOW}),
}


def ensure_signal_allowed(promotion: Promotion, signal: Signal) -> None:
    if promotion.status not in ALLOWED_SIGNALS[signal]:
        allowed = ", ".join(sorted(ALLOWED_SIGNALS[signal]))
        raise InvalidTransition(
            f"cannot {signal.value.replace('_', '-')} a promotion that is {promotion.status}; "
            f"allowed only when {allowed}",
            current_status=promotion.status.value,
        )


def ensure_approver(promotion: Promotion, signal: Signal, actor: str) -> None:
    """A protected environment with ``approval_by_other``: whoever started the promotion may not
    approve it (four eyes). Other signals, abort included, stay open to the starter."""
    if signal is Signal.APPROVE and promotion.approval_by_other and actor == promotion.created_by:
        raise NotAllowed(
            f"{actor} started this promotion; its environment needs approval by a different principal",
            field="actor",
            started_by=promotion.created_by,
        )


def alarm_failures(states: dict[str, str], insufficient_data: Literal["fail", "pass"]) -> list[str]:
    """Names and states of alarms that fail the gate. Missing alarms always fail (fail safe)."""
    failing = []
    for name, state in sorted(states.items()):
        if state == "ALARM" or state == "MISSING":
            failing.append(f"{name} is {state}")
        elif state == "INSUFFICIENT_DATA" and insufficient_data == "fail":
            failing.append(f"{name} is INSUFFICIENT_DATA (policy insufficient_data=fail)")
    return failing


def after_check(promotion: Promotion, step_index: int, failures: list[str]) -> NextMove:
    """Decide the move after a step's bake. Raises to send the workflow to rollback."""
    if promotion.signal is Signal.ABORT:
        raise PromotionAborted("aborted on request")
    if failures:
        raise AlarmFired("gate failed: " + "; ".join(failures))
    if promotion.signal is Signal.PROMOTE_NOW:
        return "promote"
    if promotion.signal is Signal.PAUSE:
        return "pause"
    last_traffic_step = len(promotion.steps) - 2  # the final step (weight 1.0) is Promote
    return "promote" if step_index >= last_traffic_step else "next"


def final_status_for(error_name: str | None) -> Status:
    """The truthful end status after the rollback path ran for ``error_name``."""
    if error_name is None:
        return Status.SUCCEEDED
    if error_name == "PromotionAborted":
        return Status.ABORTED
    if error_name in {"AlarmFired", "HookFailed"}:
        return Status.ROLLED_BACK
    return Status.FAILED
