"""The AWS CLI's conventions, against a local stub server: --output table|json|yaml, --query
(JMESPath), retries with backoff on 429 and 5xx, credentials read afresh for every call, rich tables
on a terminal and plain lines elsewhere, shell completion."""

import io
import json
import os
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import yaml

import promoter_cli.client
from promoter_cli import __version__
from promoter_cli.aws import Credentials, StaticCredentials
from promoter_cli.client import ApiClient, ApiError, backoff
from promoter_cli.main import run
from tests.cli.helpers import BIN
from tests.cli.stub import StubApi, stub_api

PAGE = {
    "items": [
        {"id": "p-2", "function": "orders", "alias": "live", "status": "SUCCEEDED", "current_weight": 1.0},
        {"id": "p-1", "function": "orders", "alias": "live", "status": "ROLLED_BACK", "current_weight": 0.0},
    ],
    "next_token": None,
}
STARTED = {"id": "p-3", "status": "PENDING"}


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def api() -> Iterator[StubApi]:
    with stub_api() as stub:
        yield stub


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PROMOTER_API", "PROMOTER_STACK", "PROMOTER_OUTPUT", "AWS_PROFILE", "AWS_MAX_ATTEMPTS", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setattr(promoter_cli.client, "BACKOFF_BASE", 0.001)  # the retries' waits, kept short


def cli(*argv: str, out: io.StringIO | None = None) -> tuple[int, str, str]:
    out, err = out or io.StringIO(), io.StringIO()
    code = run(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


# --- --output and --query ------------------------------------------------------------------------
def test_output_json_and_yaml_print_the_api_answer(api):
    api.answer((200, PAGE))
    code, out, err = cli("--api", api.url, "list", "--output", "json")
    assert code == 0, err
    assert json.loads(out) == PAGE
    code, out, err = cli("--api", api.url, "list", "--output", "yaml")
    assert code == 0, err
    assert yaml.safe_load(out) == PAGE
    code, out, _ = cli("--api", api.url, "list", "--json")  # the older spelling still works
    assert json.loads(out) == PAGE


def test_output_table_is_plain_off_a_terminal_and_rich_on_one(api):
    api.answer((200, PAGE))
    code, plain, _ = cli("--api", api.url, "list", "--output", "table")
    assert code == 0
    headers = ["ID", "FUNCTION", "ALIAS", "STABLE", "CANDIDATE", "STATUS", "WEIGHT", "CREATED"]
    assert plain.splitlines()[0].split() == headers
    assert "\x1b" not in plain and "─" not in plain
    code, drawn, _ = cli("--api", api.url, "list", out=Terminal())
    assert code == 0
    assert "─" in drawn  # rich's table rule under the headers
    assert "\x1b[" in drawn  # and its colours for the status
    assert "p-2" in drawn and "ROLLED_BACK" in drawn


def test_the_default_output_comes_from_the_environment(api, monkeypatch):
    api.answer((200, PAGE))
    monkeypatch.setenv("PROMOTER_OUTPUT", "json")
    assert json.loads(cli("--api", api.url, "list")[1]) == PAGE
    assert "ID" in cli("--api", api.url, "list", "--output", "table")[1]  # the option wins


def test_query_selects_from_the_answer_in_every_output(api):
    api.answer((200, PAGE))
    code, out, err = cli("--api", api.url, "list", "--query", "items[?status=='SUCCEEDED'].id", "--output", "json")
    assert code == 0, err
    assert json.loads(out) == ["p-2"]
    code, out, _ = cli("--api", api.url, "list", "--query", "items[].{id: id, status: status}", "--output", "yaml")
    assert yaml.safe_load(out) == [{"id": "p-2", "status": "SUCCEEDED"}, {"id": "p-1", "status": "ROLLED_BACK"}]
    code, out, _ = cli("--api", api.url, "list", "--query", "items[].{id: id, status: status}")
    rows = [line.split() for line in out.splitlines()]
    assert rows == [["ID", "STATUS"], ["p-2", "SUCCEEDED"], ["p-1", "ROLLED_BACK"]]
    code, out, _ = cli("--api", api.url, "list", "--query", "items[0].id")
    assert out == "p-2\n"


def test_query_applies_to_start_and_to_each_watched_snapshot(api):
    api.answer((202, STARTED, {"Location": "/promotions/p-3"}))
    code, out, err = cli(
        "--api", api.url, "start", "orders", "live", "--version", "2", "--query", "id", "--output", "json"
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out) == "p-3"
    running = {"id": "p-3", "status": "RUNNING", "current_weight": 0.1, "steps": [], "events": []}
    api.answer((200, running), (200, running), (200, running | {"status": "SUCCEEDED", "current_weight": 1.0}))
    code, out, err = cli("--api", api.url, "watch", "p-3", "--interval", "0.01", "--query", "[status, current_weight]")
    assert code == 0, err
    assert [json.loads(line) for line in out.splitlines()] == [["RUNNING", 0.1], ["SUCCEEDED", 1.0]]


def test_a_bad_query_is_bad_input_before_any_call(api):
    api.answer((200, PAGE))
    code, _, err = cli("--api", api.url, "list", "--query", "items[")
    assert code == 2
    assert "--query 'items[' is not a JMESPath expression" in err
    assert api.requests == []


# --- retries --------------------------------------------------------------------------------------
THROTTLED = (429, {"message": "Too Many Requests"})


def test_a_throttled_call_is_retried_and_then_succeeds(api):
    api.answer(THROTTLED, THROTTLED, (200, PAGE))
    code, out, err = cli("--api", api.url, "list", "--json")
    assert code == 0, err
    assert json.loads(out) == PAGE
    assert len(api.requests) == 3
    dates = [r["headers"]["X-Amz-Date"] for r in api.requests]
    assert all(r["headers"]["Authorization"].startswith("AWS4-HMAC-SHA256") for r in api.requests)
    assert dates == sorted(dates)  # each attempt signed anew


def test_throttling_on_every_attempt_is_not_bad_input(api):
    api.answer(THROTTLED)
    code, _, err = cli("--api", api.url, "status", "p-1")
    assert code == 6, err  # neither 2 (bad input) nor 1
    assert len(api.requests) == 5
    assert "HTTP 429" in err and "after 5 attempts" in err and "throttled" in err


def test_max_attempts_comes_from_the_option_or_the_aws_variable(api, monkeypatch):
    api.answer(THROTTLED)
    assert cli("--api", api.url, "status", "p-1", "--max-attempts", "2")[0] == 6
    assert len(api.requests) == 2
    api.answer(THROTTLED)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "3")
    assert cli("--api", api.url, "status", "p-1")[0] == 6
    assert len(api.requests) == 3


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried(api, status):
    api.answer((status, {"message": "boom"}), (200, STARTED | {"status": "RUNNING"}))
    code, out, err = cli("--api", api.url, "status", "p-3", "--json")
    assert code == 0, err
    assert json.loads(out)["status"] == "RUNNING"
    assert len(api.requests) == 2


def test_a_server_error_that_stays_exits_1_after_the_retries(api):
    api.answer((503, {"message": "unavailable"}))
    code, _, err = cli("--api", api.url, "status", "p-3", "--max-attempts", "3")
    assert code == 1 and len(api.requests) == 3
    assert "after 3 attempts" in err


@pytest.mark.parametrize("status", [400, 404, 409, 422])
def test_client_errors_are_not_retried(api, status):
    api.answer((status, {"message": "no", "field": "id"}))
    code, _, _ = cli("--api", api.url, "status", "p-3")
    assert code in (2, 3)
    assert len(api.requests) == 1


def test_a_retried_start_keeps_one_idempotency_key(api):
    api.answer((503, {"message": "unavailable"}), (202, STARTED))
    code, _, err = cli("--api", api.url, "start", "orders", "live", "--version", "2")
    assert code == 0, err
    keys = [r["headers"].get("Idempotency-Key") for r in api.requests]
    assert len(keys) == 2 and keys[0] and keys[0] == keys[1]  # the API answers the retry with the first start
    api.answer((202, STARTED))
    cli("--api", api.url, "start", "orders", "live", "--version", "2")
    assert api.requests[0]["headers"]["Idempotency-Key"] != keys[0]  # a new command is a new start


def test_backoff_grows_is_capped_and_follows_retry_after(monkeypatch):
    monkeypatch.setattr(promoter_cli.client, "BACKOFF_BASE", 1.0)
    monkeypatch.setattr(promoter_cli.client.random, "uniform", lambda low, high: high)  # the window's top
    assert [backoff(n) for n in (1, 2, 3, 4, 5, 6)] == [2.0, 4.0, 8.0, 16.0, 20.0, 20.0]
    assert backoff(1, "7") == 7.0
    assert backoff(1, "600") == 20.0


def test_retry_after_from_the_server_is_what_the_client_waits(api):
    api.answer((429, {"message": "slow down"}, {"Retry-After": "3"}), (200, PAGE))
    waits: list[float] = []
    client = ApiClient(api.url, credentials=None, region="eu-west-1", sleep=waits.append)
    assert client.list() == PAGE
    assert waits == [3.0]


# --- credentials ----------------------------------------------------------------------------------
class Rotating:
    """Keys that change between calls, as botocore's refreshable credentials do."""

    def __init__(self) -> None:
        self.calls = 0

    def get_frozen_credentials(self) -> Credentials:
        self.calls += 1
        return Credentials(f"AKIDROTATED{self.calls}", "secret", "token")


def test_every_call_reads_the_credentials_again(api):
    api.answer((200, PAGE))
    client = ApiClient(api.url, credentials=Rotating(), region="eu-west-1")
    client.list()
    client.list()
    keys = [r["headers"]["Authorization"].split("Credential=")[1].split("/")[0] for r in api.requests]
    assert keys == ["AKIDROTATED1", "AKIDROTATED2"]


def test_botocore_refreshable_credentials_are_renewed_between_calls(api):
    from botocore.credentials import RefreshableCredentials

    issued = iter(range(1, 10))

    def refresh() -> dict:
        n = next(issued)
        # Each set is already inside botocore's refresh window, so the next read renews it.
        expiry = datetime.now(UTC) + timedelta(seconds=60)
        return {"access_key": f"AKIDSESSION{n}", "secret_key": "s", "token": "t", "expiry_time": expiry.isoformat()}

    creds = RefreshableCredentials.create_from_metadata(refresh(), refresh, "assume-role")
    api.answer((200, PAGE))
    client = ApiClient(api.url, credentials=creds, region="eu-west-1")
    client.list()
    client.list()
    keys = [r["headers"]["Authorization"].split("Credential=")[1].split("/")[0] for r in api.requests]
    assert keys[0] != keys[1] and all(k.startswith("AKIDSESSION") for k in keys)


def test_the_cli_signs_with_the_sessions_credentials_object_not_a_copy():
    from botocore.credentials import Credentials as BotocoreCredentials

    from promoter_cli.aws import credentials

    found = credentials()
    assert isinstance(found, BotocoreCredentials)  # RefreshableCredentials is a subclass
    assert found.get_frozen_credentials().access_key == "AKIDEXAMPLE"


def test_static_credentials_sign_like_the_user_s():
    keys = StaticCredentials(Credentials("AKIDSTATIC", "s"))
    assert keys.get_frozen_credentials().access_key == "AKIDSTATIC"


def test_an_error_keeps_its_attempt_count():
    error = ApiError(429, "GET", "http://x/promotions", {"message": "slow"}, attempts=4)
    assert error.attempts == 4 and error.message == "slow"


# --- version and completion ----------------------------------------------------------------------
def test_version_is_pyproject_s():
    import tomllib
    from pathlib import Path

    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    code, out, _ = cli("--version")
    assert code == 0 and out.strip() == f"promoter {pyproject['project']['version']}" == f"promoter {__version__}"
    assert f"lambda-promoter-cli/{__version__}" == promoter_cli.client.USER_AGENT


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["sta"], ["start", "status"]),
        (["start", "--str"], ["--strategy"]),
        (["start", "orders", "live", "--strategy", ""], ["canary", "linear", "all-at-once"]),
        (["--output", ""], ["table", "json", "yaml"]),
        (["schedule", ""], ["create", "list", "show", "delete"]),
        (["pipeline", "apply", "f.yaml", "--na"], ["--name"]),
        (["completion", ""], ["bash", "fish", "zsh"]),
        (["re"], ["resume", "retry"]),
        (["undo", "p-1", "--for"], ["--force"]),
    ],
)
def test_completion_follows_the_parser(words, expected):
    code, out, _ = cli("__complete", *words)
    assert code == 0
    assert out.split() == expected


def test_the_bash_script_completes_in_bash():
    env = os.environ | {"PATH": f"{BIN}:{os.environ['PATH']}"}
    script = (
        'eval "$(promoter completion bash)"; COMP_WORDS=(promoter start f live --strategy li); COMP_CWORD=5; '
        '_promoter_complete; printf "%s\\n" "${COMPREPLY[@]}"'
    )
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["linear"]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_each_shell_gets_a_script_that_asks_the_cli(shell):
    code, out, _ = cli("completion", shell)
    assert code == 0
    assert "promoter __complete" in out
    assert {"bash": "complete -o default -F", "zsh": "compdef _promoter promoter", "fish": "complete -c promoter"}[
        shell
    ] in out


def test_profile_and_region_choose_the_keys_and_the_signing_region(api, monkeypatch, tmp_path):
    (tmp_path / "credentials").write_text("[release]\naws_access_key_id = AKIDRELEASE\naws_secret_access_key = s\n")
    (tmp_path / "config").write_text("[profile release]\nregion = ap-south-1\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name)
    api.answer((200, PAGE))

    assert cli("--api", api.url, "list", "--profile", "release")[0] == 0
    assert cli("--api", api.url, "list", "--profile", "release", "--region", "sa-east-1")[0] == 0
    scopes = [r["headers"]["Authorization"].split("Credential=")[1].split(",")[0] for r in api.requests]
    assert [s.split("/")[0] for s in scopes] == ["AKIDRELEASE", "AKIDRELEASE"]
    assert [s.split("/")[2] for s in scopes] == ["ap-south-1", "sa-east-1"]  # the profile's, then --region's

    code, _, err = cli("--api", api.url, "list", "--profile", "nobody")
    assert code == 4 and "nobody" in err
