"""Pure decisions: what a signal may do, what a hook answer means, what happens after a hold."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from .errors import InvalidTransition, NotAllowed
from .models import Promotion, Signal, Status

# Which statuses each outside signal may act on. Anything else is a 409.
ALLOWED_SIGNALS: dict[Signal, frozenset[Status]] = {
    Signal.ABORT: frozenset({Status.PENDING, Status.AWAITING_APPROVAL, Status.RUNNING, Status.PAUSED}),
    Signal.PAUSE: frozenset({Status.RUNNING}),
    Signal.RESUME: frozenset({Status.PAUSED}),
    Signal.APPROVE: frozenset({Status.AWAITING_APPROVAL}),
    Signal.PROMOTE_NOW: frozenset({Status.RUNNING, Status.PAUSED}),
}
CONTROL_SIGNALS = frozenset({Signal.PAUSE, Signal.RESUME, Signal.PROMOTE_NOW})
MAX_SIGNALS = 200  # keeps the record bounded; a promotion steered this often is refused more

# Signals that end a wait of the workflow early, by the kind of wait (abort ends any of them).
WAKES: dict[str, frozenset[Signal]] = {
    "approval": frozenset({Signal.APPROVE}),
    "hold": frozenset({Signal.PROMOTE_NOW, Signal.PAUSE}),
    "pause": frozenset({Signal.RESUME, Signal.PROMOTE_NOW}),
}

Move = Literal["next", "hold", "pause", "post_traffic", "done"]


def ensure_signal_allowed(promotion: Promotion, signal: Signal) -> None:
    """A 202 must mean the signal will take effect: refuse what the record says it cannot."""
    current = promotion.status.value
    if promotion.ending is not None and not promotion.status.is_final:
        if signal is Signal.ABORT and promotion.ending.status is Status.ABORTED:
            return  # the same request again: it is already taking effect
        raise InvalidTransition(
            f"cannot {signal.value.replace('_', '-')}: the promotion is already ending "
            f"{promotion.ending.status} ({promotion.ending.reason})",
            field="status",
            current_status=current,
            ending=promotion.ending.status.value,
        )
    if promotion.status not in ALLOWED_SIGNALS[signal]:
        allowed = ", ".join(sorted(ALLOWED_SIGNALS[signal]))
        raise InvalidTransition(
            f"cannot {signal.value.replace('_', '-')} a promotion that is {promotion.status}; "
            f"allowed only when {allowed}",
            field="status",
            current_status=current,
        )
    if signal is Signal.APPROVE and promotion.approved:
        raise InvalidTransition("the promotion is already approved", field="status", current_status=current)
    if len(promotion.signals) >= MAX_SIGNALS and signal is not Signal.ABORT:
        raise InvalidTransition(
            f"this promotion took {MAX_SIGNALS} signals; only abort is accepted now",
            field="status",
            current_status=current,
        )


# arn:<partition>:sts::<account>:assumed-role/<role name>/<session name>
_ASSUMED_ROLE = re.compile(
    r"^arn:(?P<partition>[\w-]+):sts::(?P<account>\d{12}):assumed-role/(?P<role>[^/]+)/(?P<session>.+)$"
)
IDENTITY_CENTER_ROLE_PREFIX = "AWSReservedSSO_"


def principal_of(actor: str) -> str:
    """Who an actor is, for four eyes: the same person must always give the same answer.

    An ordinary assumed role is its role: the session name is chosen by whoever assumes it, so
    re-assuming under another session name must not make a second person. A role of IAM Identity
    Center (``AWSReservedSSO_*``) is its role and session name: Identity Center sets the session
    name to the signed-in user's name, which the user cannot choose, so two people who share a
    permission set stay two people. Anything else (IAM users, root, ``local``) is itself.
    """
    match = _ASSUMED_ROLE.match(actor)
    if not match:
        return actor
    role = f"arn:{match['partition']}:iam::{match['account']}:role/{match['role']}"
    if match["role"].startswith(IDENTITY_CENTER_ROLE_PREFIX):
        return f"{role}/{match['session'].casefold()}"  # user names: Alice and alice are one person
    return role


def ensure_approver(promotion: Promotion, signal: Signal, actor: str) -> None:
    """A protected environment with ``approval_by_other``: whoever started the promotion may not
    approve it (four eyes), compared by ``principal_of``. Other signals, abort included, stay open
    to the starter."""
    if signal is not Signal.APPROVE or not promotion.approval_by_other:
        return
    if principal_of(actor) == principal_of(promotion.created_by):
        raise NotAllowed(
            f"{actor} is the same principal ({principal_of(actor)}) as the starter of this promotion; "
            "its environment needs approval by a different principal",
            field="actor",
            started_by=promotion.created_by,
        )


def wakes(promotion: Promotion, kind: str) -> bool:
    """Does a signal already in the record end a wait of ``kind`` at once?"""
    if kind == "approval":
        return promotion.approved
    return control_signal(promotion) in WAKES[kind]


def control_signal(promotion: Promotion) -> Signal | None:
    """The latest pause, resume or promote-now the workflow has not acted on yet."""
    pending = [e.signal for e in promotion.signals if e.seq > promotion.handled_signals]
    controls = [s for s in pending if s in CONTROL_SIGNALS]
    return controls[-1] if controls else None


def hook_passed(answer: Any) -> bool:
    """Fail closed: only a JSON object whose ``passed`` is the boolean true passes."""
    return isinstance(answer, dict) and answer.get("passed") is True


def alarm_failures(states: dict[str, str], insufficient_data: Literal["fail", "pass"]) -> list[str]:
    """Names and states of alarms that fail the gate. Missing alarms always fail (fail safe)."""
    failing = []
    for name, state in sorted(states.items()):
        if state == "ALARM" or state == "MISSING":
            failing.append(f"{name} is {state}")
        elif state == "INSUFFICIENT_DATA" and insufficient_data == "fail":
            failing.append(f"{name} is INSUFFICIENT_DATA (policy insufficient_data=fail)")
    return failing


@dataclass(frozen=True)
class AfterHold:
    move: Move
    step: int
    hold_seconds: int = 0


def after_hold(promotion: Promotion, step: int, timed_out: bool, now: datetime) -> AfterHold:
    """Where the workflow goes once a hold (a step's bake, or the watch window) ended or was woken.

    ``step`` is a traffic step, or ``len(steps)`` for the watch window. The hold's own clock decides
    whether the bake is over: a pause stops it, so a woken hold continues with what remains.
    """
    last = len(promotion.steps) - 1
    if promotion.status is Status.PAUSED:
        return AfterHold("pause", step)
    if control_signal(promotion) is Signal.PROMOTE_NOW and step < last:
        return AfterHold("next", last)
    hold = promotion.hold
    remaining = 0.0 if timed_out or hold is None else hold.remaining(now)
    if control_signal(promotion) is Signal.PROMOTE_NOW:
        remaining = 0.0
    if remaining >= 1.0:
        return AfterHold("hold", step, int(remaining + 0.999))
    if step < last:
        return AfterHold("next", step + 1)
    return AfterHold("post_traffic" if step == last else "done", step)


def final_status_for(error_name: str | None) -> Status:
    """The truthful end status after the rollback path ran for ``error_name``."""
    if error_name is None:
        return Status.SUCCEEDED
    if error_name == "PromotionAborted":
        return Status.ABORTED
    if error_name in {"AlarmFired", "HookFailed", "JudgeFailed"}:
        return Status.ROLLED_BACK
    return Status.FAILED
