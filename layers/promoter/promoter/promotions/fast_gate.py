"""The fast gate at work: the workflow's subscription filter (Prepare makes it, Finalize removes it
on every end), and the receiver that rolls back once the candidate's errors pass the threshold.

The receiver's rollback is the alarm listener's protocol (promotions/alarms.py): the record read,
the claim written on that read, then the alias write; the record's end, the task token and the
announcement come after it. Before the claim only the counter's two calls (an atomic ADD and a
consistent Query of the window) are made, because they decide whether to roll back at all.
"""

from __future__ import annotations

from typing import Any

from .. import clock, fast_gate
from ..aws.errors import plain_message, was_refused
from ..aws.fast_gate_counts import FastGateCounts
from ..aws.logs import Unsubscribed
from ..errors import FastGateFailed, NotFound
from ..fast_gate import ACTOR, FastGateState, FastGateTrip, LogsDelivery
from ..models import Ending, Promotion, Status
from .alarms import roll_back_first
from .context import Context
from .protocol import AliasWriter, Records


def subscribe(ctx: Context, promotion: Promotion) -> FastGateState | None:
    """Put the promotion's subscription filter on the target's log group (idempotent)."""
    spec = promotion.fast_gate
    if spec is None:
        return None
    destination = ctx.settings.fast_gate_function_arn
    if not destination:
        raise FastGateFailed("this deployment has no fast gate function (FAST_GATE_FUNCTION_ARN)", field="fast_gate")
    made = ctx.logs.subscribe(
        fast_gate.log_group_of(promotion.function),
        fast_gate.filter_name_for(promotion.id),
        spec.filter_pattern(),
        destination,
    )
    return FastGateState(filter_name=made.filter_name, log_group=made.log_group, destination_arn=destination)


def unsubscribe(ctx: Context, promotion: Promotion) -> Unsubscribed | str | None:
    """Remove the filter at Finalize, whatever the end. None: there is no fast gate (or it is
    removed already); a string: AWS refused the removal (recorded; the promotion still ends, the
    filter's deliveries for an ended promotion are ignored). A throttle or a 5xx raises: Finalize
    is retried."""
    if promotion.fast_gate is None or (promotion.fast_gate_state and promotion.fast_gate_state.removed):
        return None
    state = promotion.fast_gate_state
    log_group = state.log_group if state else fast_gate.log_group_of(promotion.function)
    name = state.filter_name if state else fast_gate.filter_name_for(promotion.id)
    try:
        return ctx.logs.unsubscribe(log_group, name)
    except Exception as error:
        if was_refused(error):
            return f"could not remove subscription filter {name} from {log_group}: {plain_message(error)}"
        raise


def record_subscription(p: Promotion, state: FastGateState, actor: str) -> None:
    """Once: a retried Prepare puts the same filter again and records nothing more."""
    if p.fast_gate is None or p.fast_gate_state is not None:
        return
    p.fast_gate_state = state
    p.record(
        actor,
        "fast_gate",
        f"subscription filter {state.filter_name} on {state.log_group}: more than {p.fast_gate.max_errors} "
        f"errors of version {p.candidate_version} in {p.fast_gate.window_seconds} s roll back",
    )


def record_removal(p: Promotion, removal: Unsubscribed | str, actor: str) -> None:
    if isinstance(removal, str):
        p.record(actor, "fast_gate", removal)
        return
    if p.fast_gate_state is None:  # Prepare never recorded it (it may still have put it): now it is gone
        p.fast_gate_state = FastGateState(filter_name=removal.filter_name, log_group=removal.log_group)
    p.fast_gate_state.removed = True
    gone = "removed" if removal.removed else "already gone"
    p.record(actor, "fast_gate", f"subscription filter {removal.filter_name} on {removal.log_group}: {gone}")


class FastGateResponder:
    def __init__(self, ctx: Context, records: Records, writer: AliasWriter) -> None:
        self.ctx = ctx
        self.records = records
        self.writer = writer
        self.counts = FastGateCounts(ctx.settings.table_name)

    def delivered(self, delivery: LogsDelivery) -> list[dict[str, Any]]:
        """One subscription delivery: count the candidate's error lines of each promotion it names."""
        return [self._respond(pid, delivery) for pid in delivery.promotion_ids]

    def _respond(self, promotion_id: str, delivery: LogsDelivery) -> dict[str, Any]:
        outcome: dict[str, Any] = {"promotion_id": promotion_id, "stream": delivery.logStream}
        try:
            read = self.records.get_with_rev(promotion_id)  # the claim below writes on this read
        except NotFound:
            return outcome | {"action": "ignored", "reason": "no such promotion"}
        promotion = read[0]
        spec = promotion.fast_gate
        if spec is None or promotion.status.is_final or promotion.ending is not None:
            return outcome | {"action": "ignored", "status": promotion.status.value}
        errors = fast_gate.counted_events(delivery, promotion.candidate_version, spec)
        if not errors:
            return outcome | {"action": "ignored", "reason": f"no error line of version {promotion.candidate_version}"}
        seconds = fast_gate.seconds_of(errors)
        self.counts.add(promotion_id, seconds)
        first, last = fast_gate.window_of(max(seconds), spec.window_seconds)
        window = self.counts.window(promotion_id, first, last)
        outcome |= {"errors": window.errors, "window_seconds": spec.window_seconds}
        if not fast_gate.over_threshold(window.errors, spec):
            return outcome | {"action": "counted"}
        reason = (
            f"fast gate: {window.errors} errors of version {promotion.candidate_version} in {spec.window_seconds} s "
            f"(more than {spec.max_errors}) in {delivery.logGroup}"
        )
        ending = Ending(status=Status.ROLLED_BACK, reason=reason, actor=ACTOR)

        def tripped(p: Promotion) -> None:  # after the alias write: "at" is when it went back
            if p.fast_gate_state is not None and p.fast_gate_state.trip is None:
                p.fast_gate_state.trip = FastGateTrip(
                    errors=window.errors,
                    window_seconds=spec.window_seconds,
                    first_error_at=fast_gate.at_second(window.first_second or first),
                    last_error_at=fast_gate.at_second(window.last_second or last),
                    at=clock.now(),
                )

        promotion = roll_back_first(self.ctx, self.records, self.writer, read, ending, on_recorded=tripped)
        return outcome | {"action": "rolled_back", "status": promotion.status.value}
