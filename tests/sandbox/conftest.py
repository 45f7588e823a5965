"""Helpers for the sandbox's own tests: a recorder function whose real code writes what it receives
to DynamoDB, and waiting without timing thresholds."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from moto import mock_aws

from sandbox import Sandbox, workers
from sandbox.fixtures.targets import Targets, zip_source
from sandbox.install import install

RECORDER_TABLE = "sandbox-recorder"
RECORDER_CODE = """
import json
import os
import uuid

import boto3


def handler(event, context):
    boto3.resource("dynamodb").Table(os.environ["TABLE"]).put_item(Item={
        "id": str(uuid.uuid4()),
        "function": context.function_name,
        "version": os.environ["AWS_LAMBDA_FUNCTION_VERSION"],
        "event": json.dumps(event),
    })
    return {"recorded": True}
"""


TEST_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@contextmanager
def patched_moto(monkeypatch: pytest.MonkeyPatch, time_scale: float = 1.0, **config: Any) -> Iterator[None]:
    """moto with every sandbox patch, in this process, without deploying the stack; the sandbox's
    threads are stopped afterwards. ``config`` is moto's (e.g. ``stepfunctions=...``)."""
    for name, value in TEST_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    install(time_scale, {})
    try:
        with mock_aws(config=config or None):
            yield
    finally:
        workers.stop()


def let_rule_invoke(sandbox: Sandbox, rule_arn: str, function_arn: str) -> None:
    """The permission AWS needs before a rule may invoke a function (SAM's EventBridgeRule event
    adds it): events.amazonaws.com, for this rule."""
    sandbox.client("lambda").add_permission(
        FunctionName=function_arn,
        StatementId=f"events-{rule_arn.rsplit('/', 1)[-1]}",
        Action="lambda:InvokeFunction",
        Principal="events.amazonaws.com",
        SourceArn=rule_arn,
    )


def wait_until(check: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    """Poll ``check`` until it returns something truthy (generous timeout, no timing assertion)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


class Recorder:
    """A Lambda function (real code, run by the sandbox) that stores every event it gets."""

    def __init__(self, sandbox: Sandbox, targets: Targets) -> None:
        self.sandbox = sandbox
        self.dynamodb = sandbox.client("dynamodb")
        self.lambdas = sandbox.client("lambda")
        self.targets = targets
        self.dynamodb.create_table(
            TableName=RECORDER_TABLE,
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )

    def function(self, name: str) -> str:
        """Create a recorder function; returns its ARN."""
        return self.lambdas.create_function(
            FunctionName=name,
            Runtime="python3.13",
            Role=self.role(),
            Handler="app.handler",
            Code={"ZipFile": zip_source(RECORDER_CODE)},
            Environment={"Variables": {"TABLE": RECORDER_TABLE}},
        )["FunctionArn"]

    def role(self) -> str:
        """The recorders' execution role: it may write to the recorder table (IAM is enforced)."""
        arn = self.targets.role("sandbox-recorder-role")
        table = self.dynamodb.describe_table(TableName=RECORDER_TABLE)["Table"]["TableArn"]
        statement = {"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": table}
        self.sandbox.client("iam").put_role_policy(
            RoleName="sandbox-recorder-role",
            PolicyName="record",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
        )
        return arn

    def events(self, function: str | None = None) -> list[dict[str, Any]]:
        items = self.dynamodb.scan(TableName=RECORDER_TABLE)["Items"]
        return [
            json.loads(item["event"]["S"]) for item in items if function is None or item["function"]["S"] == function
        ]

    def wait_for(self, function: str, match: Callable[[dict], bool], timeout: float = 30.0) -> dict[str, Any]:
        """The first recorded event of ``function`` that ``match`` accepts, once there is one."""
        return wait_until(
            lambda: next((e for e in self.events(function) if match(e)), None),
            timeout,
            f"an event for {function}",
        )

    def wait(self, function: str, count: int = 1, timeout: float = 30.0) -> list[dict[str, Any]]:
        return wait_until(
            lambda: (events := self.events(function)) and len(events) >= count and events,
            timeout,
            f"{count} event(s) recorded by {function}",
        )


@pytest.fixture
def recorder(sandbox: Sandbox, targets: Targets) -> Recorder:
    return Recorder(sandbox, targets)


def aligned(period: int, offset: float = 0.0, ahead: float = 3600.0) -> Callable[[Sandbox], float]:
    """Pause the clock at a period boundary (+ offset) in the future; returns that instant."""

    def pause(sandbox: Sandbox) -> float:
        sandbox.clock.pause()
        target = math.ceil((sandbox.clock.now() + ahead) / period) * period + offset
        sandbox.clock.set(target)
        return target

    return pause
