"""Process-wide service, built once per Lambda container from the environment."""

from functools import lru_cache

from .schedules import ScheduleService
from .service import PromoterService
from .settings import Settings


@lru_cache(maxsize=4)
def _service_for(settings: Settings) -> PromoterService:
    return PromoterService(settings)


def service() -> PromoterService:
    return _service_for(Settings.from_env())


def schedules_for(promoter: PromoterService) -> ScheduleService:
    from .pipelines import PipelineService  # pipelines need the promoter service too

    return ScheduleService(promoter, PipelineService(promoter))


def schedules() -> ScheduleService:
    return schedules_for(service())
