"""Observability on in-memory fakes: the real protocol and tasks emit PromotionsStarted,
PromotionsFinished (Status, Cause), RollbackLatency and StepDuration as EMF documents on stdout, and
``cause_of`` maps each recorded ending to its cause."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest

from promoter import observability
from promoter.errors import AlarmFired, HookFailed
from promoter.models import Ending, PromotionRequest, Signal, Status
from promoter.promotions.tasks import error_of
from tests.fakes import ClientError, DrivenExecution, FakeClock, Fakes, Parked, request_body


class World:
    def __init__(self) -> None:
        self.fakes = Fakes()
        self.clock = FakeClock()
        self.service = self.fakes.service
        self.promotion_id = ""

    def start(self, **overrides: Any) -> str:
        request = PromotionRequest.model_validate(request_body(**overrides))
        self.promotion_id = self.service.start(request, actor="alice").id
        return self.promotion_id

    def run(self, on_wait: Any = None) -> None:
        arn = self.fakes.workflow.started[-1][0]
        DrivenExecution(self.fakes, self.promotion_id, arn, clock_=self.clock, on_wait=on_wait).run()


@pytest.fixture
def world() -> Iterator[World]:
    created = World()
    with mock.patch("promoter.clock.now", created.clock.now):
        yield created


def emf(out: str, name: str) -> list[dict[str, Any]]:
    """The EMF documents on stdout that carry metric ``name``."""
    found = []
    for line in out.splitlines():
        if not line.startswith("{"):
            continue
        document = json.loads(line)
        directives = document.get("_aws", {}).get("CloudWatchMetrics", [])
        if any(m["Name"] == name for d in directives for m in d["Metrics"]):
            found.append(document)
    return found


def value(document: dict[str, Any], name: str) -> float:
    """A data point's value (EMF may give it as a list of values)."""
    found = document[name]
    return found[0] if isinstance(found, list) else found


def finished(out: str) -> list[tuple[str, str, list[list[str]]]]:
    return [
        (d["Status"], d["Cause"], d["_aws"]["CloudWatchMetrics"][0]["Dimensions"])
        for d in emf(out, "PromotionsFinished")
    ]


def once_at(kind: str, action: Any) -> Any:
    done: list[bool] = []

    def hook(parked: Parked) -> None:
        if parked.kind == kind and not done:
            done.append(True)
            action(parked)

    return hook


# --- PromotionsFinished: once, by whoever made the record final, with its cause -----------------
def test_a_promotion_that_succeeds_finishes_once_with_cause_none(world, capsys):
    world.start()
    world.run()
    out = capsys.readouterr().out
    assert [(s, c) for s, c, _ in finished(out)] == [("SUCCEEDED", "none")]
    dimensions = finished(out)[0][2]
    # by status alone, and by status and cause (each with the service)
    assert sorted(map(sorted, dimensions)) == [["Cause", "Status", "service"], ["Status", "service"]]
    assert emf(out, "PromotionsFinished")[0]["promotion_id"] == world.promotion_id


def test_the_alarm_listener_ending_is_cause_alarm(world, capsys):
    world.start()

    def fire(_: Parked) -> None:
        world.fakes.alarms.alarm_states["orders-errors"] = "ALARM"
        world.service.alarm_fired("orders-errors", "errors", changed_at=world.clock.now() - timedelta(seconds=2.5))

    world.run(once_at("hold", fire))
    out = capsys.readouterr().out
    assert [(s, c) for s, c, _ in finished(out)] == [("ROLLED_BACK", "alarm")]
    latency = emf(out, "RollbackLatency")
    assert [value(d, "RollbackLatency") for d in latency] == [2500.0]  # the fake clock does not move in between
    assert latency[0]["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"] == "Milliseconds"


def test_a_gate_failed_at_check_is_cause_alarm_and_no_rollback_latency(world, capsys):
    world.start()
    world.run(once_at("hold", lambda _: world.fakes.alarms.alarm_states.update({"orders-errors": "ALARM"})))
    out = capsys.readouterr().out
    assert [(s, c) for s, c, _ in finished(out)] == [("ROLLED_BACK", "alarm")]
    assert emf(out, "RollbackLatency") == []  # the listener did not write it back


def test_a_failed_hook_is_cause_hook(world, capsys):
    hook = world.fakes.lambdas.add_hook("orders-pre", {"passed": False})
    world.start(hooks={"pre_traffic": hook})
    world.run()
    assert [(s, c) for s, c, _ in finished(capsys.readouterr().out)] == [("ROLLED_BACK", "hook")]


def test_an_abort_is_cause_abort(world, capsys):
    world.start()
    world.run(once_at("hold", lambda _: world.service.signal(world.promotion_id, Signal.ABORT, "bob", "no")))
    assert [(s, c) for s, c, _ in finished(capsys.readouterr().out)] == [("ABORTED", "abort")]


def test_drift_is_cause_drift(world, capsys):
    world.start()
    edit = once_at("hold", lambda _: world.fakes.lambdas.edit_out_of_band("orders", version="2", weights={"1": 0.5}))
    world.run(edit)
    assert [(s, c) for s, c, _ in finished(capsys.readouterr().out)] == [("FAILED", "drift")]


def test_a_start_whose_workflow_did_not_start_is_cause_error_and_not_started(world, capsys):
    world.fakes.calls.fail("stepfunctions.start", ClientError("ServiceUnavailable"))
    with pytest.raises(ClientError):
        world.start()
    out = capsys.readouterr().out
    assert [(s, c) for s, c, _ in finished(out)] == [("FAILED", "error")]
    assert emf(out, "PromotionsStarted") == []


# --- PromotionsStarted, StepDuration ------------------------------------------------------------
def test_each_start_is_counted_once(world, capsys):
    first = world.start()
    world.run()
    second = world.start(version="3")
    out = capsys.readouterr().out
    assert [d["promotion_id"] for d in emf(out, "PromotionsStarted")] == [first, second]


def test_step_duration_is_the_time_each_step_held(world, capsys):
    world.start(strategy={"type": "linear", "step": 0.5, "interval_seconds": 30})
    world.run()
    out = capsys.readouterr().out
    record = world.fakes.store.peek(world.promotion_id)
    held = [(d["step"], value(d, "StepDuration")) for d in emf(out, "StepDuration")]
    assert held == [(s.index, s.baked_seconds) for s in record.steps if s.ended_at]
    # the fake clock jumps to each hold's deadline: each step held its planned bake, every step counted
    assert held == [(s.index, float(s.bake_seconds)) for s in record.steps] and held[0][1] == 30


# --- log keys ------------------------------------------------------------------------------------
def test_lines_logged_after_a_record_is_read_carry_its_id_and_target(world, capsys):
    promotion_id = world.start()
    observability.unbind()
    world.service.reads.get(promotion_id)  # a read model: no binding
    world.service.tasks.records.get(promotion_id)
    observability.logger.info("probe")
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["promotion_id"] == promotion_id
    assert line["target_function_arn"] == world.fakes.function.arn
    assert line["target_alias"] == "live"
    observability.unbind()


def test_keys_of_labels_only_the_block_and_recalls_the_target(world, capsys):
    promotion_id = world.start()
    observability.unbind()
    with observability.keys_of(promotion_id):
        observability.logger.info("inside")
    observability.logger.info("outside")
    inside, outside = (json.loads(x) for x in capsys.readouterr().out.strip().splitlines()[-2:])
    assert (inside["promotion_id"], inside["target_alias"]) == (promotion_id, "live")
    assert not set(observability.LOG_KEYS) & set(outside)


# --- cause_of: every ending the protocol records -------------------------------------------------
def workflow_ending(error: str, cause: str) -> Ending:
    """The ending Rollback records for a Catch of ``error`` (as tasks.rollback builds it)."""
    from promoter import decisions

    name, reason = error_of({"Error": error, "Cause": json.dumps({"errorMessage": cause})})
    return Ending(status=decisions.final_status_for(name), reason=reason, actor="workflow")


@pytest.mark.parametrize(
    ("ending", "cause"),
    [
        (Ending(status=Status.SUCCEEDED, reason="candidate promoted", actor="workflow"), "none"),
        (Ending(status=Status.ROLLED_BACK, reason="alarm a is ALARM: x", actor="alarm:a"), "alarm"),
        (workflow_ending(AlarmFired.__name__, "gate failed at step 1: a is ALARM"), "alarm"),
        (workflow_ending(HookFailed.__name__, "pre_traffic hook h failed"), "hook"),
        (workflow_ending("PromotionAborted", "aborted by bob"), "abort"),
        (Ending(status=Status.ABORTED, reason="aborted by bob", actor="bob"), "abort"),
        (Ending(status=Status.FAILED, reason="drift: alias moved", actor="workflow", leave_alias=True), "drift"),
        (workflow_ending("States.Timeout", ""), "error"),
        (workflow_ending("Lambda.ServiceException", "boom"), "error"),
        (Ending(status=Status.FAILED, reason="the workflow ended outside its own paths", actor="reconciler"), "error"),
        (None, "error"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_cause_of_each_recorded_ending(ending, cause):
    assert observability.cause_of(ending) == cause
    assert cause in observability.CAUSES
