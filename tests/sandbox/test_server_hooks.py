"""Hooks through ``make sandbox``: the workflow's HookFunction invokes the hook over HTTP, on another
thread of the server, while its own invocation is still running. Driven by curl and the stock AWS CLI."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.fixtures.targets import Targets
from sandbox.server import ServerProcess, endpoint_session
from tests.cli.helpers import COMMAND_LIMIT, Shell, wait_until

FINAL = {"SUCCEEDED", "ROLLED_BACK", "FAILED", "ABORTED"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    log = tmp_path_factory.mktemp("sandbox") / "server.log"
    with ServerProcess(time_scale=50.0, log=log) as process:  # a 2 s bake lasts 40 ms
        yield process


def curl(server: ServerProcess, method: str, path: str, body: dict | None = None) -> dict:
    command = ["curl", "-sS", "-X", method, f"{server.api_url}{path}", "-H", "content-type: application/json"]
    if body is not None:
        command += ["--data", json.dumps(body)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=COMMAND_LIMIT, check=True)
    return json.loads(done.stdout)


def promote_with_hook(server: ServerProcess, function: str, hook: str) -> dict:
    started = curl(
        server,
        "POST",
        "/promotions",
        {
            "function": function,
            "alias": "live",
            "version": "2",
            "strategy": {"type": "canary", "weight": 0.1, "bake_seconds": 2},
            "hooks": {"pre_traffic": hook},
            "reason": "hook over HTTP",
        },
    )
    assert "id" in started, started
    # A safety net only: before the fix every hook ended FAILED States.Timeout after about 105 s.
    return wait_until(
        lambda: (view := curl(server, "GET", f"/promotions/{started['id']}"))["status"] in FINAL and view,
        "the promotion to end",
        limit=90,
    )


def live_version(shell: Shell, function: str) -> str:
    return shell.aws("lambda", "get-alias", "--function-name", function, "--name", "live").json["FunctionVersion"]


def test_a_passing_hook_promotes_and_a_failing_one_rolls_back(server: ServerProcess, tmp_path: Path) -> None:
    shell = Shell(server)
    targets = Targets(session=endpoint_session(server.aws_url))
    targets.function("orders")
    targets.function("payments")
    passing, failing = targets.hook("smoke-ok"), targets.hook("smoke-bad", passed=False)

    passed = promote_with_hook(server, "orders", passing)
    assert passed["status"] == "SUCCEEDED", passed
    assert live_version(shell, "orders") == "2"

    failed = promote_with_hook(server, "payments", failing)
    assert failed["status"] == "ROLLED_BACK", failed
    assert "pre_traffic hook smoke-bad" in failed["outcome_reason"]
    assert live_version(shell, "payments") == "1"

    out = tmp_path / "out.json"
    shell.aws("lambda", "invoke", "--function-name", failing, str(out))
    assert json.loads(out.read_text())["passed"] is False  # the hook itself answers, over the CLI
