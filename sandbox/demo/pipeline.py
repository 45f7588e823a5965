"""``make demo``, story 3: one artifact through a two-account pipeline, told through the CLI.

dev and staging are aliases of ``checkout`` in the control plane's account A; prod is its own
``checkout`` function in account B (its own role, environment variables and memory), reached
through the role that templates/target-account.yaml creates there. Version 2 goes dev -> staging
-> prod; prod ends on a new version of its own function with the same CodeSha256, and its
configuration untouched. Run alone: ``python -m sandbox.demo.pipeline``.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ..fixtures.accounts import AccountSession, deploy_target_account
from ..fixtures.targets import MANAGED_TAGS, ROLE_POLICY, SAMPLE_HANDLER, Targets, zip_source
from ..server import ServerProcess, client_environment, endpoint_session, promoter_command

ACCOUNT_A, ACCOUNT_B = "123456789012", "222222222222"
EXTERNAL_ID = "checkout-prod-51c0"
FUNCTION = "checkout"
PROD_ENV = {"TABLE": "checkout-prod", "STAGE": "prod"}
PIPELINE = f"""\
name: checkout
description: dev and staging are aliases in account {ACCOUNT_A}; prod is its own function in {ACCOUNT_B}
allow_override: false
environments:
  - name: dev
    function: {FUNCTION}
    alias: dev
    strategy: {{ type: all-at-once }}
  - name: staging
    function: {FUNCTION}
    alias: staging
    strategy: {{ type: canary, weight: 0.25, bake_seconds: 30 }}
  - name: prod
    function: {FUNCTION}
    alias: live
    role_arn: arn:aws:iam::{ACCOUNT_B}:role/lambda-promoter-target
    external_id: {EXTERNAL_ID}
    strategy:
      steps: [{{ weight: 0.1, bake_seconds: 30 }}, {{ weight: 0.5, bake_seconds: 30 }}, {{ weight: 1 }}]
    protected: true
"""


class PipelineStory:
    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.env = client_environment() | {"PROMOTER_API": server.api_url}
        self.a = Targets(session=endpoint_session(server.aws_url))
        self.b_session = AccountSession(ACCOUNT_B, endpoint_url=server.aws_url)
        self.b = Targets(session=self.b_session)  # type: ignore[arg-type]

    @staticmethod
    def say(text: str = "") -> None:
        print(text, flush=True)

    def promoter(self, *args: str, capture: bool = True) -> subprocess.CompletedProcess[str]:
        self.say(f"$ promoter {shlex.join(args)}")
        done = subprocess.run(
            [*promoter_command(), *args], env=self.env, text=True, check=False,
            stdout=subprocess.PIPE if capture else None, stderr=subprocess.PIPE if capture else None,
        )  # fmt: skip
        if capture:
            sys.stdout.write(done.stdout + done.stderr)
            sys.stdout.flush()
        return done

    def setup(self, folder: Path) -> Path:
        self.say()
        self.say("=== Story 3: one artifact through a two-account pipeline " + "=" * 20)
        self.a.function(FUNCTION, builds=("v1", "v2", "v3"), alias="dev")
        self.a.lambdas.create_alias(FunctionName=FUNCTION, Name="staging", FunctionVersion="1")
        self.say(f"account A {ACCOUNT_A} (the control plane's): {FUNCTION} versions 1-3, aliases dev and staging -> 1")
        outputs = deploy_target_account(self.b_session, control_plane_account=ACCOUNT_A, external_id=EXTERNAL_ID)
        role = self.b.iam.create_role(RoleName=f"{FUNCTION}-prod-exec", AssumeRolePolicyDocument=ROLE_POLICY)
        self.b.lambdas.create_function(
            FunctionName=FUNCTION, Runtime="python3.13", Role=role["Role"]["Arn"], Handler="app.handler",
            Code={"ZipFile": zip_source(SAMPLE_HANDLER.format(build="prod-v1", fail=False))},
            Environment={"Variables": PROD_ENV}, MemorySize=1024, Tags=MANAGED_TAGS, Architectures=["arm64"],
        )  # fmt: skip
        self.b.lambdas.publish_version(FunctionName=FUNCTION)
        self.b.lambdas.create_alias(FunctionName=FUNCTION, Name="live", FunctionVersion="1")
        self.say(
            f"account B {ACCOUNT_B}: templates/target-account.yaml deployed (role {outputs['RoleArn']}, "
            f"external id, alarm forwarding); {FUNCTION} with its own role, {PROD_ENV}, 1024 MB; live -> 1"
        )
        path = folder / "checkout.yaml"
        path.write_text(PIPELINE)
        self.say(f"\n{path}:\n{PIPELINE}")
        return path

    def run(self, folder: Path) -> bool:
        path = self.setup(folder)
        steps = [
            self.promoter("pipeline", "apply", str(path)).returncode == 0,
            self.promoter("promote", "checkout", "--to", "dev", "--version", "2", "--watch", "--interval", "0.25",
                          capture=False).returncode == 0,
            self.promoter("promote", "checkout", "--to", "staging", "--watch", "--interval", "0.25",
                          capture=False).returncode == 0,
        ]  # fmt: skip
        self.say("(a guard: prod takes what staging runs; asking for version 3 is refused)")
        steps.append(self.promoter("promote", "checkout", "--to", "prod", "--version", "3").returncode == 2)
        started = self.promoter("promote", "checkout", "--to", "prod", "--reason", "release 2026.11.23")
        promotion_id = _promotion_id(started.stdout)
        steps.append(started.returncode == 0 and promotion_id is not None)
        if promotion_id:
            self._until_status(promotion_id, "AWAITING_APPROVAL")
            self.say("(prod is protected: it waits for an approval)")
            steps.append(self.promoter("approve", promotion_id, "--reason", "reviewed").returncode == 0)
            steps.append(self.promoter("watch", promotion_id, "--interval", "0.25", capture=False).returncode == 0)
        steps.append(self.promoter("pipeline", "show", "checkout").returncode == 0)
        steps.append(self.proof())
        return all(steps)

    def proof(self) -> bool:
        dev = self.a.lambdas.get_function_configuration(FunctionName=FUNCTION, Qualifier="2")
        live = self.b.lambdas.get_alias(FunctionName=FUNCTION, Name="live")["FunctionVersion"]
        prod = self.b.lambdas.get_function_configuration(FunctionName=FUNCTION, Qualifier=live)
        self.say(f"\nGetFunctionConfiguration {FUNCTION}:2 in A    CodeSha256 {dev['CodeSha256']}")
        self.say(f"GetFunctionConfiguration {FUNCTION}:{live} in B    CodeSha256 {prod['CodeSha256']} (live -> {live})")
        self.say(
            f"prod kept its configuration: role {prod['Role'].split('/')[-1]}, "
            f"environment {prod['Environment']['Variables']}, {prod['MemorySize']} MB"
        )
        return dev["CodeSha256"] == prod["CodeSha256"] and prod["Environment"]["Variables"] == PROD_ENV

    def _until_status(self, promotion_id: str, status: str, limit: float = 60.0) -> None:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline and self._status(promotion_id) != status:
            time.sleep(0.1)

    def _status(self, promotion_id: str) -> Any:
        done = subprocess.run(
            [*promoter_command(), "status", promotion_id, "--json"], env=self.env, text=True, capture_output=True
        )
        return json.loads(done.stdout).get("status") if done.returncode == 0 else None


def _promotion_id(text: str) -> str | None:
    match = re.search(r"p-\d{8}T\d{6}-[0-9a-f]{8}", text)
    return match.group(0) if match else None


def story(server: ServerProcess) -> bool:
    """Tell story 3 on a running sandbox server; True when it went as told."""
    with tempfile.TemporaryDirectory(prefix="promoter-demo-") as folder:
        ok = PipelineStory(server).run(Path(folder))
    print(f"\nStory 3 {'went as told' if ok else 'did not go as told'}: dev -> staging -> prod across two accounts")
    return ok


def main() -> int:
    print("Starting the sandbox server (time scale 30) ...", flush=True)
    with ServerProcess(time_scale=30.0) as server:
        return 0 if story(server) else 1


if __name__ == "__main__":
    sys.exit(main())
