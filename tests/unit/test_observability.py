"""Observability on in-memory fakes: the real protocol and tasks emit PromotionsStarted,
PromotionsFinished (Status, Cause), RollbackLatency and StepDuration as EMF documents on stdout, and
``cause_of`` maps each recorded ending to its cause."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
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


# --- tracing: X-Ray only when it is on -----------------------------------------------------------
ROOT = Path(__file__).resolve().parents[2]
HANDLERS = sorted(p.name for p in (ROOT / "functions").iterdir() if (p / "app.py").exists())


def imports_xray(handler: str, trace_disabled: str) -> bool:
    """Whether importing ``functions/<handler>/app.py`` in a fresh interpreter, as in Lambda
    (LAMBDA_TASK_ROOT set), loads aws_xray_sdk."""
    code = (
        "import sys\n"
        f"sys.path[:0] = [{str(ROOT / 'functions' / handler)!r}, {str(ROOT / 'layers' / 'promoter')!r}]\n"
        "import app\n"
        "print('aws_xray_sdk' in sys.modules)\n"
    )
    env = {
        "POWERTOOLS_TRACE_DISABLED": trace_disabled,
        "LAMBDA_TASK_ROOT": str(ROOT / "functions" / handler),
        "AWS_DEFAULT_REGION": "us-east-1",
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return done.stdout.strip() == "True"


@pytest.mark.parametrize("handler", HANDLERS)
def test_with_tracing_disabled_no_handler_imports_xray(handler):
    assert not imports_xray(handler, "true")


def test_with_tracing_on_the_handler_imports_xray_at_import():
    # the probe above can fail: with Tracing: Active the Tracer (and X-Ray's botocore patch) is built
    # when the handlers are decorated, before any client exists
    assert imports_xray("workflow", "false")


@pytest.mark.parametrize(
    "env",
    [
        {"POWERTOOLS_TRACE_DISABLED": "true", "LAMBDA_TASK_ROOT": "/var/task"},
        {"POWERTOOLS_TRACE_DISABLED": "false", "LAMBDA_TASK_ROOT": "/var/task"},
        {"LAMBDA_TASK_ROOT": "/var/task"},
        {"POWERTOOLS_TRACE_DISABLED": "false"},
        {"LAMBDA_TASK_ROOT": "/var/task", "AWS_SAM_LOCAL": "true"},
        {"LAMBDA_TASK_ROOT": "/var/task", "AWS_CHALICE_CLI_MODE": "true"},
    ],
)
def test_tracing_is_on_exactly_when_powertools_would_trace(env, monkeypatch):
    for name in ("POWERTOOLS_TRACE_DISABLED", "LAMBDA_TASK_ROOT", "AWS_SAM_LOCAL", "AWS_CHALICE_CLI_MODE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert observability.tracing_on() is not bool(observability.Tracer._is_tracer_disabled())


@pytest.fixture
def tracing(monkeypatch) -> None:
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "false")
    monkeypatch.setenv("LAMBDA_TASK_ROOT", "/var/task")
    monkeypatch.delenv("AWS_SAM_LOCAL", raising=False)
    monkeypatch.delenv("AWS_CHALICE_CLI_MODE", raising=False)


def test_with_tracing_on_the_decorators_are_the_tracers(tracing):
    def handler(event, context):
        return "done"

    with mock.patch.object(observability, "Tracer") as Tracer:
        lazy = observability.LazyTracer("svc")
        Tracer.assert_not_called()  # built on first use, not before
        traced = lazy.capture_lambda_handler(handler)
        method = lazy.capture_method(capture_response=False)(handler)
    Tracer.assert_called_once_with(service="svc")  # once, for both decorators
    real = Tracer.return_value
    real.capture_lambda_handler.assert_called_once_with(handler, capture_response=None, capture_error=None)
    real.capture_method.assert_called_once_with(handler, capture_response=False, capture_error=None)
    assert traced is real.capture_lambda_handler.return_value
    assert method is real.capture_method.return_value


def test_with_tracing_on_a_decorated_handler_runs_in_a_subsegment(tracing):
    # the real Tracer on a mocked provider: the handler runs inside its "## handler" subsegment
    from aws_lambda_powertools import Tracer as RealTracer

    provider = mock.MagicMock()
    with mock.patch.object(observability, "Tracer", lambda service: RealTracer(service=service, provider=provider)):
        lazy = observability.LazyTracer("svc")

        @lazy.capture_lambda_handler
        def handler(event, context):
            return {"ok": event}

    try:
        assert handler(1, None) == {"ok": 1}
    finally:
        RealTracer._reset_config()  # Powertools keeps the provider on the class
    provider.in_subsegment.assert_called_once_with(name="## handler")


def test_with_tracing_off_the_decorators_return_the_function_and_build_nothing(monkeypatch):
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("LAMBDA_TASK_ROOT", "/var/task")

    def handler(event, context):
        return "done"

    with mock.patch.object(observability, "Tracer") as Tracer:
        lazy = observability.LazyTracer("svc")
        assert lazy.capture_lambda_handler(handler) is handler
        assert lazy.capture_lambda_handler(capture_response=False)(handler) is handler
        assert lazy.capture_method(handler) is handler
    Tracer.assert_not_called()
