"""Instant rollback: a CloudWatch alarm went to ALARM, so every live promotion watching it goes
back to stable now, before its workflow notices."""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime
from typing import Any

from .. import observability
from ..arns import account_of
from ..errors import AliasDrift
from ..models import AliasTarget, Ending, Promotion, Status
from .context import Context
from .protocol import AliasWriter, Records, end


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
        retry minutes later): the alarm is read again and only an alarm in ALARM now acts.
        ``changed_at`` (the state change's time) is what RollbackLatency is measured from.
        """
        return [self._respond(pid, alarm, reason, account, changed_at) for pid in self.ctx.store.watchers(alarm)]

    def _respond(
        self, promotion_id: str, alarm: str, reason: str, account: str | None, changed_at: datetime | None = None
    ) -> dict[str, Any]:
        actor = f"alarm:{alarm}"
        promotion = self.records.get(promotion_id)
        if account and account_of(promotion.function_arn) not in (None, account):
            return {"promotion_id": promotion_id, "action": "ignored", "reason": f"alarm of account {account}"}
        if promotion.status.is_final or (promotion.ending and promotion.ending.status is Status.SUCCEEDED):
            return {"promotion_id": promotion_id, "action": "ignored", "status": promotion.status.value}
        state = self.ctx.alarms_for(promotion).states([alarm]).get(alarm)
        if state != "ALARM":
            return {"promotion_id": promotion_id, "action": "ignored", "reason": f"alarm is {state} now (stale event)"}
        ending = Ending(status=Status.ROLLED_BACK, reason=f"alarm {alarm} is ALARM: {reason}", actor=actor)
        with suppress(AliasDrift):  # drift is recorded: FAILED, the out-of-band change kept
            stable = AliasTarget(version=promotion.stable_version)
            back = self.writer.write(promotion_id, actor, "back", stable, ending=ending)
            observability.rolled_back_by_alarm(back, actor, changed_at)

        def rolled_back(p: Promotion) -> None:
            ending = p.ending
            if not p.status.is_final and ending is not None and ending.actor == actor and not ending.leave_alias:
                p.record(actor, "rolled_back", f"alias on version {p.stable_version}: {ending.reason}")
            end(p, actor)

        promotion = self.records.mutate(promotion_id, rolled_back, actor)
        if promotion.task_token:  # wake the workflow so no further step runs
            self.ctx.workflow.fail(promotion.task_token, "PromotionEnded", promotion.outcome_reason)
        return {"promotion_id": promotion_id, "action": "rolled_back", "status": promotion.status.value}
