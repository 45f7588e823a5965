"""What the deployed control plane writes to CloudWatch Logs on the sandbox: the real handlers'
output, in each function's log group under AWS's stream names. Every Powertools line of a
promotion carries its id and target; the metrics are EMF documents with their dimensions."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest

import sandbox.core as sandbox_core
from promoter import clock
from promoter.models import Status
from sandbox import Sandbox
from tests.conftest import TIME_SCALE
from tests.events.test_alarm_listener import alarm_event, hold_alarm_in, invoke_listener, start_long_bake
from tests.sandbox.conftest import wait_until

TASKS = (
    "PrepareFunction",
    "WaitFunction",
    "HookFunction",
    "ShiftFunction",
    "CheckFunction",
    "RollbackFunction",
    "FinalizeFunction",
)
STREAM = re.compile(r"^\d{4}/\d{2}/\d{2}/\[(\$LATEST|\d+)\][0-9a-f]{32}$")


@pytest.fixture
def sandbox(monkeypatch):
    """The sandbox with Powertools metrics on: the EMF documents go to the log groups, which is how
    Lambda publishes them on AWS (the sandbox turns them off by default to keep logs short)."""
    monkeypatch.setitem(sandbox_core.FUNCTION_ENV, "POWERTOOLS_METRICS_DISABLED", "false")
    with Sandbox(time_scale=TIME_SCALE) as box:
        yield box


def log_documents(sandbox, logical_id: str) -> list[tuple[str, dict[str, Any]]]:
    """(stream, JSON document) of every JSON line in the function's log group."""
    logs = sandbox.client("logs")
    group = f"/aws/lambda/{sandbox.physical_id(logical_id)}"
    found: list[tuple[str, dict[str, Any]]] = []
    try:
        for page in logs.get_paginator("filter_log_events").paginate(logGroupName=group):
            for event in page["events"]:
                if event["message"].startswith("{"):
                    found.append((event["logStreamName"], json.loads(event["message"])))
    except logs.exceptions.ResourceNotFoundException:  # never invoked: Lambda creates the group then
        return []
    return found


def lines(sandbox, *logical_ids: str) -> list[dict[str, Any]]:
    """Powertools log lines (not EMF documents)."""
    return [d for fid in logical_ids for _, d in log_documents(sandbox, fid) if "level" in d and "_aws" not in d]


def metrics(sandbox, name: str, *logical_ids: str) -> list[dict[str, Any]]:
    found = []
    for fid in logical_ids:
        for _, document in log_documents(sandbox, fid):
            for directive in document.get("_aws", {}).get("CloudWatchMetrics", []):
                if any(m["Name"] == name for m in directive["Metrics"]):
                    found.append(document | {"_directive": directive})
    return found


def value(document: dict[str, Any], name: str) -> float:
    found = document[name]
    return found[0] if isinstance(found, list) else found


def start_by_trigger(sandbox, target, **overrides: Any) -> str:
    """Start through the real TriggerFunction (a template-defined schedule's payload)."""
    body = {
        "function": target.function,
        "alias": target.alias,
        "version": target.versions[-1],
        "strategy": {"type": "canary", "weight": 0.1, "bake_seconds": 2},
        "reason": "observability",
    } | overrides
    answer = sandbox.client("lambda").invoke(
        FunctionName=sandbox.physical_id("TriggerFunction"), Payload=json.dumps({"promotion": body}).encode()
    )
    run = json.loads(answer["Payload"].read())
    assert "FunctionError" not in answer, run
    assert run["outcome"] == "started", run
    return run["promotion_id"]


def test_every_workflow_line_carries_the_promotion_and_its_target(sandbox, targets):
    target = targets.function("orders")
    promotion_id = start_by_trigger(sandbox, target)
    final = sandbox.wait_until_final(promotion_id)
    assert final.status is Status.SUCCEEDED, final.outcome_reason

    task_lines = lines(sandbox, *TASKS)
    ours = [line for line in task_lines if line.get("promotion_id") == promotion_id]
    assert {line["message"] for line in ours} >= {"prepare done", "shift done", "check done", "finalize done"}
    assert ours == task_lines  # no line of a task without the promotion's id
    targets_logged = {(line["target_function_arn"], line["target_alias"]) for line in ours}
    assert targets_logged == {(final.function_arn, target.alias)}
    assert {line["service"] for line in ours} == {"lambda-promoter"}
    streams = {stream for fid in TASKS for stream, _ in log_documents(sandbox, fid)}
    assert streams and all(STREAM.match(s) for s in streams), streams  # AWS's stream names

    fired = [line for line in lines(sandbox, "TriggerFunction") if line["message"] == "schedule fired"]
    assert [(f["promotion_id"], f["target_function_arn"], f["target_alias"]) for f in fired] == [
        (promotion_id, final.function_arn, target.alias)
    ]


def test_metrics_are_emf_with_their_dimensions_in_the_functions_logs(sandbox, targets):
    target = targets.function("orders")
    promotion_id = start_by_trigger(sandbox, target)
    final = sandbox.wait_until_final(promotion_id)
    assert final.status is Status.SUCCEEDED, final.outcome_reason

    started = metrics(sandbox, "PromotionsStarted", "TriggerFunction")
    assert [d["promotion_id"] for d in started] == [promotion_id]
    assert started[0]["_directive"]["Namespace"] == "LambdaPromoter"  # the template's namespace

    finished = [d for d in metrics(sandbox, "PromotionsFinished", *TASKS) if d["promotion_id"] == promotion_id]
    assert len(finished) == 1  # once, by the write that made the record final
    document = finished[0]
    assert (document["Status"], document["Cause"], document["service"]) == ("SUCCEEDED", "none", "lambda-promoter")
    assert sorted(map(sorted, document["_directive"]["Dimensions"])) == [
        ["Cause", "Status", "service"],
        ["Status", "service"],
    ]

    steps = [d for d in metrics(sandbox, "StepDuration", "CheckFunction") if d["promotion_id"] == promotion_id]
    assert [d["step"] for d in steps] == [s.index for s in final.steps]
    assert [value(d, "StepDuration") for d in steps] == [s.baked_seconds for s in final.steps]
    assert steps[0]["_directive"]["Metrics"][0]["Unit"] == "Seconds"


def test_the_listener_logs_each_promotion_it_rolled_back_and_the_rollback_latency(sandbox, targets):
    target, started = start_long_bake(sandbox, targets)
    hold_alarm_in("ALARM")
    event = alarm_event("orders-errors")
    changed_at = clock.now() - timedelta(seconds=3)  # the sandbox clock: what the listener measures with
    event["detail"]["state"]["timestamp"] = changed_at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"

    answer = invoke_listener(sandbox, event)
    assert answer["promotions"][0]["action"] == "rolled_back"
    final = sandbox.wait_until_final(started.id)

    handled = [line for line in lines(sandbox, "AlarmListenerFunction") if line["message"] == "alarm event handled"]
    assert [(h["promotion_id"], h["target_function_arn"], h["target_alias"], h["alarm"]) for h in handled] == [
        (started.id, final.function_arn, target.alias, "orders-errors")
    ]
    latency = metrics(sandbox, "RollbackLatency", "AlarmListenerFunction")
    assert [d["promotion_id"] for d in latency] == [started.id]
    assert value(latency[0], "RollbackLatency") >= 3000  # measured from the event's state change
    finished = wait_until(
        lambda: [d for d in metrics(sandbox, "PromotionsFinished", "AlarmListenerFunction", *TASKS)
                 if d["promotion_id"] == started.id],
        what="PromotionsFinished of the rolled-back promotion",
    )  # fmt: skip
    assert [(d["Status"], d["Cause"]) for d in finished] == [("ROLLED_BACK", "alarm")]
