"""The record stays under its size budget however the promotion is steered (issue 9, item 11).

Driven on the in-memory fakes with the real ASL and tasks: the most steps a request may have, every
signal the record accepts with the longest reason the API takes, and the most alarms. The largest
record written along the way is the measure (DynamoDB refuses an item over 400 KB).
"""

from __future__ import annotations

from unittest import mock

from promoter.decisions import MAX_SIGNALS
from promoter.limits import DYNAMODB_MAX_ITEM_BYTES, MAX_ALARMS, MAX_STEPS, RECORD_BUDGET_BYTES
from promoter.models import PromotionRequest, Signal, Status
from tests.fakes import DrivenExecution, FakeClock, Fakes, Parked, request_body

LONGEST_REASON = "r" * 1000  # SignalRequest.reason's max_length
ACTOR = "arn:aws:sts::123456789012:assumed-role/" + "a" * 64 + "/" + "s" * 64  # a long role session


def test_the_most_steered_record_fits_its_budget() -> None:
    fakes, fake_clock = Fakes(), FakeClock()
    alarms = [f"{i:02d}-" + "x" * 252 for i in range(MAX_ALARMS)]
    fakes.alarms.alarm_states.update(dict.fromkeys(alarms, "OK"))
    body = request_body(
        strategy={"type": "linear", "step": 1 / MAX_STEPS, "interval_seconds": 1},
        alarms=alarms,
        reason=LONGEST_REASON,
    )
    with mock.patch("promoter.clock.now", fake_clock.now):
        promotion_id = fakes.service.start(PromotionRequest.model_validate(body), actor=ACTOR).id
        signals = 0

        def steer(parked: Parked) -> None:
            nonlocal signals
            if parked.kind != "pause" and signals >= MAX_SIGNALS - 1:
                return  # the last pause needs its resume
            signal = Signal.RESUME if parked.kind == "pause" else Signal.PAUSE
            fakes.service.signal(promotion_id, signal, ACTOR, reason=LONGEST_REASON)
            signals += 1

        arn = fakes.workflow.started[-1][0]
        DrivenExecution(fakes, promotion_id, arn, clock_=fake_clock, on_wait=steer).run()

    record = fakes.store.peek(promotion_id)
    largest = max(written.size for written in fakes.store.history[promotion_id])
    assert record.status is Status.SUCCEEDED, record.outcome_reason
    assert len(record.steps) == MAX_STEPS
    assert len(record.signals) == MAX_SIGNALS
    assert largest <= RECORD_BUDGET_BYTES < DYNAMODB_MAX_ITEM_BYTES, f"largest record: {largest:,} bytes"
