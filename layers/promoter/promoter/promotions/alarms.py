"""Instant rollback: a CloudWatch alarm went to ALARM, so every live promotion watching it goes
back to stable now, before its workflow notices.

The alias write comes first: before the UpdateAlias only the watch lookup, the record read and the
claim (and, for an event that is not fresh, the alarm read again; for a claim already on stable,
the alias read); the record's end, the task token and the announcement come after it.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

from .. import clock, observability
from ..arns import account_of
from ..errors import AliasDrift
from ..models import AliasTarget, Ending, Promotion, Status
from .context import Context
from .protocol import AliasWriter, Read, Records, end


def roll_back_first(
    ctx: Context,
    records: Records,
    writer: AliasWriter,
    read: Read,
    ending: Ending,
    on_written: Callable[[Promotion], None] | None = None,
    on_recorded: Callable[[Promotion], None] | None = None,
) -> Promotion:
    """The alias back to stable first, claimed on ``read``; then the record ends with ``ending``
    (once, if no other writer ended it) and a waiting workflow wakes. ``on_written`` sees the
    record the alias write confirmed (not called on drift: that is recorded FAILED);
    ``on_recorded`` adds to the record the rollback's own facts. The alarm listener's and the fast
    gate's rollback."""
    promotion_id, actor = read[0].id, ending.actor
    with suppress(AliasDrift):  # drift is recorded: FAILED, the out-of-band change kept
        back = writer.write(
            promotion_id, actor, "back", AliasTarget(version=read[0].stable_version), ending=ending, read=read
        )
        if on_written is not None:
            on_written(back)

    def rolled_back(p: Promotion) -> None:
        ours = p.ending
        if not p.status.is_final and ours is not None and ours.actor == actor and not ours.leave_alias:
            if on_recorded is not None:
                on_recorded(p)
            p.record(actor, "rolled_back", f"alias on version {p.stable_version}: {ours.reason}")
        end(p, actor)

    promotion = records.mutate(promotion_id, rolled_back, actor)
    if promotion.task_token:  # wake the workflow so no further step runs
        ctx.workflow.fail(promotion.task_token, "PromotionEnded", promotion.outcome_reason)
    return promotion


# An event whose state change is younger than this is the alarm's state: CloudWatch evaluates an
# alarm at most every 10 s (high resolution), so it cannot have been evaluated again since.
# An older one (a retry, a late delivery) is checked by reading the alarm again.
FRESH_EVENT_SECONDS = 5.0


def is_fresh(changed_at: datetime | None) -> bool:
    if changed_at is None:
        return False
    at = changed_at if changed_at.tzinfo else changed_at.replace(tzinfo=UTC)
    return abs((clock.now() - at).total_seconds()) < FRESH_EVENT_SECONDS


class AlarmResponder:
    def __init__(self, ctx: Context, records: Records, writer: AliasWriter) -> None:
        self.ctx = ctx
        self.records = records
        self.writer = writer

    def alarm_fired(
        self, alarm: str, reason: str, account: str | None = None, changed_at: datetime | None = None
    ) -> list[dict[str, Any]]:
        """Roll back every live promotion that watches ``alarm`` in ``account`` (the event's).

        Safe in any order with the workflow and any number of times. The event may be stale (a
        retry minutes later): unless its state change (``changed_at``) is fresh, the alarm is read
        again and only an alarm in ALARM now acts. RollbackLatency is measured from ``changed_at``.
        """
        return [self._respond(pid, alarm, reason, account, changed_at) for pid in self.ctx.store.watchers(alarm)]

    def _respond(
        self, promotion_id: str, alarm: str, reason: str, account: str | None, changed_at: datetime | None = None
    ) -> dict[str, Any]:
        actor = f"alarm:{alarm}"
        read = self.records.get_with_rev(promotion_id)  # the claim below writes on this read
        promotion = read[0]
        if account and account_of(promotion.function_arn) not in (None, account):
            return {"promotion_id": promotion_id, "action": "ignored", "reason": f"alarm of account {account}"}
        if promotion.status.is_final or (promotion.ending and promotion.ending.status is Status.SUCCEEDED):
            return {"promotion_id": promotion_id, "action": "ignored", "status": promotion.status.value}
        if not is_fresh(changed_at):
            state = self.ctx.alarms_for(promotion).states([alarm]).get(alarm)
            if state != "ALARM":
                stale = f"alarm is {state} now (stale event)"
                return {"promotion_id": promotion_id, "action": "ignored", "reason": stale}
        ending = Ending(status=Status.ROLLED_BACK, reason=f"alarm {alarm} is ALARM: {reason}", actor=actor)
        promotion = roll_back_first(
            self.ctx,
            self.records,
            self.writer,
            read,
            ending,
            on_written=lambda back: observability.rolled_back_by_alarm(back, actor, changed_at),
        )
        return {"promotion_id": promotion_id, "action": "rolled_back", "status": promotion.status.value}
