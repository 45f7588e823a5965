"""Every reproduction of issue 9 ("What breaks today", items 1-15) as a regression test on the sandbox:
the real ASL, the real handlers invoked as Lambda, the real alarm listener and reconciler.

Where a reproduction is already a test elsewhere it is named here instead of repeated:

- item 7 (``F:live``, ``F:1``, a qualified ARN): tests/api/test_validation.py,
  ``test_bad_start_bodies_name_the_field_and_the_rule`` (cases "function qualified by ...") and
  ``test_a_qualified_function_says_to_give_the_alias_separately``;
- item 11 (linear steps too small, too many steps, too long): the same file, cases "linear step 1e-6",
  "linear step just under the limit", "custom steps: 201", and ``test_limit_refusals_name_the_limit``;
- item 12 (``"alarms": [""]`` on promotions, pipelines and schedules; JSON nested 1,000 levels):
  the same file, cases "alarm empty", "pipeline alarm empty", "schedule alarm empty", and
  ``test_json_nested_1000_levels_is_a_422_on_every_post_and_put``;
- item 15 (a stale ALARM event): tests/events/test_alarm_listener.py, ``test_a_stale_alarm_event_is_ignored``.

Item 8 (guards of the target on every route) is tests/pipelines/test_api.py,
``test_guards_belong_to_the_target_whatever_the_route``.

Races are placed, not hoped for: ``around`` wraps one AWS operation of the control plane (as latency on
AWS would stretch it) and can hold it until the other writer reached a given point, so each test runs
the interleaving the issue describes every time.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

import botocore.client
import botocore.endpoint
import pytest
from botocore.exceptions import ReadTimeoutError

from promoter.errors import InvalidRequest, InvalidTransition
from promoter.models import Signal, Status
from sandbox.fixtures.targets import zip_source
from tests.api.conftest import api_service, gateway  # noqa: F401 - fixtures for the API tests below
from tests.conftest import TIME_SCALE
from tests.events.test_alarm_listener import alarm_event, hold_alarm_in, invoke_listener
from tests.workflow.helpers import alias_writes, assert_settled, execution_events, lock_holder, request, wait_for_writes

ALARM = "orders-errors"
LATENCY = 0.3  # real seconds added to a stretched AWS call: a slow UpdateAlias on AWS
HOLD_LIMIT = 10.0  # real seconds a held call waits for the other writer at most (then goes on)


# --- placing races: latency on one operation, seen from who makes the call ---------------------------
CALLERS = {  # (module of promoter.promotions, function) -> who is calling
    ("alarms.py", "_respond"): "listener",
    ("tasks.py", "shift"): "shift",
    ("tasks.py", "check"): "check",
    ("tasks.py", "rollback"): "rollback",
    ("tasks.py", "finalize"): "finalize",
    ("signals.py", "repair_if_orphaned"): "repair",
}


def caller() -> tuple[str | None, dict[str, Any]]:
    """Which part of the protocol is making the AWS call on this thread, and its frame's locals."""
    frame = sys._getframe(2)
    while frame is not None:
        path = frame.f_code.co_filename.replace("\\", "/")
        if "/promoter/promotions/" in path:
            who = CALLERS.get((path.rsplit("/", 1)[-1], frame.f_code.co_name))
            if who:
                return who, frame.f_locals
        frame = frame.f_back
    return None, {}


@contextmanager
def around(operation: str, before: Callable | None = None, after: Callable | None = None) -> Iterator[None]:
    """Run ``before(who, locals, params)`` and ``after(...)`` around every ``operation`` call (any
    client, any thread: the handlers run in this process)."""
    original = botocore.client.BaseClient._make_api_call

    def make_api_call(client: Any, name: str, params: dict) -> Any:
        if name != operation:
            return original(client, name, params)
        who, scope = caller()
        if before:
            before(who, scope, params)
        answer = original(client, name, params)
        if after:
            after(who, scope, params)
        return answer

    botocore.client.BaseClient._make_api_call = make_api_call
    try:
        yield
    finally:
        botocore.client.BaseClient._make_api_call = original


def wait_until(condition: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.01)
    return value


def real(seconds: float) -> float:
    """Real seconds for ``seconds`` of the sandbox's (scaled) time."""
    return seconds / TIME_SCALE


def has_event(sandbox, promotion_id: str, kind: str) -> bool:
    return any(e.type == kind for e in sandbox.service().get(promotion_id).events)


def holding(sandbox, promotion_id: str, step: int | None = None) -> bool:
    """The workflow waits out a hold (of ``step``) on its task token."""
    p = sandbox.service().get(promotion_id)
    return bool(p.task_token and p.hold and (step is None or p.hold.step == step) and p.status is Status.RUNNING)


def candidate_share(state: dict, candidate: str) -> float:
    """The candidate's share of the alias as AWS has it."""
    if state["version"] == candidate:
        return round(1.0 - sum(state["weights"].values()), 6)
    return state["weights"].get(candidate, 0.0)


def assert_ended_cleanly(sandbox, targets, target, final) -> None:
    """The promise: one version, empty routing (the candidate exactly when SUCCEEDED), target free."""
    assert final.status.is_final
    on = final.candidate_version if final.status is Status.SUCCEEDED else final.stable_version
    assert_settled(sandbox, targets, target, on)
    assert lock_holder(sandbox, final) is None


# --- item 1 ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("wait", ["approval", "long bake"])
def test_an_alarm_as_soon_as_prepared_frees_the_target_and_ends_the_execution(sandbox, targets, wait):
    """Item 1: an alarm the moment the record says ``prepared`` (approval wait, or a 6000 s bake):
    ROLLED_BACK, lock free, the execution ended, and the next start is accepted. Each try starts
    right after the previous one ended, so an accepted start is itself the proof that the lock is free."""
    target = targets.function("orders")
    targets.alarm(ALARM, "orders")
    body = request(target, strategy={"type": "canary", "weight": 0.1, "bake_seconds": 6000}, alarms=[ALARM])
    if wait == "approval":
        body = body.model_copy(update={"approval": True})
    sfn = sandbox.client("stepfunctions")
    for attempt in range(4):
        started = sandbox.service().start(body, actor="alice")  # TargetBusy here: the last try kept the lock
        wait_until(lambda pid=started.id: has_event(sandbox, pid, "prepared"), "prepared")
        targets.set_alarm(ALARM, "ALARM", f"try {attempt}")  # the real event reaches the real listener

        final = sandbox.wait_until_final(started.id, timeout=30)  # a 6000 s bake is 120 s here

        assert final.status is Status.ROLLED_BACK, (attempt, final.outcome_reason)
        assert sfn.describe_execution(executionArn=final.execution_arn)["status"] != "RUNNING"
        assert_ended_cleanly(sandbox, targets, target, final)
        with pytest.raises(InvalidTransition):
            sandbox.service().signal(started.id, Signal.ABORT, "alice")  # ended: 409, not a 202 that does nothing
        targets.set_alarm(ALARM, "OK", "recovered")


# --- item 2 ---------------------------------------------------------------------------------------
def _race_alias_writes(forward: Callable[[dict], bool], first: str):
    """Hooks for UpdateAlias: the workflow's forward write (``forward(params)``) and the listener's
    write back to stable overlap; ``first`` says whose write lands first."""
    seen = {
        "forward_started": threading.Event(),
        "back_started": threading.Event(),
        "forward_landed": threading.Event(),
        "back_landed": threading.Event(),
    }
    placed = set()

    def before(who, scope, params):
        if who == "shift" and forward(params) and "forward" not in placed:
            placed.add("forward")
            seen["forward_started"].set()
            if first == "listener":
                seen["back_landed"].wait(HOLD_LIMIT)
            else:
                seen["back_started"].wait(HOLD_LIMIT)
            time.sleep(LATENCY)
        elif who == "listener" and "back" not in placed:
            placed.add("back")
            seen["back_started"].set()
            if first == "workflow":
                seen["forward_landed"].wait(HOLD_LIMIT)
            time.sleep(LATENCY)

    def after(who, scope, params):
        if who == "shift" and forward(params):
            seen["forward_landed"].set()
        elif who == "listener":
            seen["back_landed"].set()

    return seen, before, after


@pytest.mark.parametrize("first", ["listener", "workflow"])
@pytest.mark.parametrize("write", ["shift", "promote"])
def test_an_alarm_during_a_slow_alias_write_rolls_back_and_is_never_drift(sandbox, targets, write, first):
    """Item 2: with latency on UpdateAlias, the alarm listener's write back to stable overlaps the
    workflow's Shift (to 50%) or its 100% promote, either landing first. Never "drift", never
    the split left on the alias: ROLLED_BACK, alias settled on stable, target free."""
    target = targets.function("orders")
    targets.alarm(ALARM, "orders")
    if write == "shift":
        strategy = {"type": "canary", "weight": 0.5, "bake_seconds": 3000}

        def forward(params):
            return params.get("RoutingConfig", {}).get("AdditionalVersionWeights") == {"2": 0.5}
    else:
        strategy = {"type": "canary", "weight": 0.5, "bake_seconds": 2}

        def forward(params):
            return params.get("FunctionVersion") == "2" and not params["RoutingConfig"]["AdditionalVersionWeights"]

    seen, before, after = _race_alias_writes(forward, first)

    with around("UpdateAlias", before, after):
        started = sandbox.service().start(request(target, strategy=strategy, alarms=[ALARM]), actor="alice")
        assert seen["forward_started"].wait(30), "the workflow never wrote"
        hold_alarm_in("ALARM")
        answer = invoke_listener(sandbox, alarm_event(ALARM))
        final = sandbox.wait_until_final(started.id)

    assert seen["back_started"].is_set()  # the writes did overlap (the forward one waited for it)
    assert answer["promotions"][0]["action"] == "rolled_back"
    assert final.status is Status.ROLLED_BACK, final.outcome_reason
    assert "drift" not in final.outcome_reason
    assert "drift" not in [e.type for e in final.events]
    assert_ended_cleanly(sandbox, targets, target, final)
    assert final.current_weight == 0.0


def test_an_alarm_while_the_last_check_decides_success_leaves_a_true_record(sandbox, targets):
    """Item 2: the listener reads the record just before the last Check decides SUCCEEDED and acts
    just after, when its alarm has gone to ALARM, while Finalize is still to write the record. The
    record and the alias agree: SUCCEEDED with the alias on the candidate (the listener came too
    late), never SUCCEEDED on stable."""
    target = targets.function("orders")
    targets.alarm(ALARM, "orders")
    service = sandbox.service()
    listener_read = threading.Event()

    def last_check(who, scope) -> bool:  # the Check after the last step (and its post-traffic hook)
        promotion = scope.get("promotion")
        return who == "check" and promotion is not None and scope.get("step") == len(promotion.steps)

    def before(who, scope, params):
        if last_check(who, scope):  # its gate waits until the listener has read the record
            listener_read.wait(HOLD_LIMIT)
        elif who == "listener":
            listener_read.set()  # it read the record: live, not decided yet
            wait_until(lambda: service.get(scope["promotion_id"]).ending, "the last Check decided", HOLD_LIMIT)

    def after(who, scope, params):
        if last_check(who, scope):
            hold_alarm_in("ALARM")  # the gate saw OK; the alarm fires right after

    listener_done = threading.Event()

    def finalizing(who, scope, params):
        if who == "finalize":
            listener_done.wait(HOLD_LIMIT)  # Finalize is slow: the listener acts in between

    with around("DescribeAlarms", before, after), around("TransactWriteItems", finalizing):
        started = service.start(request(target, alarms=[ALARM]), actor="alice")
        wait_for_writes("orders", lambda writes: ("2", {}) in writes)
        answer = invoke_listener(sandbox, alarm_event(ALARM))
        listener_done.set()
        final = sandbox.wait_until_final(started.id)

    assert listener_read.is_set()
    assert final.status is Status.SUCCEEDED, final.outcome_reason
    assert answer["promotions"][0]["status"] == "SUCCEEDED"
    assert_ended_cleanly(sandbox, targets, target, final)
    assert ("1", {}) not in alias_writes("orders")


# --- item 3 ---------------------------------------------------------------------------------------
def _baking(sandbox, targets, **overrides):
    target = targets.function("orders")
    body = request(target, strategy={"type": "canary", "weight": 0.02, "bake_seconds": 3000}, **overrides)
    started = sandbox.service().start(body, actor="alice")
    wait_until(lambda: holding(sandbox, started.id, 0), "baking on 2%")
    return target, started


@pytest.mark.parametrize("then", [Signal.PROMOTE_NOW, Signal.PAUSE])
def test_an_accepted_abort_wins_over_a_later_signal(sandbox, targets, then):
    """Item 3: abort (accepted) then promote-now, or abort then pause: ABORTED on stable, never
    SUCCEEDED, never PAUSED at 2%."""
    target, started = _baking(sandbox, targets)
    service = sandbox.service()

    service.signal(started.id, Signal.ABORT, "alice", "stop")
    with suppress(InvalidTransition):  # refused (409) is fine: the abort already ended it
        service.signal(started.id, then, "bob")

    final = sandbox.wait_until_final(started.id)
    assert final.status is Status.ABORTED, final.outcome_reason
    assert_ended_cleanly(sandbox, targets, target, final)


def test_abort_50_ms_after_approve_ends_aborted(sandbox, targets):
    """Item 3: approve, then abort 50 ms later, six times: every accepted abort ends ABORTED."""
    target = targets.function("orders")
    body = request(target, strategy={"type": "canary", "weight": 0.1, "bake_seconds": 60}, approval=True)
    service = sandbox.service()
    accepted = 0
    for _ in range(6):
        started = service.start(body, actor="alice")
        sandbox.wait_for_status(started.id, Status.AWAITING_APPROVAL)
        wait_until(lambda pid=started.id: service.get(pid).task_token, "waiting for approval")
        service.signal(started.id, Signal.APPROVE, "bob")
        time.sleep(0.05)
        try:
            service.signal(started.id, Signal.ABORT, "alice", "changed my mind")
            accepted += 1
        except InvalidTransition:
            pass
        final = sandbox.wait_until_final(started.id)
        if any(e.type == "abort" for e in final.events):
            assert final.status is Status.ABORTED, final.outcome_reason
        assert_ended_cleanly(sandbox, targets, target, final)
    assert accepted  # the race was run, not skipped


# --- item 4 ---------------------------------------------------------------------------------------
def test_all_at_once_with_an_alarm_without_data_is_refused_at_start_under_fail(sandbox, targets):
    """Item 4: all-at-once, the alarm INSUFFICIENT_DATA, the default ``fail`` policy: refused at
    start (422 naming alarms), nothing recorded, started or moved."""
    target = targets.function("orders")
    targets.alarm(ALARM, "orders", state="INSUFFICIENT_DATA")
    service = sandbox.service()

    with pytest.raises(InvalidRequest) as refused:
        service.start(request(target, strategy={"type": "all-at-once"}, alarms=[ALARM]), actor="alice")

    assert (refused.value.status_code, refused.value.field) == (422, "alarms")
    assert "INSUFFICIENT_DATA" in refused.value.message
    assert service.store.list(limit=5)[0] == []
    assert alias_writes("orders") == []


def test_a_single_full_step_bakes_and_an_alarm_during_its_bake_rolls_back(sandbox, targets):
    """Item 4: ``{"steps": [{"weight": 1, "bake_seconds": 600}]}``: the alias goes to the candidate,
    the bake is held (not skipped), and an ALARM 3 s into it (no event: the workflow's own gate after
    the bake must see it) rolls back to stable."""
    target = targets.function("orders")
    targets.alarm(ALARM, "orders")
    strategy = {"steps": [{"weight": 1, "bake_seconds": 600}]}
    started = sandbox.service().start(request(target, strategy=strategy, alarms=[ALARM]), actor="alice")
    wait_until(lambda: holding(sandbox, started.id, 0), "baking at 100%")
    assert alias_writes("orders") == [("2", {})]
    assert sandbox.service().get(started.id).hold.seconds == 600
    time.sleep(real(3))
    hold_alarm_in("ALARM")

    final = sandbox.wait_until_final(started.id, timeout=60)

    assert final.status is Status.ROLLED_BACK, final.outcome_reason
    assert "gate failed at step 1" in final.outcome_reason
    assert (final.ended_at - final.steps[0].started_at).total_seconds() >= 600  # the whole bake was held
    assert alias_writes("orders") == [("2", {}), ("1", {})]
    assert_ended_cleanly(sandbox, targets, target, final)


# --- item 5 ---------------------------------------------------------------------------------------
def test_pause_and_resume_keep_the_rest_of_the_bake(sandbox, targets):
    """Item 5: steps 20% then 60%; pause 6 s into step 1's bake, resume 4 s later: step 1 still bakes
    all its seconds (the clock stopped while paused) and the hold after the resume is what remained.
    (The issue's 120 s bake is 600 s here, so that a busy machine takes the pause well inside it.)"""
    target = targets.function("orders")
    strategy = {"steps": [{"weight": 0.2, "bake_seconds": 600}, {"weight": 0.6, "bake_seconds": 2}]}
    service = sandbox.service()
    started = service.start(request(target, strategy=strategy), actor="alice")
    wait_until(lambda: holding(sandbox, started.id, 0), "baking step 1")
    time.sleep(real(6))
    service.signal(started.id, Signal.PAUSE, "alice")
    sandbox.wait_for_status(started.id, Status.PAUSED)
    time.sleep(real(4))
    service.signal(started.id, Signal.RESUME, "alice")
    resumed = wait_until(
        lambda: (p := service.get(started.id)).status is Status.RUNNING and p.task_token and p.hold.step == 0 and p,
        "holding step 1 again",
    )
    assert 0 < resumed.hold.baked < 600  # the time before the pause counts, the pause does not

    final = sandbox.wait_until_final(started.id)

    assert final.status is Status.SUCCEEDED, final.outcome_reason
    first = final.steps[0]
    assert first.baked_seconds == 600
    assert (first.ended_at - first.started_at).total_seconds() >= 600
    assert alias_writes("orders") == [("1", {"2": 0.2}), ("1", {"2": 0.6}), ("2", {})]


def test_a_pause_in_the_watch_window_keeps_watching_and_an_alarm_still_reverts(sandbox, targets):
    """Item 5: pause 4 s into a watch window (300 s, so a busy machine still sees it open); once the
    window would have ended the promotion is still PAUSED (not "watched 300s: quiet"), and an ALARM
    then returns the alias to the previous stable at once."""
    target = targets.function("orders")
    targets.alarm(ALARM, "orders")
    service = sandbox.service()
    body = request(target, strategy={"type": "all-at-once"}, alarms=[ALARM], watch_seconds=300)
    started = service.start(body, actor="alice")
    wait_until(lambda: holding(sandbox, started.id, 1), "watching")
    time.sleep(real(4))
    service.signal(started.id, Signal.PAUSE, "alice")
    sandbox.wait_for_status(started.id, Status.PAUSED)
    time.sleep(real(300))  # the window would have ended by now

    paused = service.get(started.id)
    assert paused.status is Status.PAUSED
    assert "watched" not in [e.type for e in paused.events]
    targets.set_alarm(ALARM, "ALARM", "errors while paused")
    final = sandbox.wait_until_final(started.id)

    assert final.status is Status.ROLLED_BACK, final.outcome_reason
    assert alias_writes("orders") == [("2", {}), ("1", {})]
    assert_ended_cleanly(sandbox, targets, target, final)


# --- item 6 ---------------------------------------------------------------------------------------
HOOK_ANSWERS = [
    {"passed": "false"},
    {"passed": 0},
    {"passed": None},
    None,
    "FAIL: smoke test failed",
    [False],
    {"ok": False},
    {"status": "FAILED"},
]


def answering_hook(targets, name: str, source: str, timeout: int = 3) -> str:
    targets.lambdas.create_function(
        FunctionName=name,
        Runtime="python3.13",
        Role=targets.role(),
        Handler="app.handler",
        Code={"ZipFile": zip_source(source)},
        Timeout=timeout,
        Tags={"promoter:managed": "true"},
    )
    return name


@pytest.mark.parametrize("answer", HOOK_ANSWERS, ids=[json.dumps(a) for a in HOOK_ANSWERS])
def test_a_hook_answer_other_than_passed_true_fails_the_gate(sandbox, targets, answer):
    """Item 6: each of these answers fails the pre-traffic gate: ROLLED_BACK, no traffic ever on the
    candidate, the answer in the reason."""
    target = targets.function("orders")
    hook = answering_hook(targets, "orders-smoke", f"def handler(event, context):\n    return {answer!r}\n")
    started = sandbox.service().start(request(target, hooks={"pre_traffic": hook}), actor="alice")

    final = sandbox.wait_until_final(started.id)

    assert final.status is Status.ROLLED_BACK, final.outcome_reason
    assert json.dumps(answer) in final.outcome_reason
    assert final.hook_runs == {"pre_traffic": "failed"}
    assert not [w for w in alias_writes("orders") if w[0] == "2" or "2" in w[1]]
    assert_ended_cleanly(sandbox, targets, target, final)


@contextmanager
def read_timeouts_enforced() -> Iterator[list[str]]:
    """A client gives up on an answer slower than its ``read_timeout``, as over HTTP (the sandbox's
    AWS answers in process, where botocore never times out): the call's answer is replaced by the
    ReadTimeoutError botocore would get, and botocore's retry rules decide what happens next.
    Yields the URL of every request sent (each SDK attempt, retries included)."""
    original = botocore.endpoint.Endpoint._do_get_response
    sent: list[str] = []

    def do_get_response(self: Any, request: Any, operation_model: Any, context: Any) -> Any:
        sent.append(request.url)
        began = time.monotonic()
        answer = original(self, request, operation_model, context)
        timeout = self.http_session._timeout  # (connect, read), or urllib3's Timeout
        read = getattr(timeout, "read_timeout", timeout[1] if isinstance(timeout, tuple) else timeout)
        if read and time.monotonic() - began > read:
            return None, ReadTimeoutError(endpoint_url=request.url)
        return answer

    botocore.endpoint.Endpoint._do_get_response = do_get_response
    try:
        yield sent
    finally:
        botocore.endpoint.Endpoint._do_get_response = original


def test_a_hook_running_longer_than_20_seconds_is_invoked_once(sandbox, targets):
    """Item 6: a hook that runs 22 s (real seconds: SDK read timeouts are not scaled), with clients'
    read timeouts enforced, is invoked exactly once (one request reaches it: no SDK retry), by one
    attempt of the PreTraffic Task, and its answer counts."""
    target = targets.function("orders")
    source = "import time\n\ndef handler(event, context):\n    time.sleep(22)\n    return {'passed': True}\n"
    hook = answering_hook(targets, "orders-slow-smoke", source, timeout=30)

    with read_timeouts_enforced() as sent:
        started = sandbox.service().start(request(target, hooks={"pre_traffic": hook}), actor="alice")
        final = sandbox.wait_until_final(started.id, timeout=120)

    assert len([url for url in sent if f"/functions/{hook}/invocations" in url]) == 1
    assert final.hook_runs == {"pre_traffic": "passed"}
    assert final.status is Status.SUCCEEDED, final.outcome_reason
    scheduled = [e for e in execution_events(sandbox, final.execution_arn) if e["type"] == "TaskScheduled"]
    assert len([e for e in scheduled if "pre_traffic" in e["taskScheduledEventDetails"]["parameters"]]) == 1
    assert_ended_cleanly(sandbox, targets, target, final)


# --- item 9 ---------------------------------------------------------------------------------------
def test_a_description_edit_during_a_bake_keeps_the_split_and_the_promotion(sandbox, targets):
    """Item 9: ``aws lambda update-alias --description x`` during a bake: the split stays, the
    promotion goes on and SUCCEEDS, and the record says the edit was kept."""
    target = targets.function("orders")
    service = sandbox.service()
    started = service.start(
        request(target, strategy={"type": "canary", "weight": 0.25, "bake_seconds": 300}), actor="alice"
    )
    wait_until(lambda: holding(sandbox, started.id, 0), "baking on 25%")

    targets.lambdas.update_alias(FunctionName="orders", Name="live", Description="x")

    assert targets.alias_state("orders", "live")["weights"] == {"2": 0.25}
    assert service.get(started.id).status is Status.RUNNING
    final = sandbox.wait_until_final(started.id)
    assert final.status is Status.SUCCEEDED, final.outcome_reason
    assert "alias_edited" in [e.type for e in final.events]
    assert "drift" not in [e.type for e in final.events]
    assert alias_writes("orders") == [("1", {"2": 0.25}), ("1", {"2": 0.25}), ("2", {})]
    assert_ended_cleanly(sandbox, targets, target, final)


# --- item 10 --------------------------------------------------------------------------------------
def _stopped_mid_bake(sandbox, targets):
    """StopExecution while the workflow bakes on 2%; returns once the execution no longer runs. (The
    sandbox's StopExecution takes effect when the current wait ends, as FAILED, where AWS ends the
    execution ABORTED at once: the bake is kept short so that it ends soon.)"""
    target = targets.function("orders")
    body = request(target, strategy={"type": "canary", "weight": 0.02, "bake_seconds": 200})
    started = sandbox.service().start(body, actor="alice")
    wait_until(lambda: holding(sandbox, started.id, 0), "baking on 2%")
    sfn = sandbox.client("stepfunctions")
    sfn.stop_execution(executionArn=started.execution_arn, error="Operator", cause="stopped by hand")
    wait_until(lambda: sfn.describe_execution(executionArn=started.execution_arn)["status"] != "RUNNING", "stopped")
    stuck = sandbox.service().get(started.id)
    assert stuck.status is Status.RUNNING and lock_holder(sandbox, stuck) == started.id  # what is repaired
    assert targets.alias_state("orders", "live")["weights"] == {"2": 0.02}
    return target, started


def test_abort_after_stop_execution_repairs_the_promotion(sandbox, targets):
    """Item 10: StopExecution mid-bake, then abort: alias back on stable, lock free, the record
    FAILED with the reason."""
    target, started = _stopped_mid_bake(sandbox, targets)

    sandbox.service().signal(started.id, Signal.ABORT, "alice", "stuck")

    final = sandbox.service().get(started.id)
    assert final.status is Status.FAILED
    assert "the workflow ended outside its own paths" in final.outcome_reason
    assert alias_writes("orders")[-1] == ("1", {})
    assert_ended_cleanly(sandbox, targets, target, final)


def test_the_reconciler_repairs_a_stopped_promotion_without_an_abort(sandbox, targets):
    """Item 10: StopExecution mid-bake and nobody aborts: the scheduled ReconcileFunction (invoked
    here as its schedule would) repairs it: alias on stable, lock free, FAILED with the reason."""
    target, started = _stopped_mid_bake(sandbox, targets)
    sandbox.advance(120)  # older than the reconciler's minimum age (60 s)

    answer = sandbox.client("lambda").invoke(FunctionName=sandbox.physical_id("ReconcileFunction"), Payload=b"{}")
    body = json.loads(answer["Payload"].read())

    assert "FunctionError" not in answer, body
    assert body["repaired"] == [{"promotion_id": started.id, "action": "repaired", "status": "FAILED"}]
    final = sandbox.service().get(started.id)
    assert final.status is Status.FAILED
    assert "found by the reconciler" in final.outcome_reason
    assert_ended_cleanly(sandbox, targets, target, final)


# --- item 13 --------------------------------------------------------------------------------------
def _new_code(targets, function: str, role: str | None = None) -> None:
    code = zip_source("def handler(event, context):\n    return {'build': 'v3'}\n")
    targets.lambdas.update_function_code(FunctionName=function, ZipFile=code)
    if role:
        targets.lambdas.get_waiter("function_updated_v2").wait(FunctionName=function)
        targets.lambdas.update_function_configuration(FunctionName=function, Role=role)


def _versions(targets, function: str) -> list[str]:
    listed = targets.lambdas.list_versions_by_function(FunctionName=function)["Versions"]
    return sorted(v["Version"] for v in listed if v["Version"] != "$LATEST")


def test_publish_refused_on_a_busy_target_publishes_nothing(sandbox, targets, gateway):  # noqa: F811
    """Item 13: ``"publish": true`` on a target another promotion holds: 409, and no version is
    left behind (or the answer names the one that is)."""
    target, first = _baking(sandbox, targets)
    _new_code(targets, "orders")
    before = _versions(targets, "orders")

    answer = gateway.send("start_promotion", body={"function": "orders", "alias": "live", "publish": True})

    assert answer.status == 409, answer.body
    assert answer.body["error"] == "TargetBusy"
    published = answer.body.get("published_version")
    assert _versions(targets, "orders") == sorted(before + ([published] if published else []))
    assert lock_holder(sandbox, first) == first.id


def test_publish_refused_because_the_roles_differ_names_the_published_version(sandbox, targets, gateway):  # noqa: F811
    """Item 13: ``"publish": true`` publishes a version whose execution role differs from stable's,
    so the start is refused: the 422 names the version it published and leaves."""
    targets.function("orders")
    _new_code(targets, "orders", role=targets.role("another-role"))
    before = _versions(targets, "orders")

    answer = gateway.send("start_promotion", body={"function": "orders", "alias": "live", "publish": True})

    assert answer.status == 422, answer.body
    assert answer.body["field"] == "version"
    after = _versions(targets, "orders")
    assert [answer.body["published_version"]] == [v for v in after if v not in before]
    assert f"version {answer.body['published_version']} was published" in answer.body["message"]
    assert targets.alias_state("orders", "live")["version"] == "1"
    assert sandbox.service().store.list(limit=5)[0] == []


# --- item 14 --------------------------------------------------------------------------------------
def test_a_drift_failed_record_reports_the_weight_on_the_alias(sandbox, targets):
    """Item 14: the alias is moved by hand to 100% on another version mid-bake (at 20%): FAILED
    drift, and the record's current_weight is the candidate's share on the alias (none), not 0.2."""
    target = targets.function("orders", builds=("v1", "v2", "v3"))
    service = sandbox.service()
    started = service.start(
        request(target, version="2", strategy={"type": "canary", "weight": 0.2, "bake_seconds": 3000}), actor="alice"
    )
    wait_until(lambda: holding(sandbox, started.id, 0), "baking on 20%")
    targets.lambdas.update_alias(FunctionName="orders", Name="live", FunctionVersion="3", RoutingConfig={})
    service.signal(started.id, Signal.PROMOTE_NOW, "bob")  # the next write finds the change

    final = sandbox.wait_until_final(started.id)

    assert final.status is Status.FAILED and "drift" in final.outcome_reason
    alias = targets.alias_state("orders", "live")
    assert (alias["version"], alias["weights"]) == ("3", {})
    assert final.current_weight == candidate_share(alias, "2") == 0.0
    assert lock_holder(sandbox, final) is None


def test_an_aborted_record_gives_the_aborts_own_reason(sandbox, targets):
    """Item 14: the outcome_reason of an aborted promotion is the reason given with the abort."""
    target, started = _baking(sandbox, targets)

    sandbox.service().signal(started.id, Signal.ABORT, "alice", "p99 latency doubled")

    final = sandbox.wait_until_final(started.id)
    assert final.status is Status.ABORTED
    assert final.outcome_reason == "p99 latency doubled"
    assert_ended_cleanly(sandbox, targets, target, final)
