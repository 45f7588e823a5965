"""Pure parts of pipelines, without AWS: models, freeze windows, role sessions, drift."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError
from pydantic import ValidationError

from promoter.aws.lambda_ import AliasState
from promoter.aws.sts import RoleSessions
from promoter.errors import InvalidRequest
from promoter.freeze import describe_end, frozen_until
from promoter.models import (
    FreezePeriod,
    Pipeline,
    PipelinePromotionRequest,
    Promotion,
    PromotionRequest,
    Status,
    WeeklyFreeze,
)
from promoter.pipelines import drift_of

ENV = {"name": "dev", "function": "orders", "alias": "dev"}


def problems(body: dict) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as error:
        Pipeline.model_validate(body)
    return [(".".join(str(p) for p in e["loc"]), e["msg"]) for e in error.value.errors()]


# --- models ------------------------------------------------------------------------------------------
def test_a_pipeline_needs_environments_with_unique_names_and_distinct_targets():
    assert problems({"name": "p", "environments": []})[0][0] == "environments"
    duplicate = problems({"name": "p", "environments": [ENV, ENV | {"alias": "staging"}]})
    assert duplicate == [
        ("environments", "Value error, environment names must be unique: 'dev' appears more than once")
    ]
    same_target = problems({"name": "p", "environments": [ENV, ENV | {"name": "qa"}]})
    assert "environments 'dev' and 'qa' are the same target" in same_target[0][1]


def test_role_arn_external_id_and_approval_rules_name_their_field():
    bad_role = problems({"name": "p", "environments": [ENV | {"role_arn": "arn:aws:iam::12:role/x"}]})
    assert bad_role[0][0] == "environments.0.role_arn"
    assert "use arn:aws:iam::<12-digit account>:role/<name>" in bad_role[0][1]
    assert problems({"name": "p", "environments": [ENV | {"external_id": "abc"}]})[0][0] == "environments.0.external_id"
    assert problems({"name": "p", "environments": [ENV | {"approval_by_other": True}]})[0] == (
        "environments.0.approval_by_other",
        "Value error, approval_by_other needs protected: true",
    )
    elsewhere = ENV | {"function": "arn:aws:lambda:us-east-1:333333333333:function:orders"}
    mismatch = problems({"name": "p", "environments": [elsewhere | {"role_arn": "arn:aws:iam::222222222222:role/r"}]})
    assert mismatch[0][0] == "environments.0.role_arn" and "function ARN in account 333333333333" in mismatch[0][1]
    Pipeline.model_validate(
        {
            "name": "p",
            "environments": [ENV | {"role_arn": "arn:aws:iam::222222222222:role/team/lambda-promoter-target"}],
        }
    )


def test_an_environment_takes_analysis_bounded_like_a_request():
    pipeline = Pipeline.model_validate({"name": "p", "environments": [ENV | {"analysis": {"max_extensions": 1}}]})
    assert pipeline.environments[0].analysis is not None and pipeline.environments[0].analysis.max_extensions == 1
    many = {"type": "linear", "step": 0.01}  # 99 judged steps; 81 fit with the default 2 extensions
    found = problems({"name": "p", "environments": [ENV | {"strategy": many, "analysis": {}}]})
    assert found[0][0] == "environments.0.analysis" and "at most 81" in found[0][1]
    bad = problems({"name": "p", "environments": [ENV | {"analysis": {"alpha": 0.9}}]})
    assert bad[0][0] == "environments.0.analysis.alpha"


def test_an_environment_takes_a_fast_gate_bounded_like_a_request():
    pipeline = Pipeline.model_validate({"name": "p", "environments": [ENV | {"fast_gate": {"max_errors": 0}}]})
    assert pipeline.environments[0].fast_gate is not None and pipeline.environments[0].fast_gate.max_errors == 0
    bad = problems({"name": "p", "environments": [ENV | {"fast_gate": {"window_seconds": 5}}]})
    assert bad[0][0] == "environments.0.fast_gate.window_seconds"
    crossing = problems(
        {"name": "p", "environments": [ENV | {"role_arn": "arn:aws:iam::222222222222:role/r", "fast_gate": {}}]}
    )
    assert crossing[0][0] == "environments.0.fast_gate" and "another account" in crossing[0][1]


@pytest.mark.parametrize(
    ("window", "field", "message"),
    [
        ({"days": ["fri"], "hours": "16:00-25:00"}, "hours", "must be HH:MM-HH:MM"),
        ({"days": ["fri"], "hours": "10:00-10:00"}, "hours", "is empty"),
        ({"days": ["friday"]}, "days.0", "Input should be"),
        ({"days": ["fri", "fri"]}, "days", "each day may appear once"),
        ({"days": ["fri"], "timezone": "Mars/Olympus"}, "timezone", "unknown time zone"),
        ({"start": "2026-12-20T00:00:00", "end": "2026-12-21T00:00:00Z"}, "start", "needs a UTC offset"),
        ({"start": "2026-12-20T00:00:00Z", "end": "2026-12-19T00:00:00Z"}, "end", "must be after start"),
    ],
)
def test_freeze_window_syntax_is_validated(window, field, message):
    found = problems({"name": "p", "environments": [ENV | {"freeze_windows": [window]}]})
    kind = "weekly" if "start" not in window else "period"
    assert found[0][0] == f"environments.0.freeze_windows.0.{kind}.{field}"
    assert message in found[0][1]


def test_a_pipeline_promotion_request_needs_a_reason_for_an_override_and_a_published_version():
    with pytest.raises(ValidationError) as no_reason:
        PipelinePromotionRequest(pipeline="p", to="prod", override=True)
    assert no_reason.value.errors()[0]["loc"] == ("override_reason",)
    with pytest.raises(ValidationError):
        PipelinePromotionRequest(pipeline="p", to="prod", version="$LATEST")
    assert PipelinePromotionRequest(pipeline="p", to="prod", version=7).version == "7"


def test_a_promotion_request_takes_a_role_and_an_external_id_only_with_it():
    with pytest.raises(ValidationError, match="external_id is only used with role_arn"):
        PromotionRequest(function="f", alias="live", version="2", external_id="abc")
    request = PromotionRequest(
        function="f", alias="live", version="2", role_arn="arn:aws:iam::222222222222:role/r", external_id="abc"
    )
    assert request.role_arn.endswith(":role/r")


# --- freeze windows ------------------------------------------------------------------------------------
BERLIN_FRIDAY_EVENING = WeeklyFreeze(days=["fri"], hours="16:00-24:00", timezone="Europe/Berlin")


def test_a_weekly_window_is_on_in_local_time_and_ends_at_midnight():
    friday_1830_berlin = datetime(2026, 11, 27, 17, 30, tzinfo=UTC)
    until, window = frozen_until([BERLIN_FRIDAY_EVENING], friday_1830_berlin)
    assert until == datetime(2026, 11, 27, 23, 0, tzinfo=UTC)
    assert describe_end(until, window) == "Sat 2026-11-28 00:00 Europe/Berlin (2026-11-27T23:00:00Z)"
    assert frozen_until([BERLIN_FRIDAY_EVENING], datetime(2026, 11, 27, 14, 59, tzinfo=UTC)) is None  # 15:59 local
    assert frozen_until([BERLIN_FRIDAY_EVENING], datetime(2026, 11, 26, 17, 30, tzinfo=UTC)) is None  # Thursday


def test_a_window_across_midnight_starts_on_its_day_and_ends_the_next():
    nights = WeeklyFreeze(days=["sun"], hours="22:00-06:00", timezone="UTC")
    monday_0300 = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
    assert frozen_until([nights], monday_0300)[0] == datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
    assert frozen_until([nights], datetime(2026, 12, 1, 3, 0, tzinfo=UTC)) is None  # Tuesday night: not listed


def test_daylight_saving_time_is_respected():
    # 2026-03-29: Europe/Berlin goes from UTC+1 to UTC+2
    sunday = WeeklyFreeze(days=["sun"], hours="00:00-24:00", timezone="Europe/Berlin")
    until, _ = frozen_until([sunday], datetime(2026, 3, 29, 12, 0, tzinfo=UTC))
    assert until == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)  # midnight CEST


def test_touching_windows_chain_and_a_period_ends_where_it_says():
    holidays = FreezePeriod(
        start=datetime(2026, 12, 20, tzinfo=UTC), end=datetime(2027, 1, 4, 8, tzinfo=UTC), reason="holidays"
    )
    weekend = WeeklyFreeze(days=["sat", "sun"], hours="00:00-24:00", timezone="UTC")
    # the holidays end on Monday 08:00; a Saturday inside them: the freeze lasts until the holidays end
    until, window = frozen_until([weekend, holidays], datetime(2027, 1, 2, 12, tzinfo=UTC))
    assert (until, window) == (datetime(2027, 1, 4, 8, tzinfo=UTC), holidays)
    # a weekend right after a period that ends Saturday 00:00: chained to Monday 00:00
    friday_off = FreezePeriod(start=datetime(2026, 12, 4, tzinfo=UTC), end=datetime(2026, 12, 5, tzinfo=UTC))
    assert frozen_until([friday_off, weekend], datetime(2026, 12, 4, 12, tzinfo=UTC))[0] == datetime(
        2026, 12, 7, tzinfo=UTC
    )
    assert frozen_until([holidays], datetime(2027, 1, 4, 8, tzinfo=UTC)) is None  # end excluded


# --- role sessions -------------------------------------------------------------------------------------
class FakeSts:
    def __init__(self, now: list[float], deny: bool = False) -> None:
        self.calls: list[dict] = []
        self.now = now
        self.deny = deny

    def assume_role(self, **kwargs):
        self.calls.append(kwargs)
        if self.deny:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "AssumeRole")
        expires = datetime.fromtimestamp(self.now[0], tz=UTC) + timedelta(seconds=kwargs["DurationSeconds"])
        n = len(self.calls)
        return {
            "Credentials": {
                "AccessKeyId": f"ASIA{n}",
                "SecretAccessKey": "s",
                "SessionToken": "t",
                "Expiration": expires,
            }
        }


ROLE = "arn:aws:iam::222222222222:role/lambda-promoter-target"


def test_sessions_are_cached_per_role_and_external_id_and_renewed_before_they_expire():
    now = [1_800_000_000.0]
    sts = FakeSts(now)
    roles = RoleSessions("us-east-1", client=sts, clock=lambda: now[0])

    first = roles.adapters(ROLE, "ext")
    assert roles.adapters(ROLE, "ext") is first
    assert roles.adapters(ROLE, "other") is not first
    assert [c.get("ExternalId") for c in sts.calls] == ["ext", "other"]
    assert sts.calls[0]["RoleSessionName"] == "lambda-promoter"

    now[0] += 3600 - 400  # more than 5 minutes left: still cached
    assert roles.adapters(ROLE, "ext") is first
    now[0] += 200  # under 5 minutes left: renewed
    renewed = roles.adapters(ROLE, "ext")
    assert renewed is not first and renewed.role_arn == ROLE
    assert len(sts.calls) == 3


def test_a_role_that_cannot_be_assumed_names_role_arn():
    roles = RoleSessions("us-east-1", client=FakeSts([0.0], deny=True))
    with pytest.raises(InvalidRequest) as refused:
        roles.adapters(ROLE)
    assert refused.value.field == "role_arn"
    assert "cannot assume role" in refused.value.message and "templates/target-account.yaml" in refused.value.message


# --- drift ---------------------------------------------------------------------------------------------
def promotion(status: Status, revision: str, **extra) -> Promotion:
    return Promotion(
        id="p-1",
        function="orders",
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:orders",
        alias="live",
        stable_version="1",
        candidate_version="2",
        steps=[],
        status=status,
        revision_id=revision,
        **extra,
    )


def test_drift_compares_the_alias_revision_with_what_the_control_plane_left():
    alias = AliasState(version="2", revision_id="r2")
    assert drift_of(alias, None, None) == (None, "no promotion by lambda-promoter on this alias yet")
    assert drift_of(alias, None, promotion(Status.SUCCEEDED, "r2")) == (False, "")
    drifted, why = drift_of(AliasState(version="3", revision_id="r3"), None, promotion(Status.SUCCEEDED, "r2"))
    assert drifted and "on version 3" in why and "left it at version 2" in why
    rolled_back = promotion(Status.ROLLED_BACK, "r5")
    assert "left it at version 1" in drift_of(AliasState(version="2", revision_id="r6"), None, rolled_back)[1]
