"""The sandbox a person can drive: a local AWS endpoint and the control-plane API, until Ctrl-C.

    python -m sandbox.server [--aws-port 4566] [--api-port 8080] [--time-scale 1]

- ``http://127.0.0.1:4566`` is moto (``ThreadedMotoServer``) running in this process, started the
  way ``Sandbox`` starts ``mock_aws`` (``sandbox.core.start_local_aws``), so the patches of
  sandbox/install.py apply: a Python zip runs when invoked, aliases keep RevisionIds,
  state machines execute. Use it from any AWS SDK or ``aws --endpoint-url``.
- template.yaml is deployed into it, as ``sam deploy`` would (sandbox/deploy.py).
- ``http://127.0.0.1:8080`` serves the API routes (``promoter.api.build_app``) through Powertools'
  ``HttpResolverLocal`` under uvicorn, behind the sandbox's API Gateway (sandbox/server/api_gateway.py):
  a request SigV4-signed with the keys of a sandbox IAM user or role session is verified and
  recorded with that caller's ARN as the actor (AWS_IAM); unsigned requests, and keys the sandbox
  does not know (``testing``), are served with the actor ``local``. Bodies over 10 MB are a 413,
  and a request not answered within 29 s is a 504, as on API Gateway.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path
from typing import IO, Any

from ..core import FAKE_CREDENTIALS, FUNCTION_ENV, start_local_aws, stop_local_aws

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_AWS_PORT = 4566
DEFAULT_API_PORT = 8080
READY_LINE = "sandbox ready"
API_FUNCTION = "ApiFunction"  # logical id of the API's function in template.yaml
# What the API reads from its environment (promoter.settings), and the stack outputs that give it.
OUTPUT_SETTINGS = {
    "PromotionsTableName": "PROMOTIONS_TABLE",
    "StateMachineArn": "STATE_MACHINE_ARN",
    "EventBusName": "EVENT_BUS_NAME",
    "IdempotencyTableName": "IDEMPOTENCY_TABLE",
    "ScheduleGroupName": "SCHEDULER_GROUP",
    "SchedulerRoleArn": "SCHEDULER_ROLE_ARN",
    "TriggerFunctionArn": "TRIGGER_FUNCTION_ARN",
}
API_SETTINGS = tuple(OUTPUT_SETTINGS.values())  # printed last at start-up; tests and scripts may wait for it


class PortInUse(RuntimeError):
    pass


def ensure_free(host: str, port: int, what: str, option: str) -> None:
    """Fail early and clearly: moto's server thread would otherwise hang on a taken port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do: TIME_WAIT is fine
        try:
            probe.bind((host, port))
            probe.listen(1)
        except OSError as error:
            raise PortInUse(
                f"{what} port {host}:{port} is taken ({error.strerror}); is another sandbox running? "
                f"Choose another with {option}."
            ) from None


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now (for tests, the demo and benchmarks)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class SandboxServer:
    """moto server + template.yaml deployed + the API under uvicorn, all in this process."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        aws_port: int = DEFAULT_AWS_PORT,
        api_port: int = DEFAULT_API_PORT,
        time_scale: float = 1.0,
        region: str = "us-east-1",
        stack_name: str = "lambda-promoter",
        access_log: bool = False,
        template: Path | None = None,
    ) -> None:
        self.template = template or ROOT / "template.yaml"
        self.host = host
        self.aws_port = aws_port
        self.api_port = api_port
        self.time_scale = time_scale
        self.region = region
        self.stack_name = stack_name
        self.access_log = access_log
        self.outputs: dict[str, str] = {}
        self._moto: Any = None
        self._uvicorn: Any = None
        self._thread: threading.Thread | None = None

    @property
    def aws_url(self) -> str:
        return f"http://{self.host}:{self.aws_port}"

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.api_port}"

    # --- start-up ---------------------------------------------------------------------------------
    def environment(self) -> dict[str, str]:
        """What this process and every sandboxed function see: fake credentials, the endpoint."""
        return FAKE_CREDENTIALS | {
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "AWS_ENDPOINT_URL": self.aws_url,
            "MOTO_PORT": str(self.aws_port),
        }

    def start_aws(self) -> None:
        """moto in this process (so the patches apply), with executing state machines, and the stack."""
        from moto.core.config import default_user_config
        from moto.server import ThreadedMotoServer

        ensure_free(self.host, self.aws_port, "AWS endpoint", "--aws-port")
        ensure_free(self.host, self.api_port, "API", "--api-port")
        if not self.access_log:  # keep the terminal for the banner: no per-request or translator chatter
            logging.getLogger("werkzeug").setLevel(logging.WARNING)
            logging.getLogger("samtranslator").setLevel(logging.ERROR)
            logging.getLogger("moto").setLevel(logging.ERROR)
            warnings.filterwarnings("ignore", message="Tried to parse", category=UserWarning)
        os.environ.pop("AWS_PROFILE", None)  # never reach a real account from here
        os.environ.update(self.environment() | FUNCTION_ENV)
        default_user_config["stepfunctions"] = {"execute_state_machine": True}
        self._moto = ThreadedMotoServer(ip_address=self.host, port=self.aws_port, verbose=False)
        self.outputs = start_local_aws(
            self._moto,
            time_scale=self.time_scale,
            function_env=FUNCTION_ENV | self.environment(),
            stack_name=self.stack_name,
            region=self.region,
            template=self.template,
        )
        os.environ.update(self.api_settings())

    def api_settings(self) -> dict[str, str]:
        """The API's settings (tables, state machine...), as the deployed API function has them.

        Taken from the environment of the stack's ``ApiFunction`` when there is one, so that the
        local API runs with the wiring of template.yaml; stack outputs fill in the rest.
        """
        import boto3

        settings = {env: self.outputs[key] for key, env in OUTPUT_SETTINGS.items() if self.outputs.get(key)}
        session = boto3.session.Session(region_name=self.region)
        resources = session.client("cloudformation").describe_stack_resources(StackName=self.stack_name)
        for resource in resources["StackResources"]:
            if resource.get("LogicalResourceId") == API_FUNCTION and resource.get("PhysicalResourceId"):
                config = session.client("lambda").get_function_configuration(
                    FunctionName=resource["PhysicalResourceId"]
                )
                variables = (config.get("Environment") or {}).get("Variables") or {}
                settings |= {k: str(v) for k, v in variables.items() if k in API_SETTINGS}
        return settings

    def api_app(self) -> Any:
        """The API's routes on Powertools' local HTTP resolver (an ASGI app), behind API Gateway."""
        from aws_lambda_powertools.event_handler import HttpResolverLocal

        from promoter.api import build_app

        from .api_gateway import ApiGateway

        return ApiGateway(build_app(HttpResolverLocal(enable_validation=True)))

    def _uvicorn_server(self) -> Any:
        import uvicorn

        config = uvicorn.Config(
            self.api_app(),
            host=self.host,
            port=self.api_port,
            log_level="info" if self.access_log else "warning",
            access_log=self.access_log,
            lifespan="off",
        )
        return uvicorn.Server(config)

    # --- running ----------------------------------------------------------------------------------
    def serve_forever(self) -> None:
        """Start everything and serve the API in this thread until Ctrl-C (or SIGTERM)."""
        self.start_aws()
        self._uvicorn = self._uvicorn_server()
        announcer = threading.Thread(target=self._announce_when_up, daemon=True)
        announcer.start()
        try:
            self._uvicorn.run()
        finally:
            self.stop_aws()

    def start(self) -> SandboxServer:
        """Start everything in background threads (for in-process use); ``stop()`` ends it."""
        self.start_aws()
        self._uvicorn = self._uvicorn_server()
        self._thread = threading.Thread(target=self._uvicorn.run, daemon=True, name="promoter-api")
        self._thread.start()
        self._wait_for_api()
        return self

    def stop(self) -> None:
        if self._uvicorn is not None:
            self._uvicorn.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.stop_aws()

    def stop_aws(self) -> None:
        stop_local_aws(self._moto)  # threads first: nothing may fire into a stopped server
        self._moto = None

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def _wait_for_api(self, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._uvicorn is not None and self._uvicorn.started:
                return True
            time.sleep(0.02)
        return False

    def _announce_when_up(self) -> None:
        if self._wait_for_api():
            print(banner(self), flush=True)
            print(READY_LINE, flush=True)


def banner(server: SandboxServer) -> str:
    aws, api = server.aws_url, server.api_url
    scale = f"{server.time_scale:g}"
    pace = "real time" if scale == "1" else f"time scale {scale}: waits, retries and bakes go {scale}x faster"
    account = "123456789012"  # moto's default account
    zip_v1 = 'printf \'def handler(event, context):\\n    return {"build": "v1"}\\n\' > app.py'
    zip_v2 = 'printf \'def handler(event, context):\\n    return {"build": "v2"}\\n\' > app.py'
    trust = (
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
        '"Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
    )
    return f"""
lambda-promoter sandbox ({pace})

  AWS endpoint   {aws}   any AWS SDK, or: aws --endpoint-url {aws} ...
  promoter API   {api}   promoter --api {api} ...   (signed by a sandbox IAM user: actor = its ARN;
                 unsigned or "testing" keys: actor "local")
  stack          {server.stack_name}: table {server.outputs.get("PromotionsTableName")}
                 state machine {server.outputs.get("StateMachineArn")}

Example session, in another terminal (Ctrl-C here stops the sandbox):

  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION={server.region}
  export PROMOTER_API={api}
  E="--endpoint-url {aws}"

  # a function with two published versions, an alias and an alarm
  aws $E iam create-role --role-name hello-role --assume-role-policy-document '{trust}'
  {zip_v1} && python -m zipfile -c v1.zip app.py
  aws $E lambda create-function --function-name hello --runtime python3.13 --handler app.handler \\
      --role arn:aws:iam::{account}:role/hello-role --zip-file fileb://v1.zip --tags promoter:managed=true
  aws $E lambda publish-version --function-name hello
  aws $E lambda create-alias --function-name hello --name live --function-version 1
  {zip_v2} && python -m zipfile -c v2.zip app.py
  aws $E lambda update-function-code --function-name hello --zip-file fileb://v2.zip
  aws $E lambda publish-version --function-name hello
  aws $E cloudwatch put-metric-alarm --alarm-name hello-errors --namespace AWS/Lambda \\
      --metric-name Errors --statistic Sum --period 60 --evaluation-periods 1 --threshold 1 \\
      --comparison-operator GreaterThanOrEqualToThreshold --treat-missing-data notBreaching \\
      --dimensions Name=FunctionName,Value=hello
  aws $E lambda invoke --function-name hello:live out.json && cat out.json

  # promote version 2 onto live: 10% for a 60 s bake, then 100%
  promoter start hello live --version 2 --weight 0.1 --bake-seconds 60 --alarm hello-errors
  promoter watch <ID>                 # exits 0 on SUCCEEDED
  promoter inventory hello
  promoter list
  promoter dashboard                  # the same in a browser: http://127.0.0.1:3100/

  # to see a rollback: start another promotion, then during its bake
  aws $E cloudwatch set-alarm-state --alarm-name hello-errors --state-value ALARM --state-reason test
"""


# --- for scripts, tests and benchmarks: the server as a child process ---------------------------------


def client_environment(region: str = "us-east-1") -> dict[str, str]:
    """Environment for AWS CLI / promoter processes that talk to the sandbox (fake credentials)."""
    dropped = {"AWS_PROFILE", "AWS_ENDPOINT_URL", "PROMOTER_API"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    # This checkout's code first (promoter_cli, sandbox, the layer's promoter), as pytest's pythonpath
    # has it: a venv shared by several checkouts (git worktrees) has an editable install of one of
    # them, which the server and the CLI would otherwise import.
    mine = (str(ROOT), str(ROOT / "layers" / "promoter"), env.get("PYTHONPATH", ""))
    path = os.pathsep.join(p for p in mine if p)
    return env | FAKE_CREDENTIALS | {"AWS_DEFAULT_REGION": region, "NO_COLOR": "1", "PYTHONPATH": path}


def promoter_command() -> list[str]:
    """The installed ``promoter`` console script next to this Python, else ``python -m promoter_cli``."""
    script = Path(sys.executable).parent / "promoter"
    return [str(script)] if script.exists() else [sys.executable, "-m", "promoter_cli"]


def endpoint_session(aws_url: str, region: str = "us-east-1") -> Any:
    """A boto3-session look-alike whose clients all talk to the sandbox at ``aws_url``."""
    import boto3

    class _Session:
        def __init__(self) -> None:
            self._session = boto3.session.Session(
                aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                region_name=region,
            )
            self.region_name = region

        def client(self, service: str, **kwargs: Any) -> Any:
            return self._session.client(service, endpoint_url=aws_url, **kwargs)  # type: ignore[call-overload]  # any service by name; boto3-stubs' overloads want a literal

    return _Session()


class ServerProcess:
    """``python -m sandbox.server`` as a child process on free ports; ``stop()`` sends Ctrl-C."""

    def __init__(
        self,
        *,
        time_scale: float = 1.0,
        aws_port: int | None = None,
        api_port: int | None = None,
        log: Path | None = None,
        python: str = sys.executable,
        template: Path | None = None,
    ) -> None:
        self.template = template
        self.time_scale = time_scale
        self.aws_port = aws_port or free_port()
        self.api_port = api_port or free_port()
        self.log_path = log or Path(tempfile.gettempdir()) / f"promoter-sandbox-{self.api_port}.log"
        self.python = python
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def aws_url(self) -> str:
        return f"http://127.0.0.1:{self.aws_port}"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def start(self, timeout: float = 120.0) -> ServerProcess:
        command = [
            self.python, "-m", "sandbox.server",
            "--aws-port", str(self.aws_port), "--api-port", str(self.api_port),
            "--time-scale", str(self.time_scale),
        ] + (["--template", str(self.template)] if self.template else [])  # fmt: skip
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT, env=client_environment()
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if READY_LINE in self.log():
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the sandbox server did not start; its output:\n{self.log()[-4000:]}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.server",
        description="Local AWS (moto, patched) with lambda-promoter deployed from template.yaml, and "
        "the control-plane API. Runs until Ctrl-C.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument(
        "--aws-port",
        type=int,
        default=DEFAULT_AWS_PORT,
        help=f"AWS endpoint port (default: {DEFAULT_AWS_PORT})",
    )
    parser.add_argument(
        "--api-port", type=int, default=DEFAULT_API_PORT, help=f"API port (default: {DEFAULT_API_PORT})"
    )
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="run Wait states, retries and bakes this many times faster (default: 1)",
    )
    parser.add_argument("--region", default="us-east-1", help="the sandbox's region (default: us-east-1)")
    parser.add_argument("--stack-name", default="lambda-promoter", help="name of the deployed stack")
    parser.add_argument("--access-log", action="store_true", help="log every API request")
    parser.add_argument(
        "--template",
        type=Path,
        default=ROOT / "template.yaml",
        help="SAM template to deploy (default: template.yaml)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.time_scale <= 0:
        print("sandbox: --time-scale must be greater than 0", file=sys.stderr)
        return 2
    server = SandboxServer(
        host=args.host,
        aws_port=args.aws_port,
        api_port=args.api_port,
        time_scale=args.time_scale,
        region=args.region,
        stack_name=args.stack_name,
        access_log=args.access_log,
        template=args.template,
    )
    print(f"Starting the sandbox: moto on {server.aws_url}, deploying template.yaml ...", flush=True)
    try:
        server.serve_forever()
    except PortInUse as error:
        print(f"sandbox: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    print("sandbox stopped", flush=True)
    return 0
