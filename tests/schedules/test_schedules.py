"""Scheduled promotions: EventBridge Scheduler fires the real trigger function on the sandbox."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from promoter.models import ScheduleRequest, Status
from promoter.runtime import schedules_for
from sandbox.clock import CLOCK
from tests.workflow.helpers import request, wait_for_writes

DAY = 24 * 3600


def soon(seconds: int = 120) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def until_next_tuesday_2am_in_berlin() -> float:
    """Seconds on the sandbox clock until the next Tuesday 02:00 in Berlin (a later one is a week on)."""
    now = datetime.fromtimestamp(CLOCK.now(), ZoneInfo("Europe/Berlin"))
    tuesday = (now + timedelta(days=(1 - now.weekday()) % 7)).replace(hour=2, minute=0, second=0, microsecond=0)
    if tuesday <= now:
        tuesday += timedelta(days=7)
    return (tuesday - now).total_seconds()


def wait_for_run(schedules, schedule_id: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        schedule = schedules.get(schedule_id)
        if schedule.runs:
            return schedule
        time.sleep(0.05)
    raise TimeoutError(f"schedule {schedule_id} never fired")


def test_one_time_schedule_fires_at_its_time_and_deletes_itself(sandbox, targets, gateway):
    target = targets.function("orders")
    body = {"at": soon(DAY), "promotion": request(target).model_dump(mode="json", exclude_defaults=True)}

    answer = gateway.send("create_schedule", body=body)

    assert answer.status == 201, answer.body
    schedule_id = answer.body["id"]
    assert answer.headers["Location"] == f"/dev/schedules/{schedule_id}"
    scheduler = sandbox.client("scheduler")
    group = sandbox.outputs["ScheduleGroupName"]
    created = scheduler.get_schedule(Name=schedule_id, GroupName=group)
    assert created["ActionAfterCompletion"] == "DELETE"
    assert created["Target"]["RetryPolicy"]["MaximumRetryAttempts"] == 0
    assert schedules_for(sandbox.service()).get(schedule_id).runs == []  # not yet

    sandbox.advance(DAY + 60)
    schedule = wait_for_run(schedules_for(sandbox.service()), schedule_id)
    (run,) = schedule.runs
    assert run.outcome == "started"
    final = sandbox.wait_until_final(run.promotion_id)
    assert final.status is Status.SUCCEEDED
    assert final.created_by == f"schedule:{schedule_id}"
    assert targets.alias_state("orders", "live")["version"] == "2"
    assert scheduler.list_schedules(GroupName=group)["Schedules"] == []  # deleted after it fired
    assert gateway.send("list_schedules").body["items"] == []


def test_schedule_firing_on_a_busy_target_is_skipped_with_the_reason(sandbox, targets):
    target = targets.function("orders", builds=("v1", "v2", "v3"))
    busy = sandbox.service().start(
        request(target, version="2", strategy={"type": "canary", "weight": 0.1, "bake_seconds": 3600}), actor="alice"
    )
    wait_for_writes("orders", bool)
    schedules = schedules_for(sandbox.service())
    schedule = schedules.create(ScheduleRequest(at=soon(), promotion=request(target, version="3")), actor="alice")

    run = wait_for_run(schedules, schedule.id).runs[0]

    assert run.outcome == "skipped"
    assert run.reason.startswith("TargetBusy:") and busy.id in run.reason
    assert sandbox.service().get(busy.id).status is Status.RUNNING  # the running one is untouched
    records, _ = sandbox.service().store.list()
    assert [r.id for r in records] == [busy.id]


def test_recurring_release_train_fires_in_its_time_zone(sandbox, targets):
    target = targets.function("orders", builds=("v1", "v2", "v3"))
    schedules = schedules_for(sandbox.service())
    train = schedules.create(
        ScheduleRequest(
            cron="cron(0 2 ? * TUE *)",
            timezone="Europe/Berlin",
            promotion=request(target, version=None, publish=True, strategy={"type": "all-at-once"}),
        ),
        actor="alice",
    )
    created = sandbox.client("scheduler").get_schedule(Name=train.id, GroupName=sandbox.outputs["ScheduleGroupName"])
    assert (created["ScheduleExpression"], created["ScheduleExpressionTimezone"]) == (
        "cron(0 2 ? * TUE *)",
        "Europe/Berlin",
    )
    assert created["ActionAfterCompletion"] == "NONE"

    sandbox.advance(until_next_tuesday_2am_in_berlin() + 60)  # just past one firing, not two
    run = wait_for_run(schedules, train.id).runs[0]

    assert run.outcome in {"started", "skipped"}
    assert run.outcome == "started", run.reason
    final = sandbox.wait_until_final(run.promotion_id)
    assert final.status is Status.SUCCEEDED
    assert schedules.get(train.id).deleted is False  # a train keeps running


def test_deleting_a_schedule_removes_it_and_keeps_its_record(sandbox, targets, gateway):
    target = targets.function("orders")
    body = {"cron": "cron(0 2 ? * TUE *)", "promotion": request(target).model_dump(mode="json")}
    schedule_id = gateway.send("create_schedule", body=body).body["id"]

    answer = gateway.send("delete_schedule", path=f"/schedules/{schedule_id}")

    assert answer.status == 200 and answer.body["deleted"] is True
    assert gateway.send("list_schedules").body["items"] == []
    assert gateway.send("get_schedule", path=f"/schedules/{schedule_id}").body["deleted"] is True
    assert gateway.send("delete_schedule", path=f"/schedules/{schedule_id}").status == 404
    assert sandbox.client("scheduler").list_schedules(GroupName=sandbox.outputs["ScheduleGroupName"])["Schedules"] == []


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"at": "2020-01-01T00:00:00Z"}, "at", "in the past"),
        ({"at": "2026-12-01T02:00:00"}, "at", "UTC offset"),
        ({"at": None, "cron": "cron(0 2 * * TUE *)"}, "cron", "exactly one of day-of-month and day-of-week"),
        ({"at": None, "cron": "cron(0 25 ? * TUE *)"}, "cron", "field hours"),
        ({"at": None, "cron": "rate(5 minutes)"}, "cron", "must look like cron("),
        ({"at": None, "cron": "cron(0 2 ? * TUE)"}, "cron", "needs 6 fields"),
        ({"at": None, "cron": "cron(0 2 ? * TUE *)", "timezone": "Mars/Olympus"}, "timezone", "unknown time zone"),
        ({"at": None}, "", "exactly one of 'at' (one time) or 'cron' (recurring)"),
        ({"promotion": {"function": "nope", "alias": "live", "version": "2"}}, "function", "does not exist"),
        ({"promotion": None, "pipeline": {"pipeline": "nope", "to": "prod"}}, "pipeline", "nope"),
    ],
)
def test_bad_schedules_are_4xx_naming_the_problem(sandbox, targets, gateway, change, field, words):
    target = targets.function("orders")
    body = {"at": soon(), "promotion": request(target).model_dump(mode="json")} | change
    body = {k: v for k, v in body.items() if v is not None}

    answer = gateway.send("create_schedule", body=body)

    assert 400 <= answer.status < 500, answer.body
    assert field in (answer.body.get("field") or ""), answer.body
    assert words in answer.body["message"], answer.body
    assert sandbox.client("scheduler").list_schedules(GroupName=sandbox.outputs["ScheduleGroupName"])["Schedules"] == []
