"""Executions of one definition share its parsed program (sandbox/aws/stepfunctions/reuse.py), and
each still keeps its own state: a retrier counts each execution's attempts on its own."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from tests.sandbox.conftest import patched_moto, wait_until

ROLE = "arn:aws:iam::123456789012:role/sfn"
RETRIED = {
    "StartAt": "Try",
    "States": {
        "Try": {
            "Type": "Parallel",
            "Branches": [{"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "Boom", "Cause": "x"}}}],
            "Retry": [{"ErrorEquals": ["Boom"], "MaxAttempts": 2, "IntervalSeconds": 1, "BackoffRate": 1}],
            "ResultPath": "$.result",
            "End": True,
        }
    },
}


@pytest.fixture
def sfn(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with patched_moto(monkeypatch, stepfunctions={"execute_state_machine": True}):
        yield boto3.client("stepfunctions")


def attempts(sfn: Any, arn: str) -> int:
    wait_until(lambda: sfn.describe_execution(executionArn=arn)["status"] != "RUNNING", what="the end")
    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    return sum(1 for event in events if event["type"] == "ParallelStateStarted")


def test_executions_started_together_each_count_their_own_retries(sfn):
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    machine = sfn.create_state_machine(name="retried", definition=json.dumps(RETRIED), roleArn=ROLE)
    parsed_before = AmazonStateLanguageParser.parse.cache_info().misses
    arns = [
        sfn.start_execution(stateMachineArn=machine["stateMachineArn"], name=f"run-{n}")["executionArn"]
        for n in range(4)
    ]
    assert [attempts(sfn, arn) for arn in arns] == [3, 3, 3, 3]  # the first try and 2 retries, each
    assert [sfn.describe_execution(executionArn=arn)["status"] for arn in arns] == ["FAILED"] * 4
    assert AmazonStateLanguageParser.parse.cache_info().misses == parsed_before  # parsed at creation only


def test_a_later_execution_starts_its_attempts_from_the_first(sfn):
    machine = sfn.create_state_machine(name="again", definition=json.dumps(RETRIED), roleArn=ROLE)
    first = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], name="first")["executionArn"]
    assert attempts(sfn, first) == 3
    second = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], name="second")["executionArn"]
    assert attempts(sfn, second) == 3
