"""CloudWatch Logs subscription filters deliver to Lambda as AWS does, and refuse as AWS refuses."""

from __future__ import annotations

import base64
import gzip
import json

import botocore.exceptions
import pytest

from sandbox import Sandbox
from sandbox.aws.logs import pattern_matches
from sandbox.fixtures.targets import Targets, zip_source

from .conftest import Recorder

RAISES = """
def handler(event, context):
    if event.get("fail"):
        raise RuntimeError("broken build")
    print("all good")
    return {"ok": True}
"""
ERRORS = '?"[ERROR]" ?"Traceback" ?"Task timed out"'


def allow_logs(sandbox: Sandbox, function: str, source_arn: str | None = None) -> None:
    account = sandbox.client("sts").get_caller_identity()["Account"]
    extra = {"SourceArn": source_arn} if source_arn else {}
    sandbox.client("lambda").add_permission(
        FunctionName=function,
        StatementId="logs",
        Action="lambda:InvokeFunction",
        Principal="logs.amazonaws.com",
        SourceAccount=account,
        **extra,
    )


def app(sandbox: Sandbox, targets: Targets, name: str = "app") -> str:
    lambdas = sandbox.client("lambda")
    lambdas.create_function(
        FunctionName=name,
        Runtime="python3.13",
        Role=targets.role(),
        Handler="app.handler",
        Code={"ZipFile": zip_source(RAISES)},
    )
    return lambdas.publish_version(FunctionName=name)["Version"]


def decoded(event: dict) -> dict:
    return json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))


def test_matching_lines_reach_a_lambda_destination_as_aws_sends_them(
    sandbox: Sandbox, targets: Targets, recorder: Recorder
) -> None:
    destination = recorder.function("receiver")
    allow_logs(sandbox, "receiver")
    version = app(sandbox, targets)
    lambdas, logs = sandbox.client("lambda"), sandbox.client("logs")
    logs.create_log_group(logGroupName="/aws/lambda/app")
    logs.put_subscription_filter(
        logGroupName="/aws/lambda/app", filterName="errors", filterPattern=ERRORS, destinationArn=destination
    )
    lambdas.invoke(FunctionName=f"app:{version}", Payload=b"{}")  # healthy: nothing matches, nothing sent
    lambdas.invoke(FunctionName=f"app:{version}", Payload=json.dumps({"fail": True}).encode())

    data = decoded(recorder.wait("receiver")[0])
    assert sandbox.settle()
    assert len(recorder.events("receiver")) == 1  # the healthy call's lines matched nothing
    assert data["messageType"] == "DATA_MESSAGE"
    assert data["logGroup"] == "/aws/lambda/app" and data["subscriptionFilters"] == ["errors"]
    assert f"/[{version}]" in data["logStream"]
    assert data["owner"] == sandbox.client("sts").get_caller_identity()["Account"]
    [event] = data["logEvents"]  # the uncaught exception is one event, as the Python runtime logs it
    assert event["message"].startswith("[ERROR] RuntimeError: broken build\nTraceback (most recent call last):")
    assert len(event["id"]) == 56 and isinstance(event["timestamp"], int)


def test_a_third_filter_on_a_log_group_is_refused(sandbox: Sandbox, recorder: Recorder) -> None:
    destination = recorder.function("receiver")
    allow_logs(sandbox, "receiver")
    logs = sandbox.client("logs")
    logs.create_log_group(logGroupName="/aws/lambda/app")
    for name in ("one", "two"):
        logs.put_subscription_filter(
            logGroupName="/aws/lambda/app", filterName=name, filterPattern="", destinationArn=destination
        )
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        logs.put_subscription_filter(
            logGroupName="/aws/lambda/app", filterName="three", filterPattern="", destinationArn=destination
        )
    assert refused.value.response["Error"]["Code"] == "LimitExceededException"


@pytest.mark.parametrize("source_arn", [None, "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/other:*"])
def test_a_destination_that_does_not_let_cloudwatch_logs_invoke_it_is_refused(
    sandbox: Sandbox, recorder: Recorder, source_arn: str | None
) -> None:
    destination = recorder.function("receiver")
    if source_arn:  # a permission for another log group only
        allow_logs(sandbox, "receiver", source_arn)
    logs = sandbox.client("logs")
    logs.create_log_group(logGroupName="/aws/lambda/app")
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        logs.put_subscription_filter(
            logGroupName="/aws/lambda/app", filterName="errors", filterPattern=ERRORS, destinationArn=destination
        )
    assert refused.value.response["Error"]["Code"] == "InvalidParameterException"
    assert "permission" in refused.value.response["Error"]["Message"]


def test_a_permission_scoped_to_lambda_log_groups_is_enough(sandbox: Sandbox, recorder: Recorder) -> None:
    destination = recorder.function("receiver")
    account = sandbox.client("sts").get_caller_identity()["Account"]
    allow_logs(sandbox, "receiver", f"arn:aws:logs:us-east-1:{account}:log-group:/aws/lambda/*")
    logs = sandbox.client("logs")
    logs.create_log_group(logGroupName="/aws/lambda/app")
    logs.put_subscription_filter(
        logGroupName="/aws/lambda/app", filterName="errors", filterPattern=ERRORS, destinationArn=destination
    )
    assert [f["filterName"] for f in logs.describe_subscription_filters(logGroupName="/aws/lambda/app")[
        "subscriptionFilters"
    ]] == ["errors"]  # fmt: skip


@pytest.mark.parametrize(
    ("pattern", "message", "matches"),
    [
        (ERRORS, "[ERROR] RuntimeError: x", True),
        (ERRORS, "2026-12-04T10:00:00Z abc Task timed out after 3.00 seconds", True),
        (ERRORS, "START RequestId: abc Version: 2", False),
        (ERRORS, "[error] lower case", False),  # terms are case-sensitive
        ("ERROR ARGUMENTS", "ERROR: bad ARGUMENTS", True),  # every plain term
        ("ERROR ARGUMENTS", "ERROR only", False),
        ("ERROR -ARGUMENTS", "ERROR: bad ARGUMENTS", False),  # none of the - terms
        ("", "anything", True),
    ],
)
def test_filter_patterns_match_terms_as_cloudwatch_logs_does(pattern: str, message: str, matches: bool) -> None:
    assert pattern_matches(pattern, message) is matches
