"""pydantic models: requests, strategies, the promotion record and its events."""

import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    computed_field,
    field_validator,
    model_validator,
)
from pydantic.types import Strict

from .analysis.models import AnalysisRecord, AnalysisSpec
from .arns import FUNCTION_PATTERN, MAX_FUNCTION_LENGTH, UNQUALIFIED_FUNCTION_PATTERN, account_of, unqualified_function
from .cron import cron_error, timezone_error
from .fast_gate import FastGateSpec, FastGateState
from .limits import (
    ALARM_NAME_MAX_LENGTH,
    APPROVAL_WAIT_SECONDS,
    MAX_ALARMS,
    MAX_BAKE_SECONDS,
    MAX_STEPS,
    MAX_TOTAL_SECONDS,
    MIN_LINEAR_STEP,
    duration_days,
    linear_step_count,
    max_judged_steps,
)
from .model_base import Model

VERSION_RE = re.compile(r"^[1-9][0-9]*$")
# An IAM role ARN (optionally with a path), and an STS external id (AWS's own limits and characters).
ROLE_ARN_PATTERN = r"^arn:aws[a-zA-Z-]*:iam::[0-9]{12}:role/(?:[A-Za-z0-9_+=,.@-]+/)*[A-Za-z0-9_+=,.@-]{1,64}$"
EXTERNAL_ID_PATTERN = r"^[A-Za-z0-9_+=,.@:/-]{2,1224}$"


def _known_timezone(value: str) -> str:
    if error := timezone_error(value):
        raise ValueError(error)
    return value


TimeZoneName = Annotated[str, AfterValidator(_known_timezone)]

# Strict scalars: a JSON boolean or number only ("yes", "0.1", "60" are refused, never coerced).
# A JSON integer is still a valid float (1 is 1.0).
Flag = Annotated[bool, Strict()]
Share = Annotated[float, Strict()]
Seconds = Annotated[int, Strict()]


def _alarm_name(value: str) -> str:
    if not value.strip():
        raise ValueError("an alarm name cannot be blank")
    if any(ord(c) < 0x20 and c not in "\t\n\r" for c in value):
        raise ValueError("an alarm name cannot hold control characters")
    return value


def _hook_function(value: str) -> str:
    if not re.match(FUNCTION_PATTERN, value):
        raise ValueError(f"{value!r} is not a Lambda function name or ARN")
    return value


# CloudWatch's AlarmName: 1 to 255 characters, not blank.
AlarmName = Annotated[
    str,
    Field(min_length=1, max_length=ALARM_NAME_MAX_LENGTH, json_schema_extra={"pattern": r"\S"}),
    AfterValidator(_alarm_name),
]
# The function of a target: a name, a partial ARN or an ARN, never qualified (the alias is its own field).
TargetFunction = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_FUNCTION_LENGTH,
        json_schema_extra={"pattern": UNQUALIFIED_FUNCTION_PATTERN},
        description="function name, partial ARN or ARN, without a version or alias",
    ),
    AfterValidator(unqualified_function),
]
# A hook: any of Lambda's FunctionName shapes (a qualified hook runs that version or alias).
HookFunction = Annotated[
    str,
    Field(min_length=1, max_length=MAX_FUNCTION_LENGTH, json_schema_extra={"pattern": FUNCTION_PATTERN}),
    AfterValidator(_hook_function),
]


def check_duration(bake_seconds: int, watch_seconds: int, approval: bool) -> None:
    """The whole promotion must fit one Step Functions execution, with headroom (promoter.limits)."""
    total = bake_seconds + watch_seconds + (APPROVAL_WAIT_SECONDS if approval else 0)
    if total > MAX_TOTAL_SECONDS:
        parts = f"bakes {bake_seconds} s + watch {watch_seconds} s" + (
            f" + approval wait up to {APPROVAL_WAIT_SECONDS} s" if approval else ""
        )
        raise ValueError(
            f"the promotion could run {duration_days(total)} ({parts}); the limit is "
            f"{duration_days(MAX_TOTAL_SECONDS)} ({MAX_TOTAL_SECONDS} s), half of Step Functions' one-year "
            "execution limit: bake less or use fewer steps"
        )


def check_judged_steps(strategy: Any, analysis: AnalysisSpec | None) -> AnalysisSpec | None:
    """With analysis, the Judge's history events bound the steps of one execution (promoter.limits)."""
    if analysis is None or strategy is None:
        return analysis
    judged = strategy.step_count() - 1  # every weighted step; the final 100% one is not judged
    fits = max_judged_steps(analysis.max_extensions)
    if judged > fits:
        raise ValueError(
            f"{judged} judged steps with up to {analysis.max_extensions} extensions each do not fit one Step "
            f"Functions execution's history: at most {fits}; use fewer steps or a smaller max_extensions"
        )
    # The extensions' time needs no check of its own: so few judged steps stay far inside the
    # duration limit (tests/unit/test_limits.py).
    return analysis


FAST_GATE_CROSS_ACCOUNT = (
    "the fast gate is not supported yet for a target in another account (role_arn): CloudWatch Logs "
    "delivers to a Lambda function of the log group's own account only; use alarms or canary analysis there"
)


def utcnow() -> datetime:
    return datetime.now(UTC)


def role_arn(value: str | None) -> str | None:
    """An IAM role ARN, or a clear error naming the expected shape."""
    if value is not None and not re.match(ROLE_ARN_PATTERN, value):
        raise ValueError(f"{value!r} is not an IAM role ARN: use arn:aws:iam::<12-digit account>:role/<name>")
    return value


def published_version(value: Any) -> Any:
    """A published version number as a string ("7"; 7 is accepted), never $LATEST."""
    if isinstance(value, bool):
        raise ValueError("version must be a published version number")
    if isinstance(value, int):
        value = str(value)
    if isinstance(value, str) and not VERSION_RE.match(value):
        raise ValueError(f"version must be a published version number (digits), not {value!r}")
    return value


class Status(StrEnum):
    PENDING = "PENDING"
    AWAITING_APPROVAL = "AWAITING_APPROVAL"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    SUCCEEDED = "SUCCEEDED"
    ROLLED_BACK = "ROLLED_BACK"
    ABORTED = "ABORTED"
    FAILED = "FAILED"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES


FINAL_STATUSES = frozenset({Status.SUCCEEDED, Status.ROLLED_BACK, Status.ABORTED, Status.FAILED})


class Signal(StrEnum):
    """What a person or system asked a live promotion to do."""

    ABORT = "abort"
    PAUSE = "pause"
    RESUME = "resume"
    APPROVE = "approve"
    PROMOTE_NOW = "promote_now"


# --- strategies -------------------------------------------------------------------------------
class Step(Model):
    model_config = ConfigDict(frozen=True, extra="forbid")

    weight: Share = Field(gt=0, le=1, description="share of traffic on the candidate, in (0, 1]")
    bake_seconds: Seconds = Field(default=0, ge=0, le=MAX_BAKE_SECONDS, description="hold time after the shift")


class CanaryStrategy(Model):
    model_config = ConfigDict(extra="forbid")

    type: Literal["canary"] = "canary"
    weight: Share = Field(default=0.1, gt=0, lt=1, description="canary share, in (0, 1)")
    bake_seconds: Seconds = Field(default=300, ge=0, le=MAX_BAKE_SECONDS)

    def step_count(self) -> int:
        return 2

    def bake_total(self) -> int:
        return self.bake_seconds


class LinearStrategy(Model):
    model_config = ConfigDict(extra="forbid")

    type: Literal["linear"] = "linear"
    step: Share = Field(
        default=0.1,
        gt=0,
        lt=1,
        json_schema_extra={"minimum": MIN_LINEAR_STEP},
        description=f"added share per step, in [{MIN_LINEAR_STEP}, 1): at most {MAX_STEPS} steps",
    )
    interval_seconds: Seconds = Field(default=60, ge=0, le=MAX_BAKE_SECONDS)

    @field_validator("step")
    @classmethod
    def _few_enough_steps(cls, step: float) -> float:
        # Counted, not built: a step of 1e-6 must not make a million steps to find out.
        if step < MIN_LINEAR_STEP or linear_step_count(step) > MAX_STEPS:
            raise ValueError(
                f"step {step} makes more than {MAX_STEPS} steps, the limit of one Step Functions execution: "
                f"the smallest step is {MIN_LINEAR_STEP}"
            )
        return step

    def step_count(self) -> int:
        return linear_step_count(self.step)

    def bake_total(self) -> int:
        return self.interval_seconds * (self.step_count() - 1)  # the final 100% step does not bake


class AllAtOnceStrategy(Model):
    model_config = ConfigDict(extra="forbid")

    type: Literal["all-at-once"] = "all-at-once"

    def step_count(self) -> int:
        return 1

    def bake_total(self) -> int:
        return 0


class CustomStrategy(Model):
    model_config = ConfigDict(extra="forbid")

    type: Literal["custom"] = "custom"
    steps: list[Step] = Field(min_length=1, max_length=MAX_STEPS)

    @field_validator("steps")
    @classmethod
    def _weights_rise(cls, steps: list[Step]) -> list[Step]:
        for before, after in zip(steps, steps[1:], strict=False):
            if after.weight <= before.weight:
                raise ValueError(f"weights must rise strictly: {after.weight} follows {before.weight}")
        if (count := _custom_step_count(steps)) > MAX_STEPS:
            raise ValueError(
                f"{count} steps with the final 100% step; at most {MAX_STEPS} (one Step Functions execution)"
            )
        return steps

    def step_count(self) -> int:
        return _custom_step_count(self.steps)

    def bake_total(self) -> int:
        return sum(step.bake_seconds for step in self.steps)


def _custom_step_count(steps: list[Step]) -> int:
    return len(steps) + (0 if steps and steps[-1].weight >= 1 else 1)  # steps_for adds 100% if missing


def _strategy_kind(value: Any) -> str:
    if isinstance(value, dict):
        kind: str = value.get("type", "custom" if "steps" in value else "canary")
    else:
        kind = getattr(value, "type", "canary")
    return kind


StrategySpec = Annotated[
    Annotated[CanaryStrategy, Tag("canary")]
    | Annotated[LinearStrategy, Tag("linear")]
    | Annotated[AllAtOnceStrategy, Tag("all-at-once")]
    | Annotated[CustomStrategy, Tag("custom")],
    Discriminator(_strategy_kind),
]


# --- requests ---------------------------------------------------------------------------------
class Hooks(Model):
    model_config = ConfigDict(extra="forbid")

    pre_traffic: HookFunction | None = Field(default=None, description="function run before traffic")
    post_traffic: HookFunction | None = Field(default=None, description="function run at 100%")


class PromotionRequest(Model):
    """What a caller asks for. Validated here for shape; the service checks it against AWS."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    function: TargetFunction
    alias: str = Field(min_length=1, max_length=128, pattern=r"^[a-zA-Z0-9_-]*[a-zA-Z_-][a-zA-Z0-9_-]*$")
    version: str | None = Field(default=None, description='published version number, e.g. "7"')
    publish: Flag = Field(default=False, description="publish the function's current code instead")
    code_sha256: str | None = Field(default=None, description="precondition for publish")
    alarms: list[AlarmName] = Field(default_factory=list, max_length=MAX_ALARMS)
    hooks: Hooks = Field(default_factory=Hooks)
    approval: Flag = False
    insufficient_data: Literal["fail", "pass"] = Field(
        default="fail", description="how an alarm in INSUFFICIENT_DATA counts at a gate"
    )
    watch_seconds: Seconds = Field(
        default=0, ge=0, le=MAX_BAKE_SECONDS, description="after 100%, an alarm still returns the alias to stable"
    )
    # After approval and watch_seconds: its check of the whole duration reads them.
    strategy: StrategySpec = Field(default_factory=CanaryStrategy, validate_default=True)
    analysis: AnalysisSpec | None = Field(default=None, description="canary analysis after each weighted step")
    fast_gate: FastGateSpec | None = Field(
        default=None, description="roll back within seconds on the candidate's error lines in its logs"
    )
    reason: str = Field(default="", max_length=1000)
    role_arn: str | None = Field(
        default=None,
        json_schema_extra={"pattern": ROLE_ARN_PATTERN},
        description="role to assume for a target in another account (arn:aws:iam::<account>:role/<name>)",
    )
    external_id: str | None = Field(
        default=None, pattern=EXTERNAL_ID_PATTERN, description="external id the role's trust policy requires"
    )

    @field_validator("role_arn")
    @classmethod
    def _role_arn_format(cls, value: str | None) -> str | None:
        return role_arn(value)

    @field_validator("strategy")
    @classmethod
    def _fits_one_execution(cls, strategy: Any, info: Any) -> Any:
        check_duration(strategy.bake_total(), info.data.get("watch_seconds", 0), bool(info.data.get("approval")))
        return strategy

    @field_validator("analysis")
    @classmethod
    def _judged_steps_fit_one_execution(cls, analysis: AnalysisSpec | None, info: Any) -> AnalysisSpec | None:
        return check_judged_steps(info.data.get("strategy"), analysis)

    @field_validator("version", mode="before")
    @classmethod
    def _version_is_published(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("version must be a published version number")
        if isinstance(value, int):
            value = str(value)
        if isinstance(value, str) and not VERSION_RE.match(value):
            raise ValueError(f"version must be a published version number (digits), not {value!r}")
        return value

    @model_validator(mode="after")
    def _version_or_publish(self) -> "PromotionRequest":
        if self.publish == (self.version is not None):
            raise ValueError("give exactly one of 'version' or 'publish': true")
        if self.code_sha256 and not self.publish:
            raise ValueError("code_sha256 is only used with 'publish': true")
        if self.external_id and not self.role_arn:
            raise ValueError("external_id is only used with role_arn")
        return self


# --- schedules -------------------------------------------------------------------------------
class PipelinePromoteBody(Model):
    """``POST /pipelines/{name}/promote``: into environment ``to``, the version the one before runs."""

    model_config = ConfigDict(extra="forbid")

    to: str = Field(min_length=1, max_length=64, description="target environment, e.g. prod")
    version: str | None = Field(
        default=None,
        description="optional: a version of the previous environment's function; must be the one it runs "
        "now, unless override. Required for the first environment.",
    )
    override: Flag = Field(default=False, description="skip the guards (only where the pipeline allows it)")
    override_reason: str = Field(
        default="", max_length=1000, validate_default=True, description="required with override"
    )
    reason: str = Field(default="", max_length=1000, description="recorded with the promotion")

    @field_validator("version", mode="before")
    @classmethod
    def _version_is_published(cls, value: Any) -> Any:
        return published_version(value)

    @field_validator("override_reason")
    @classmethod
    def _reason_given(cls, value: str, info: Any) -> str:
        if info.data.get("override") and not value.strip():
            raise ValueError("override needs a reason: say why the guards are skipped")
        return value


class PipelinePromotionRequest(PipelinePromoteBody):
    """Promote whatever the previous environment runs into environment ``to`` of ``pipeline``."""

    pipeline: str = Field(min_length=1, max_length=64)


class ScheduleRequest(Model):
    """A promotion at a set time (``at``) or a recurring release train (``cron`` + ``timezone``)."""

    model_config = ConfigDict(extra="forbid")

    at: datetime | None = Field(default=None, description="when, with a UTC offset, e.g. 2026-12-01T02:00:00Z")
    cron: str | None = Field(default=None, description="EventBridge Scheduler cron(...) expression")
    timezone: TimeZoneName = Field(default="UTC", description="IANA time zone of the cron expression")
    promotion: PromotionRequest | None = None
    pipeline: PipelinePromotionRequest | None = None
    description: str = Field(default="", max_length=500)

    @field_validator("at")
    @classmethod
    def _at_has_offset(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("at needs a UTC offset, e.g. 2026-12-01T02:00:00Z")
        return value

    @field_validator("cron")
    @classmethod
    def _cron_is_valid(cls, value: str | None) -> str | None:
        if value is not None and (error := cron_error(value)):
            raise ValueError(f"invalid cron expression {value!r}: {error}")
        return value

    @model_validator(mode="after")
    def _one_time_and_one_action(self) -> "ScheduleRequest":
        if (self.at is None) == (self.cron is None):
            raise ValueError("give exactly one of 'at' (one time) or 'cron' (recurring)")
        if (self.promotion is None) == (self.pipeline is None):
            raise ValueError("give exactly one of 'promotion' or 'pipeline'")
        return self


class ScheduleRun(Model):
    at: datetime = Field(default_factory=utcnow)
    outcome: Literal["started", "skipped", "failed"]
    promotion_id: str | None = None
    reason: str = ""


class Schedule(Model):
    id: str
    request: ScheduleRequest
    expression: str
    schedule_arn: str = ""
    created_by: str = "unknown"
    created_at: datetime = Field(default_factory=utcnow)
    deleted: bool = False
    runs: list[ScheduleRun] = Field(default_factory=list)


class ScheduleFired(Model):
    """What EventBridge Scheduler sends the trigger function: a schedule of ours (POST /schedules),
    or a promotion written into a template-defined schedule (a release train)."""

    model_config = ConfigDict(extra="forbid")

    schedule_id: str | None = Field(default=None, min_length=1)
    promotion: PromotionRequest | None = None

    @model_validator(mode="after")
    def _one_of(self) -> "ScheduleFired":
        if (self.schedule_id is None) == (self.promotion is None):
            raise ValueError("give exactly one of 'schedule_id' or 'promotion'")
        return self


# --- pipelines: named, ordered environments -------------------------------------
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
HOURS_PATTERN = r"^(?:[01]\d|2[0-3]):[0-5]\d-(?:(?:[01]\d|2[0-3]):[0-5]\d|24:00)$"


class FreezePeriod(Model):
    """A one-off freeze: from ``start`` to ``end`` (ISO 8601 with a UTC offset), end excluded."""

    model_config = ConfigDict(extra="forbid")

    start: datetime = Field(description="e.g. 2026-12-20T00:00:00+01:00")
    end: datetime = Field(description="after start, e.g. 2027-01-04T08:00:00+01:00")
    reason: str = Field(default="", max_length=200)

    @field_validator("start", "end")
    @classmethod
    def _has_offset(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("needs a UTC offset, e.g. 2026-12-20T00:00:00+01:00 or ...Z")
        return value

    @field_validator("end")
    @classmethod
    def _after_start(cls, value: datetime, info: Any) -> datetime:
        start = info.data.get("start")
        if start is not None and value <= start:
            raise ValueError(f"end {value.isoformat()} must be after start {start.isoformat()}")
        return value


class WeeklyFreeze(Model):
    """A recurring freeze: on each of ``days``, during ``hours`` (local time of ``timezone``).

    ``hours`` is ``HH:MM-HH:MM``; ``24:00`` ends at midnight; an end at or before the start runs
    past midnight into the next day (``22:00-06:00`` on fri is Friday 22:00 to Saturday 06:00).
    """

    model_config = ConfigDict(extra="forbid")

    days: list[Weekday] = Field(min_length=1, max_length=7, description="mon, tue, wed, thu, fri, sat, sun")
    hours: str = Field(
        default="00:00-24:00",
        json_schema_extra={"pattern": HOURS_PATTERN},
        description="HH:MM-HH:MM, e.g. 16:00-24:00 (24:00 is midnight at the end of the day)",
    )
    timezone: TimeZoneName = Field(default="UTC", description="IANA time zone, e.g. Europe/Berlin")
    reason: str = Field(default="", max_length=200)

    @field_validator("days")
    @classmethod
    def _unique_days(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("each day may appear once")
        return value

    @field_validator("hours")
    @classmethod
    def _not_empty(cls, value: str) -> str:
        if not re.match(HOURS_PATTERN, value):
            raise ValueError(f"hours {value!r} must be HH:MM-HH:MM, e.g. 16:00-24:00 or 22:00-06:00")
        start, end = value.split("-")
        if start == end:
            raise ValueError(f"hours {value!r} is empty: start and end are equal (00:00-24:00 is a whole day)")
        return value


def _freeze_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "weekly" if "days" in value or "hours" in value else "period"
    return "weekly" if isinstance(value, WeeklyFreeze) else "period"


FreezeWindow = Annotated[
    Annotated[FreezePeriod, Tag("period")] | Annotated[WeeklyFreeze, Tag("weekly")],
    Discriminator(_freeze_kind),
]


class Environment(Model):
    """One stage of a pipeline: a target (function and alias, maybe in another account through a
    role) with its own strategy, gates and guards."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN, description="e.g. dev, staging, prod")
    function: TargetFunction
    alias: str = Field(min_length=1, max_length=128, pattern=r"^[a-zA-Z0-9_-]*[a-zA-Z_-][a-zA-Z0-9_-]*$")
    role_arn: str | None = Field(
        default=None,
        json_schema_extra={"pattern": ROLE_ARN_PATTERN},
        description="role to assume: the function is in that account (arn:aws:iam::<account>:role/<name>)",
    )
    external_id: str | None = Field(default=None, pattern=EXTERNAL_ID_PATTERN)
    alarms: list[AlarmName] = Field(default_factory=list, max_length=MAX_ALARMS)
    hooks: Hooks = Field(default_factory=Hooks)
    insufficient_data: Literal["fail", "pass"] = "fail"
    watch_seconds: Seconds = Field(default=0, ge=0, le=MAX_BAKE_SECONDS)
    protected: Flag = Field(default=False, description="a promotion waits in AWAITING_APPROVAL")
    approval_by_other: Flag = Field(
        default=False, description="with protected: the approver must not be who started the promotion"
    )
    # After protected and watch_seconds: its check of the whole duration reads them.
    strategy: StrategySpec = Field(default_factory=CanaryStrategy, validate_default=True)
    analysis: AnalysisSpec | None = Field(default=None, description="canary analysis after each weighted step")
    fast_gate: FastGateSpec | None = Field(
        default=None, description="roll back within seconds on the candidate's error lines in its logs"
    )
    freeze_windows: list[FreezeWindow] = Field(default_factory=list, max_length=50)

    @field_validator("analysis")
    @classmethod
    def _judged_steps_fit_one_execution(cls, analysis: AnalysisSpec | None, info: Any) -> AnalysisSpec | None:
        return check_judged_steps(info.data.get("strategy"), analysis)

    @field_validator("fast_gate")
    @classmethod
    def _fast_gate_in_this_account(cls, value: FastGateSpec | None, info: Any) -> FastGateSpec | None:
        if value is not None and info.data.get("role_arn"):  # refused up front, not at the promotion
            raise ValueError(FAST_GATE_CROSS_ACCOUNT)
        return value

    @field_validator("role_arn")
    @classmethod
    def _role_arn_format(cls, value: str | None, info: Any) -> str | None:
        value = role_arn(value)
        function_account = account_of(str(info.data.get("function", "")))
        if value and function_account and function_account != account_of(value):
            raise ValueError(
                f"the role is in account {account_of(value)}, the function ARN in account {function_account}"
            )
        return value

    @field_validator("strategy")
    @classmethod
    def _fits_one_execution(cls, strategy: Any, info: Any) -> Any:
        check_duration(strategy.bake_total(), info.data.get("watch_seconds", 0), bool(info.data.get("protected")))
        return strategy

    @field_validator("external_id")
    @classmethod
    def _needs_role(cls, value: str | None, info: Any) -> str | None:
        if value is not None and not info.data.get("role_arn"):
            raise ValueError("external_id is only used with role_arn")
        return value

    @field_validator("approval_by_other")
    @classmethod
    def _needs_protected(cls, value: bool, info: Any) -> bool:
        if value and not info.data.get("protected"):
            raise ValueError("approval_by_other needs protected: true")
        return value


class PipelineDefinition(Model):
    """What ``PUT /pipelines/{name}`` takes (the name may be repeated; it must match the path)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, pattern=NAME_PATTERN, description="optional; must match the path")
    description: str = Field(default="", max_length=500)
    environments: list[Environment] = Field(min_length=1, max_length=20, description="in promotion order")
    allow_override: Flag = Field(
        default=False, description="a promotion may skip the guards with override and a reason"
    )

    @field_validator("environments")
    @classmethod
    def _unique_names(cls, value: list[Environment]) -> list[Environment]:
        seen: set[str] = set()
        for env in value:
            if env.name in seen:
                raise ValueError(f"environment names must be unique: {env.name!r} appears more than once")
            seen.add(env.name)
        targets: dict[tuple[str, str, str | None], str] = {}
        for env in value:
            key = (env.function, env.alias, env.role_arn)
            if key in targets:
                raise ValueError(f"environments {targets[key]!r} and {env.name!r} are the same target")
            targets[key] = env.name
        return value


class Pipeline(PipelineDefinition):
    name: str = Field(pattern=NAME_PATTERN)

    def environment(self, name: str) -> tuple[int, Environment]:
        for index, env in enumerate(self.environments):
            if env.name == name:
                return index, env
        raise KeyError(name)


class PipelineRecord(Model):
    """A stored pipeline and who changed it last."""

    pipeline: Pipeline
    created_by: str = "unknown"
    created_at: datetime = Field(default_factory=utcnow)
    updated_by: str = "unknown"
    updated_at: datetime = Field(default_factory=utcnow)


class PromotionOrigin(Model):
    """Where a pipeline promotion's candidate came from."""

    pipeline: str
    environment: str
    source_environment: str | None = None
    source_function_arn: str | None = None
    source_version: str | None = None
    code_sha256: str | None = Field(default=None, description="CodeSha256 of the source and the candidate")
    copied: bool = Field(default=False, description="the artifact was carried to another function and published")
    override_reason: str | None = Field(default=None, description="set when the guards were skipped")


class Carry(Model):
    """The artifact a pipeline promotion carries to another function: the workflow's Carry step
    uploads it and publishes the candidate there (promoter.promotions.carry), not the API request."""

    source_function_arn: str
    source_version: str
    code_sha256: str
    source_role_arn: str | None = Field(default=None, description="role that reads the source, in its account")
    source_external_id: str | None = None  # kept out of every view (promoter.api.models)
    description: str = Field(default="", description="Description of the version published on the target")
    via: Literal["zip", "s3", "image"] | None = Field(default=None, description="how the code went up")
    uploads: int = Field(default=0, description="UpdateFunctionCode calls made (a retried carry makes none)")
    done: bool = False


# --- the promotion record ---------------------------------------------------------------------
class Event(Model):
    at: datetime = Field(default_factory=utcnow)
    actor: str
    type: str
    message: str = ""
    status: Status | None = None
    weight: float | None = None


class StepRecord(Model):
    index: int
    weight: float
    bake_seconds: int
    started_at: datetime | None = None
    ended_at: datetime | None = None
    baked_seconds: float = Field(default=0.0, description="bake time that passed, pauses excluded")


class AliasTarget(Model):
    """An alias state: one version, and the extra versions with their share."""

    version: str
    weights: dict[str, float] = Field(default_factory=dict)

    def same_routing(self, version: str, weights: dict[str, float]) -> bool:
        return self.version == version and self.weights == weights


class AliasClaim(Model):
    """A writer's announced alias write, recorded before the write (see promotions/protocol.py).

    ``back`` is a write towards the stable version (rollback, abort, repair); ``forward`` moves
    traffic to the candidate. A forward claim is refused once the promotion is ending.
    """

    id: str
    writer: str
    direction: Literal["forward", "back"]
    target: AliasTarget
    base_revision: str
    state: Literal["pending", "done"] = "pending"


class SignalEntry(Model):
    """One accepted request from outside, in the order it was accepted (its reason is in the
    event history, and an abort's in the ending: the log stays small)."""

    seq: int
    signal: Signal
    actor: str
    at: datetime = Field(default_factory=utcnow)


class Ending(Model):
    """How the promotion ends, decided once by whoever gets there first (the record serialises it)."""

    status: Status
    reason: str
    actor: str
    leave_alias: bool = Field(default=False, description="drift: someone else's alias change is kept")


class Hold(Model):
    """The wait of the current step (or the watch window): the clock stops while paused."""

    step: int
    seconds: int
    baked: float = 0.0
    running_since: datetime | None = None

    def remaining(self, now: datetime) -> float:
        running = (now - self.running_since).total_seconds() if self.running_since else 0.0
        return max(0.0, self.seconds - self.baked - running)


class StatusChange(Model):
    """A status change still to be announced on the bus (announced at least once)."""

    previous: Status | None
    status: Status
    actor: str
    reason: str = ""
    sequence: int = 0
    at: datetime = Field(default_factory=utcnow)


HookOutcome = Literal["invoking", "passed", "failed"]


class Promotion(Model):
    id: str
    function: str
    function_arn: str
    alias: str
    stable_version: str
    candidate_version: str | None = Field(description="None until the workflow's Carry step has published it")
    steps: list[StepRecord]
    alarms: list[str] = Field(default_factory=list)
    hooks: Hooks = Field(default_factory=Hooks)
    approval: bool = False
    insufficient_data: Literal["fail", "pass"] = "fail"
    watch_seconds: int = 0
    reason: str = ""
    status: Status = Status.PENDING
    current_step: int | None = None
    revision_id: str | None = Field(default=None, description="alias RevisionId last confirmed")
    confirmed_alias: AliasTarget | None = Field(default=None, description="alias state last confirmed")
    claims: list[AliasClaim] = Field(default_factory=list, description="alias writes announced, not yet confirmed")
    signals: list[SignalEntry] = Field(default_factory=list, description="accepted signals, in order")
    handled_signals: int = Field(default=0, description="signals up to this seq were acted on")
    ending: Ending | None = Field(default=None, description="how it ends, once decided")
    hold: Hold | None = None
    unannounced: list[StatusChange] = Field(default_factory=list, description="status changes not yet on the bus")
    hook_runs: dict[str, HookOutcome] = Field(default_factory=dict, description="each hook runs once per phase")
    task_token: str | None = Field(default=None, description="token of the wait the workflow is in")
    execution_arn: str | None = None
    role_arn: str | None = Field(default=None, description="role assumed for every call on the target")
    external_id: str | None = None
    approval_by_other: bool = Field(default=False, description="the approver must not be the starter")
    origin: PromotionOrigin | None = Field(default=None, description="pipeline promotions: where it came from")
    carry: Carry | None = Field(default=None, description="an artifact the workflow carries before Prepare")
    analysis: AnalysisRecord | None = Field(default=None, description="canary analysis: spec and evidence")
    fast_gate: FastGateSpec | None = Field(default=None, description="the fast gate's spec, from the request")
    fast_gate_state: FastGateState | None = Field(default=None, description="its subscription filter and trip")
    created_by: str = "unknown"
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    ended_at: datetime | None = None
    outcome_reason: str = ""
    # Events are items of their own (aws/dynamodb.py): a record read for work holds only the
    # events added since it was read; a record read for a view holds them all.
    events_stored: int = Field(default=0, description="events already written as their own items")
    events: list[Event] = Field(default_factory=list)

    @property
    def target_key(self) -> str:
        return f"{self.function_arn}:{self.alias}"

    @property
    def candidate(self) -> str:
        """The candidate version, for work that moves traffic (which never runs before the carry)."""
        if self.candidate_version is None:
            raise ValueError(f"promotion {self.id} has no candidate version yet: its artifact is not carried")
        return self.candidate_version

    @computed_field  # type: ignore[prop-decorator]
    @property
    def current_weight(self) -> float:
        """The candidate's share in the last confirmed alias state (the truth, not the plan)."""
        alias = self.confirmed_alias
        if alias is None or self.candidate_version is None:
            return 0.0
        if alias.version == self.candidate_version:
            return round(1.0 - sum(alias.weights.values()), 6)
        return alias.weights.get(self.candidate_version, 0.0)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def signal(self) -> Signal | None:
        """The latest accepted signal (the whole log is ``signals``)."""
        return self.signals[-1].signal if self.signals else None

    @property
    def abort_requested(self) -> bool:
        return any(entry.signal is Signal.ABORT for entry in self.signals)

    @property
    def approved(self) -> bool:
        return any(entry.signal is Signal.APPROVE for entry in self.signals)

    @property
    def event_count(self) -> int:
        """Events in the history, stored or added since the read."""
        return self.events_stored + len(self.events)

    def record_document(self) -> str:
        """The record item's JSON: everything but the events, so its size stays bounded."""
        return self.model_dump_json(exclude={"events"})

    def record(self, actor: str, type_: str, message: str = "", **extra: Any) -> None:
        self.events.append(Event(actor=actor, type=type_, message=message, status=self.status, **extra))
        self.updated_at = utcnow()


# --- workflow task inputs (what the ASL passes to each handler) ------------------------------
class TaskInput(Model):
    promotion_id: str = Field(min_length=1)


class StepInput(TaskInput):
    step: int = Field(ge=0)


class CheckInput(StepInput):
    woke: dict[str, Any] | None = Field(default=None, description="how the hold ended: a signal or States.Timeout")


class WaitInput(TaskInput):
    kind: Literal["approval", "hold", "pause"]
    token: str = Field(min_length=1)


class AlarmState(Model):
    value: Literal["OK", "ALARM", "INSUFFICIENT_DATA"]
    reason: str = ""
    timestamp: datetime | None = None  # when the state changed (ms; the envelope's time is to the second)


class AlarmStateChange(Model):
    """``detail`` of a "CloudWatch Alarm State Change" event (fields we use)."""

    alarmName: str  # noqa: N815 - AWS's field name
    state: AlarmState
    previousState: AlarmState | None = None  # noqa: N815


class HookInput(TaskInput):
    phase: Literal["pre_traffic", "post_traffic"]


class RollbackInput(TaskInput):
    error: dict[str, Any] | None = None


class FinalizeInput(TaskInput):
    status: Status = Status.FAILED
    reason: str = ""


# --- inventory: which version is on which alias ------------------------------------------------
class AliasInventory(Model):
    alias: str
    version: str
    weights: dict[str, float] = Field(default_factory=dict, description="extra versions and their share")
    active_promotion: Promotion | None = Field(default=None, description="the promotion holding the lock")
    last_promotion: Promotion | None = Field(default=None, description="the most recent finished promotion")


class FunctionInventory(Model):
    function: str
    function_arn: str
    aliases: list[AliasInventory] = Field(default_factory=list)


class EnvironmentInventory(Model):
    """One environment of a pipeline as AWS has it now, and what the control plane did to it."""

    name: str
    function: str
    function_arn: str | None = None
    alias: str
    role_arn: str | None = None
    protected: bool = False
    version: str | None = None
    code_sha256: str | None = None
    weights: dict[str, float] = Field(default_factory=dict, description="extra versions and their share")
    frozen_until: datetime | None = Field(default=None, description="a freeze window is on until then")
    active_promotion: Promotion | None = None
    last_promotion: Promotion | None = None
    drift: bool | None = Field(
        default=None, description="the alias is not where the control plane left it (None: no promotion yet)"
    )
    drift_reason: str = ""
    error: str | None = Field(default=None, description="why this environment could not be read")


class PipelineInventory(Model):
    record: PipelineRecord
    environments: list[EnvironmentInventory]
