"""The workflow's tasks, one method per Task state of statemachines/promotion.asl.json.

Every task reads the record first: once the promotion ended or is ending (an abort, an alarm, a
failed gate), a task that would move it forward raises, and the workflow goes to Rollback and
Finalize, which only settle what is left.
"""

from __future__ import annotations

import json
from contextlib import suppress
from typing import Any

from .. import clock, decisions, observability
from ..errors import AlarmFired, AliasDrift, CarryFailed, HookFailed
from ..models import AliasTarget, Ending, Hold, Promotion, Signal, Status
from . import fast_gate
from .carry import Carrier
from .context import WORKFLOW, Context
from .protocol import AliasWriter, Records, end, ensure_live


class WorkflowTasks:
    def __init__(self, ctx: Context, records: Records, writer: AliasWriter) -> None:
        self.ctx = ctx
        self.records = records
        self.writer = writer
        self.carrier = Carrier(ctx, records)

    def carry(self, promotion_id: str) -> dict[str, Any]:
        """Put the pipeline's artifact on the target function and publish the candidate (idempotent)."""
        return self.carrier.carry(promotion_id)

    def prepare(self, promotion_id: str) -> dict[str, Any]:
        """Last check before traffic: alarms are quiet. Drift is found by the first write."""
        promotion = self.records.get(promotion_id)
        ensure_live(promotion)
        if promotion.candidate_version is None:
            raise CarryFailed("the artifact was never carried: there is no candidate version")
        self._ensure_gates_pass(promotion, "before any traffic moved")
        subscribed = fast_gate.subscribe(self.ctx, promotion)  # before any traffic: the first error counts

        def begin(p: Promotion) -> None:
            ensure_live(p)
            if subscribed is not None:
                fast_gate.record_subscription(p, subscribed, WORKFLOW)
            p.status = Status.AWAITING_APPROVAL if p.approval and not p.approved else Status.RUNNING
            p.record(WORKFLOW, "prepared", f"stable {p.stable_version}, candidate {p.candidate_version}")

        promotion = self.records.mutate(promotion_id, begin)
        return {"approval": promotion.status is Status.AWAITING_APPROVAL, "step": 0}

    def wait(self, promotion_id: str, token: str, kind: str) -> None:
        """Park the workflow on ``token``; answer at once if the record already decides the wait."""

        def park(p: Promotion) -> None:
            if not p.status.is_final:
                p.task_token = token

        promotion = self.records.mutate(promotion_id, park)
        if promotion.status.is_final or promotion.ending is not None:
            ending = promotion.ending
            error = "PromotionAborted" if ending and ending.status is Status.ABORTED else "PromotionEnded"
            self.ctx.workflow.fail(token, error, ending.reason if ending else promotion.outcome_reason)
        elif decisions.wakes(promotion, kind):
            self.ctx.workflow.succeed(token, {"signal": promotion.signal.value if promotion.signal else None})

    def run_hook(self, promotion_id: str, phase: str) -> dict[str, Any]:
        """Invoke the phase's hook exactly once; it passes only by answering ``{"passed": true}``."""

        def approved(p: Promotion) -> None:
            ensure_live(p)
            if p.status is Status.AWAITING_APPROVAL:
                p.status = Status.RUNNING
                p.record(WORKFLOW, "approved", "approval received")

        promotion = self.records.mutate(promotion_id, approved)
        hook = getattr(promotion.hooks, phase)
        result: dict[str, Any] = {"hook": phase, "step": len(promotion.steps), "hold_seconds": promotion.watch_seconds}
        if not hook:
            self._after_hook(promotion_id, phase, promotion.watch_seconds)
            return result | {"skipped": True}

        def invoking(p: Promotion) -> None:
            ensure_live(p)
            if p.hook_runs.get(phase):
                raise HookFailed(f"{phase} hook {hook} already ran ({p.hook_runs[phase]}); it is not run twice")
            p.hook_runs[phase] = "invoking"

        self.records.mutate(promotion_id, invoking)
        payload = {
            "promotion_id": promotion.id,
            "phase": phase,
            "function": promotion.function,
            "alias": promotion.alias,
            "stable": promotion.stable_version,
            "candidate": promotion.candidate_version,
        }
        errored, answer = self.ctx.lambdas_for(promotion).invoke(hook, payload)
        passed = not errored and decisions.hook_passed(answer)
        shown = json.dumps(answer)[:500]

        def outcome(p: Promotion) -> None:
            p.hook_runs[phase] = "passed" if passed else "failed"
            p.record(WORKFLOW, f"hook.{phase}", f"{hook}: passed" if passed else f"{hook}: failed: {shown}")

        self.records.mutate(promotion_id, outcome)
        if not passed:
            why = "raised" if errored else 'did not answer {"passed": true}'
            raise HookFailed(f"{phase} hook {hook} failed: it {why}: {shown}")
        self._after_hook(promotion_id, phase, promotion.watch_seconds)
        return result | {"passed": True}

    def shift(self, promotion_id: str, step: int) -> dict[str, Any]:
        """Move the alias to step ``step``: a split below 100%, the candidate alone at 100%."""
        promotion = self.records.get(promotion_id)
        planned = promotion.steps[step]
        if planned.weight >= 1.0:
            target = AliasTarget(version=promotion.candidate)
        else:
            target = AliasTarget(version=promotion.stable_version, weights={promotion.candidate: planned.weight})
        self.writer.write(promotion_id, WORKFLOW, "forward", target)

        def shifted(p: Promotion) -> None:
            now = clock.now()
            p.current_step = step
            p.steps[step].started_at = p.steps[step].started_at or now
            p.hold = Hold(step=step, seconds=planned.bake_seconds, running_since=now)
            p.record(
                WORKFLOW, "shifted", f"{planned.weight:.0%} to version {p.candidate_version}", weight=planned.weight
            )

        self.records.mutate(promotion_id, shifted)
        return {"step": step, "hold_seconds": planned.bake_seconds}

    def check(self, promotion_id: str, step: int, woke: dict[str, Any] | None) -> dict[str, Any]:
        """A hold ended or was woken: check the gates, take pause/resume/promote-now, say what is
        next. Moving to the next step is done here, not by a Shift state of its own: one state and
        one invocation fewer per step (bench.transitions), with the gates checked first as before."""
        promotion = self.records.get(promotion_id)
        ensure_live(promotion)
        if promotion.current_step is not None and step < promotion.current_step < len(promotion.steps):
            # A retried Check whose shift had landed (its answer lost): go on holding that step.
            return self._holding(promotion, promotion.current_step)
        self._ensure_gates_pass(promotion, f"at step {step + 1}" if step < len(promotion.steps) else "in the watch")
        timed_out = bool(woke) and woke.get("Error") == "States.Timeout"  # type: ignore[union-attr]
        decided: list[decisions.AfterHold] = []

        def decide(p: Promotion) -> None:
            ensure_live(p)
            _take_control_signal(p)
            now = clock.now()
            after = decisions.after_hold(p, step, timed_out, now)
            held = p.hold.seconds if p.hold and (timed_out or p.hold.remaining(now) < 1) else _held(p, now)
            p.handled_signals = p.signals[-1].seq if p.signals else 0
            p.task_token = None
            _record_move(p, step, after, held)
            decided[:] = [after]

        promotion = self.records.mutate(promotion_id, decide)
        after = decided[0]
        observability.step_held(promotion, step, after.move)
        if after.move == "next":
            shifted = self.shift(promotion_id, after.step)
            return {"move": "hold", "step": shifted["step"], "hold_seconds": shifted["hold_seconds"]}
        return {"move": after.move, "step": after.step, "hold_seconds": after.hold_seconds}

    @staticmethod
    def _holding(promotion: Promotion, step: int) -> dict[str, Any]:
        remaining = promotion.hold.remaining(clock.now()) if promotion.hold else 0.0
        return {"move": "hold", "step": step, "hold_seconds": int(remaining + 0.999) if remaining >= 1 else 0}

    def rollback(self, promotion_id: str, error: dict[str, Any] | None) -> dict[str, Any]:
        """Settle the alias on stable (unless drift left it to someone else). Idempotent."""
        error_name, cause = error_of(error)
        promotion = self.records.get(promotion_id)
        if promotion.status.is_final:
            return {"status": promotion.status.value, "reason": promotion.outcome_reason}
        carrying = promotion.carry is not None and not promotion.carry.done
        if carrying and error_name not in ("PromotionAborted", "PromotionEnded", None):
            # nothing reached the alias: the reason says it was the carry that failed
            cause = f"the artifact carry failed, no traffic moved: {cause}"
        proposed = Ending(
            status=decisions.final_status_for(error_name),
            reason=cause or "rolled back",
            actor=WORKFLOW,
            leave_alias=error_name == "AliasDrift",
        )
        if promotion.ending is not None and promotion.ending.status is Status.SUCCEEDED:
            return {"status": Status.SUCCEEDED.value, "reason": promotion.ending.reason}
        try:
            promotion = self.writer.write(
                promotion_id, WORKFLOW, "back", AliasTarget(version=promotion.stable_version), ending=proposed
            )
        except AliasDrift:
            promotion = self.records.get(promotion_id)
        ending = promotion.ending or proposed
        if not ending.leave_alias and not promotion.status.is_final:
            self.records.mutate(
                promotion_id,
                lambda p: p.record(WORKFLOW, "rolled_back", f"alias on version {p.stable_version}: {ending.reason}"),
            )
        return {"status": ending.status.value, "reason": ending.reason}

    def finalize(self, promotion_id: str, status: str, reason: str) -> dict[str, Any]:
        """Make the record final (once), which frees the target in the same write."""
        decided = Status(status)
        if decided is Status.SUCCEEDED:  # only the last check decides success
            decided, reason = Status.FAILED, "finalize reached with no recorded decision"
        proposed = Ending(status=decided, reason=reason, actor=WORKFLOW)
        promotion = self.records.get(promotion_id)
        ending = promotion.ending
        if not promotion.status.is_final and not (ending and (ending.leave_alias or ending.status is Status.SUCCEEDED)):
            # Rollback may have failed (a crash is not retried): a final record must not leave our
            # split behind. If this write fails too, the record stays live for the reconciler.
            back = AliasTarget(version=promotion.stable_version)
            with suppress(AliasDrift):  # recorded: the out-of-band change is kept
                self.writer.write(promotion_id, WORKFLOW, "back", back, ending=proposed)
        elif not promotion.status.is_final and ending and ending.status is Status.SUCCEEDED:
            # Success says the alias is on the candidate: someone may have moved it in the watch.
            self.writer.verify(promotion_id, WORKFLOW)

        removal = fast_gate.unsubscribe(self.ctx, promotion)  # on every end; one already gone is fine

        def finish(p: Promotion) -> None:
            if p.ending is None:
                p.ending = proposed
            if removal is not None:
                fast_gate.record_removal(p, removal, WORKFLOW)
            end(p, WORKFLOW)

        promotion = self.records.mutate(promotion_id, finish)
        return {"status": promotion.status.value}

    def _ensure_gates_pass(self, promotion: Promotion, where: str) -> None:
        states = self.ctx.alarms_for(promotion).states(promotion.alarms)
        failures = decisions.alarm_failures(states, promotion.insufficient_data)
        if failures:
            raise AlarmFired(f"gate failed {where}: " + "; ".join(failures))

    def _after_hook(self, promotion_id: str, phase: str, watch_seconds: int) -> None:
        """After the post-traffic hook, the watch window's clock starts."""
        if phase != "post_traffic":
            return

        def hold(p: Promotion) -> None:
            p.hold = Hold(step=len(p.steps), seconds=watch_seconds, running_since=clock.now())

        self.records.mutate(promotion_id, hold)


def _take_control_signal(p: Promotion) -> None:
    """Pause stops the hold's clock; resume (or promote-now while paused) starts it again."""
    control = decisions.control_signal(p)
    hold, now = p.hold, clock.now()
    if p.status is Status.RUNNING and control is Signal.PAUSE:
        if hold and hold.running_since:
            hold.baked += (now - hold.running_since).total_seconds()
            hold.running_since = None
        p.status = Status.PAUSED
        p.record(WORKFLOW, "paused", "holding the current traffic split; the alarms stay armed")
    elif p.status is Status.PAUSED and control in (Signal.RESUME, Signal.PROMOTE_NOW):
        if hold:
            hold.running_since = now
        p.status = Status.RUNNING
        p.record(WORKFLOW, "resumed", "the hold continues with the time that remained")


def _held(p: Promotion, now: Any) -> float:
    """How long the current hold has really held (its clock stops while paused)."""
    if p.hold is None:
        return 0.0
    return round(p.hold.seconds - p.hold.remaining(now), 3)


def _record_move(p: Promotion, step: int, after: decisions.AfterHold, held: float) -> None:
    """What the record says after a check: only time that was really held is reported."""
    last = len(p.steps) - 1
    if after.move in ("next", "post_traffic") and step <= last:
        p.steps[step].ended_at = clock.now()
        p.steps[step].baked_seconds = held
        p.record(WORKFLOW, "checked", f"step {step + 1}: gates passed after {held:g}s of {p.steps[step].bake_seconds}s")
        if after.move == "next" and after.step != step + 1:
            p.record(WORKFLOW, "promote_now", f"jumping to step {after.step + 1} at 100%")
    elif after.move == "done":
        message = f"watched {held:g}s at 100%: quiet" if p.watch_seconds else "candidate promoted"
        p.ending = Ending(status=Status.SUCCEEDED, reason=message, actor=WORKFLOW)
        p.record(WORKFLOW, "watched" if p.watch_seconds else "checked", message)


def error_of(error: dict[str, Any] | None) -> tuple[str | None, str]:
    """Name and readable cause from a Step Functions Catch result."""
    if not error:
        return None, ""
    name = error.get("Error") or "Unknown"
    cause = error.get("Cause") or ""
    try:
        parsed = json.loads(cause)
        if isinstance(parsed, dict):
            cause = parsed.get("errorMessage") or cause
    except ValueError:
        pass
    return name, f"{name}: {cause}" if cause else name
