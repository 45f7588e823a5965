"""The dashboard's server (promoter_cli/dashboard/server.py) against a stub API: it listens on the
loopback address only, refuses foreign Host headers (DNS rebinding) and POSTs without this run's
token or from another origin (CSRF), signs what it forwards with the user's keys as the CLI's client
does, hands the API's 4xx back as it came, and never shows a key to the browser."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from promoter_cli.aws import Credentials, StaticCredentials
from promoter_cli.client import ApiClient
from promoter_cli.dashboard.server import MAX_BODY, TOKEN_HEADER, DashboardServer, static_files
from tests.cli.stub import StubApi, stub_api

KEYS = Credentials("AKIADASHBOARDTEST01", "dashboard-secret-key-never-shown", "dashboard-session-token")
TOKEN = "run-token-for-the-tests"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    text: str

    @property
    def json(self) -> Any:
        return json.loads(self.text)


class Dashboard:
    def __init__(self, server: DashboardServer, stub: StubApi) -> None:
        self.server = server
        self.stub = stub

    def call(
        self,
        method: str,
        path: str,
        *,
        host: str | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        try:
            connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            connection.putheader("Host", host if host is not None else f"127.0.0.1:{self.server.port}")
            data = json.dumps(body).encode() if body is not None else b""
            for name, value in (headers or {}).items():
                connection.putheader(name, value)
            connection.putheader("Content-Length", str(len(data)))
            connection.endheaders(data)
            response = connection.getresponse()
            return Answer(response.status, dict(response.getheaders()), response.read().decode())
        finally:
            connection.close()

    def post(self, path: str, body: Any = None, **headers: str) -> Answer:
        sent = {TOKEN_HEADER: TOKEN, "Origin": f"http://127.0.0.1:{self.server.port}"} | headers
        return self.call("POST", path, body=body, headers={k: v for k, v in sent.items() if v})


@pytest.fixture
def dashboard() -> Iterator[Dashboard]:
    with stub_api() as stub:
        client = ApiClient(stub.url, credentials=StaticCredentials(KEYS), region="eu-west-1", max_attempts=1)
        server = DashboardServer(client, port=0, token=TOKEN)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        try:
            yield Dashboard(server, stub)
        finally:
            server.shutdown()
            server.server_close()


def test_it_listens_on_the_loopback_address_only(dashboard):
    assert dashboard.server.server_address[0] == "127.0.0.1"
    assert dashboard.server.url == f"http://127.0.0.1:{dashboard.server.port}/"


@pytest.mark.parametrize(
    "host",
    ["evil.example:{port}", "evil.example", "127.0.0.1:1", "localhost.evil.example:{port}", "192.168.1.5:{port}", ""],
)
def test_a_foreign_host_header_is_refused_before_anything_is_served(dashboard, host):
    dashboard.stub.answer((200, {"items": [], "next_token": None}))
    for method, path in (("GET", "/"), ("GET", "/api/promotions"), ("POST", "/api/promotions/p-1/abort")):
        answer = dashboard.call(method, path, host=host.format(port=dashboard.server.port))
        assert answer.status == 403, (method, path, answer)
        assert answer.json["error"] == "HostRefused"
        assert answer.json["field"] == "Host"
        assert "DNS rebinding" in answer.json["message"]
    assert dashboard.stub.requests == []  # nothing reached the API


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST:{port}"])
def test_its_own_loopback_names_are_served(dashboard, host):
    answer = dashboard.call("GET", "/", host=host.format(port=dashboard.server.port))
    assert answer.status == 200
    assert "text/html" in answer.headers["Content-Type"]


def test_a_post_without_the_runs_token_is_refused(dashboard):
    dashboard.stub.answer((202, {"id": "p-1", "status": "RUNNING", "signal": "abort"}))
    for token in ("", "another-run's-token"):
        answer = dashboard.post("/api/promotions/p-1/abort", {"reason": "x"}, **{TOKEN_HEADER: token})
        assert answer.status == 403, answer
        assert answer.json["error"] == "TokenRefused"
        assert answer.json["field"] == TOKEN_HEADER
    assert dashboard.stub.requests == []


def test_a_post_from_another_origin_is_refused_even_with_the_token(dashboard):
    dashboard.stub.answer((202, {"id": "p-1", "status": "RUNNING", "signal": "abort"}))
    answer = dashboard.post("/api/promotions/p-1/abort", {"reason": "x"}, Origin="http://evil.example")
    assert answer.status == 403
    assert answer.json["error"] == "OriginRefused"
    assert dashboard.stub.requests == []


def test_the_page_carries_the_token_and_no_key(dashboard):
    page = dashboard.call("GET", "/")
    assert f'<meta name="promoter-token" content="{TOKEN}">' in page.text
    assets = [dashboard.call("GET", f"/static/{name}") for name in ("app.js", "style.css")]
    for answer in (page, *assets):
        assert answer.status == 200
        for secret in (KEYS.access_key, KEYS.secret_key, KEYS.token or ""):
            assert secret not in answer.text


def test_every_answer_forbids_framing_and_foreign_scripts(dashboard):
    dashboard.stub.answer((200, {"items": [], "next_token": None}))
    for path in ("/", "/static/app.js", "/api/promotions"):
        headers = dashboard.call("GET", path).headers
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"


def test_a_read_is_forwarded_signed_with_the_users_keys(dashboard):
    dashboard.stub.answer((200, {"items": [{"id": "p-1"}], "next_token": None}))
    answer = dashboard.call("GET", "/api/promotions?limit=50&status=RUNNING")
    assert answer.status == 200
    assert answer.json == {"items": [{"id": "p-1"}], "next_token": None}
    (sent,) = dashboard.stub.requests
    assert sent["method"] == "GET"
    assert sent["path"] == "/promotions?limit=50&status=RUNNING"
    authorization = sent["headers"]["Authorization"]
    assert authorization.startswith(f"AWS4-HMAC-SHA256 Credential={KEYS.access_key}/")
    assert "/eu-west-1/execute-api/aws4_request" in authorization
    assert sent["headers"]["X-Amz-Security-Token"] == KEYS.token
    assert "X-Amz-Date" in sent["headers"]
    for secret in (KEYS.access_key, KEYS.secret_key, KEYS.token or "", "AWS4-HMAC-SHA256"):
        assert secret not in answer.text and secret not in json.dumps(answer.headers)


def test_a_signal_is_forwarded_with_its_reason_and_an_idempotency_key(dashboard):
    dashboard.stub.answer((202, {"id": "p-1", "status": "RUNNING", "signal": "abort"}, {"Location": "/promotions/p-1"}))
    answer = dashboard.post("/api/promotions/p-1/abort", {"reason": "bad canary"})
    assert answer.status == 202
    assert answer.json["signal"] == "abort"
    (sent,) = dashboard.stub.requests
    assert (sent["method"], sent["path"]) == ("POST", "/promotions/p-1/abort")
    assert json.loads(sent["body"]) == {"reason": "bad canary"}
    assert sent["headers"]["Authorization"].startswith("AWS4-HMAC-SHA256 ")
    assert sent["headers"]["Idempotency-Key"]
    assert TOKEN_HEADER not in sent["headers"]  # the run's token stays between the page and this server


def test_the_apis_4xx_reaches_the_page_as_the_api_said_it(dashboard):
    refusal = {
        "error": "InvalidTransition",
        "message": "cannot approve a promotion that is RUNNING",
        "field": None,
        "current_status": "RUNNING",
    }
    dashboard.stub.answer((409, refusal))
    answer = dashboard.post("/api/promotions/p-1/approve", {"reason": "ship it"})
    assert answer.status == 409
    assert answer.json == refusal
    dashboard.stub.answer((404, {"error": "NotFound", "message": "no promotion p-9", "field": "promotion_id"}))
    missing = dashboard.call("GET", "/api/promotions/p-9")
    assert (missing.status, missing.json["message"]) == (404, "no promotion p-9")


def test_an_unreachable_api_is_a_502_that_says_so(dashboard):
    dashboard.server.client.base_url = "http://127.0.0.1:1"
    answer = dashboard.call("GET", "/api/promotions")
    assert answer.status == 502
    assert answer.json["error"] == "ApiUnreachable"
    assert "cannot reach the API" in answer.json["message"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/promotions"),  # starting a promotion: not from the dashboard
        ("POST", "/api/pipelines/shop/promote"),
        ("POST", "/api/promotions/p-1/delete"),
        ("GET", "/api/promotions/../pipelines"),
        ("GET", "/api/promotions/%2e%2e/pipelines"),
        ("GET", "/api/other"),
        ("DELETE", "/api/pipelines/shop"),
        ("PUT", "/api/pipelines/shop"),
    ],
)
def test_the_proxy_forwards_reads_and_the_five_signals_only(dashboard, method, path):
    dashboard.stub.answer((200, {}))
    answer = dashboard.post(path, {}) if method == "POST" else dashboard.call(method, path)
    assert answer.status in (404, 405), answer
    assert answer.json["field"] in ("path", "method")
    assert dashboard.stub.requests == []


def test_a_body_that_is_not_json_is_a_400_naming_the_body(dashboard):
    connection = http.client.HTTPConnection("127.0.0.1", dashboard.server.port, timeout=30)
    connection.request(
        "POST",
        "/api/promotions/p-1/abort",
        body=b"reason=x",
        headers={TOKEN_HEADER: TOKEN, "Content-Type": "application/x-www-form-urlencoded"},
    )
    response = connection.getresponse()
    body = json.loads(response.read())
    connection.close()
    assert response.status == 400
    assert body["field"] == "body"
    assert dashboard.stub.requests == []


def test_the_assets_ship_in_the_package():
    assets = static_files()
    assert {"index.html", "app.js", "style.css"} <= set(assets)
    page = assets["index.html"].decode()
    assert "http://" not in page and "https://" not in page  # no CDN: everything from this server
    assert "https://" not in assets["app.js"].decode()


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
def test_an_api_request_the_browser_says_comes_from_another_site_is_refused(dashboard, site):
    dashboard.stub.answer((200, {"items": [], "next_token": None}))
    read = dashboard.call("GET", "/api/promotions", headers={"Sec-Fetch-Site": site})
    signal = dashboard.post("/api/promotions/p-1/abort", {"reason": "x"}, **{"Sec-Fetch-Site": site})
    for answer in (read, signal):
        assert answer.status == 403
        assert answer.json["error"] == "CrossSiteRefused"
    assert dashboard.stub.requests == []
    same = dashboard.call("GET", "/api/promotions", headers={"Sec-Fetch-Site": "same-origin"})
    assert same.status == 200


def test_forward_retries_a_throttled_signal_with_one_idempotency_key_and_returns_what_the_api_said():
    with stub_api() as stub:
        client = ApiClient(stub.url, credentials=StaticCredentials(KEYS), region="us-east-1", sleep=lambda _: None)
        stub.answer((429, {"message": "Too Many Requests"}), (202, {"id": "p-1", "status": "RUNNING"}))
        accepted = client.forward("POST", "/promotions/p-1/pause", body={"reason": "look first"})
        tries, keys = len(stub.requests), {sent["headers"]["Idempotency-Key"] for sent in stub.requests}
        stub.answer((409, {"error": "InvalidTransition", "message": "cannot pause a PAUSED promotion"}))
        refused = client.forward("POST", "/promotions/p-1/pause", body={"reason": "again"})
    assert (accepted.status, accepted.body) == (202, {"id": "p-1", "status": "RUNNING"})
    assert (tries, len(keys)) == (2, 1)  # both tries of the first signal carried the same key: a retry cannot act twice
    assert (refused.status, refused.body["message"]) == (409, "cannot pause a PAUSED promotion")  # not raised


def test_a_body_over_the_limit_is_a_413_naming_the_body_and_is_not_forwarded(dashboard):
    answer = dashboard.post("/api/promotions/p-1/abort", {"reason": "x" * (MAX_BODY + 1)})
    assert answer.status == 413
    assert answer.json["field"] == "body"
    assert dashboard.stub.requests == []
