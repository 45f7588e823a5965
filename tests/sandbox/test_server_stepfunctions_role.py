"""A state machine's tasks call AWS as its role, through ``make sandbox`` with the stock AWS CLI: a
task the role does not allow fails the execution with AWS's AccessDenied message, and the same task
succeeds once the role allows it.
https://docs.aws.amazon.com/step-functions/latest/dg/procedure-create-iam-role.html"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.server import ServerProcess
from tests.cli.helpers import Shell

STATES = {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [STATES]})
LIST_FUNCTIONS = json.dumps(
    {
        "StartAt": "List",
        "States": {"List": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:lambda:listFunctions", "End": True}},
    }
)
ALLOW_LIST = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "lambda:ListFunctions", "Resource": "*"}]}
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    log = tmp_path_factory.mktemp("sandbox") / "server.log"
    with ServerProcess(time_scale=50.0, log=log) as process:
        yield process


def run_to_its_end(shell: Shell, machine: str, name: str) -> dict:
    execution = shell.aws("stepfunctions", "start-execution", "--state-machine-arn", machine, "--name", name)
    arn = execution.json["executionArn"]
    deadline = time.monotonic() + 60  # a safety limit only
    while time.monotonic() < deadline:
        described = shell.aws("stepfunctions", "describe-execution", "--execution-arn", arn).json
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.2)
    raise AssertionError(f"{name} still RUNNING")


def test_the_stock_cli_sees_a_task_refused_what_its_state_machines_role_does_not_allow(
    server: ServerProcess, tmp_path: Path
) -> None:
    shell = Shell(server)
    role = shell.aws("iam", "create-role", "--role-name", "lister", "--assume-role-policy-document", TRUST)
    machine = shell.aws(
        "stepfunctions", "create-state-machine", "--name", "lister", "--definition", LIST_FUNCTIONS,
        "--role-arn", role.json["Role"]["Arn"],
    ).json["stateMachineArn"]  # fmt: skip

    refused = run_to_its_end(shell, machine, "before")
    assert refused["status"] == "FAILED", refused
    assert refused["error"] == "Lambda.LambdaException"
    assert "assumed-role/lister/" in refused["cause"]
    assert "not authorized to perform: lambda:ListFunctions" in refused["cause"]

    shell.aws(
        "iam", "put-role-policy", "--role-name", "lister", "--policy-name", "list", "--policy-document", ALLOW_LIST
    )
    allowed = run_to_its_end(shell, machine, "after")
    assert allowed["status"] == "SUCCEEDED", allowed
