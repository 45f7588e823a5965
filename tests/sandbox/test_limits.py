"""Limits the sandbox applies as AWS does: Step Functions' 25,000 history events and terminal errors,
EventBridge's reserved ``aws.*`` sources, and API Gateway's 10 MB payload and 29 s timeout."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest

from sandbox import Sandbox
from sandbox.aws.events import delivery
from sandbox.fixtures.targets import trust_policy
from sandbox.server.api_gateway import INTEGRATION_TIMEOUT_SECONDS, MAX_PAYLOAD_BYTES, ApiGateway
from tests.sandbox.conftest import patched_moto, wait_until

# The test machines' tasks read and write DynamoDB, as their role (sandbox/aws/iam/policy.py, task_keys).
TASKS_POLICY = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}]}
)
ALARM_PATTERN = {"source": ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"]}
FORGED_ALARM = {
    "Source": "aws.cloudwatch",
    "DetailType": "CloudWatch Alarm State Change",
    "Detail": json.dumps({"alarmName": "orders-errors", "state": {"value": "ALARM"}}),
}


# --- Step Functions -------------------------------------------------------------------------------------
@pytest.fixture
def sfn(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with patched_moto(monkeypatch, stepfunctions={"execute_state_machine": True}):
        iam = boto3.client("iam")
        iam.create_role(RoleName="sfn", AssumeRolePolicyDocument=trust_policy("states.amazonaws.com"))
        iam.put_role_policy(RoleName="sfn", PolicyName="tasks", PolicyDocument=TASKS_POLICY)
        yield boto3.client("stepfunctions")


def run(sfn: Any, definition: dict[str, Any], name: str = "m", payload: Any = None) -> dict[str, Any]:
    role = "arn:aws:iam::123456789012:role/sfn"
    machine = sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=role)
    arn = sfn.start_execution(
        stateMachineArn=machine["stateMachineArn"], name="run-1", input=json.dumps(payload or {})
    )["executionArn"]
    wait_until(lambda: sfn.describe_execution(executionArn=arn)["status"] != "RUNNING", timeout=600, what="the end")
    return sfn.describe_execution(executionArn=arn)


def history(sfn: Any, execution_arn: str) -> list[dict[str, Any]]:
    pages = sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn)
    return [event for page in pages for event in page["events"]]


FOREVER = {  # a loop that never ends: 4 events per turn
    "StartAt": "Spin",
    "States": {
        "Spin": {"Type": "Pass", "Result": True, "ResultPath": "$.spin", "Next": "Again?"},
        "Again?": {"Type": "Choice", "Choices": [{"Variable": "$.spin", "BooleanEquals": True, "Next": "Spin"}]},
    },
}


def test_an_execution_fails_at_its_25000th_history_event_as_on_aws(sfn):
    described = run(sfn, FOREVER)

    assert described["status"] == "FAILED"
    assert described["error"] == "States.Runtime"
    assert described["cause"] == "The execution reached the maximum number of history events (25000)."
    events = history(sfn, described["executionArn"])
    assert len(events) == 25_000
    assert [e["id"] for e in events[-2:]] == [24_999, 25_000]
    assert events[-1]["type"] == "ExecutionFailed"
    assert events[-1]["executionFailedEventDetails"] == {
        "error": "States.Runtime",
        "cause": "The execution reached the maximum number of history events (25000).",
    }
    assert events[-2]["type"] != "ExecutionFailed"  # the last event the machine itself produced


def test_an_execution_under_the_limit_is_not_touched(sfn):
    described = run(sfn, {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}})

    assert described["status"] == "SUCCEEDED"
    assert [e["type"] for e in history(sfn, described["executionArn"])][-1] == "ExecutionSucceeded"


TABLE = "big-items"


def read_item(catch: list[str], result_selector: dict[str, str] | None = None) -> dict[str, Any]:
    """An aws-sdk GetItem task (as the promotion state machine uses) with one Catch."""
    task: dict[str, Any] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::aws-sdk:dynamodb:getItem",
        "Parameters": {"TableName": TABLE, "Key": {"id": {"S": "big"}}},
        "Catch": [{"ErrorEquals": catch, "ResultPath": "$.caught", "Next": "Caught"}],
        "End": True,
    }
    if result_selector:
        task["ResultSelector"] = result_selector
    return {
        "StartAt": "Read",
        "States": {"Read": task, "Caught": {"Type": "Pass", "Parameters": {"caught.$": "$.caught.Error"}, "End": True}},
    }


@pytest.fixture
def big_item(sfn: Any) -> None:
    """A 300 KB item: DynamoDB takes it (400 KB limit), a state's result may not be that big (256 KB)."""
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.put_item(TableName=TABLE, Item={"id": {"S": "big"}, "blob": {"S": "x" * 300_000}})


def test_data_limit_exceeded_is_not_caught_by_states_all(sfn, big_item):
    described = run(sfn, read_item(["States.ALL"]))

    assert described["status"] == "FAILED"
    assert described["error"] == "States.DataLimitExceeded"
    assert "returned a result with a size exceeding the maximum number of bytes service limit" in described["cause"]


def test_data_limit_exceeded_is_caught_by_its_own_name(sfn, big_item):
    described = run(sfn, read_item(["States.DataLimitExceeded"]))

    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"caught": "States.DataLimitExceeded"}


def test_a_small_enough_result_passes(sfn, big_item):
    boto3.client("dynamodb").put_item(TableName=TABLE, Item={"id": {"S": "big"}, "blob": {"S": "x" * 200_000}})

    described = run(sfn, read_item(["States.ALL"]))

    assert described["status"] == "SUCCEEDED"


def test_a_runtime_error_is_never_caught(sfn, big_item):
    boto3.client("dynamodb").put_item(TableName=TABLE, Item={"id": {"S": "big"}})
    selector = {"value.$": "$.Item.missing.S"}  # a path that is not in the result: States.Runtime

    for catch in (["States.ALL"], ["States.Runtime"]):
        described = run(sfn, read_item(catch, selector), name=f"m-{catch[0]}")

        assert described["status"] == "FAILED", catch
        assert described["error"] == "States.Runtime"


def test_a_task_whose_parameters_are_over_256_kb_fails_before_it_runs(sfn, big_item):
    write = {
        "StartAt": "Write",
        "States": {
            "Write": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:dynamodb:putItem",
                "Parameters": {
                    "TableName": TABLE,
                    "Item": {"id": {"S": "copy"}, "a": {"S.$": "$.blob"}, "b": {"S.$": "$.blob"}},
                },
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }  # fmt: skip

    described = run(sfn, write, payload={"blob": "x" * 150_000})  # 150 KB in, 300 KB of parameters

    assert described["status"] == "FAILED"
    assert described["error"] == "States.DataLimitExceeded"
    assert "Item" not in boto3.client("dynamodb").get_item(TableName=TABLE, Key={"id": {"S": "copy"}})


def test_a_parallel_state_fails_with_its_branchs_states_error(sfn, big_item):
    read = read_item(["States.ALL"])["States"]["Read"]
    del read["Catch"]
    branch_fails = {
        "StartAt": "Both",
        "States": {
            "Both": {
                "Type": "Parallel",
                "Branches": [{"StartAt": "Read", "States": {"Read": read}}],
                "Catch": [{"ErrorEquals": ["States.DataLimitExceeded"], "ResultPath": "$.caught", "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "Parameters": {"caught.$": "$.caught.Error"}, "End": True},
        },
    }  # fmt: skip

    described = run(sfn, branch_fails)

    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"caught": "States.DataLimitExceeded"}


def test_other_errors_are_still_caught_by_states_all(sfn):
    failing = {
        "StartAt": "Try",
        "States": {
            "Try": {
                "Type": "Parallel",
                "Branches": [{"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "Custom.Boom"}}}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.caught", "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "Parameters": {"caught.$": "$.caught.Error"}, "End": True},
        },
    }  # fmt: skip

    described = run(sfn, failing)

    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"caught": "Custom.Boom"}


# --- EventBridge: the aws.* sources are AWS's ------------------------------------------------------------
def queue_listening_to(sandbox: Sandbox, pattern: dict[str, Any]) -> tuple[Any, str]:
    sqs, events = sandbox.client("sqs"), sandbox.client("events")
    url = sqs.create_queue(QueueName="alarm-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="alarms-to-queue", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="alarms-to-queue", Targets=[{"Id": "q", "Arn": arn}])
    return sqs, url


def received(sqs: Any, url: str) -> list[dict[str, Any]]:
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def test_a_caller_cannot_put_an_aws_source_and_the_other_entries_go_through(sandbox, targets):
    sqs, url = queue_listening_to(sandbox, {"source": ["aws.cloudwatch", "releases"]})

    answer = sandbox.client("events").put_events(
        Entries=[FORGED_ALARM, {"Source": "releases", "DetailType": "Released", "Detail": "{}"}]
    )

    assert answer["FailedEntryCount"] == 1
    assert answer["Entries"][0] == {
        "ErrorCode": "NotAuthorizedForSourceException",
        "ErrorMessage": "Not authorized for the source.",
    }
    assert "EventId" in answer["Entries"][1]
    assert [event["source"] for event in received(sqs, url)] == ["releases"]  # the forged alarm went nowhere


def test_the_sandboxs_own_alarm_events_are_still_delivered(sandbox, targets):
    sqs, url = queue_listening_to(sandbox, ALARM_PATTERN)
    targets.function("orders")
    targets.alarm("orders-errors", "orders")

    targets.set_alarm("orders-errors", "ALARM", "errors on the canary")

    seen: list[dict[str, Any]] = []

    def alarm_event() -> dict[str, Any] | None:
        seen.extend(received(sqs, url))
        return next((e for e in seen if e["detail"]["state"]["value"] == "ALARM"), None)

    alarm = wait_until(alarm_event, what="the alarm's state change to ALARM")
    assert alarm["source"] == "aws.cloudwatch"
    assert alarm["detail"]["alarmName"] == "orders-errors"


def test_put_events_keeps_the_order_of_its_entries():
    class Backend:
        def put_events(self, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [{"EventId": entry["Source"]} for entry in entries]

    entries = [{"Source": "a"}, {"Source": "aws.events"}, {"Source": "b"}, {"Source": "aws.lambda"}]

    results = delivery.put_events_as_a_caller(Backend(), entries)

    assert [r.get("EventId") or r["ErrorCode"] for r in results] == [
        "a", "NotAuthorizedForSourceException", "b", "NotAuthorizedForSourceException",
    ]  # fmt: skip


# --- API Gateway: 10 MB, 29 s ------------------------------------------------------------------------------
async def echo_size(scope: dict, receive: Any, send: Any) -> None:
    message = await receive()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": str(len(message.get("body", b""))).encode()})


def post(app: Any, body: bytes) -> httpx.Response:
    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
            return await client.post("/promotions", content=body)

    return asyncio.run(go())


def test_a_body_over_10_mb_is_413_and_10_mb_passes():
    assert MAX_PAYLOAD_BYTES == 10 * 1024 * 1024

    too_large = post(ApiGateway(echo_size), b"x" * (MAX_PAYLOAD_BYTES + 1))
    at_limit = post(ApiGateway(echo_size), b"x" * MAX_PAYLOAD_BYTES)

    assert too_large.status_code == 413
    assert too_large.json() == {"message": "Request Too Long"}
    assert (at_limit.status_code, at_limit.text) == (200, str(MAX_PAYLOAD_BYTES))


def test_an_integration_that_does_not_answer_in_time_is_504():
    assert INTEGRATION_TIMEOUT_SECONDS == 29.0  # API Gateway's; the test shortens it
    never = asyncio.Event()

    async def hangs(scope: dict, receive: Any, send: Any) -> None:
        await receive()
        await never.wait()

    answer = post(ApiGateway(hangs, integration_timeout=0.05), b"{}")

    assert answer.status_code == 504
    assert answer.json() == {"message": "Endpoint request timed out"}


def test_an_integration_that_answers_in_time_is_passed_through():
    answer = post(ApiGateway(echo_size, integration_timeout=5.0), b"{}")

    assert (answer.status_code, answer.text) == (200, "2")
