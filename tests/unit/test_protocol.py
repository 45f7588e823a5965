"""The promotion protocol on in-memory fakes: the real tasks, in the ASL's order, with one race each."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import timedelta
from unittest import mock

import botocore.exceptions
import pytest

from promoter.errors import AliasDrift, InvalidTransition, PromotionEnded, TargetBusy
from promoter.models import Promotion, PromotionRequest, Signal, Status
from tests.fakes import (
    Actor,
    Crash,
    DrivenExecution,
    FakeClock,
    Fakes,
    Parked,
    Scheduler,
    TooManyRequestsException,
    request_body,
)

STABLE, CANDIDATE = "1", "2"


class World:
    """Fakes, a settable clock, and one promotion started on them."""

    def __init__(self) -> None:
        self.fakes = Fakes()
        self.clock = FakeClock()
        self.service = self.fakes.service
        self.promotion_id = ""

    def start(self, **overrides: object) -> str:
        request = PromotionRequest.model_validate(request_body(**overrides))
        self.promotion_id = self.service.start(request, actor="alice").id
        return self.promotion_id

    def run(self, on_wait: Callable[[Parked], None] | None = None) -> DrivenExecution:
        arn = self.fakes.workflow.started[-1][0]
        execution = DrivenExecution(self.fakes, self.promotion_id, arn, clock_=self.clock, on_wait=on_wait)
        execution.run()
        return execution

    @property
    def record(self) -> Promotion:
        return self.fakes.store.peek(self.promotion_id)

    @property
    def alias(self):  # noqa: ANN201
        return self.fakes.lambdas.alias("orders")

    def signal(self, signal: Signal, actor: str = "bob") -> Promotion:
        return self.service.signal(self.promotion_id, signal, actor, reason=f"{signal.value} by test")

    def alarm(self) -> list[dict]:
        self.fakes.alarms.alarm_states["orders-errors"] = "ALARM"
        return self.service.alarm_fired("orders-errors", "errors above threshold")

    def assert_settled_on(self, version: str) -> None:
        assert (self.alias.version, self.alias.weights) == (version, {})
        assert self.fakes.store.locks == {}, "the target is still locked"
        assert self.fakes.store.watches.get("orders-errors", set()) == set()


@pytest.fixture
def world() -> Iterator[World]:
    created = World()
    with mock.patch("promoter.clock.now", created.clock.now):
        yield created


def on_first(kind: str, action: Callable[[Parked], None]) -> Callable[[Parked], None]:
    """Run ``action`` at the first wait of ``kind`` only."""
    done: list[bool] = []

    def hook(parked: Parked) -> None:
        if parked.kind == kind and not done:
            done.append(True)
            action(parked)

    return hook


# --- alarm against the workflow's own alias writes ----------------------------------------------
def test_alarm_after_shift_ends_rolled_back_on_stable(world: World) -> None:
    world.start()
    world.run(on_first("hold", lambda _: world.alarm()))
    assert world.record.status is Status.ROLLED_BACK
    world.assert_settled_on(STABLE)


def test_alarm_before_shift_writes_ends_rolled_back_on_stable(world: World) -> None:
    world.start()
    world.fakes.calls.on("lambda.update_alias", lambda: world.alarm(), phase="before")
    world.run()
    assert world.record.status is Status.ROLLED_BACK
    world.assert_settled_on(STABLE)


def test_alarm_between_shift_write_and_confirm_ends_rolled_back_on_stable(world: World) -> None:
    world.start()
    world.fakes.calls.on("lambda.update_alias", lambda: world.alarm(), phase="after")
    world.run()
    assert world.record.status is Status.ROLLED_BACK
    world.assert_settled_on(STABLE)


def test_a_refused_write_judges_what_it_saw_only_against_the_state_it_claimed_on(world: World) -> None:
    """Interleaving seed 3760: the listener's write was refused and it read the alias (the Shift's
    25%, not yet confirmed); before it judged that, the Shift confirmed it and Rollback put the
    alias back on stable. Judged against the newer record, the old 25% looked like someone else's:
    FAILED "drift ... kept", with the alias on stable and nobody else having touched it."""
    world.start()
    tasks, calls = world.service.tasks, world.fakes.calls
    tasks.prepare(world.promotion_id)
    scheduler = Scheduler(random.Random(0))
    last: dict[str, str] = {}

    def at_call(name: str, phase: str) -> None:
        if (actor := scheduler.me()) is not None:
            last[actor.name] = f"{name} {phase}"
            scheduler.pause()

    def run_until(actor: Actor, call: str) -> None:
        while not actor.done and last.get(actor.name) != call:
            scheduler.step_actor(actor)

    calls.interceptor = at_call
    shift = scheduler.spawn("shift", lambda: tasks.shift(world.promotion_id, 0))
    run_until(shift, "lambda.update_alias after")  # 25% landed, not confirmed
    world.fakes.alarms.alarm_states["orders-errors"] = "ALARM"
    listener = scheduler.spawn("listener", lambda: world.service.alarm_fired("orders-errors", "errors"))
    run_until(listener, "lambda.get_alias after")  # refused, and it saw the 25%
    run_until(shift, "done")
    with pytest.raises(PromotionEnded):  # the workflow's Check (the listener decided the end), Rollback
        tasks.check(world.promotion_id, 0, None)
    tasks.rollback(world.promotion_id, {"Error": "PromotionEnded", "Cause": "ending"})
    run_until(listener, "done")
    scheduler.close()
    assert shift.error is None and listener.error is None
    record = world.record
    assert "drift" not in [e.type for e in record.events], record.outcome_reason
    assert record.status is Status.ROLLED_BACK
    world.assert_settled_on(STABLE)


# --- signals ----------------------------------------------------------------------------------
def test_abort_then_promote_now_ends_aborted(world: World) -> None:
    world.start()

    def abort_then_promote(_: Parked) -> None:
        world.signal(Signal.ABORT)
        with pytest.raises(InvalidTransition):
            world.signal(Signal.PROMOTE_NOW)

    world.run(on_first("hold", abort_then_promote))
    assert world.record.status is Status.ABORTED
    assert world.record.outcome_reason == "abort by test"
    world.assert_settled_on(STABLE)


def test_abort_then_pause_ends_aborted(world: World) -> None:
    world.start()

    def abort_then_pause(_: Parked) -> None:
        world.signal(Signal.ABORT)
        with pytest.raises(InvalidTransition):
            world.signal(Signal.PAUSE)

    world.run(on_first("hold", abort_then_pause))
    assert world.record.status is Status.ABORTED
    world.assert_settled_on(STABLE)


def test_pause_stops_the_hold_clock_and_resume_continues_the_bake(world: World) -> None:
    world.start(strategy={"steps": [{"weight": 0.2, "bake_seconds": 120}, {"weight": 0.6, "bake_seconds": 120}]})
    seen: list[tuple[str, int | None]] = []

    def steer(parked: Parked) -> None:
        seconds = int((parked.deadline - world.clock.now()).total_seconds()) if parked.deadline else None
        seen.append((parked.kind, seconds))
        if len(seen) == 1:  # 6 s into step 1's bake
            world.clock.advance(6)
            world.signal(Signal.PAUSE)
        elif parked.kind == "pause":  # paused 4 s
            world.clock.advance(4)
            world.signal(Signal.RESUME)

    world.run(steer)
    assert seen[:3] == [("hold", 120), ("pause", 604800), ("hold", 114)]
    record = world.record
    assert record.status is Status.SUCCEEDED
    assert record.steps[0].baked_seconds == 120
    world.assert_settled_on(CANDIDATE)


# --- alias writes: one Lambda control-plane call per step -------------------------------------
def lambda_calls(world: World, since: int) -> list[str]:
    return [name for name in world.fakes.calls.log[since:] if name.startswith("lambda.")]


def test_a_step_makes_one_lambda_call_when_nothing_else_touched_the_alias(world: World) -> None:
    """Each Shift writes with the RevisionId its last write answered: no GetAlias before it."""
    world.start(strategy={"type": "linear", "step": 0.25, "interval_seconds": 60})
    tasks = world.service.tasks
    tasks.prepare(world.promotion_id)
    for step, weight in enumerate((0.25, 0.5, 0.75)):
        since = len(world.fakes.calls.log)
        tasks.shift(world.promotion_id, step)
        assert lambda_calls(world, since) == ["lambda.update_alias"], f"step {step + 1}"
        assert (world.alias.version, world.alias.weights) == (STABLE, {CANDIDATE: weight})
        assert world.record.revision_id == world.alias.revision_id
    since = len(world.fakes.calls.log)
    tasks.shift(world.promotion_id, 3)
    assert lambda_calls(world, since) == ["lambda.update_alias"]
    assert (world.alias.version, world.alias.weights) == (CANDIDATE, {})


def test_a_stale_revision_id_from_our_own_landed_write_reads_once_and_continues(world: World) -> None:
    """A retried Shift whose first write landed: refused (412), one GetAlias finds our own routing,
    which is adopted; no second write, no drift."""
    world.start()
    tasks = world.service.tasks
    tasks.prepare(world.promotion_id)
    world.fakes.calls.fail("lambda.update_alias", Crash("the Shift's Lambda timed out"), phase="after")
    with pytest.raises(Crash):
        tasks.shift(world.promotion_id, 0)
    landed = world.alias
    since = len(world.fakes.calls.log)
    tasks.shift(world.promotion_id, 0)  # the workflow's retry of the same step
    assert lambda_calls(world, since) == ["lambda.update_alias", "lambda.get_alias"]
    record = world.record
    assert world.alias == landed  # nothing written again
    assert (record.revision_id, record.confirmed_alias.weights) == (landed.revision_id, {CANDIDATE: 0.25})
    assert record.ending is None and "drift" not in [e.type for e in record.events]
    assert all(c.state == "done" for c in record.claims)


def test_a_stale_revision_id_from_someone_elses_routing_reads_once_and_is_drift(world: World) -> None:
    """Someone else moved traffic: refused (412), one GetAlias, and the drift ending (their change kept)."""
    world.start()
    tasks = world.service.tasks
    tasks.prepare(world.promotion_id)
    theirs = world.fakes.lambdas.edit_out_of_band("orders", version="3")
    since = len(world.fakes.calls.log)
    with pytest.raises(AliasDrift):
        tasks.shift(world.promotion_id, 0)
    assert lambda_calls(world, since) == ["lambda.update_alias", "lambda.get_alias"]
    record = world.record
    assert world.alias == theirs
    assert record.ending is not None and record.ending.leave_alias and record.ending.status is Status.FAILED
    assert "drift" in record.ending.reason


def test_a_stale_revision_id_from_a_description_edit_reads_once_and_writes_again(world: World) -> None:
    """The routing is as confirmed, only the RevisionId moved: adopted, and written on the new one."""
    world.start()
    tasks = world.service.tasks
    tasks.prepare(world.promotion_id)
    world.fakes.lambdas.edit_out_of_band("orders")
    since = len(world.fakes.calls.log)
    tasks.shift(world.promotion_id, 0)
    assert lambda_calls(world, since) == ["lambda.update_alias", "lambda.get_alias", "lambda.update_alias"]
    assert (world.alias.version, world.alias.weights) == (STABLE, {CANDIDATE: 0.25})
    assert world.record.ending is None and "alias_edited" in [e.type for e in world.record.events]


# --- alias edits by others ------------------------------------------------------------------------
def test_description_only_edit_during_a_bake_is_adopted(world: World) -> None:
    world.start()
    world.run(on_first("hold", lambda _: world.fakes.lambdas.edit_out_of_band("orders")))
    record = world.record
    assert record.status is Status.SUCCEEDED, record.outcome_reason
    assert "alias_edited" in [e.type for e in record.events]
    world.assert_settled_on(CANDIDATE)


def test_routing_edit_by_someone_else_is_drift_and_kept(world: World) -> None:
    world.start()
    edit = on_first("hold", lambda _: world.fakes.lambdas.edit_out_of_band("orders", version="2", weights={"1": 0.5}))
    world.run(edit)
    record = world.record
    assert record.status is Status.FAILED
    assert "drift" in record.outcome_reason
    assert (world.alias.version, world.alias.weights) == ("2", {"1": 0.5})
    assert record.current_weight == 0.5
    assert world.fakes.store.locks == {}


# --- announcements ------------------------------------------------------------------------------
def test_a_status_change_is_announced_once_though_another_writer_wrote_before_its_put(world: World) -> None:
    """Interleaving seed 3: a signal wrote the record between Prepare's write (PENDING -> RUNNING)
    and its PutEvents, found the change in the outbox and announced it too: RUNNING went out twice."""
    world.start()
    world.fakes.calls.on("events.put", lambda: world.signal(Signal.PAUSE))  # Prepare's announcement
    world.run(on_first("pause", lambda _: world.signal(Signal.RESUME)))
    announced = [(a["previous_status"], a["status"]) for a in world.fakes.events.announced]
    assert announced == [
        (None, "PENDING"),
        ("PENDING", "RUNNING"),
        ("RUNNING", "PAUSED"),
        ("PAUSED", "RUNNING"),
        ("RUNNING", "SUCCEEDED"),
    ]


def test_a_change_whose_writer_died_before_its_put_is_announced_once_by_the_reconciler(world: World) -> None:
    """The final write announces only its own change: another writer's may be between its write and
    its put (it announces it itself). One whose writer died is the reconciler's, after the lease."""
    world.start()
    world.fakes.calls.fail("events.put", Crash("Prepare's Lambda timed out"))  # RUNNING is not sent
    world.run()  # Prepare failed: Rollback (no status change), then Finalize makes it FAILED
    assert world.record.status is Status.FAILED
    announced = lambda: [a["status"] for a in world.fakes.events.announced]  # noqa: E731
    assert announced() == ["PENDING", "FAILED"]
    assert [c.status for c in world.record.unannounced] == [Status.RUNNING]
    assert world.service.reconcile() == []  # its writer may still be running: not yet
    world.clock.advance(900)
    assert world.service.reconcile() == [{"promotion_id": world.promotion_id, "action": "announced"}]
    assert announced() == ["PENDING", "FAILED", "RUNNING"]  # consumers order by sequence
    pending, failed, running = (a["sequence"] for a in world.fakes.events.announced)
    assert pending < running < failed
    assert world.record.unannounced == []


def test_a_final_change_whose_writer_died_before_its_put_is_announced_by_the_reconciler(world: World) -> None:
    """Interleaving seed 276: Finalize's Lambda died after the final write and before its PutEvents;
    nobody writes a final record again, so ABORTED was never announced."""
    world.start()

    def abort_and_crash_the_final_put(_: Parked) -> None:
        world.signal(Signal.ABORT)
        world.fakes.calls.fail("events.put", Crash("Finalize's Lambda timed out"))

    world.run(on_first("hold", abort_and_crash_the_final_put))
    assert world.record.status is Status.ABORTED
    statuses = lambda: [a["status"] for a in world.fakes.events.announced]  # noqa: E731
    assert statuses() == ["PENDING", "RUNNING"]
    assert world.service.reconcile() == []  # its writer may still be running: not yet
    world.clock.advance(900)
    assert world.service.reconcile() == [{"promotion_id": world.promotion_id, "action": "announced"}]
    assert statuses() == ["PENDING", "RUNNING", "ABORTED"]
    assert world.record.unannounced == []
    assert world.service.reconcile() == []


# --- crashes and retries ----------------------------------------------------------------------
def test_crash_between_update_alias_and_confirm_is_ours_on_the_next_write(world: World) -> None:
    world.start()
    world.fakes.calls.fail("lambda.update_alias", Crash("the Shift's Lambda timed out"), phase="after")
    world.run()
    record = world.record
    assert record.status is Status.FAILED
    assert "Sandbox.Timedout" in record.outcome_reason
    assert "drift" not in [e.type for e in record.events]
    world.assert_settled_on(STABLE)


def test_a_routing_edit_while_on_stable_is_drift_when_the_promotion_ends(world: World) -> None:
    """Interleaving seed 10: the approval wait timed out after someone routed half the traffic to
    version 3; Rollback found the record's confirmed state on stable and wrote nothing, so the
    record said 'alias on version 1' while the alias was 1 + {3: 0.5}."""
    world.start(approval=True)
    edit = lambda _: world.fakes.lambdas.edit_out_of_band("orders", version="1", weights={"3": 0.5})  # noqa: E731
    world.run(on_first("approval", edit))
    record = world.record
    assert record.status is Status.FAILED
    assert "drift" in record.outcome_reason
    assert (world.alias.version, world.alias.weights) == ("1", {"3": 0.5})
    assert (record.confirmed_alias.version, record.confirmed_alias.weights) == ("1", {"3": 0.5})
    assert world.fakes.store.locks == {}


def test_a_routing_edit_in_the_watch_window_is_drift_not_success(world: World) -> None:
    """Interleaving seed 1557: someone put the alias on version 3 during the watch window; nothing
    wrote the alias after that, and the record said SUCCEEDED with the candidate at 100%."""
    world.start(watch_seconds=60)
    holds: list[Parked] = []

    def edit_in_the_watch(parked: Parked) -> None:
        holds.append(parked)
        if len(holds) == 2:  # the canary's bake, then the watch window
            world.fakes.lambdas.edit_out_of_band("orders", version="3")

    world.run(edit_in_the_watch)
    record = world.record
    assert record.status is Status.FAILED
    assert "drift" in record.outcome_reason
    assert (world.alias.version, world.alias.weights) == ("3", {})
    assert record.current_weight == 0.0
    assert world.fakes.store.locks == {}


def test_a_description_edit_in_the_watch_window_still_succeeds(world: World) -> None:
    world.start(watch_seconds=60)
    holds: list[Parked] = []

    def edit_in_the_watch(parked: Parked) -> None:
        holds.append(parked)
        if len(holds) == 2:
            world.fakes.lambdas.edit_out_of_band("orders")

    world.run(edit_in_the_watch)
    assert world.record.status is Status.SUCCEEDED, world.record.outcome_reason
    world.assert_settled_on(CANDIDATE)


def test_a_crashed_rollback_is_written_back_by_finalize(world: World) -> None:
    """Interleaving seed 30: Rollback's Lambda crashed (not retried), RollbackFailed went on to
    Finalize, and the record ended with the candidate's split left on the alias."""
    world.start()

    def alarm_then_crash_the_rollback(_: Parked) -> None:
        world.fakes.alarms.alarm_states["orders-errors"] = "ALARM"  # the Check finds it
        world.fakes.calls.fail("lambda.update_alias", Crash("Rollback's Lambda timed out"))

    execution = world.run(on_first("hold", alarm_then_crash_the_rollback))
    assert "RollbackFailed" in execution.visited
    assert world.record.status is Status.ROLLED_BACK  # Rollback recorded the alarm before it crashed
    world.assert_settled_on(STABLE)


def test_the_lock_and_the_record_are_one_write_so_a_failed_create_leaves_neither(world: World) -> None:
    """A start with a version takes the target's lock in the record's own transaction: refused, it
    leaves no lock behind (before, a lock whose answer was lost held the target for good)."""
    world.fakes.calls.fail("dynamodb.create", TooManyRequestsException("throttled"))
    with pytest.raises(TooManyRequestsException):
        world.start()
    assert world.fakes.store.locks == {} and world.fakes.store.docs == {}
    assert world.start()  # the next start is accepted
    assert world.fakes.store.locks == {world.fakes.target: world.promotion_id}


def test_a_record_write_whose_answer_was_lost_ends_failed_and_frees_the_target(world: World) -> None:
    """The transaction landed (record and lock) but its answer was lost: the start ends the record
    FAILED, saying so, and frees the target, in one write; no workflow was started."""
    world.fakes.calls.fail("dynamodb.create", TooManyRequestsException("answer lost"), phase="after")
    with pytest.raises(TooManyRequestsException):
        world.start()
    (lost,) = [Promotion.model_validate_json(doc) for doc, _ in world.fakes.store.docs.values()]
    assert lost.status is Status.FAILED and "record write did not answer" in (lost.outcome_reason or "")
    assert world.fakes.store.locks == {} and world.fakes.workflow.started == []
    assert world.start()


def test_a_publishing_start_whose_lock_answer_was_lost_releases_it(world: World) -> None:
    """Interleaving seed 81: with publish, the lock comes first (two starts must not both publish);
    AcquireLock took it and its answer was lost (a throttle): the failed start releases it."""
    world.fakes.calls.fail("dynamodb.acquire_lock", TooManyRequestsException("answer lost"), phase="after")
    with pytest.raises(TooManyRequestsException):
        world.start(version=None, publish=True)
    assert world.fakes.store.locks == {}
    assert world.start()  # the next start is accepted


def test_a_publishing_start_that_died_after_the_lock_frees_the_target_after_15_minutes(world: World) -> None:
    """Interleaving seed 5: the start's Lambda died between the lock and the record; no record, so
    neither abort nor the reconciler could ever free the target."""
    world.fakes.calls.fail("dynamodb.acquire_lock", Crash("the API's Lambda timed out"), phase="after")
    with pytest.raises(Crash):
        world.start(version=None, publish=True)
    orphan = next(iter(world.fakes.store.locks.values()))
    world.clock.advance(60)  # a start may still be running: the target stays busy
    with pytest.raises(TargetBusy):
        world.start()
    world.clock.advance(900)
    promotion_id = world.start()
    assert world.fakes.store.locks == {world.fakes.target: promotion_id} and promotion_id != orphan


def test_lost_update_alias_answer_is_retried_and_adopted(world: World) -> None:
    world.start()
    world.fakes.calls.fail("lambda.update_alias", TooManyRequestsException("answer lost"), phase="after")
    world.run()
    assert world.record.status is Status.SUCCEEDED, world.record.outcome_reason
    world.assert_settled_on(CANDIDATE)


def test_an_alias_write_aws_refused_is_not_in_flight_so_the_end_settles_without_writing(world: World) -> None:
    """CI, IAM matrix: with lambda:UpdateAlias denied, Shift's refused claim stayed pending, so every
    later write back had to be made (to refuse it) and was denied too: the record stayed RUNNING and
    the target locked. A 4xx means nothing was written: the claim is withdrawn."""
    denied = botocore.exceptions.ClientError(
        {
            "Error": {"Code": "AccessDeniedException", "Message": "not authorized"},
            "ResponseMetadata": {"HTTPStatusCode": 403},
        },
        "UpdateAlias",
    )
    world.start()
    world.fakes.calls.fail("lambda.update_alias", denied, times=50)
    world.run()
    assert world.record.status.is_final and world.record.status is not Status.SUCCEEDED
    assert "not authorized" in world.record.outcome_reason
    assert world.record.claims == [] or all(c.state == "done" for c in world.record.claims)
    world.assert_settled_on(STABLE)


# --- a final record is final --------------------------------------------------------------------
def test_a_final_record_never_changes_status(world: World) -> None:
    world.start()
    world.run()
    assert world.record.status is Status.SUCCEEDED
    with pytest.raises(PromotionEnded):
        world.service.records.mutate(world.promotion_id, lambda p: setattr(p, "status", Status.RUNNING))
    with pytest.raises(InvalidTransition):
        world.signal(Signal.ABORT)
    assert world.alarm()[0]["action"] == "ignored" if world.alarm() else True
    assert world.record.status is Status.SUCCEEDED
    world.assert_settled_on(CANDIDATE)


def test_finish_frees_the_lock_and_the_watches(world: World) -> None:
    world.start()
    assert world.fakes.store.locks == {world.fakes.target: world.promotion_id}
    world.service.records.finish(world.promotion_id, "test")
    assert world.record.status is Status.FAILED
    assert world.fakes.store.locks == {}
    assert world.fakes.store.watches["orders-errors"] == set()


def test_a_wait_that_parks_after_the_record_is_final_fails_its_token_at_once(world: World) -> None:
    world.start()
    world.alarm()
    assert world.record.status is Status.ROLLED_BACK
    token = world.fakes.workflow.new_token()
    world.service.tasks.wait(world.promotion_id, token.token, "hold")
    assert (token.state, token.error) == ("failed", "PromotionEnded")
    assert world.record.task_token is None


def test_the_alarm_listener_ignores_a_stale_event(world: World) -> None:
    world.start()
    world.fakes.alarms.alarm_states["orders-errors"] = "OK"  # it was ALARM when the event was sent
    outcome = world.service.alarm_fired("orders-errors", "a retried event")
    assert outcome[0]["action"] == "ignored"
    assert world.record.status is Status.PENDING
    assert world.fakes.store.locks == {world.fakes.target: world.promotion_id}


# --- hooks --------------------------------------------------------------------------------------
FAILING_ANSWERS = [
    {"passed": "false"},
    {"passed": "true"},
    {"passed": 0},
    {"passed": 1},
    {"passed": None},
    None,
    "FAIL: checks failed",
    [False],
    [True],
    {"ok": False},
    {"ok": True},
    {"status": "FAILED"},
    {"passed": False},
    True,
]


@pytest.mark.parametrize("answer", FAILING_ANSWERS, ids=repr)
def test_a_hook_passes_only_with_passed_true(world: World, answer: object) -> None:
    hook = world.fakes.lambdas.add_hook("orders-pre")
    world.fakes.lambdas.answers[hook] = answer
    world.start(hooks={"pre_traffic": hook})
    world.run()
    record = world.record
    assert record.status is Status.ROLLED_BACK
    assert "pre_traffic hook" in record.outcome_reason
    world.assert_settled_on(STABLE)


def test_a_hook_answering_passed_true_passes(world: World) -> None:
    hook = world.fakes.lambdas.add_hook("orders-pre", {"passed": True, "checks": 3})
    world.start(hooks={"pre_traffic": hook})
    world.run()
    assert world.record.status is Status.SUCCEEDED
    assert world.fakes.lambdas.invocations[0][0] == hook


def test_a_hook_that_raised_fails(world: World) -> None:
    hook = world.fakes.lambdas.add_hook("orders-pre", RuntimeError("boom"))
    world.start(hooks={"pre_traffic": hook})
    world.run()
    assert world.record.status is Status.ROLLED_BACK
    assert "raised" in world.record.outcome_reason


def test_a_hook_that_already_ran_is_not_invoked_again_on_retry(world: World) -> None:
    hook = world.fakes.lambdas.add_hook("orders-post")
    world.start(hooks={"post_traffic": hook})
    world.fakes.calls.fail("lambda.invoke", TooManyRequestsException("answer lost"), phase="after")
    world.run()
    assert [name for name, _ in world.fakes.lambdas.invocations] == [hook]
    record = world.record
    assert record.status is Status.ROLLED_BACK
    assert "not run twice" in record.outcome_reason
    world.assert_settled_on(STABLE)


# --- the alarm listener's rollback: the alias write first ----------------------------------------
def calls_around(world: World, since: int, call: str) -> tuple[list[str], list[str]]:
    """The calls made before the first ``call`` since ``since``, and those after it."""
    log = world.fakes.calls.log[since:]
    at = log.index(call)
    return log[:at], log[at + 1 :]


def shifted_to_the_canary(world: World) -> None:
    world.start()
    world.service.tasks.prepare(world.promotion_id)
    world.service.tasks.shift(world.promotion_id, 0)
    world.fakes.alarms.alarm_states["orders-errors"] = "ALARM"


def test_a_fresh_alarm_event_writes_the_alias_after_three_calls(world: World) -> None:
    """Finding the watchers, reading the record, the claim (written on that read): then UpdateAlias.
    The record's end and the announcement come after it."""
    shifted_to_the_canary(world)
    since = len(world.fakes.calls.log)
    outcome = world.service.alarm_fired("orders-errors", "errors", changed_at=world.clock.now())
    before, after = calls_around(world, since, "lambda.update_alias")
    assert before == ["dynamodb.watchers", "dynamodb.get_with_rev", "dynamodb.save"]
    assert "dynamodb.finish" in after and "events.put" in after
    assert outcome == [{"promotion_id": world.promotion_id, "action": "rolled_back", "status": "ROLLED_BACK"}]
    assert world.record.status is Status.ROLLED_BACK
    world.assert_settled_on(STABLE)


def test_an_alarm_event_that_is_not_fresh_reads_the_alarm_again_before_the_claim(world: World) -> None:
    shifted_to_the_canary(world)
    since = len(world.fakes.calls.log)
    late = world.clock.now() - timedelta(seconds=120)  # a retried delivery
    world.service.alarm_fired("orders-errors", "errors", changed_at=late)
    before, _ = calls_around(world, since, "lambda.update_alias")
    assert before == ["dynamodb.watchers", "dynamodb.get_with_rev", "cloudwatch.states", "dynamodb.save"]
    world.assert_settled_on(STABLE)


def test_a_late_alarm_event_whose_alarm_is_ok_now_changes_nothing(world: World) -> None:
    shifted_to_the_canary(world)
    world.fakes.alarms.alarm_states["orders-errors"] = "OK"
    late = world.clock.now() - timedelta(seconds=120)
    outcome = world.service.alarm_fired("orders-errors", "a retried event", changed_at=late)
    assert outcome[0]["action"] == "ignored" and "stale event" in outcome[0]["reason"]
    assert world.record.status is Status.RUNNING
    assert (world.alias.version, world.alias.weights) == (STABLE, {CANDIDATE: 0.25})


def test_the_claim_written_on_the_listeners_read_is_applied_again_when_the_record_moved(world: World) -> None:
    """The record changed between the listener's read and its claim (a Check's write): the claim's
    conditional write is refused, the record read again, and the rollback still lands first."""
    shifted_to_the_canary(world)
    records = world.service.records

    def someone_writes() -> None:
        records.mutate(world.promotion_id, lambda p: p.record("workflow", "checked", "a concurrent write"))

    world.fakes.calls.on("dynamodb.get_with_rev", someone_writes, phase="after")
    since = len(world.fakes.calls.log)
    world.service.alarm_fired("orders-errors", "errors", changed_at=world.clock.now())
    before, _ = calls_around(world, since, "lambda.update_alias")
    assert before[0] == "dynamodb.watchers" and before.count("dynamodb.save") == 3  # theirs, ours refused, ours
    record = world.record
    assert record.status is Status.ROLLED_BACK
    assert "a concurrent write" in [e.message for e in record.events]
    world.assert_settled_on(STABLE)


def test_check_moves_to_the_next_step_itself_and_a_retried_check_does_not_move_again(world: World) -> None:
    """Check shifts to the next step (no Shift state per step). If its answer is lost after that
    shift landed, Step Functions runs Check again for the step before: it holds the step it moved
    to, with what is left of its bake, and neither writes the alias nor records a shift again."""
    world.start(strategy={"type": "linear", "step": 0.25, "interval_seconds": 60})
    tasks = world.service.tasks
    tasks.prepare(world.promotion_id)
    tasks.shift(world.promotion_id, 0)
    world.clock.advance(61)

    moved = tasks.check(world.promotion_id, 0, {"Error": "States.Timeout"})
    assert moved == {"move": "hold", "step": 1, "hold_seconds": 60}
    assert world.alias.weights == {CANDIDATE: 0.5}
    shifts = [e for e in world.record.events if e.type == "shifted"]

    world.clock.advance(10)
    again = tasks.check(world.promotion_id, 0, {"Error": "States.Timeout"})
    assert again == {"move": "hold", "step": 1, "hold_seconds": 50}
    assert [e for e in world.record.events if e.type == "shifted"] == shifts
    assert world.alias.weights == {CANDIDATE: 0.5} and world.record.current_step == 1
