"""The deployed FastGateFunction with its own role: a delivery handed to it as CloudWatch Logs
would invoke it (the sandbox's own delivery is in tests/workflow/test_fast_gate.py)."""

from __future__ import annotations

import dataclasses
import json

import pytest

from promoter import fast_gate
from promoter.models import Status
from tests.workflow.helpers import assert_settled, request, wait_for_writes


def invoke_receiver(sandbox, event: dict) -> dict:
    answer = sandbox.client("lambda").invoke(
        FunctionName=sandbox.physical_id("FastGateFunction"), Payload=json.dumps(event).encode()
    )
    body = json.loads(answer["Payload"].read())
    assert "FunctionError" not in answer, body
    return body


def errors_of(promotion_id: str, version: str, count: int, at_ms: int) -> dict:
    return fast_gate.encode(
        {
            "messageType": "DATA_MESSAGE",
            "owner": "123456789012",
            "logGroup": "/aws/lambda/orders",
            "logStream": f"2026/12/04/[{version}]0123456789abcdef0123456789abcdef",
            "subscriptionFilters": [fast_gate.filter_name_for(promotion_id)],
            "logEvents": [
                {"id": f"{i:056d}", "timestamp": at_ms + i, "message": f"[ERROR] RuntimeError: {i}"}
                for i in range(count)
            ],
        }
    )


def test_the_receivers_role_counts_and_rolls_back(sandbox, targets):
    target = targets.function("orders")
    body = request(
        target, strategy={"type": "canary", "weight": 0.1, "bake_seconds": 3600}, fast_gate={"max_errors": 2}
    )
    started = sandbox.service().start(body, actor="alice")
    sandbox.wait_for_status(started.id, Status.RUNNING)
    wait_for_writes("orders", bool)
    now_ms = int(sandbox.clock.now() * 1000)

    counted = invoke_receiver(sandbox, errors_of(started.id, "2", 2, now_ms))
    assert counted["promotions"][0]["action"] == "counted"
    rolled = invoke_receiver(sandbox, errors_of(started.id, "2", 3, now_ms))  # one new id: 3 in the window

    assert rolled["promotions"][0]["action"] == "rolled_back"
    final = sandbox.wait_until_final(started.id)
    assert final.status is Status.ROLLED_BACK and final.ending.actor == "fast-gate"
    assert_settled(sandbox, targets, target, "1")
    assert final.fast_gate_state.trip.errors == 3 and final.fast_gate_state.removed


def test_a_payload_that_is_not_a_subscription_delivery_is_an_error(sandbox):
    answer = sandbox.client("lambda").invoke(
        FunctionName=sandbox.physical_id("FastGateFunction"), Payload=json.dumps({"hello": "world"}).encode()
    )
    assert answer["FunctionError"] == "Unhandled"
    assert "not a CloudWatch Logs subscription payload" in answer["Payload"].read().decode()


@pytest.mark.parametrize("key", ["PROMOTION#p-1", "LOCK#anything"])
def test_the_receivers_role_may_update_only_its_counts(sandbox, key):
    from sandbox.aws.iam import policy as iam

    role = sandbox.client("lambda").get_function_configuration(FunctionName=sandbox.physical_id("FastGateFunction"))[
        "Role"
    ]
    caller = iam.Caller(kind="role", account="123456789012", name=role.split("/")[-1], session="s")
    table = sandbox.settings.table_name
    call = iam.Call(
        service="dynamodb",
        operation="UpdateItem",
        account="123456789012",
        region="us-east-1",
        path="/",
        params={"TableName": table, "Key": {"pk": {"S": key}, "sk": {"S": "x"}}},
    )
    assert not iam.may(caller, "dynamodb:UpdateItem", call.arn("dynamodb", f"table/{table}"), call)
    counts = call.params | {"Key": {"pk": {"S": "FASTGATE#p-1"}, "sk": {"S": "S#1"}}}
    allowed = dataclasses.replace(call, params=counts)
    assert iam.may(caller, "dynamodb:UpdateItem", allowed.arn("dynamodb", f"table/{table}"), allowed)
