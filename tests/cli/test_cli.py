"""The promoter CLI against a running sandbox server: exit codes, error messages, --json."""

import json
import re

import pytest

from sandbox.server import free_port
from tests.cli.helpers import wait_until

EXIT_USAGE, EXIT_CONFLICT, EXIT_UNREACHABLE = 2, 3, 5
EXIT_ROLLED_BACK, EXIT_ABORTED = 10, 11


def _status(shell, promotion_id: str) -> dict:
    run = shell.promoter("status", promotion_id, "--json")
    assert run.code == 0, run
    return run.json


def _start(shell, *args: str) -> str:
    run = shell.promoter("start", *args, "--json")
    assert run.code == 0, run
    return run.json["id"]


def test_watch_exits_non_zero_when_an_alarm_rolls_the_promotion_back(shell, targets):
    target = targets.function("checkout")
    alarm = targets.alarm("checkout-errors", "checkout")
    promotion_id = _start(
        shell,
        "checkout",
        "live",
        "--version",
        "2",
        "--weight",
        "0.1",
        "--bake-seconds",
        "300",
        "--alarm",
        alarm,
    )
    watcher = shell.promoter_background("watch", promotion_id, "--interval", "0.2")
    try:
        wait_until(lambda: _status(shell, promotion_id)["current_weight"] > 0, "traffic on the canary")
        targets.set_alarm(alarm, "ALARM", "errors on the canary")  # in the middle of the bake
        out, err = watcher.communicate(timeout=300)
    finally:
        if watcher.poll() is None:
            watcher.kill()
    assert watcher.returncode == EXIT_ROLLED_BACK, out + err
    assert "ROLLED_BACK" in out and "checkout-errors" in out
    assert targets.alias_state(target.function, target.alias) | {"revision_id": None} == {
        "version": "1",
        "weights": {},
        "revision_id": None,
    }


def test_conflicts_give_exit_3_and_an_aborted_promotion_makes_watch_exit_11(shell, targets):
    targets.function("payments")
    promotion_id = _start(
        shell,
        "payments",
        "live",
        "--version",
        "2",
        "--weight",
        "0.1",
        "--bake-seconds",
        "86400",
        "--approval",
    )
    wait_until(lambda: _status(shell, promotion_id)["status"] == "AWAITING_APPROVAL", "waiting for approval")

    busy = shell.promoter("start", "payments", "live", "--version", "2")
    assert busy.code == EXIT_CONFLICT, busy
    assert promotion_id in busy.err  # names the promotion that holds the target

    resume = shell.promoter("resume", promotion_id)
    assert resume.code == EXIT_CONFLICT, resume
    assert "AWAITING_APPROVAL" in resume.err  # the current status that refused the move

    approved = shell.promoter("approve", promotion_id)
    assert approved.code == 0, approved
    wait_until(lambda: _status(shell, promotion_id)["current_weight"] > 0, "traffic on the canary")

    aborted = shell.promoter("abort", promotion_id, "--reason", "wrong build")
    assert aborted.code == 0, aborted
    assert "abort: accepted" in aborted.out

    watched = shell.promoter("watch", promotion_id, "--interval", "0.2")
    assert watched.code == EXIT_ABORTED, watched
    assert "ABORTED" in watched.out
    events = _status(shell, promotion_id)["events"]
    assert [(e["type"], e["actor"]) for e in events if e["type"] in {"approve", "abort"}] == [
        ("approve", "local"),
        ("abort", "local"),
    ]
    assert any(e["type"] == "abort" and e["message"] == "wrong build" for e in events)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["start", "orders", "live", "--version", "$LATEST"], "version"),
        (["start", "orders", "live", "--version", "2", "--weight", "1.5"], "weight"),
        (["start", "orders", "live", "--version", "2", "--steps", "0.5:10,0.2:10"], "weights must rise"),
        (["start", "no-such-function", "live", "--version", "2"], "no-such-function"),
        (["status", "p-does-not-exist"], "does not exist"),
        (["start", "orders", "live"], "--version"),  # argparse: one of --version/--publish
        (["start", "orders", "live", "--version", "2", "--weight", "lots"], "not a number"),
        (["start", "orders", "live", "--version", "2", "--weight", "0.1", "--step", "0.2"], "does not apply"),
        (["list", "--alias", "live"], "--alias needs --function"),
        (["start", "orders", "live", "--version", "2", "--role-arn", "prod-role"], "role_arn"),
        (["start", "orders", "live", "--version", "2", "--external-id", "ext-1"], "only used with role_arn"),
    ],
)
def test_bad_input_gets_a_clear_message_and_exit_2(shell, args, expected):
    run = shell.promoter(*args)
    assert run.code == EXIT_USAGE, run
    assert expected in run.err, run
    assert "Traceback" not in run.err


def test_api_errors_name_the_field(shell):
    run = shell.promoter("start", "orders", "live", "--version", "$LATEST")
    assert run.code == EXIT_USAGE
    assert re.search(r"field: \S*version", run.err), run
    assert "HTTP 422" in run.err


def test_an_endpoint_that_does_not_answer_is_named(shell):
    endpoint = f"http://127.0.0.1:{free_port()}"
    run = shell.promoter("--api", endpoint, "list")
    assert run.code == EXIT_UNREACHABLE, run
    assert f"cannot reach the API at {endpoint}" in run.err


def test_no_endpoint_at_all_is_a_usage_error(shell):
    env = {k: v for k, v in shell.env.items() if k not in {"PROMOTER_API", "PROMOTER_STACK"}}
    run = shell.promoter("list", env=env)
    assert run.code == EXIT_USAGE, run
    assert "--api" in run.err and "PROMOTER_API" in run.err


def test_json_output_parses(shell, targets):
    targets.function("search")
    started = shell.promoter("start", "search", "live", "--version", "2", "--strategy", "all-at-once", "--json")
    assert started.code == 0, started
    promotion_id = started.json["id"]
    assert started.json["status"] in {"PENDING", "RUNNING"}
    assert started.json["location"].endswith(f"/promotions/{promotion_id}")

    watched = shell.promoter("watch", promotion_id, "--interval", "0.2", "--json")
    assert watched.code == 0, watched
    snapshots = [json.loads(line) for line in watched.out.splitlines()]  # JSON Lines: one per change
    assert snapshots[-1]["status"] == "SUCCEEDED"

    status = shell.promoter("status", promotion_id, "--json").json
    assert status["id"] == promotion_id and status["current_weight"] == 1.0

    listed = shell.promoter("list", "--function", "search", "--json").json
    assert [p["id"] for p in listed["items"]] == [promotion_id]

    everything = shell.promoter("list", "--all", "--limit", "1", "--json").json
    assert promotion_id in [p["id"] for p in everything["items"]]

    inventory = shell.promoter("inventory", "search", "--json")
    assert inventory.code == 0, inventory
    aliases = {a["alias"]: a for a in inventory.json["aliases"]}
    assert aliases["live"]["version"] == "2"
    assert aliases["live"]["last_promotion"]["id"] == promotion_id

    human = shell.promoter("inventory", "search")
    assert human.code == 0 and "live" in human.out and promotion_id in human.out
