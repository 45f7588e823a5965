"""Run the real ``aws`` and ``promoter`` commands as a user would, against a sandbox server."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sandbox.server import ServerProcess, client_environment, promoter_command

BIN = Path(sys.executable).parent
# A safety net so that a hung command fails the test instead of the whole run; not a timing check.
COMMAND_LIMIT = 300
TRUST_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)


def aws_command() -> list[str]:
    path = BIN / "aws"
    if not path.exists():
        pytest.fail(f"the AWS CLI is not installed in {BIN}: run make venv (requirements-dev.txt pins awscli)")
    return [str(path)]


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def json(self) -> Any:
        return json.loads(self.out)

    def __str__(self) -> str:
        return f"exit {self.code}\n--- stdout\n{self.out}\n--- stderr\n{self.err}"


class Shell:
    """A terminal with fake AWS credentials and PROMOTER_API set, as the sandbox banner suggests."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.env = client_environment() | {"PROMOTER_API": server.api_url}

    def run(self, command: list[str], env: dict[str, str] | None = None) -> Run:
        done = subprocess.run(
            command, capture_output=True, text=True, env=env or self.env, timeout=COMMAND_LIMIT, check=False
        )
        return Run(done.returncode, done.stdout, done.stderr)

    def aws(self, *args: str) -> Run:
        run = self.run([*aws_command(), "--endpoint-url", self.server.aws_url, "--output", "json", *args])
        assert run.code == 0, f"aws {' '.join(args)} failed:\n{run}"
        return run

    def promoter(self, *args: str, env: dict[str, str] | None = None) -> Run:
        return self.run([*promoter_command(), *args], env=env)

    def promoter_background(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [*promoter_command(), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env or self.env,
        )


INVOKE_API = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"}]}
)


def iam_user_env(shell: Shell, name: str, iam: Any) -> tuple[dict[str, str], str]:
    """A sandbox IAM user allowed to call the API, and a terminal signed in as it (its keys in the
    environment). The sandbox's API Gateway verifies its signatures and records its ARN as the actor."""
    user = iam.create_user(UserName=name)["User"]
    iam.put_user_policy(UserName=name, PolicyName="invoke-api", PolicyDocument=INVOKE_API)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    env = shell.env | {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}
    env.pop("AWS_SESSION_TOKEN", None)  # long-term user keys have none
    return env, str(user["Arn"])


def handler_zip(path: Path, source: str) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    path.write_bytes(buffer.getvalue())
    return path


def wait_until(condition: Callable[[], Any], what: str, limit: float = COMMAND_LIMIT) -> Any:
    """Poll ``condition`` until it is truthy (a safety limit only, not a timing assertion)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"never happened: {what}")
