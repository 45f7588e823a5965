"""Use cases of schedules: a promotion at a set time, or a recurring release train.

EventBridge Scheduler fires; the trigger function calls ``fire``, which starts the promotion
through the same ``PromoterService.start`` as the API. A busy or refused target is recorded as a
skipped run with its reason and is not retried.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Protocol

from .aws.dynamodb import ScheduleStore
from .aws.scheduler import SchedulerAdapter
from .errors import InvalidRequest, NotFound, PromoterError
from .models import (
    PipelinePromotionRequest,
    Promotion,
    PromotionRequest,
    Schedule,
    ScheduleRequest,
    ScheduleRun,
    utcnow,
)
from .service import PromoterService


class Pipelines(Protocol):
    """What schedules need from pipelines (promoter.pipelines)."""

    def ensure_environment(self, pipeline: str, environment: str) -> None: ...

    def promote(self, request: PipelinePromotionRequest, actor: str) -> Promotion: ...


def new_schedule_id() -> str:
    return f"s-{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"


class ScheduleService:
    def __init__(
        self,
        promoter: PromoterService,
        pipelines: Pipelines,
        *,
        store: ScheduleStore | None = None,
        scheduler: SchedulerAdapter | None = None,
    ) -> None:
        self.promoter = promoter
        self.pipelines = pipelines
        self.settings = promoter.settings
        self.store = store or ScheduleStore(self.settings.table_name)
        self.scheduler = scheduler or SchedulerAdapter()

    def create(self, request: ScheduleRequest, actor: str) -> Schedule:
        if request.at is not None and request.at <= utcnow():
            raise InvalidRequest(f"at {request.at.isoformat()} is in the past", field="at")
        if request.promotion is not None:
            self.promoter.ensure_target_exists(request.promotion)
        if request.pipeline is not None:
            self.pipelines.ensure_environment(request.pipeline.pipeline, request.pipeline.to)
        schedule = Schedule(id=new_schedule_id(), request=request, expression=_expression(request), created_by=actor)
        self.store.put(schedule)
        try:
            schedule.schedule_arn = self.scheduler.create(
                name=schedule.id,
                group=self.settings.scheduler_group,
                expression=schedule.expression,
                timezone="UTC" if request.at is not None else request.timezone,
                target_arn=self.settings.trigger_function_arn,
                role_arn=self.settings.scheduler_role_arn,
                payload={"schedule_id": schedule.id},
                one_time=request.at is not None,
            )
        except Exception:
            schedule.deleted = True  # never scheduled: keep the record honest
            self.store.put(schedule)
            raise
        self.store.put(schedule)
        return schedule

    def list(self) -> list[Schedule]:
        return [s for s in self.store.list() if not s.deleted]

    def get(self, schedule_id: str) -> Schedule:
        return self.store.get(schedule_id)

    def delete(self, schedule_id: str) -> Schedule:
        schedule = self.store.get(schedule_id)
        if schedule.deleted:
            raise NotFound(f"schedule {schedule_id!r} was already deleted", field="id")
        self.scheduler.delete(schedule.id, self.settings.scheduler_group)
        schedule.deleted = True
        self.store.put(schedule)
        return schedule

    def fire(self, schedule_id: str) -> ScheduleRun:
        """Start the scheduled promotion; record the run, started or skipped with the reason."""
        schedule = self.store.get(schedule_id)
        if schedule.deleted:
            run = ScheduleRun(outcome="skipped", reason="the schedule was deleted")
        else:
            run = self.run(schedule.request.promotion, schedule.request.pipeline, actor=f"schedule:{schedule.id}")
        schedule.runs.append(run)
        if schedule.request.at is not None:
            schedule.deleted = True  # one time: Scheduler deletes it (ActionAfterCompletion)
        self.store.put(schedule)
        return run

    def run(
        self, promotion: PromotionRequest | None, pipeline: PipelinePromotionRequest | None, actor: str
    ) -> ScheduleRun:
        try:
            if promotion is not None:
                started = self.promoter.start(promotion, actor=actor)
            elif pipeline is not None:
                started = self.pipelines.promote(pipeline, actor=actor)
            else:
                raise InvalidRequest("nothing to run: no promotion and no pipeline", field="promotion")
        except PromoterError as refused:  # busy, frozen, no such version...: skip, do not retry
            return ScheduleRun(outcome="skipped", reason=f"{type(refused).__name__}: {refused.message}")
        return ScheduleRun(outcome="started", promotion_id=started.id)


def _expression(request: ScheduleRequest) -> str:
    if request.at is not None:
        return f"at({request.at.astimezone(UTC):%Y-%m-%dT%H:%M:%S})"
    return request.cron or ""
