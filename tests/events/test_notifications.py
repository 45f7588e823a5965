"""Every status change is announced on the control plane's bus, in order."""

import json

from promoter.models import Status
from tests.events.test_alarm_listener import alarm_event, hold_alarm_in, invoke_listener, start_long_bake
from tests.workflow.helpers import request


def capture_bus(sandbox) -> str:
    """Route the bus's "Promotion Status Changed" events to a queue we can read."""
    sqs, events = sandbox.client("sqs"), sandbox.client("events")
    queue_url = sqs.create_queue(QueueName="status-changes")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = sandbox.outputs["EventBusName"]
    events.put_rule(
        Name="capture",
        EventBusName=bus,
        EventPattern=json.dumps({"source": ["lambda-promoter"], "detail-type": ["Promotion Status Changed"]}),
    )
    events.put_targets(Rule="capture", EventBusName=bus, Targets=[{"Id": "queue", "Arn": queue_arn}])
    return queue_url


def received(sandbox, queue_url: str) -> list[dict]:
    sqs, details = sandbox.client("sqs"), []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return details
        details += [json.loads(m["Body"])["detail"] for m in messages]


def test_a_full_promotion_announces_pending_running_succeeded_in_order(sandbox, targets):
    queue = capture_bus(sandbox)
    target = targets.function("orders")
    started = sandbox.service().start(request(target), actor="alice")
    sandbox.wait_until_final(started.id)

    details = received(sandbox, queue)
    assert [(d["previous_status"], d["status"]) for d in details] == [
        (None, "PENDING"),
        ("PENDING", "RUNNING"),
        ("RUNNING", "SUCCEEDED"),
    ]
    assert [d["sequence"] for d in details] == sorted(d["sequence"] for d in details)
    assert {d["promotion_id"] for d in details} == {started.id}
    assert details[0]["actor"] == "alice"
    assert details[-1]["current_weight"] == 1.0


def test_an_alarm_rollback_announces_who_ended_it_and_why(sandbox, targets):
    queue = capture_bus(sandbox)
    _, started = start_long_bake(sandbox, targets)
    hold_alarm_in("ALARM")
    invoke_listener(sandbox, alarm_event("orders-errors"))
    final = sandbox.wait_until_final(started.id)

    details = received(sandbox, queue)
    assert final.status is Status.ROLLED_BACK
    assert [d["status"] for d in details] == ["PENDING", "RUNNING", "ROLLED_BACK"]
    assert details[-1]["actor"] == "alarm:orders-errors"
    assert "orders-errors" in details[-1]["reason"]
    assert details[-1]["current_weight"] == 0.0
