"""EventBridge Scheduler fires due schedules on the sandbox clock; bad input is rejected as in AWS."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from botocore.exceptions import ClientError

from sandbox import Sandbox
from sandbox.aws.scheduler import SCHEDULER, TARGET_ACTIONS
from sandbox.fixtures.targets import Targets, trust_policy

from .conftest import Recorder, let_rule_invoke, wait_until

BERLIN = ZoneInfo("Europe/Berlin")
OFF = {"Mode": "OFF"}


def schedule_role(sandbox: Sandbox, name: str = "scheduler", *actions: str) -> str:
    """A role that Scheduler calls targets as, allowed ``actions`` (by default every target's)."""
    iam = sandbox.client("iam")
    try:
        arn = iam.get_role(RoleName=name)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust_policy("scheduler.amazonaws.com"))["Role"][
            "Arn"
        ]
    allowed = list(actions or TARGET_ACTIONS.values())
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": allowed, "Resource": "*"}]}
    iam.put_role_policy(RoleName=name, PolicyName="targets", PolicyDocument=json.dumps(document))
    return arn


def fired(name: str) -> list[datetime]:
    return [datetime.fromtimestamp(f.scheduled_time, tz=UTC) for f in SCHEDULER.fired if f.name == name]


def last_sunday(year: int, month: int) -> datetime:
    day = datetime(year, month + 1, 1) - timedelta(days=1)
    while day.weekday() != 6:
        day -= timedelta(days=1)
    return day


def dst_year(sandbox: Sandbox) -> int:
    """A year whose March is still ahead of the sandbox clock."""
    return sandbox.clock.datetime().year + 1


def test_one_time_schedule_fires_at_its_time_and_deletes_itself(sandbox: Sandbox, recorder: Recorder) -> None:
    sandbox.clock.pause()
    arn = recorder.function("release-train")
    now = sandbox.clock.datetime()
    at = (now + timedelta(hours=2)).astimezone(BERLIN).replace(microsecond=0)
    scheduler = sandbox.client("scheduler")
    scheduler.create_schedule(
        Name="promote-at-two",
        ScheduleExpression=f"at({at.strftime('%Y-%m-%dT%H:%M:%S')})",
        ScheduleExpressionTimezone="Europe/Berlin",
        FlexibleTimeWindow=OFF,
        ActionAfterCompletion="DELETE",
        Target={
            "Arn": arn,
            "RoleArn": schedule_role(sandbox),
            "Input": json.dumps({"promote": "orders", "at": "<aws.scheduler.scheduled-time>"}),
        },
    )
    sandbox.advance(2 * 3600 - 1)
    sandbox.settle()
    assert fired("promote-at-two") == [] and recorder.events("release-train") == []

    sandbox.advance(1)
    event = recorder.wait("release-train")[0]
    assert event == {"promote": "orders", "at": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    assert fired("promote-at-two") == [at.astimezone(UTC)]
    with pytest.raises(ClientError) as error:
        scheduler.get_schedule(Name="promote-at-two")
    assert error.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_cron_in_a_time_zone_fires_at_the_right_instants(sandbox: Sandbox, recorder: Recorder) -> None:
    """02:30 Berlin time daily across the spring-forward night: that day has no 02:30 and is skipped."""
    year = dst_year(sandbox)
    spring = last_sunday(year, 3)  # 02:00 -> 03:00 in Europe/Berlin
    sandbox.clock.pause()
    sandbox.clock.set(datetime(spring.year, spring.month, spring.day - 2, 12, tzinfo=UTC).timestamp())
    arn = recorder.function("daily")
    sandbox.client("scheduler").create_schedule(
        Name="daily",
        ScheduleExpression="cron(30 2 * * ? *)",
        ScheduleExpressionTimezone="Europe/Berlin",
        FlexibleTimeWindow=OFF,
        Target={"Arn": arn, "RoleArn": schedule_role(sandbox), "Input": "{}"},
    )
    for _ in range(4 * 4):  # four days, six hours at a time
        sandbox.advance(6 * 3600)
        sandbox.settle()
    local = [moment.astimezone(BERLIN) for moment in fired("daily")]
    assert [m.strftime("%m-%d %H:%M %z") for m in local] == [
        (spring - timedelta(days=1)).strftime("%m-%d 02:30 +0100"),
        (spring + timedelta(days=1)).strftime("%m-%d 02:30 +0200"),
        (spring + timedelta(days=2)).strftime("%m-%d 02:30 +0200"),
    ]
    assert len(recorder.wait("daily", count=3)) == 3


def test_weekly_cron_and_fall_back_fires_once(sandbox: Sandbox, recorder: Recorder) -> None:
    """cron(0 2 ? * TUE *) and a daily 02:30 over the fall-back night (02:30 happens twice: one fire)."""
    year = dst_year(sandbox)
    autumn = last_sunday(year, 10)
    sandbox.clock.pause()
    sandbox.clock.set(datetime(autumn.year, autumn.month, autumn.day - 1, 12, tzinfo=UTC).timestamp())
    arn = recorder.function("weekly")
    scheduler = sandbox.client("scheduler")
    target = {"Arn": arn, "RoleArn": schedule_role(sandbox)}
    scheduler.create_schedule(
        Name="tuesdays",
        ScheduleExpression="cron(0 2 ? * TUE *)",
        ScheduleExpressionTimezone="Europe/Berlin",
        FlexibleTimeWindow=OFF,
        Target=target,
    )
    scheduler.create_schedule(
        Name="nightly",
        ScheduleExpression="cron(30 2 * * ? *)",
        ScheduleExpressionTimezone="Europe/Berlin",
        FlexibleTimeWindow=OFF,
        Target=target,
    )
    for _ in range(10 * 4):  # Saturday noon UTC to Tuesday noon UTC ten days later
        sandbox.advance(6 * 3600)
        sandbox.settle()
    tuesdays = [m.astimezone(BERLIN) for m in fired("tuesdays")]
    assert [m.strftime("%a %H:%M") for m in tuesdays] == ["Tue 02:00", "Tue 02:00"]
    assert tuesdays[1] - tuesdays[0] == timedelta(days=7)
    nightly = [m.astimezone(BERLIN) for m in fired("nightly")]
    assert [m.strftime("%H:%M") for m in nightly] == ["02:30"] * 10
    assert nightly[0].date() == autumn.date() and nightly[0].strftime("%z") == "+0200"  # first 02:30 only
    instants = fired("nightly")  # UTC: the night of the change lasts 25 hours
    assert instants[1] - instants[0] == timedelta(hours=25)


def test_rate_schedule_and_a_disabled_schedule(sandbox: Sandbox, recorder: Recorder) -> None:
    sandbox.clock.pause()
    arn = recorder.function("ticker")
    scheduler = sandbox.client("scheduler")
    target = {"Arn": arn, "RoleArn": schedule_role(sandbox), "Input": '{"tick": true}'}
    created = sandbox.clock.now()
    scheduler.create_schedule(
        Name="every-5", ScheduleExpression="rate(5 minutes)", FlexibleTimeWindow=OFF, Target=target
    )
    scheduler.create_schedule(
        Name="off",
        ScheduleExpression="rate(1 minute)",
        FlexibleTimeWindow=OFF,
        Target=target,
        State="DISABLED",
    )
    for _ in range(12):
        sandbox.advance(60)
    sandbox.settle()
    # no StartDate: the first invocation is at creation, then every 5 minutes
    assert [round(m.timestamp() - created, 3) for m in fired("every-5")] == [0, 300, 600]
    assert fired("off") == []
    assert len(recorder.wait("ticker", count=3)) == 3

    scheduler.update_schedule(
        Name="every-5",
        ScheduleExpression="rate(5 minutes)",
        FlexibleTimeWindow=OFF,
        Target=target,
        State="DISABLED",
    )
    sandbox.advance(3600)
    sandbox.settle()
    assert len(fired("every-5")) == 3


def test_start_and_end_dates_bound_a_recurring_schedule(sandbox: Sandbox, recorder: Recorder) -> None:
    sandbox.clock.pause()
    arn = recorder.function("bounded")
    now = sandbox.clock.now()
    start = datetime.fromtimestamp(now - now % 3600 + 7200, tz=UTC)
    sandbox.client("scheduler").create_schedule(
        Name="bounded",
        ScheduleExpression="rate(1 hour)",
        FlexibleTimeWindow=OFF,
        StartDate=start,
        EndDate=start + timedelta(hours=2),
        ActionAfterCompletion="DELETE",
        Target={"Arn": arn, "RoleArn": schedule_role(sandbox)},
    )
    sandbox.advance(6 * 3600)
    sandbox.settle()
    assert fired("bounded") == [start, start + timedelta(hours=1), start + timedelta(hours=2)]
    assert sandbox.client("scheduler").list_schedules()["Schedules"] == []  # deleted after the last one


def test_a_schedule_whose_role_may_not_invoke_its_target_is_not_delivered(sandbox: Sandbox, recorder: Recorder) -> None:
    """Scheduler calls the target as the schedule's role: without lambda:InvokeFunction the
    function is not invoked; with it, it is."""
    sandbox.clock.pause()
    arn = recorder.function("guarded")
    at = (sandbox.clock.datetime() + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%S")
    scheduler = sandbox.client("scheduler")
    for name, role in (
        ("refused", schedule_role(sandbox, "queue-only", "sqs:SendMessage")),
        ("allowed", schedule_role(sandbox, "invoker", "lambda:InvokeFunction")),
    ):
        target = {"Arn": arn, "RoleArn": role, "Input": json.dumps({"schedule": name})}
        scheduler.create_schedule(Name=name, ScheduleExpression=f"at({at})", FlexibleTimeWindow=OFF, Target=target)
    sandbox.advance(600)
    assert recorder.wait("guarded") == [{"schedule": "allowed"}]
    sandbox.settle()
    assert recorder.events("guarded") == [{"schedule": "allowed"}]
    assert len(fired("refused")) == 1  # it fired; its invocation was refused


def test_schedule_starts_a_state_machine(sandbox: Sandbox, targets: Targets) -> None:
    sandbox.clock.pause()
    sfn = sandbox.client("stepfunctions")
    machine = sfn.create_state_machine(
        name="scheduled",
        roleArn=targets.role(),
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}),
    )["stateMachineArn"]
    at = (sandbox.clock.datetime() + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%S")
    sandbox.client("scheduler").create_schedule(
        Name="sfn",
        ScheduleExpression=f"at({at})",
        FlexibleTimeWindow=OFF,
        Target={"Arn": machine, "RoleArn": schedule_role(sandbox), "Input": json.dumps({"pipeline": "main"})},
    )
    sandbox.advance(600)
    done = wait_until(
        lambda: [e for e in sfn.list_executions(stateMachineArn=machine)["executions"] if e["status"] == "SUCCEEDED"],
        what="the scheduled execution",
    )
    assert json.loads(sfn.describe_execution(executionArn=done[0]["executionArn"])["input"]) == {"pipeline": "main"}
    # no ActionAfterCompletion: the one-time schedule stays
    assert sandbox.client("scheduler").get_schedule(Name="sfn")["Name"] == "sfn"


@pytest.mark.parametrize(
    "expression",
    [
        "cron(0 2 * * * *)",  # both day fields given: one must be ?
        "cron(0 2 ? * ? *)",  # both ?
        "cron(0 2 * *)",  # five fields
        "cron(61 2 * * ? *)",
        "cron(0 2 ? * MOO *)",
        "rate(0 minutes)",
        "rate(5 seconds)",
        "at(2026-13-01T02:00:00)",
        "at(2026-12-01 02:00:00)",
        "every day",
    ],
)
def test_invalid_schedule_expression_is_rejected_like_aws(sandbox: Sandbox, expression: str) -> None:
    with pytest.raises(ClientError) as error:
        sandbox.client("scheduler").create_schedule(
            Name="bad",
            ScheduleExpression=expression,
            FlexibleTimeWindow=OFF,
            Target={
                "Arn": "arn:aws:lambda:us-east-1:123456789012:function:x",
                "RoleArn": "arn:aws:iam::1:role/r",
            },
        )
    assert error.value.response["Error"]["Code"] == "ValidationException"
    assert error.value.response["Error"]["Message"] == f"Invalid Schedule Expression {expression}."
    assert sandbox.client("scheduler").list_schedules()["Schedules"] == []


def test_unknown_time_zone_and_bad_rule_expression_are_rejected(sandbox: Sandbox) -> None:
    with pytest.raises(ClientError) as error:
        sandbox.client("scheduler").create_schedule(
            Name="bad",
            ScheduleExpression="cron(0 2 ? * TUE *)",
            ScheduleExpressionTimezone="Mars/Olympus",
            FlexibleTimeWindow=OFF,
            Target={
                "Arn": "arn:aws:lambda:us-east-1:123456789012:function:x",
                "RoleArn": "arn:aws:iam::1:role/r",
            },
        )
    assert error.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as error:
        sandbox.client("events").put_rule(Name="bad", ScheduleExpression="cron(0 2 * * * *)")
    assert error.value.response["Error"]["Message"] == "Parameter ScheduleExpression is not valid."


def test_schedule_rule_sends_scheduled_events(sandbox: Sandbox, recorder: Recorder) -> None:
    sandbox.clock.pause()
    arn = recorder.function("hourly")
    events = sandbox.client("events")
    rule = events.put_rule(Name="hourly", ScheduleExpression="rate(1 hour)")["RuleArn"]
    events.put_targets(Rule="hourly", Targets=[{"Id": "t", "Arn": arn}])
    let_rule_invoke(sandbox, rule, arn)
    sandbox.advance(3 * 3600)
    received = recorder.wait("hourly", count=3)
    assert {e["detail-type"] for e in received} == {"Scheduled Event"}
    assert received[0]["source"] == "aws.events" and received[0]["resources"] == [rule]
