"""Lambda as it runs on AWS: concurrent invocations, each with its own environment, the function's
Timeout enforced, exits reported as the runtime reports them, output in the function's log group."""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.exceptions
import pytest
from moto import mock_aws

from sandbox import workers
from sandbox.core import FAKE_CREDENTIALS, FUNCTION_ENV
from sandbox.fixtures.targets import Targets, zip_source
from sandbox.install import install

NESTED = """
import json
import os

import boto3


def handler(event, context):
    inner = boto3.client("lambda").invoke(FunctionName=event["inner"], Payload=b"{}")
    return {
        "outer": os.environ["AWS_LAMBDA_FUNCTION_NAME"],
        "inner": json.loads(inner["Payload"].read()),
    }
"""
NAME = """
import os


def handler(event, context):
    return os.environ["AWS_LAMBDA_FUNCTION_NAME"]
"""
SLEEPS = """
import time


def handler(event, context):
    print("going to sleep")
    time.sleep(event.get("seconds", 600))
    return "woke up"
"""
EXITS = """
import sys

INITS = []


def handler(event, context):
    INITS.append(1)
    if event.get("raise") == "exit":
        sys.exit(event["code"])
    if event.get("raise") == "interrupt":
        raise KeyboardInterrupt
    if event.get("raise") == "error":
        raise RuntimeError("broken")
    return {"inits_seen": len(INITS)}
"""
PRINTS = """
def handler(event, context):
    print("hello from", context.function_name)
    return {"stream": context.log_stream_name, "group": context.log_group_name}
"""
STREAM = re.compile(r"^\d{4}/\d{2}/\d{2}/\[(?P<version>[^\]]+)\][0-9a-f]{32}$")
OWN_ENVIRONMENT = """
import os
import time


def handler(event, context):
    mine = context.function_name
    seen = set()
    for _ in range(40):  # long enough that other invocations run meanwhile
        time.sleep(0.005)
        seen.add(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))
        seen.add(os.getenv("OWN"))
        seen.add(os.environ["OWN"] if "OWN" in os.environ else None)
        seen.update(v for k, v in os.environ.items() if k == "OWN")
    os.environ["WRITTEN"] = mine
    time.sleep(0.01)
    seen.add(os.environ["WRITTEN"])
    return {"mine": mine, "seen": sorted(s or "" for s in seen)}
"""


@pytest.fixture
def aws() -> Iterator[boto3.session.Session]:
    """moto with the sandbox's patches, nothing deployed: fast, for the runner's own behaviour."""
    saved = dict(os.environ)
    os.environ.update(FAKE_CREDENTIALS)
    install(1.0, FUNCTION_ENV)
    try:
        with mock_aws():
            yield boto3.session.Session(region_name="us-east-1")
    finally:
        workers.stop()
        os.environ.clear()
        os.environ.update(saved)


def create(session: boto3.session.Session, name: str, source: str, **extra: Any) -> str:
    lambdas = session.client("lambda")
    return lambdas.create_function(
        FunctionName=name,
        Runtime="python3.13",
        Role=Targets(session=session).role(),
        Handler="app.handler",
        Code={"ZipFile": zip_source(source)},
        **extra,
    )["FunctionArn"]


def invoke(session: boto3.session.Session, name: str, payload: Any = None) -> tuple[dict[str, Any], Any]:
    raw = session.client("lambda").invoke(FunctionName=name, Payload=json.dumps(payload or {}).encode())
    return raw, json.loads(raw["Payload"].read() or b"null")


def test_concurrent_invocations_each_see_their_own_environment(aws: boto3.session.Session) -> None:
    names = [f"env-{n}" for n in range(20)]
    for name in names:
        create(aws, name, OWN_ENVIRONMENT, Environment={"Variables": {"OWN": name}})
    results: dict[str, Any] = {}
    start = threading.Barrier(len(names))

    def call(name: str) -> None:
        start.wait()
        results[name] = invoke(aws, name)[1]

    threads = [threading.Thread(target=call, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {name: {"mine": name, "seen": [name]} for name in names}
    assert "WRITTEN" not in os.environ and "OWN" not in os.environ  # the real environment is untouched


def test_a_nested_invoke_runs_while_its_caller_waits(aws: boto3.session.Session) -> None:
    """The caller's handler holds nothing that the nested invocation needs; each sees its own name."""
    create(aws, "outer", NESTED)
    create(aws, "inner", NAME)
    aws.client("iam").put_role_policy(  # the caller's execution role may invoke, as on AWS
        RoleName="sample-target-role",
        PolicyName="invoke",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "*"}],
            }
        ),
    )
    raw, payload = invoke(aws, "outer", {"inner": "inner"})
    assert "FunctionError" not in raw, payload
    assert payload == {"outer": "outer", "inner": "inner"}


def test_the_function_timeout_ends_the_invocation_as_aws_does(aws: boto3.session.Session) -> None:
    create(aws, "sleeper", SLEEPS, Timeout=1)
    create(aws, "quick", NAME)
    raw, payload = invoke(aws, "sleeper")
    assert raw["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Sandbox.Timedout"
    assert re.fullmatch(r"RequestId: [0-9a-f-]{36} Error: Task timed out after 1\.00 seconds", payload["errorMessage"])
    assert invoke(aws, "quick")[1] == "quick"  # the hung handler holds no worker anyone waits for
    messages = log_messages(aws, "sleeper")
    assert "going to sleep" in messages
    assert any(m.endswith("Task timed out after 1.00 seconds") for m in messages)


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ({"raise": "exit", "code": 3}, "Runtime exited with error: exit status 3"),
        ({"raise": "exit", "code": "bye"}, "Runtime exited with error: exit status 1"),
        ({"raise": "exit", "code": 0}, "Runtime exited without providing a reason"),
        ({"raise": "interrupt"}, "Runtime exited with error: signal: interrupt"),
    ],
)
def test_an_exit_is_a_runtime_exit_error_and_the_next_call_starts_afresh(
    aws: boto3.session.Session, event: dict[str, Any], reason: str
) -> None:
    create(aws, "exits", EXITS)
    assert invoke(aws, "exits")[1] == {"inits_seen": 1}
    raw, payload = invoke(aws, "exits", event)
    assert raw["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Runtime.ExitError"
    assert payload["errorMessage"].endswith(f"Error: {reason}")
    assert invoke(aws, "exits")[1] == {"inits_seen": 1}  # a new execution environment: module loaded anew


def test_a_raising_handler_is_an_unhandled_function_error(aws: boto3.session.Session) -> None:
    create(aws, "raises", EXITS)
    raw, payload = invoke(aws, "raises", {"raise": "error"})
    assert raw["StatusCode"] == 200 and raw["FunctionError"] == "Unhandled"
    assert (payload["errorType"], payload["errorMessage"]) == ("RuntimeError", "broken")
    assert invoke(aws, "raises")[1] == {"inits_seen": 2}  # an exception keeps the environment


def log_streams(session: boto3.session.Session, function: str) -> list[str]:
    logs = session.client("logs")
    found = logs.describe_log_streams(logGroupName=f"/aws/lambda/{function}")["logStreams"]
    return [stream["logStreamName"] for stream in found]


def log_messages(session: boto3.session.Session, function: str) -> list[str]:
    logs = session.client("logs")
    group = f"/aws/lambda/{function}"
    return [
        event["message"]
        for stream in log_streams(session, function)
        for event in logs.get_log_events(logGroupName=group, logStreamName=stream)["events"]
    ]


def test_output_goes_to_the_log_group_under_aws_stream_names(aws: boto3.session.Session) -> None:
    """Also while pytest captures stdout (this test runs under its capture)."""
    create(aws, "printer", PRINTS)
    version = aws.client("lambda").publish_version(FunctionName="printer")["Version"]
    payload = invoke(aws, "printer")[1]
    invoke(aws, f"printer:{version}")
    assert payload["group"] == "/aws/lambda/printer"
    streams = log_streams(aws, "printer")
    assert payload["stream"] in streams
    assert sorted(STREAM.match(s)["version"] for s in streams) == sorted(["$LATEST", version])
    messages = log_messages(aws, "printer")
    assert messages.count("hello from printer") == 2
    assert sum(m.startswith("START RequestId: ") for m in messages) == 2
    assert sum(m.startswith("REPORT RequestId: ") for m in messages) == 2


# --- the Lambda API, as strict as AWS -----------------------------------------------------------------
@pytest.fixture
def published(aws: boto3.session.Session) -> Any:
    """A function with versions 1 and 2 and an alias ``live`` on 1."""
    lambdas = aws.client("lambda")
    create(aws, "orders", NAME)
    lambdas.publish_version(FunctionName="orders")
    lambdas.update_function_code(FunctionName="orders", ZipFile=zip_source(NAME + "\n# v2\n"))
    lambdas.publish_version(FunctionName="orders")
    lambdas.create_alias(FunctionName="orders", Name="live", FunctionVersion="1")
    return lambdas


def error_of(call: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        call(**kwargs)
    return raised.value.response["Error"]["Code"], raised.value.response["Error"]["Message"]


def test_alias_calls_answer_with_aws_status_codes(published: Any) -> None:
    status = lambda answer: answer["ResponseMetadata"]["HTTPStatusCode"]  # noqa: E731
    assert status(published.get_alias(FunctionName="orders", Name="live")) == 200
    assert status(published.update_alias(FunctionName="orders", Name="live", FunctionVersion="2")) == 200
    assert status(published.create_alias(FunctionName="orders", Name="beta", FunctionVersion="1")) == 201


def test_latest_cannot_be_part_of_a_weighted_alias(published: Any) -> None:
    weighted = {"AdditionalVersionWeights": {"2": 0.1}}
    latest_main = "$LATEST is not supported for an alias pointing to more than 1 version"
    code, message = error_of(
        published.create_alias, FunctionName="orders", Name="w", FunctionVersion="$LATEST", RoutingConfig=weighted
    )
    assert (code, message) == ("InvalidParameterValueException", latest_main)
    code, message = error_of(
        published.update_alias, FunctionName="orders", Name="live", FunctionVersion="$LATEST", RoutingConfig=weighted
    )
    assert (code, message) == ("InvalidParameterValueException", latest_main)
    code, message = error_of(
        published.update_alias,
        FunctionName="orders",
        Name="live",
        RoutingConfig={"AdditionalVersionWeights": {"$LATEST": 0.1}},
    )
    assert code == "ValidationException"
    assert message.startswith(
        "1 validation error detected: Value '{$LATEST=0.1}' at 'routingConfig.additionalVersionWeights' failed to "
        "satisfy constraint: Map keys must satisfy constraint"
    )
    assert published.get_alias(FunctionName="orders", Name="live")["FunctionVersion"] == "1"
    published.update_alias(FunctionName="orders", Name="live", FunctionVersion="$LATEST")  # unweighted: allowed


def test_publish_version_refuses_a_long_description_and_a_stale_code_sha(published: Any) -> None:
    code, message = error_of(published.publish_version, FunctionName="orders", Description="x" * 257)
    assert code == "ValidationException"
    assert message.endswith(
        "at 'description' failed to satisfy constraint: Member must have length less than or equal to 256"
    )
    published.update_function_code(FunctionName="orders", ZipFile=zip_source(NAME + "\n# v3\n"))
    code, message = error_of(published.publish_version, FunctionName="orders", CodeSha256="bm90IHRoZSBjb2Rl")
    assert code == "InvalidParameterValueException"
    assert message.startswith("CodeSHA256 (bm90IHRoZSBjb2Rl) is different from current CodeSHA256 in $LATEST")
    assert published.publish_version(FunctionName="orders", Description="y" * 256)["Version"] == "3"


USES_LAYER = """
import layer_only_module


def handler(event, context):
    return layer_only_module.GREETING
"""


def test_a_layers_python_folder_is_on_the_functions_path(aws: boto3.session.Session) -> None:
    """Lambda extracts a layer to /opt and puts /opt/python on the path: a module that only the layer
    carries imports. (The layer lookup once called a method moto's backend lacks, so no layer was
    mounted and functions imported the venv's copy instead.)"""
    content = zip_source('GREETING = "from the layer"\n', filename="python/layer_only_module.py")
    layer = aws.client("lambda").publish_layer_version(LayerName="greeting", Content={"ZipFile": content})
    create(aws, "layered", USES_LAYER, Layers=[layer["LayerVersionArn"]])
    raw, payload = invoke(aws, "layered")
    assert "FunctionError" not in raw, payload
    assert payload == "from the layer"
