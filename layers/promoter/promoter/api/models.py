"""Request and response shapes of the HTTP API (the OpenAPI document is generated from these).

Requests reuse the domain models (``promoter.models.PromotionRequest``); responses are views of
the promotion record that leave out internals such as the task token.
"""

from datetime import datetime
from typing import Literal

from pydantic import ConfigDict, Field

from ..analysis.models import AnalysisRecord
from ..arns import FUNCTION_PATTERN
from ..fast_gate import FastGateSpec, FastGateState
from ..model_base import Model
from ..models import FunctionInventory, Hooks, Promotion, PromotionOrigin, Signal, Status

PROMOTION_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$"
# Lambda's own pattern for FunctionName (name, partial ARN or ARN, optionally qualified).
FUNCTION_NAME_PATTERN = FUNCTION_PATTERN


# --- requests ---------------------------------------------------------------------------------
class SignalRequest(Model):
    """Optional body of abort, pause, resume, approve and promote-now."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="", max_length=1000, description="why; recorded in the event history")


# --- responses --------------------------------------------------------------------------------
class PromotionAccepted(Model):
    id: str = Field(description="promotion id; GET /promotions/{id} follows it")
    status: Status
    candidate_version: str | None = Field(
        default=None, description="the version promoted; null while the workflow still carries the artifact"
    )
    carrying: bool = Field(
        default=False,
        description="a pipeline promotion into another function: the workflow's Carry step uploads the artifact "
        "and publishes the candidate there before any traffic moves",
    )

    @classmethod
    def of(cls, promotion: Promotion) -> "PromotionAccepted":
        return cls(
            id=promotion.id,
            status=promotion.status,
            candidate_version=promotion.candidate_version,
            carrying=promotion.carry is not None and not promotion.carry.done,
        )


class SignalAccepted(Model):
    id: str
    status: Status = Field(description="status when the signal was recorded; the workflow acts on it next")
    signal: Signal


class StepView(Model):
    index: int
    weight: float
    bake_seconds: int
    started_at: datetime | None
    ended_at: datetime | None


class EventView(Model):
    at: datetime
    actor: str = Field(description="IAM identity of the caller, 'workflow', or 'local' in the sandbox")
    type: str
    message: str
    status: Status | None
    weight: float | None


class PromotionSummary(Model):
    id: str
    function: str
    alias: str
    stable_version: str
    candidate_version: str | None = Field(description="null until the workflow's Carry step has published it")
    status: Status
    current_weight: float
    created_by: str
    created_at: datetime
    ended_at: datetime | None
    outcome_reason: str

    @classmethod
    def of(cls, promotion: Promotion) -> "PromotionSummary":
        return cls.model_validate(promotion.model_dump())


class CarryView(Model):
    source_function_arn: str
    source_version: str
    code_sha256: str
    via: Literal["zip", "s3", "image"] | None = Field(description="how the code went up: a zip, through S3, an image")
    uploads: int = Field(description="UpdateFunctionCode calls made; a retried carry makes none")
    done: bool = Field(description="the candidate is published on the target")


class PromotionView(PromotionSummary):
    function_arn: str
    current_step: int | None
    steps: list[StepView]
    alarms: list[str]
    hooks: Hooks
    approval: bool
    insufficient_data: Literal["fail", "pass"]
    reason: str
    signal: Signal | None = Field(description="the latest signal the workflow has not handled yet")
    execution_arn: str | None
    role_arn: str | None = Field(default=None, description="role assumed for every call on the target")
    approval_by_other: bool = Field(default=False, description="the approver must not be who started it")
    origin: PromotionOrigin | None = Field(
        default=None, description="pipeline promotions: pipeline, environment, source version and CodeSha256"
    )
    carry: CarryView | None = Field(
        default=None, description="pipeline promotions into another function: the artifact the workflow carries"
    )
    updated_at: datetime
    analysis: AnalysisRecord | None = Field(
        default=None, description="canary analysis: the spec, each judged step, the latest evidence per metric"
    )
    fast_gate: FastGateSpec | None = Field(default=None, description="the fast gate's threshold, window, pattern")
    fast_gate_state: FastGateState | None = Field(
        default=None, description="the fast gate's subscription filter, whether it is removed, and its trip"
    )
    events: list[EventView] = Field(description="full history, oldest first, each with its actor")

    @classmethod
    def of(cls, promotion: Promotion) -> "PromotionView":
        return cls.model_validate(promotion.model_dump())


class AlarmGateView(Model):
    name: str
    state: Literal["OK", "ALARM", "INSUFFICIENT_DATA", "MISSING"] = Field(
        description="CloudWatch's state of the alarm now; MISSING: the alarm no longer exists"
    )


class GatesView(Model):
    promotion_id: str
    status: Status
    alarms: list[AlarmGateView] = Field(description="each alarm the promotion watches, in the request's order")
    read_at: datetime = Field(description="when CloudWatch was asked")


class PromotionPage(Model):
    items: list[PromotionSummary]
    next_token: str | None = Field(description="pass as next_token for the next page; null on the last")


class AliasView(Model):
    alias: str
    version: str
    weights: dict[str, float] = Field(description="additional version -> share of traffic; empty when settled")
    active_promotion: PromotionSummary | None
    last_promotion: PromotionSummary | None


class InventoryView(Model):
    function: str
    function_arn: str
    aliases: list[AliasView]

    @classmethod
    def of(cls, inventory: FunctionInventory) -> "InventoryView":
        return cls(
            function=inventory.function,
            function_arn=inventory.function_arn,
            aliases=[
                AliasView(
                    alias=a.alias,
                    version=a.version,
                    weights=a.weights,
                    active_promotion=PromotionSummary.of(a.active_promotion) if a.active_promotion else None,
                    last_promotion=PromotionSummary.of(a.last_promotion) if a.last_promotion else None,
                )
                for a in inventory.aliases
            ],
        )


# --- errors -----------------------------------------------------------------------------------
class FieldProblem(Model):
    field: str = Field(description="dotted path, e.g. strategy.steps.1.weight, or query.limit")
    rule: str = Field(description="the rule broken, e.g. greater_than, missing, string_too_long")
    message: str


class ErrorBody(Model):
    """The one body of every error this API returns."""

    model_config = ConfigDict(extra="allow")

    error: str = Field(description="error name, e.g. InvalidRequest, NotFound, TargetBusy, InvalidTransition")
    message: str
    field: str | None = Field(description="the request field at fault, when there is one")
    rule: str | None = Field(default=None, description="validation rule broken (422 from validation)")
    errors: list[FieldProblem] | None = Field(default=None, description="every field problem (422)")
    current_status: Status | None = Field(default=None, description="status that refused the move (409)")
    active_promotion: str | None = Field(default=None, description="promotion holding the target (409)")
    frozen_until: datetime | None = Field(default=None, description="end of the freeze window in force (409)")
    started_by: str | None = Field(default=None, description="who started the promotion (403 on approve)")
