"""abort, pause, resume, approve, promote-now: what each does, every 409, and the 404s."""

from __future__ import annotations

import time

from promoter.decisions import ALLOWED_SIGNALS
from promoter.models import Promotion, Signal, Status, StepRecord
from tests.api.conftest import ALICE, executions

LONG_BAKE = {"type": "canary", "weight": 0.1, "bake_seconds": 3000}  # 60 s at the tests' time scale
EVENT_OF = {s: f"{s.value}_promotion" for s in Signal}
VERB = {s: s.value.replace("_", "-") for s in Signal}


def start(gateway, function: str = "orders", **overrides) -> str:
    body = {"function": function, "alias": "live", "version": "2", "strategy": LONG_BAKE} | overrides
    answer = gateway.send("start_promotion", body=body)
    assert answer.status == 202, answer.body
    return answer.body["id"]


def signal(gateway, promotion_id: str, which: Signal, **changes):
    return gateway.send(EVENT_OF[which], path=f"/promotions/{promotion_id}/{VERB[which]}", **changes)


def wait_until(condition, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.02)


def baking(sandbox, promotion_id: str) -> None:
    """Traffic is on the candidate and the workflow waits out the bake on its task token."""
    service = sandbox.service()
    wait_until(
        lambda: (p := service.get(promotion_id)).current_weight == 0.1 and p.task_token is not None,
        "baking on the first step",
    )


def test_approve_lets_a_protected_promotion_run(sandbox, targets, gateway):
    targets.function("orders")
    promotion_id = start(gateway, approval=True, strategy={"type": "all-at-once"})
    sandbox.wait_for_status(promotion_id, Status.AWAITING_APPROVAL)

    answer = signal(gateway, promotion_id, Signal.APPROVE)

    assert answer.status == 202
    assert answer.body == {"id": promotion_id, "status": "AWAITING_APPROVAL", "signal": "approve"}
    assert answer.headers["Location"] == f"/dev/promotions/{promotion_id}"
    final = sandbox.wait_until_final(promotion_id)
    assert final.status is Status.SUCCEEDED
    approve = next(e for e in final.events if e.type == "approve")
    assert (approve.actor, approve.message) == (ALICE, "change CHG-1234 approved")


def test_abort_during_a_bake_rolls_back_at_once(sandbox, targets, gateway):
    targets.function("orders")
    promotion_id = start(gateway)
    baking(sandbox, promotion_id)

    answer = signal(gateway, promotion_id, Signal.ABORT)

    assert answer.status == 202
    assert answer.body["signal"] == "abort"
    final = sandbox.wait_until_final(promotion_id)
    assert final.status is Status.ABORTED
    assert targets.alias_state("orders", "live") | {"revision_id": None} == {
        "version": "1",
        "weights": {},
        "revision_id": None,
    }
    assert next(e for e in final.events if e.type == "abort").actor == ALICE


def test_promote_now_skips_the_rest_of_the_bake(sandbox, targets, gateway):
    targets.function("orders")
    promotion_id = start(gateway)
    baking(sandbox, promotion_id)

    assert signal(gateway, promotion_id, Signal.PROMOTE_NOW).status == 202

    final = sandbox.wait_until_final(promotion_id)
    assert final.status is Status.SUCCEEDED
    assert targets.alias_state("orders", "live")["version"] == "2"


def test_pause_then_resume(sandbox, targets, gateway):
    targets.function("orders")
    promotion_id = start(gateway)
    baking(sandbox, promotion_id)

    assert signal(gateway, promotion_id, Signal.PAUSE).status == 202
    sandbox.wait_for_status(promotion_id, Status.PAUSED)
    refused = signal(gateway, promotion_id, Signal.PAUSE)
    assert refused.status == 409
    assert refused.body["current_status"] == "PAUSED"

    resumed = signal(gateway, promotion_id, Signal.RESUME)

    assert resumed.status == 202
    assert resumed.body == {"id": promotion_id, "status": "PAUSED", "signal": "resume"}
    service = sandbox.service()
    wait_until(
        lambda: service.get(promotion_id).status is Status.RUNNING and service.get(promotion_id).task_token,
        "holding again after the resume",
    )
    hold = service.get(promotion_id).hold
    assert hold.baked < 3000 and hold.seconds == 3000  # the pause did not shorten the bake: it continues
    assert signal(gateway, promotion_id, Signal.PROMOTE_NOW).status == 202
    final = sandbox.wait_until_final(promotion_id)
    assert final.status is Status.SUCCEEDED
    types = [e.type for e in final.events]
    assert types.index("pause") < types.index("paused") < types.index("resume") < types.index("resumed")
    assert types.index("resumed") < types.index("promote_now") < types.index("finished")


def test_signals_the_live_workflow_refuses_are_409_with_the_current_status(sandbox, targets, gateway):
    targets.function("orders")
    promotion_id = start(gateway)
    baking(sandbox, promotion_id)

    for which in (Signal.RESUME, Signal.APPROVE):
        answer = signal(gateway, promotion_id, which)
        assert answer.status == 409, which
        assert answer.body["error"] == "InvalidTransition"
        assert answer.body["current_status"] == "RUNNING"

    assert signal(gateway, promotion_id, Signal.ABORT).status == 202
    sandbox.wait_until_final(promotion_id)
    for which in Signal:
        answer = signal(gateway, promotion_id, which)
        assert answer.status == 409, which
        assert answer.body["current_status"] == "ABORTED"
    assert len(executions(sandbox)) == 1


def test_every_signal_against_every_status(sandbox, gateway, api_service):
    """The whole matrix of decisions.ALLOWED_SIGNALS, through the API: records parked in each
    status (no workflow behind them), so each answer depends on the status alone."""
    checked = 0
    for which in Signal:
        for status in Status:
            promotion_id = f"p-matrix-{which.value}-{status.value}".lower().replace("_", "-")
            api_service.store.create(_parked(promotion_id, status))

            answer = signal(gateway, promotion_id, which)

            if status in ALLOWED_SIGNALS[which]:
                assert answer.status == 202, (which, status, answer.body)
                assert answer.body == {"id": promotion_id, "status": status.value, "signal": which.value}
                assert api_service.get(promotion_id).signal is which
            else:
                assert answer.status == 409, (which, status, answer.body)
                assert answer.body["error"] == "InvalidTransition"
                assert answer.body["current_status"] == status.value
                assert status.value in answer.body["message"]
                assert api_service.get(promotion_id).signal is None  # nothing recorded
            checked += 1
    assert checked == len(Signal) * len(Status)


def test_unknown_promotions_are_404(gateway):
    for which in Signal:
        answer = signal(gateway, "p-20200101T000000-deadbeef", which)
        assert answer.status == 404, which
        assert answer.body["error"] == "NotFound"
        assert answer.body["field"] == "id"
    read = gateway.send("get_promotion", path="/promotions/p-20200101T000000-deadbeef")
    assert read.status == 404
    assert read.body["message"] == "promotion 'p-20200101T000000-deadbeef' does not exist"


def _parked(promotion_id: str, status: Status) -> Promotion:
    return Promotion(
        id=promotion_id,
        function="parked",
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:parked",
        alias=promotion_id,
        stable_version="1",
        candidate_version="2",
        steps=[StepRecord(index=0, weight=1.0, bake_seconds=0)],
        status=status,
    )
