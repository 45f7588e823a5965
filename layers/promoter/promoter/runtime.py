"""Process-wide service, built once per Lambda container from the environment."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from .service import PromoterService
from .settings import Settings

if TYPE_CHECKING:
    from .schedules import ScheduleService


@lru_cache(maxsize=4)
def _service_for(settings: Settings) -> PromoterService:
    return PromoterService(settings)


def service() -> PromoterService:
    return _service_for(Settings.from_env())


def schedules_for(promoter: PromoterService) -> ScheduleService:
    # imported here: only the trigger and the API's schedule routes use them, not every handler
    # that imports this module (the workflow, the alarm listener, the judge)
    from .pipelines import PipelineService  # pipelines need the promoter service too
    from .schedules import ScheduleService

    return ScheduleService(promoter, PipelineService(promoter))


def schedules() -> ScheduleService:
    return schedules_for(service())
