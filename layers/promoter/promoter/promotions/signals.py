"""Signals from outside (abort, pause, resume, approve, promote-now) and the repair of orphans.

A signal is appended to the record's ordered log with a conditional write, then the workflow's
wait (if it is parked) is answered so it notices within a second. An accepted abort decides how
the promotion ends (ABORTED) in that same write, so no later step can make it SUCCEEDED.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from typing import Any

from .. import clock, decisions
from ..aws.logs import Unsubscribed
from ..errors import AliasDrift
from ..models import AliasTarget, Ending, Promotion, Signal, SignalEntry, Status
from . import fast_gate
from .context import Context
from .protocol import ANNOUNCE_LEASE_SECONDS, AliasWriter, Records, end

REPAIRER = "reconciler"
RECENT_PROMOTIONS = 100  # the reconciler looks for unannounced changes among the newest promotions


class Signals:
    def __init__(self, ctx: Context, records: Records, writer: AliasWriter) -> None:
        self.ctx = ctx
        self.records = records
        self.writer = writer

    def signal(self, promotion_id: str, signal: Signal, actor: str, reason: str = "") -> Promotion:
        """Record the request, then wake the workflow. A 409 (InvalidTransition) says why not."""

        def accept(p: Promotion) -> None:
            decisions.ensure_signal_allowed(p, signal)
            decisions.ensure_approver(p, signal, actor)
            seq = (p.signals[-1].seq if p.signals else 0) + 1
            p.signals.append(SignalEntry(seq=seq, signal=signal, actor=actor))
            if signal is Signal.ABORT and p.ending is None:
                p.ending = Ending(status=Status.ABORTED, reason=reason or f"aborted by {actor}", actor=actor)
            p.record(actor, signal.value, reason)

        promotion = self.records.mutate(promotion_id, accept, actor)
        if promotion.task_token:
            if signal is Signal.ABORT:
                self.ctx.workflow.fail(promotion.task_token, "PromotionAborted", promotion.ending.reason)  # type: ignore[union-attr]
            else:
                self.ctx.workflow.succeed(promotion.task_token, {"signal": signal.value})
        if signal is Signal.ABORT:  # woken or not: a token may be taken by an execution that is ending
            self.repair_if_orphaned(promotion_id, f"aborted by {actor}")
        return self.records.get(promotion_id)

    def repair_if_orphaned(self, promotion_id: str, why: str) -> dict[str, Any]:
        """A live record whose execution no longer runs (stopped, timed out, failed before Finalize):
        put the alias back on stable when the split is ours, end FAILED, free the target."""
        promotion = self.records.get(promotion_id)
        if promotion.status.is_final or not promotion.execution_arn:
            return {"promotion_id": promotion_id, "action": "none", "status": promotion.status.value}
        execution = self.ctx.workflow.status(promotion.execution_arn)
        if execution == "RUNNING":
            return {"promotion_id": promotion_id, "action": "none", "execution": execution}
        ending = Ending(
            status=Status.FAILED,
            reason=f"the workflow ended outside its own paths (execution {execution or 'missing'}); {why}",
            actor=REPAIRER,
        )

        def decide(p: Promotion) -> None:
            if not p.status.is_final and (p.ending is None or not p.ending.leave_alias):
                p.ending = ending

        self.records.mutate(promotion_id, decide, REPAIRER)
        with suppress(AliasDrift):  # someone else's change stays; the record says so
            self.writer.write(promotion_id, REPAIRER, "back", AliasTarget(version=promotion.stable_version))
        removal = fast_gate.unsubscribe(self.ctx, promotion)  # Finalize never ran: its filter goes here

        def finish(p: Promotion) -> None:
            if removal is not None:
                fast_gate.record_removal(p, removal, REPAIRER)
            end(p, REPAIRER)

        promotion = self.records.mutate(promotion_id, finish, REPAIRER)
        return {"promotion_id": promotion_id, "action": "repaired", "status": promotion.status.value}

    def reconcile(self, min_age_seconds: float = 60.0) -> list[dict[str, Any]]:
        """Repair every live promotion whose execution ended (run on a schedule), and announce what
        the writer of a final record died before announcing."""
        outcomes = []
        for promotion in self.ctx.store.live(min_age_seconds):
            outcomes.append(self.repair_if_orphaned(promotion.id, "found by the reconciler"))
        return outcomes + self.announce_orphans() + self.remove_orphaned_filters()

    def remove_orphaned_filters(self, recent: int = RECENT_PROMOTIONS) -> list[dict[str, Any]]:
        """A final record whose fast gate filter was never removed: someone else ended it (an alarm,
        the fast gate) and its execution stopped before Finalize. Removed here, among the ``recent``
        newest, once the execution no longer runs (a running one's Finalize removes it)."""
        outcomes = []
        for promotion in self.ctx.store.list(limit=recent)[0]:
            state = promotion.fast_gate_state
            if not promotion.status.is_final or promotion.fast_gate is None or (state and state.removed):
                continue
            if promotion.execution_arn and self.ctx.workflow.status(promotion.execution_arn) == "RUNNING":
                continue
            removal = fast_gate.unsubscribe(self.ctx, promotion)
            if isinstance(removal, Unsubscribed):  # a refusal is tried again on the next run, silently
                self.records.mutate(promotion.id, _removed(removal), REPAIRER)
                outcomes.append({"promotion_id": promotion.id, "action": "filter_removed"})
        return outcomes

    def announce_orphans(self, recent: int = RECENT_PROMOTIONS) -> list[dict[str, Any]]:
        """Nobody writes a final record again: a status change its writer died before putting on the
        bus (older than the announcement lease) is announced here, among the ``recent`` newest."""
        now, outcomes = clock.now(), []
        for promotion in self.ctx.store.list(limit=recent)[0]:
            if promotion.status.is_final and any(
                (now - c.at).total_seconds() >= ANNOUNCE_LEASE_SECONDS for c in promotion.unannounced
            ):
                self.records.announce(self.records.get(promotion.id), made=[])  # only the expired ones
                outcomes.append({"promotion_id": promotion.id, "action": "announced"})
        return outcomes


def _removed(removal: Unsubscribed) -> Callable[[Promotion], None]:
    return lambda p: fast_gate.record_removal(p, removal, REPAIRER)
