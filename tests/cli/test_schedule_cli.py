"""`promoter schedule`: create, list, show, delete against the sandbox server; bad input is exit 2."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.cli.helpers import wait_until

EXIT_USAGE = 2


def test_a_one_time_schedule_fires_and_shows_its_run(shell, targets):
    targets.function("billing")
    # far enough ahead (18 s real at the server's time scale) that a slow machine lists it before it fires
    at = (datetime.now(UTC) + timedelta(seconds=900)).strftime("%Y-%m-%dT%H:%M:%SZ")

    created = shell.promoter(
        "schedule", "create", "--at", at, "billing", "live", "--version", "2", "--strategy", "all-at-once", "--json"
    )

    assert created.code == 0, created
    schedule_id = created.json["id"]
    assert created.json["expression"] == f"at({at[:-1]})"
    listed = shell.promoter("schedule", "list")
    assert listed.code == 0 and schedule_id in listed.out
    shown = wait_until(
        lambda: (run := shell.promoter("schedule", "show", schedule_id, "--json")).json["runs"] and run,
        "the schedule to fire",
    )
    (fired,) = shown.json["runs"]
    assert fired["outcome"] == "started", fired
    human = shell.promoter("schedule", "show", schedule_id)
    assert "started" in human.out and fired["promotion_id"] in human.out
    watched = shell.promoter("watch", fired["promotion_id"], "--interval", "0.2")
    assert watched.code == 0, watched


def test_a_release_train_can_be_deleted(shell, targets):
    targets.function("ledger")
    created = shell.promoter(
        "schedule", "create", "--cron", "cron(0 2 ? * TUE *)", "--timezone", "Europe/Berlin",
        "ledger", "live", "--publish", "--json",
    )  # fmt: skip
    assert created.code == 0, created
    deleted = shell.promoter("schedule", "delete", created.json["id"])
    assert deleted.code == 0 and "Deleted schedule" in deleted.out
    assert created.json["id"] not in shell.promoter("schedule", "list").out


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--cron", "cron(0 2 * * TUE *)"], "exactly one of day-of-month and day-of-week"),
        (["--cron", "cron(0 2 ? * TUE *)", "--timezone", "Mars/Olympus"], "unknown time zone"),
        (["--at", "2020-01-01T00:00:00Z"], "in the past"),
        (["--at", "2026-12-01T02:00:00Z", "--timezone", "Europe/Berlin"], "--timezone goes with --cron"),
    ],
)
def test_bad_schedules_exit_2_with_the_reason(shell, targets, args, words):
    if "audit" not in [f["FunctionName"] for f in targets.lambdas.list_functions()["Functions"]]:
        targets.function("audit")  # one server for the module: create once
    run = shell.promoter("schedule", "create", *args, "audit", "live", "--version", "2")
    assert run.code == EXIT_USAGE, run
    assert words in run.err
