"""The CLI's own plumbing, without a sandbox: SigV4 signing, where the endpoint comes from, and
how API errors become messages and exit codes. A small recording HTTP server stands in for the
network (it checks what the CLI sends; it is not an implementation of the API)."""

import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
from moto import mock_aws

from promoter_cli.client import region_of
from promoter_cli.main import run


class Recorder:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.answer: tuple[int, dict] = (200, {"items": [], "next_token": None})
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                recorder.requests.append(
                    {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
                )
                status, payload = recorder.answer
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _serve

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def api() -> Iterator[Recorder]:
    recorder = Recorder()
    thread = threading.Thread(target=recorder.server.serve_forever, daemon=True)
    thread.start()
    yield recorder
    recorder.server.shutdown()
    recorder.server.server_close()


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PROMOTER_API", "PROMOTER_STACK", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "session-token")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_every_call_is_sigv4_signed_for_execute_api(api):
    code, _, err = cli("--api", api.url, "list", "--function", "orders")
    assert code == 0, err
    (request,) = api.requests
    assert request["path"] == "/promotions?function=orders"
    auth = request["headers"]["Authorization"]
    assert auth.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-1/execute-api/aws4_request" in auth
    assert "SignedHeaders=" in auth and "Signature=" in auth
    assert request["headers"]["X-Amz-Security-Token"] == "session-token"
    assert "X-Amz-Date" in request["headers"]


def test_the_body_of_start_is_what_the_options_say(api):
    api.answer = (202, {"id": "p-1", "status": "PENDING"})
    code, out, err = cli(
        "--api", api.url, "start", "orders", "live", "--version", "7",
        "--weight", "0.05", "--bake-seconds", "60", "--alarm", "a1", "--alarm", "a2",
        "--pre-traffic", "hook", "--approval", "--reason", "why", "--idempotency-key", "k-1",
    )  # fmt: skip
    assert code == 0, err
    assert "p-1" in out
    (request,) = api.requests
    assert request["method"] == "POST" and request["path"] == "/promotions"
    assert request["headers"]["Idempotency-Key"] == "k-1"
    assert json.loads(request["body"]) == {
        "function": "orders",
        "alias": "live",
        "version": "7",
        "strategy": {"type": "canary", "weight": 0.05, "bake_seconds": 60},
        "alarms": ["a1", "a2"],
        "hooks": {"pre_traffic": "hook"},
        "approval": True,
        "reason": "why",
    }


def test_custom_steps_and_signals_with_reasons(api):
    api.answer = (202, {"id": "p-1", "status": "RUNNING"})
    assert cli("--api", api.url, "start", "f", "live", "--publish", "--steps", "0.1:30,0.5,1")[0] == 0
    assert json.loads(api.requests[0]["body"])["strategy"] == {
        "steps": [
            {"weight": 0.1, "bake_seconds": 30},
            {"weight": 0.5, "bake_seconds": 0},
            {"weight": 1.0, "bake_seconds": 0},
        ]
    }
    assert json.loads(api.requests[0]["body"])["publish"] is True
    api.answer = (202, {"id": "p-1", "status": "RUNNING", "signal": "promote_now"})
    code, out, _ = cli("--api", api.url, "promote-now", "p-1", "--reason", "hotfix")
    assert code == 0 and "promote-now: accepted for p-1" in out
    assert api.requests[1]["path"] == "/promotions/p-1/promote-now"
    assert json.loads(api.requests[1]["body"]) == {"reason": "hotfix"}


def test_region_comes_from_an_execute_api_host():
    assert region_of("https://abc123.execute-api.ap-southeast-2.amazonaws.com/prod", "eu-west-1") == "ap-southeast-2"
    assert region_of("http://127.0.0.1:8080", "eu-west-1") == "eu-west-1"
    assert region_of("http://127.0.0.1:8080", None) == "us-east-1"


def test_api_beats_the_environment_variable(api, monkeypatch):
    monkeypatch.setenv("PROMOTER_API", "http://127.0.0.1:9")  # nothing listens on the discard port
    assert cli("--api", api.url, "list")[0] == 0
    monkeypatch.setenv("PROMOTER_API", api.url)
    assert cli("list")[0] == 0
    assert len(api.requests) == 2


def test_the_endpoint_comes_from_the_stack_output(api):
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {"ApiUrl": {"Value": api.url + "/dev/"}},
    }
    with mock_aws():
        boto3.client("cloudformation", region_name="eu-west-1").create_stack(
            StackName="lambda-promoter", TemplateBody=json.dumps(template)
        )
        code, _, err = cli("--stack", "lambda-promoter", "list")
        missing = cli("--stack", "no-such-stack", "list")
    assert code == 0, err
    assert api.requests[0]["path"] == "/dev/promotions"
    assert missing[0] == 5 and "no-such-stack" in missing[2]


ERRORS = [
    (422, {"error": "InvalidRequest", "message": "weights must rise", "field": "strategy.steps"}, 2),
    (404, {"error": "NotFound", "message": "promotion 'p-9' does not exist", "field": "id"}, 2),
    (409, {"error": "InvalidTransition", "message": "no", "field": None, "current_status": "RUNNING"}, 3),
    (403, {"error": "ACCESS_DENIED", "message": "not authorized", "field": None}, 4),
    (500, {"error": "InternalError", "message": "boom", "field": None}, 1),
]


@pytest.mark.parametrize(("status", "body", "code"), ERRORS)
def test_api_errors_become_messages_and_exit_codes(api, status, body, code):
    api.answer = (status, body)
    got, _, err = cli("--api", api.url, "status", "p-9")
    assert got == code
    assert f"promoter: error: {body['message']}" in err
    if body["field"]:
        assert f"field: {body['field']}" in err
    if "current_status" in body:
        assert "current_status: RUNNING" in err
    assert f"HTTP {status} from GET {api.url}/promotions/p-9" in err


def test_watch_exit_codes_follow_the_final_status(api):
    for status, code in (("SUCCEEDED", 0), ("ROLLED_BACK", 10), ("ABORTED", 11), ("FAILED", 12)):
        api.answer = (
            200,
            {"id": "p-1", "function": "f", "alias": "live", "status": status, "steps": [], "events": []},
        )
        assert cli("--api", api.url, "watch", "p-1", "--interval", "0.01")[0] == code
    api.answer = (200, {"id": "p-1", "status": "RUNNING", "steps": [], "events": []})
    got, _, err = cli("--api", api.url, "watch", "p-1", "--interval", "0.01", "--timeout", "0.05")
    assert got == 13 and "still RUNNING" in err


def test_no_credentials_for_a_remote_endpoint_is_an_auth_error(monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    code, _, err = cli("--api", "https://abc.execute-api.us-east-1.amazonaws.com/prod", "list")
    assert code == 4 and "no AWS credentials" in err


def test_help_documents_every_command_and_the_exit_codes():
    code, out, _ = cli("--help")
    assert code == 0
    for command in (
        "start",
        "status",
        "list",
        "watch",
        "abort",
        "pause",
        "resume",
        "approve",
        "promote-now",
        "inventory",
    ):
        assert command in out
    assert "10   watch: ROLLED_BACK" in out


def test_the_live_watch_redraws_its_block_with_rich_and_prints_each_event_once():
    from rich.console import Console

    from promoter_cli.render import Style, WatchDisplay

    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=120)
    display = WatchDisplay(screen, style=Style(screen, color=True, rich=True), console=console)
    created = {"at": "2026-11-23T10:00:00+00:00", "actor": "local", "type": "created", "message": "go [now]"}
    shifted = {"at": "2026-11-23T10:00:01+00:00", "actor": "workflow", "type": "shifted", "weight": 0.25}
    steps = [{"index": 0, "weight": 0.25, "bake_seconds": 60, "started_at": "2026-11-23T10:00:01+00:00"}]
    base = {"id": "p-1", "function": "f", "alias": "live", "stable_version": "1", "candidate_version": "2"}
    display.update(base | {"status": "RUNNING", "current_weight": 0.0, "steps": steps, "events": [created]})
    display.update(base | {"status": "RUNNING", "current_weight": 0.25, "steps": steps, "events": [created, shifted]})
    display.stop()
    text = screen.getvalue()
    assert text.count("created") == 1 and text.count("shifted") == 1
    assert "go [now]" in text  # a message from the API is text, not markup
    assert "\x1b[2K" in text and "\x1b[1A" in text  # rich's Live: back up over the old block and redraw it
    assert "25% on 2, 75% on 1" in text and "baking" in text
    assert "━" in text  # the traffic bar is rich's ProgressBar


def test_the_watch_prints_plain_lines_when_not_on_a_terminal():
    from promoter_cli.render import Style, WatchDisplay

    log = io.StringIO()
    display = WatchDisplay(log, style=Style(log, color=False))
    base = {"id": "p-1", "function": "f", "alias": "live", "stable_version": "1", "candidate_version": "2"}
    shifted = {"at": "2026-11-23T10:00:01+00:00", "actor": "workflow", "type": "shifted", "weight": 0.25}
    for _ in range(2):  # the same snapshot twice prints once
        display.update(base | {"status": "RUNNING", "current_weight": 0.25, "steps": [], "events": [shifted]})
    display.finish(base | {"status": "SUCCEEDED", "current_weight": 1.0, "steps": [], "events": [shifted]})
    text = log.getvalue()
    assert "\x1b" not in text
    assert text.count("shifted") == 1 and text.count("RUNNING") == 1
    assert "f:live now serves version 2" in text
