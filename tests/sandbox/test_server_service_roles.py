"""AWS services call as the role they are given, through ``make sandbox`` with the stock AWS CLI:

- a state machine's task that its role does not allow fails the execution with AWS's AccessDenied
  message, and succeeds once the role allows it
  (https://docs.aws.amazon.com/step-functions/latest/dg/procedure-create-iam-role.html);
- a schedule whose role may not invoke its function does not invoke it; once the role may, it does
  (https://docs.aws.amazon.com/scheduler/latest/UserGuide/setting-up.html#setting-up-execution-role);
- a rule invokes a function only once the function's resource policy lets EventBridge invoke it
  for that rule
  (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-lambda-permissions)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.fixtures.targets import ROLE_POLICY, trust_policy, zip_source
from sandbox.server import ServerProcess
from tests.cli.helpers import Shell, aws_command
from tests.sandbox.conftest import wait_until

PRINTS_ITS_EVENT = "import json\ndef handler(event, context):\n    print(json.dumps(event))\n"
ALLOW_INVOKE = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "*"}]}
)
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

    def ended() -> dict | None:
        described = shell.aws("stepfunctions", "describe-execution", "--execution-arn", arn).json
        return described if described["status"] != "RUNNING" else None

    return wait_until(ended, timeout=60, what=f"execution {name} to end")


def test_the_stock_cli_sees_a_task_refused_what_its_state_machines_role_does_not_allow(
    server: ServerProcess, tmp_path: Path
) -> None:
    shell = Shell(server)
    role = shell.aws(
        "iam",
        "create-role",
        "--role-name",
        "lister",
        "--assume-role-policy-document",
        trust_policy("states.amazonaws.com"),
    )
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


def logged_events(shell: Shell, function: str) -> list[dict]:
    found = shell.run(
        [
            *aws_command(),
            "--endpoint-url",
            shell.server.aws_url,
            "--output",
            "json",
            "logs",
            "filter-log-events",
            "--log-group-name",
            f"/aws/lambda/{function}",
        ]  # fmt: skip
    )
    if found.code != 0:  # no log group: never invoked
        return []
    lines = [event["message"].strip() for event in json.loads(found.out)["events"]]
    return [json.loads(line) for line in lines if line.startswith("{")]


def event_printer(shell: Shell, tmp_path: Path, name: str) -> str:
    """A function that prints each event it gets; its ARN."""
    (tmp_path / "app.zip").write_bytes(zip_source(PRINTS_ITS_EVENT))
    execution_role = shell.aws("iam", "create-role", "--role-name", f"{name}-exec", "--assume-role-policy-document",
                               ROLE_POLICY).json["Role"]["Arn"]  # fmt: skip
    return shell.aws(
        "lambda", "create-function", "--function-name", name, "--runtime", "python3.13", "--handler",
        "app.handler", "--role", execution_role, "--zip-file", f"fileb://{tmp_path / 'app.zip'}",
    ).json["FunctionArn"]  # fmt: skip


def wait_for_events(shell: Shell, function: str, count: int = 1) -> list[dict]:
    """The events ``function`` logged, once there are at least ``count``."""

    def enough() -> list[dict] | None:
        found = logged_events(shell, function)
        return found if len(found) >= count else None

    return wait_until(enough, timeout=60, what=f"{count} events of {function}")


def test_the_stock_cli_sees_a_schedule_not_invoke_what_its_role_may_not(server: ServerProcess, tmp_path: Path) -> None:
    shell = Shell(server)
    function = event_printer(shell, tmp_path, "ticker")
    role = shell.aws(
        "iam", "create-role", "--role-name", "ticker-schedule", "--assume-role-policy-document",
        trust_policy("scheduler.amazonaws.com"),
    ).json["Role"]["Arn"]  # fmt: skip

    def schedule(name: str) -> None:
        """At a past instant: it fires at once, and is deleted once it has."""
        target = json.dumps({"Arn": function, "RoleArn": role, "Input": json.dumps({"schedule": name})})
        shell.aws("scheduler", "create-schedule", "--name", name, "--schedule-expression", "at(2020-01-01T00:00:00)",
                  "--flexible-time-window", '{"Mode": "OFF"}', "--action-after-completion", "DELETE",
                  "--target", target)  # fmt: skip
        get = [*aws_command(), "--endpoint-url", server.aws_url, "scheduler", "get-schedule", "--name", name]
        wait_until(lambda: "ResourceNotFoundException" in shell.run(get).err, timeout=60, what=f"{name} to fire")

    schedule("refused")
    shell.aws("iam", "put-role-policy", "--role-name", "ticker-schedule", "--policy-name", "invoke",
              "--policy-document", ALLOW_INVOKE)  # fmt: skip
    schedule("allowed")
    assert wait_for_events(shell, "ticker") == [{"schedule": "allowed"}]


def test_the_stock_cli_sees_a_rule_invoke_a_function_only_with_its_permission(
    server: ServerProcess, tmp_path: Path
) -> None:
    """Two rules send the same events to one function; only the one the function's policy names
    invokes it."""
    shell = Shell(server)
    function = event_printer(shell, tmp_path, "on-order")
    for name in ("unpermitted", "permitted"):
        rule = shell.aws("events", "put-rule", "--name", name, "--event-pattern", '{"source": ["orders"]}').json
        target = [{"Id": "f", "Arn": function, "Input": json.dumps({"rule": name})}]
        shell.aws("events", "put-targets", "--rule", name, "--targets", json.dumps(target))
    shell.aws("lambda", "add-permission", "--function-name", "on-order", "--statement-id", "events",
              "--action", "lambda:InvokeFunction", "--principal", "events.amazonaws.com",
              "--source-arn", rule["RuleArn"])  # fmt: skip
    entry = json.dumps([{"Source": "orders", "DetailType": "placed", "Detail": "{}"}])
    shell.aws("events", "put-events", "--entries", entry)
    assert wait_for_events(shell, "on-order") == [{"rule": "permitted"}]
    shell.aws("events", "put-events", "--entries", entry)  # once its delivery is in, the first one's is long done
    assert wait_for_events(shell, "on-order", count=2) == [{"rule": "permitted"}] * 2
