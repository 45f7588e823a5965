"""Idempotency-Key on POSTs: the same key twice gives the same promotion and one execution."""

from __future__ import annotations

from promoter.models import Status
from tests.api.conftest import executions

BODY = {
    "function": "orders",
    "alias": "live",
    "version": "2",
    "strategy": {"type": "canary", "weight": 0.1, "bake_seconds": 2},
}
KEY = "release-2026.11.23-orders"


def test_same_key_twice_gives_the_same_promotion_and_one_execution(sandbox, targets, gateway):
    targets.function("orders")

    first = gateway.send("start_promotion", body=BODY, idempotency_key=KEY)
    second = gateway.send("start_promotion", body=BODY, idempotency_key=KEY)

    assert (first.status, second.status) == (202, 202)
    assert first.body == second.body
    assert first.headers["Location"] == second.headers["Location"]
    assert len(executions(sandbox)) == 1
    assert sandbox.wait_until_final(first.body["id"]).status is Status.SUCCEEDED
    retried_late = gateway.send("start_promotion", body=BODY, idempotency_key=KEY)  # after it finished
    assert retried_late.body == first.body
    assert len(executions(sandbox)) == 1
    assert [p["id"] for p in gateway.send("list_promotions", query=None).body["items"]] == [first.body["id"]]


def test_without_a_key_a_repeat_is_a_new_request(sandbox, targets, gateway):
    targets.function("orders")

    first = gateway.send("start_promotion", body=BODY)
    second = gateway.send("start_promotion", body=BODY)

    assert first.status == 202
    assert second.status == 409  # the target is busy with the first
    assert second.body["error"] == "TargetBusy"
    assert second.body["active_promotion"] == first.body["id"]
    assert len(executions(sandbox)) == 1


def test_the_same_key_with_another_body_is_refused(sandbox, targets, gateway):
    targets.function("orders", builds=("v1", "v2", "v3"))

    first = gateway.send("start_promotion", body=BODY, idempotency_key=KEY)
    other = gateway.send("start_promotion", body=BODY | {"version": "3"}, idempotency_key=KEY)

    assert first.status == 202
    assert other.status == 422
    assert other.body == {
        "error": "IdempotencyKeyReused",
        "message": "this Idempotency-Key was already used with a different request",
        "field": "Idempotency-Key",
    }
    assert len(executions(sandbox)) == 1


def test_keys_belong_to_their_caller(sandbox, targets, gateway):
    targets.function("orders")
    bob = {"userArn": "arn:aws:iam::123456789012:user/bob", "caller": "AIDABOB", "accountId": "123456789012"}

    alice = gateway.send("start_promotion", body=BODY, idempotency_key=KEY)
    bobs = gateway.send("start_promotion", body=BODY, idempotency_key=KEY, identity=bob)

    assert alice.status == 202
    assert bobs.status == 409  # bob's key is his own: his request really ran, and found the target busy
    assert bobs.body["error"] == "TargetBusy"


def test_a_refused_request_can_be_retried_with_the_same_key(sandbox, targets, gateway):
    targets.function("orders")

    refused = gateway.send("start_promotion", body=BODY | {"alarms": ["orders-errors"]}, idempotency_key=KEY)
    assert refused.status == 422  # the alarm does not exist yet; nothing is remembered for the key
    targets.alarm("orders-errors", "orders")
    accepted = gateway.send("start_promotion", body=BODY | {"alarms": ["orders-errors"]}, idempotency_key=KEY)

    assert accepted.status == 202
    assert len(executions(sandbox)) == 1


def test_signals_with_a_key_act_once(sandbox, targets, gateway):
    targets.function("orders")
    started = gateway.send("start_promotion", body=BODY | {"approval": True}, idempotency_key=KEY)
    promotion_id = started.body["id"]
    sandbox.wait_for_status(promotion_id, Status.AWAITING_APPROVAL)
    path = f"/promotions/{promotion_id}/approve"

    first = gateway.send("approve_promotion", path=path, idempotency_key="approve-1")
    sandbox.wait_until_final(promotion_id)
    again = gateway.send("approve_promotion", path=path, idempotency_key="approve-1")
    fresh = gateway.send("approve_promotion", path=path, idempotency_key="approve-2")

    assert first.status == again.status == 202
    assert again.body == first.body == {"id": promotion_id, "status": "AWAITING_APPROVAL", "signal": "approve"}
    assert fresh.status == 409  # a new key is a new request, and the promotion is over
    assert fresh.body["current_status"] == "SUCCEEDED"
    approvals = [e for e in sandbox.service().get(promotion_id).events if e.type == "approve"]
    assert len(approvals) == 1
