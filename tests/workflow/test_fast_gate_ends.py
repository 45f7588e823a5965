"""The fast gate's filter is removed on every end, not only success and its own rollback: an abort,
a failure before any traffic, and a promotion the repairer ends after its execution stopped
(Finalize never ran). Real ASL and handlers on the sandbox at the suite's time scale."""

from __future__ import annotations

import json

import pytest

from promoter.models import Signal, Status
from tests.workflow.helpers import alias_writes, request
from tests.workflow.test_reproductions import assert_ended_cleanly, holding, wait_until

pytestmark = pytest.mark.slow

GATE = {"max_errors": 2, "window_seconds": 30}


def filters(sandbox, function: str = "orders") -> list[str]:
    answer = sandbox.client("logs").describe_subscription_filters(logGroupName=f"/aws/lambda/{function}")
    return [f["filterName"] for f in answer["subscriptionFilters"]]


def start_baking(sandbox, targets, bake_seconds: int = 3000):
    target = targets.function("orders")
    body = request(target, strategy={"type": "canary", "weight": 0.1, "bake_seconds": bake_seconds}, fast_gate=GATE)
    started = sandbox.service().start(body, actor="alice")
    wait_until(lambda: holding(sandbox, started.id, 0), "baking on 10%")
    assert filters(sandbox) == [f"lambda-promoter-fast-gate-{started.id}"]  # made at Prepare
    return target, started


def test_an_aborted_promotion_removes_its_filter(sandbox, targets):
    target, started = start_baking(sandbox, targets)

    sandbox.service().signal(started.id, Signal.ABORT, "alice", "not today")
    final = sandbox.wait_until_final(started.id)

    assert final.status is Status.ABORTED
    assert_ended_cleanly(sandbox, targets, target, final)
    assert final.fast_gate_state.removed and filters(sandbox) == []


def test_a_log_group_with_two_filters_already_fails_the_promotion_before_any_traffic(sandbox, targets):
    target = targets.function("orders")
    logs = sandbox.client("logs")
    receiver = sandbox.outputs["FastGateFunctionArn"]
    logs.create_log_group(logGroupName="/aws/lambda/orders")
    for name in ("theirs-1", "theirs-2"):  # CloudWatch Logs allows two per log group
        logs.put_subscription_filter(
            logGroupName="/aws/lambda/orders", filterName=name, filterPattern="", destinationArn=receiver
        )

    started = sandbox.service().start(request(target, fast_gate=GATE), actor="alice")
    final = sandbox.wait_until_final(started.id)

    assert final.status is Status.FAILED
    assert "FastGateFailed" in final.outcome_reason and "LimitExceededException" in final.outcome_reason
    assert alias_writes("orders") == []  # no traffic moved
    assert_ended_cleanly(sandbox, targets, target, final)
    assert sorted(filters(sandbox)) == ["theirs-1", "theirs-2"]  # theirs are left alone
    assert any(e.type == "fast_gate" and "already gone" in e.message for e in final.events)


def test_a_promotion_the_reconciler_repairs_removes_its_filter(sandbox, targets):
    """StopExecution mid-bake: Finalize never runs; the scheduled ReconcileFunction (its own role)
    ends the record and removes the filter."""
    target, started = start_baking(sandbox, targets, bake_seconds=200)  # the sandbox stops at the wait's end
    sfn = sandbox.client("stepfunctions")
    sfn.stop_execution(executionArn=started.execution_arn, error="Operator", cause="stopped by hand")
    wait_until(lambda: sfn.describe_execution(executionArn=started.execution_arn)["status"] != "RUNNING", "stopped")
    assert filters(sandbox) != []  # nothing removed it yet
    sandbox.advance(120)  # older than the reconciler's minimum age (60 s)

    answer = sandbox.client("lambda").invoke(FunctionName=sandbox.physical_id("ReconcileFunction"), Payload=b"{}")
    body = json.loads(answer["Payload"].read())

    assert "FunctionError" not in answer, body
    final = sandbox.service().get(started.id)
    assert final.status is Status.FAILED
    assert_ended_cleanly(sandbox, targets, target, final)
    assert final.fast_gate_state.removed and filters(sandbox) == []
