"""Several accounts in one sandbox, and the artifact hand-over between functions (pipelines).

moto keeps one backend per account id. A session with credentials from ``sts:AssumeRole`` of a
role ARN in account B talks to account B's backends: that is how the control plane's real
handlers reach a target account, through the role of templates/target-account.yaml.

Patches (moto 5.2.5, applied once by ``apply()``, called from ``patches.apply()``):

- ``LambdaFunction.get_code``: moto answers GetFunction with ``Code.Location`` =
  ``https://awslambda-<region>-tasks.s3...`` that nothing serves. As in AWS, the sandbox answers a
  short-lived URL (10 minutes) that a plain HTTP GET without credentials fetches: a small HTTP
  server on 127.0.0.1 in this process serves the version's zip. Works in ``mock_aws`` and in
  server mode (``python -m sandbox.server``), from boto3, ``aws lambda get-function`` or curl.
- ``LambdaFunction._set_function_code``: with moto's ECR stub, an image function's CodeSha256 is
  the SHA-256 of the ImageUri *string*. An ImageUri pinned by digest (``repo@sha256:<hex>``) now
  gets ``<hex>`` as CodeSha256, as in AWS (an image function's CodeSha256 is its digest), so the
  same image gives the same CodeSha256 in two functions.
- ``events.models.Rule.send_to_targets``: a target that is an event bus in another account or
  region gets the event as AWS forwards it: same ``id``, ``account`` (the source account),
  ``time``, ``resources`` and ``detail``. moto re-puts it as a new event of the receiving
  account and drops ``resources``, so a listener could not tell where an alarm came from.

Not modelled, and not enforced by moto either (say so wherever it matters):

- IAM. moto's STS answers AssumeRole for any role ARN, existing or not: the trust policy, its
  principal and its ``sts:ExternalId`` condition are not evaluated, and the assumed session may
  call anything in the account (no identity policy, no ``aws:ResourceTag`` ABAC condition, no
  permission boundary). moto's opt-in IAM check (``INITIAL_NO_AUTH_ACTION_COUNT``) is off here
  and would not evaluate Conditions or resource policies anyway.
- Resource policies: the receiving bus's policy (``events:PutEvents`` from the target account),
  a layer version's permission for another account, an ECR repository policy for a cross-account
  image. The sandbox delivers, reads and pulls without them.
"""

from __future__ import annotations

import copy
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET_TEMPLATE = ROOT / "templates" / "target-account.yaml"
URL_SECONDS = 600  # GetFunction's Code.Location is valid for 10 minutes in AWS
_LOCK = threading.Lock()
_applied = False


# --- Code.Location: a URL that serves the zip -----------------------------------------------------
class CodeServer:
    """Serves function zips at ``/lambda-code/<sha256 hex>?expires=<epoch>`` on 127.0.0.1."""

    def __init__(self) -> None:
        self._blobs: dict[str, bytes] = {}
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    def url_for(self, code: bytes, digest: str) -> str:
        with self._lock:
            self._blobs[digest] = code
            if self._server is None:
                self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
                self._server.daemon_threads = True
                threading.Thread(target=self._server.serve_forever, daemon=True, name="sandbox-code-urls").start()
            port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}/lambda-code/{digest}?expires={int(time.time()) + URL_SECONDS}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        blobs = self._blobs

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                path, _, query = self.path.partition("?")
                digest = path.rsplit("/", 1)[-1]
                expires = dict(p.partition("=")[::2] for p in query.split("&") if p).get("expires", "0")
                if not expires.isdigit() or int(expires) < time.time():
                    self._answer(403, b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>")
                elif digest not in blobs:
                    self._answer(404, b"<Error><Code>NoSuchKey</Code></Error>")
                else:
                    self._answer(200, blobs[digest], "application/zip")

            def _answer(self, status: int, body: bytes, kind: str = "application/xml") -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:  # quiet
                pass

        return Handler


CODE_SERVER = CodeServer()


def _patch_code_location() -> None:
    import hashlib

    from moto.awslambda import models as lambda_models

    original = lambda_models.LambdaFunction.get_code

    def get_code(self: Any) -> dict[str, Any]:
        answer = original(self)
        code = getattr(self, "code_bytes", b"")
        if "Location" in answer.get("Code", {}) and code:
            answer["Code"]["Location"] = CODE_SERVER.url_for(code, hashlib.sha256(code).hexdigest())
        return answer

    lambda_models.LambdaFunction.get_code = get_code


def _patch_image_digests() -> None:
    from moto import settings
    from moto.awslambda import models as lambda_models

    original = lambda_models.LambdaFunction._set_function_code

    def set_function_code(self: Any, updated_spec: dict[str, Any]) -> None:
        original(self, updated_spec)
        uri = updated_spec.get("ImageUri") or ""
        if settings.lambda_stub_ecr() and "@sha256:" in uri and not updated_spec.get("DryRun"):
            self.code_sha_256 = uri.split("@sha256:", 1)[1]

    lambda_models.LambdaFunction._set_function_code = set_function_code


# --- EventBridge: forwarding to a bus in another account keeps the event --------------------------
def _other_bus(target: dict[str, Any], account: str, region: str) -> tuple[str, str, str] | None:
    parts = str(target.get("Arn", "")).split(":")
    is_bus = len(parts) == 6 and parts[2] == "events" and parts[5].startswith("event-bus/")
    if is_bus and (parts[4], parts[3]) != (account, region):
        return parts[4], parts[3], parts[5].split("/", 1)[1]
    return None


def _patch_bus_forwarding() -> None:
    from moto.core.utils import unix_time
    from moto.events import models as events_models

    previous = events_models.Rule.send_to_targets  # sandbox/eventbus.py's version

    def send_to_targets(self: Any, original_event: dict[str, Any], transform_input: bool = True) -> None:
        forwarded = [t for t in self.targets if _other_bus(t, self.account_id, self.region_name)]
        if not forwarded:
            return previous(self, original_event, transform_input)
        if self.state != "DISABLED" and self.event_pattern.matches_event(original_event):
            for target in forwarded:
                account, region, bus_name = _other_bus(target, self.account_id, self.region_name)  # type: ignore[misc]
                bus = events_models.events_backends[account][region].event_buses.get(bus_name)
                if bus is None:
                    continue  # AWS drops it too (and counts a failed invocation)
                event = copy.deepcopy(original_event)
                event["ingestion-time"] = unix_time()
                for rule in list(bus.rules.values()):
                    rule.send_to_targets(event)
        rest = [t for t in self.targets if t not in forwarded]
        if rest:
            view = copy.copy(self)
            view.targets = rest
            previous(view, original_event, transform_input)

    events_models.Rule.send_to_targets = send_to_targets


def apply() -> None:
    """Install the patches above (once per process)."""
    global _applied
    with _LOCK:
        if _applied:
            return
        _patch_code_location()
        _patch_image_digests()
        _patch_bus_forwarding()
        _applied = True


# --- for tests and the demo: sessions in other accounts, the target-account template --------------
class AccountSession:
    """A boto3-session look-alike in ``account_id``: credentials from AssumeRole of a role there
    (moto switches account by the credentials), clients on ``endpoint_url`` when given."""

    def __init__(self, account_id: str, region: str = "us-east-1", endpoint_url: str | None = None) -> None:
        import boto3

        self.account_id = account_id
        self.region_name = region
        self.endpoint_url = endpoint_url
        sts = boto3.client(
            "sts",
            region_name=region,
            endpoint_url=endpoint_url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        credentials = sts.assume_role(
            RoleArn=f"arn:aws:iam::{account_id}:role/sandbox-administrator", RoleSessionName="sandbox"
        )["Credentials"]
        self._session = boto3.session.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name=region,
        )

    def client(self, service: str, **kwargs: Any) -> Any:
        if self.endpoint_url:
            kwargs.setdefault("endpoint_url", self.endpoint_url)
        return self._session.client(service, **kwargs)


def deploy_target_account(
    session: Any,
    *,
    control_plane_account: str,
    external_id: str,
    stack_name: str = "lambda-promoter-target",
    template: Path = TARGET_TEMPLATE,
) -> dict[str, str]:
    """Deploy templates/target-account.yaml into the session's account; returns its outputs."""
    cloudformation = session.client("cloudformation")
    cloudformation.create_stack(
        StackName=stack_name,
        TemplateBody=template.read_text(),
        Parameters=[
            {"ParameterKey": "ControlPlaneAccountId", "ParameterValue": control_plane_account},
            {"ParameterKey": "ExternalId", "ParameterValue": external_id},
        ],
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    if stack["StackStatus"] != "CREATE_COMPLETE":
        raise RuntimeError(f"target account stack {stack_name} is {stack['StackStatus']}")
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
