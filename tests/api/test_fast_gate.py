"""The fast gate through the user's path: the local server over real HTTP, and its refusals."""

from __future__ import annotations

import httpx

from promoter.models import Status

BODY = {
    "function": "orders",
    "alias": "live",
    "version": "2",
    "strategy": {"type": "canary", "weight": 0.1, "bake_seconds": 2},
    "fast_gate": {"max_errors": 3, "window_seconds": 30, "pattern": "PaymentDeclined"},
}


def test_a_promotion_started_over_http_with_the_fast_gate_makes_and_removes_its_filter(sandbox, targets, local_api):
    targets.function("orders")
    logs = sandbox.client("logs")
    with httpx.Client(base_url=local_api, timeout=30) as http:
        started = http.post("/promotions", json=BODY)
        assert started.status_code == 202, started.text
        promotion_id = started.json()["id"]
        final = sandbox.wait_until_final(promotion_id)
        view = http.get(f"/promotions/{promotion_id}").json()

    assert final.status is Status.SUCCEEDED, final.outcome_reason
    assert view["fast_gate"] == BODY["fast_gate"]
    state = view["fast_gate_state"]
    assert state["filter_name"] == f"lambda-promoter-fast-gate-{promotion_id}"
    assert state["log_group"] == "/aws/lambda/orders" and state["removed"] is True and state["trip"] is None
    assert state["destination_arn"] == sandbox.outputs["FastGateFunctionArn"]
    assert logs.describe_subscription_filters(logGroupName="/aws/lambda/orders")["subscriptionFilters"] == []
    made = next(e for e in view["events"] if e["type"] == "fast_gate")
    assert "more than 3 errors of version 2 in 30 s roll back" in made["message"]


def test_a_fast_gate_on_a_target_in_another_account_is_refused_with_a_422(gateway):
    body = BODY | {"role_arn": "arn:aws:iam::222222222222:role/promoter-target"}
    answer = gateway.send("start_promotion", body=body)

    assert answer.status == 422, answer.body
    assert answer.body["field"] == "fast_gate"
    assert "another account" in answer.body["message"]
