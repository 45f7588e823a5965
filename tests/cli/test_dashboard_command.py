"""``promoter dashboard`` as a user runs it: the real process in front of the sandbox server serves
the page and the API's promotions through its signing proxy; and, in process, it opens the browser
unless --no-open and says so clearly when its port is taken."""

from __future__ import annotations

import http.client
import json
import re
import signal
import socket
import subprocess
import sys
import urllib.request

import pytest

from promoter_cli.dashboard.server import TOKEN_HEADER, DashboardServer
from promoter_cli.main import run
from sandbox.server import client_environment
from sandbox.server.api_gateway import SIGNATURE_MISMATCH
from tests.cli.helpers import COMMAND_LIMIT, iam_user_env


def _first_line_url(process) -> str:
    line = process.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
    assert match, f"no URL in {line!r}"
    return match.group(0)


@pytest.mark.slow
def test_the_real_command_serves_the_page_and_the_apis_promotions(shell, targets, server):
    targets.function("dashboard-user")
    started = shell.promoter(
        "start", "dashboard-user", "live", "--version", "2", "--steps", "0.5:50000", "--json"
    )  # a bake of 1,000 s at the sandbox's time scale: live until the abort below
    assert started.code == 0, str(started)
    promotion = started.json["id"]
    env, actor = iam_user_env(shell, "dashboard-user-operator", targets.iam)

    process = shell.promoter_background("dashboard", "--no-open", "--port", "0", env=env)
    try:
        url = _first_line_url(process)
        with urllib.request.urlopen(url, timeout=COMMAND_LIMIT) as page:  # noqa: S310 - the loopback URL it printed
            html = page.read().decode()
            assert page.status == 200
            assert "lambda-promoter dashboard" in html
        token = re.search(r'<meta name="promoter-token" content="([A-Za-z0-9_-]{32,})">', html)
        assert token, html
        with urllib.request.urlopen(url + "static/app.js", timeout=COMMAND_LIMIT) as script:  # noqa: S310
            assert "X-Promoter-Token" in script.read().decode()
        with urllib.request.urlopen(url + "api/promotions", timeout=COMMAND_LIMIT) as listed:  # noqa: S310
            items = json.loads(listed.read())["items"]
        assert promotion in [item["id"] for item in items]
        with urllib.request.urlopen(url + f"api/promotions/{promotion}", timeout=COMMAND_LIMIT) as one:  # noqa: S310
            assert json.loads(one.read())["function"] == "dashboard-user"

        port = int(url.rsplit(":", 1)[1].strip("/"))
        # The same process refuses a foreign Host, and a POST without the page's token.
        assert _call(port, "GET", "/api/promotions", {"Host": "attacker.example"})[0] == 403
        assert _call(port, "POST", f"/api/promotions/{promotion}/abort", {}, b"{}") == (403, "TokenRefused")
        # With it, the signal reaches the API signed with the user's keys: the API records the user.
        aborted = _call(port, "POST", f"/api/promotions/{promotion}/abort", {TOKEN_HEADER: token.group(1)},
                        json.dumps({"reason": "from the dashboard"}).encode())  # fmt: skip
        assert aborted[0] == 202, aborted
    finally:
        process.send_signal(signal.SIGINT)  # Ctrl-C: how a dashboard ends
        out, err = process.communicate(timeout=COMMAND_LIMIT)
    assert process.returncode == 0, err
    assert "dashboard stopped" in out
    record = shell.promoter("status", promotion, "--json").json
    (abort,) = [event for event in record["events"] if event["type"] == "abort"]
    assert (abort["actor"], abort["message"]) == (actor, "from the dashboard")


@pytest.mark.slow
def test_a_signature_the_api_refuses_reaches_the_page_as_the_apis_403(shell, targets):
    env, _ = iam_user_env(shell, "dashboard-forger", targets.iam)
    env["AWS_SECRET_ACCESS_KEY"] = "not-the-users-secret"
    process = shell.promoter_background("dashboard", "--no-open", "--port", "0", env=env)
    try:
        port = int(_first_line_url(process).rsplit(":", 1)[1].strip("/"))
        status, error = _call(port, "GET", "/api/promotions", {})
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=COMMAND_LIMIT)
    assert status == 403
    assert error == SIGNATURE_MISMATCH  # API Gateway's own answer, passed through as it came


def _call(port: int, method: str, path: str, headers: dict[str, str], body: bytes | None = None) -> tuple[int, str]:
    """One request to the dashboard; its status and the error name (else the message) of a JSON body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=COMMAND_LIMIT)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        answer = json.loads(response.read() or b"null")
        return response.status, str((answer.get("error") or answer.get("message")) if isinstance(answer, dict) else "")
    finally:
        connection.close()


@pytest.fixture
def no_serving(monkeypatch):
    """The command runs up to serving, then stops as on Ctrl-C; the URLs it would open are kept."""
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", lambda url, *a, **k: opened.append(url) or True)

    def interrupted(self, poll_interval=0.5):
        raise KeyboardInterrupt

    monkeypatch.setattr(DashboardServer, "serve_forever", interrupted)
    return opened


def test_it_opens_the_browser_on_its_page(no_serving, capsys):
    code = run(["dashboard", "--api", "http://127.0.0.1:9", "--port", "0"])
    out = capsys.readouterr().out
    assert code == 0
    (url,) = no_serving
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", url)
    assert f"dashboard on {url} for the API at http://127.0.0.1:9" in out


def test_no_open_opens_nothing(no_serving):
    assert run(["dashboard", "--api", "http://127.0.0.1:9", "--port", "0", "--no-open"]) == 0
    assert no_serving == []


def test_a_taken_port_is_a_usage_error_naming_the_option(no_serving, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        code = run(["dashboard", "--api", "http://127.0.0.1:9", "--port", str(port), "--no-open"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in err
    assert "choose another with --port" in err


@pytest.mark.parametrize("port", ["-1", "65536", "http"])
def test_a_bad_port_is_refused_by_the_parser(port, capsys):
    assert run(["dashboard", "--api", "http://127.0.0.1:9", "--port", port]) == 2
    assert "not a port number" in capsys.readouterr().err


def test_a_remote_api_without_credentials_is_refused_before_listening(no_serving, monkeypatch, capsys):
    monkeypatch.setattr("promoter_cli.aws.credentials", lambda profile=None: None)
    code = run(["dashboard", "--api", "https://abc.execute-api.eu-west-1.amazonaws.com/prod", "--no-open"])
    assert code == 4
    assert "no AWS credentials" in capsys.readouterr().err
    assert no_serving == []


def test_other_commands_start_without_the_dashboards_server_modules():
    probe = "import sys, promoter_cli.main; print(sorted({'http.server', 'webbrowser'} & set(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=client_environment(), check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
