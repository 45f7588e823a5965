"""pydantic models: requests, strategies, the promotion record and its events."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

VERSION_RE = re.compile(r"^[1-9][0-9]*$")


def utcnow() -> datetime:
    return datetime.now(UTC)


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
class Step(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    weight: float = Field(gt=0, le=1, description="share of traffic on the candidate, in (0, 1]")
    bake_seconds: int = Field(default=0, ge=0, le=86_400, description="hold time after the shift")


class CanaryStrategy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["canary"] = "canary"
    weight: float = Field(default=0.1, gt=0, lt=1, description="canary share, in (0, 1)")
    bake_seconds: int = Field(default=300, ge=0, le=86_400)


class LinearStrategy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["linear"] = "linear"
    step: float = Field(default=0.1, gt=0, lt=1, description="added share per step, in (0, 1)")
    interval_seconds: int = Field(default=60, ge=0, le=86_400)


class AllAtOnceStrategy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["all-at-once"] = "all-at-once"


class CustomStrategy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["custom"] = "custom"
    steps: list[Step] = Field(min_length=1, max_length=100)

    @field_validator("steps")
    @classmethod
    def _weights_rise(cls, steps: list[Step]) -> list[Step]:
        for before, after in zip(steps, steps[1:], strict=False):
            if after.weight <= before.weight:
                raise ValueError(
                    f"weights must rise strictly: {after.weight} follows {before.weight}"
                )
        return steps


def _strategy_kind(value: Any) -> str:
    if isinstance(value, dict):
        return value.get("type", "custom" if "steps" in value else "canary")
    return getattr(value, "type", "canary")


StrategySpec = Annotated[
    Annotated[CanaryStrategy, Tag("canary")]
    | Annotated[LinearStrategy, Tag("linear")]
    | Annotated[AllAtOnceStrategy, Tag("all-at-once")]
    | Annotated[CustomStrategy, Tag("custom")],
    Discriminator(_strategy_kind),
]


# --- requests ---------------------------------------------------------------------------------
class Hooks(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pre_traffic: str | None = Field(default=None, min_length=1, description="function run before traffic")
    post_traffic: str | None = Field(default=None, min_length=1, description="function run at 100%")


class PromotionRequest(BaseModel):
    """What a caller asks for. Validated here for shape; the service checks it against AWS."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    function: str = Field(min_length=1, max_length=170, description="function name or ARN")
    alias: str = Field(min_length=1, max_length=128, pattern=r"^[a-zA-Z0-9_-]*[a-zA-Z_-][a-zA-Z0-9_-]*$")
    version: str | None = Field(default=None, description="published version number, e.g. \"7\"")
    publish: bool = Field(default=False, description="publish the function's current code instead")
    code_sha256: str | None = Field(default=None, description="precondition for publish")
    strategy: StrategySpec = Field(default_factory=CanaryStrategy)
    alarms: list[str] = Field(default_factory=list, max_length=20)
    hooks: Hooks = Field(default_factory=Hooks)
    approval: bool = False
    insufficient_data: Literal["fail", "pass"] = Field(
        default="fail", description="how an alarm in INSUFFICIENT_DATA counts at a gate"
    )
    watch_seconds: int = Field(
        default=0, ge=0, le=86_400, description="after 100%, an alarm still returns the alias to stable"
    )
    reason: str = Field(default="", max_length=1000)

    @field_validator("version", mode="before")
    @classmethod
    def _version_is_published(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("version must be a published version number")
        if isinstance(value, int):
            value = str(value)
        if isinstance(value, str) and not VERSION_RE.match(value):
            raise ValueError(
                f"version must be a published version number (digits), not {value!r}"
            )
        return value

    @model_validator(mode="after")
    def _version_or_publish(self) -> PromotionRequest:
        if self.publish == (self.version is not None):
            raise ValueError("give exactly one of 'version' or 'publish': true")
        if self.code_sha256 and not self.publish:
            raise ValueError("code_sha256 is only used with 'publish': true")
        return self


# --- schedules -------------------------------------------------------------------------------
class PipelinePromotionRequest(BaseModel):
    """Promote whatever the previous environment runs into environment ``to`` of ``pipeline``."""

    model_config = ConfigDict(extra="forbid")

    pipeline: str = Field(min_length=1, max_length=64)
    to: str = Field(min_length=1, max_length=64, description="target environment")
    reason: str = Field(default="", max_length=1000)


class ScheduleRequest(BaseModel):
    """A promotion at a set time (``at``) or a recurring release train (``cron`` + ``timezone``)."""

    model_config = ConfigDict(extra="forbid")

    at: datetime | None = Field(default=None, description="when, with a UTC offset, e.g. 2026-12-01T02:00:00Z")
    cron: str | None = Field(default=None, description="EventBridge Scheduler cron(...) expression")
    timezone: str = Field(default="UTC", description="IANA time zone of the cron expression")
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
        from .cron import cron_error

        if value is not None and (error := cron_error(value)):
            raise ValueError(f"invalid cron expression {value!r}: {error}")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone_exists(cls, value: str) -> str:
        from .cron import timezone_error

        if error := timezone_error(value):
            raise ValueError(error)
        return value

    @model_validator(mode="after")
    def _one_time_and_one_action(self) -> ScheduleRequest:
        if (self.at is None) == (self.cron is None):
            raise ValueError("give exactly one of 'at' (one time) or 'cron' (recurring)")
        if (self.promotion is None) == (self.pipeline is None):
            raise ValueError("give exactly one of 'promotion' or 'pipeline'")
        return self


class ScheduleRun(BaseModel):
    at: datetime = Field(default_factory=utcnow)
    outcome: Literal["started", "skipped", "failed"]
    promotion_id: str | None = None
    reason: str = ""


class Schedule(BaseModel):
    id: str
    request: ScheduleRequest
    expression: str
    schedule_arn: str = ""
    created_by: str = "unknown"
    created_at: datetime = Field(default_factory=utcnow)
    deleted: bool = False
    runs: list[ScheduleRun] = Field(default_factory=list)


class ScheduleFired(BaseModel):
    """What EventBridge Scheduler sends the trigger function."""

    schedule_id: str = Field(min_length=1)


# --- the promotion record ---------------------------------------------------------------------
class Event(BaseModel):
    at: datetime = Field(default_factory=utcnow)
    actor: str
    type: str
    message: str = ""
    status: Status | None = None
    weight: float | None = None


class StepRecord(BaseModel):
    index: int
    weight: float
    bake_seconds: int
    started_at: datetime | None = None
    ended_at: datetime | None = None


class AliasTarget(BaseModel):
    """An alias state we are about to write; lets us recognise our own write after a crash."""

    version: str
    weights: dict[str, float] = Field(default_factory=dict)


class Promotion(BaseModel):
    id: str
    function: str
    function_arn: str
    alias: str
    stable_version: str
    candidate_version: str
    steps: list[StepRecord]
    alarms: list[str] = Field(default_factory=list)
    hooks: Hooks = Field(default_factory=Hooks)
    approval: bool = False
    insufficient_data: Literal["fail", "pass"] = "fail"
    watch_seconds: int = 0
    reason: str = ""
    status: Status = Status.PENDING
    current_weight: float = 0.0
    current_step: int | None = None
    revision_id: str | None = Field(default=None, description="alias RevisionId we last saw or wrote")
    pending_alias: AliasTarget | None = Field(default=None, description="alias write in flight")
    signal: Signal | None = Field(default=None, description="latest unhandled request from outside")
    task_token: str | None = Field(default=None, description="token of the wait the workflow is in")
    execution_arn: str | None = None
    created_by: str = "unknown"
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    ended_at: datetime | None = None
    outcome_reason: str = ""
    events: list[Event] = Field(default_factory=list)

    @property
    def target_key(self) -> str:
        return f"{self.function_arn}:{self.alias}"

    def record(self, actor: str, type_: str, message: str = "", **extra: Any) -> None:
        self.events.append(Event(actor=actor, type=type_, message=message, status=self.status, **extra))
        self.updated_at = utcnow()


# --- workflow task inputs (what the ASL passes to each handler) ------------------------------
class TaskInput(BaseModel):
    promotion_id: str = Field(min_length=1)


class StepInput(TaskInput):
    step: int = Field(ge=0)


class WaitInput(TaskInput):
    kind: Literal["approval", "bake", "pause", "watch"]
    token: str = Field(min_length=1)


class AlarmState(BaseModel):
    value: Literal["OK", "ALARM", "INSUFFICIENT_DATA"]
    reason: str = ""


class AlarmStateChange(BaseModel):
    """``detail`` of a "CloudWatch Alarm State Change" event (fields we use)."""

    alarmName: str  # noqa: N815 - AWS's field name
    state: AlarmState
    previousState: AlarmState | None = None  # noqa: N815


class AlarmStateChangeEvent(EventBridgeModel):
    """The EventBridge envelope of a "CloudWatch Alarm State Change" event."""

    detail: AlarmStateChange


class HookInput(TaskInput):
    phase: Literal["pre_traffic", "post_traffic"]


class RollbackInput(TaskInput):
    error: dict[str, Any] | None = None


class FinalizeInput(TaskInput):
    status: Status
    reason: str = ""


# --- inventory: which version is on which alias ------------------------------------------------
class AliasInventory(BaseModel):
    alias: str
    version: str
    weights: dict[str, float] = Field(default_factory=dict, description="extra versions and their share")
    active_promotion: Promotion | None = Field(default=None, description="the promotion holding the lock")
    last_promotion: Promotion | None = Field(default=None, description="the most recent finished promotion")


class FunctionInventory(BaseModel):
    function: str
    function_arn: str
    aliases: list[AliasInventory] = Field(default_factory=list)
