"""Routes of /schedules: a promotion at a set time, or a recurring release train."""

from collections.abc import Callable
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from ..errors import InvalidRequest, NotFound
from ..model_base import Model
from ..models import Schedule, ScheduleRequest
from ..schedules import ScheduleService
from .context import actor_of, base_path
from .errors import model_response, responses

TAG = "schedules"
ScheduleId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^s-[0-9A-Za-z-]+$", description="schedule id")]


class SchedulePage(Model):
    items: list[Schedule]


def build_router(schedules: Callable[[], ScheduleService]) -> Router:
    router = Router()

    @router.post(
        "/schedules",
        summary="Schedule a promotion",
        description=(
            'Either `{"at": "2026-12-01T02:00:00Z"}` (one time; the schedule deletes itself after it '
            'fired) or `{"cron": "cron(0 2 ? * TUE *)", "timezone": "Europe/Berlin"}` (recurring), '
            'plus `"promotion"` (a POST /promotions body) or `"pipeline"` (`{"pipeline", "to"}`). '
            "A run whose target is busy or frozen is recorded as skipped, with the reason, and not retried."
        ),
        tags=[TAG],
        operation_id="createSchedule",
        responses=responses(
            201,
            Schedule,
            "Scheduled",
            headers={"Location": {"description": "URL of the schedule", "schema": {"type": "string"}}},
            notes={422: "Invalid time, cron expression or time zone; unknown function, pipeline or environment"},
        ),
    )
    def create_schedule(request: ScheduleRequest) -> Response[Schedule]:
        try:
            schedule = schedules().create(request, actor_of(router.current_event))
        except NotFound as error:  # something the body names does not exist: the body is at fault
            raise InvalidRequest(error.message, field=error.field, **error.details) from error
        return model_response(
            201, schedule, headers={"Location": f"{base_path(router.current_event)}/schedules/{schedule.id}"}
        )

    @router.get(
        "/schedules",
        summary="List the active schedules, newest first",
        tags=[TAG],
        operation_id="listSchedules",
        responses=responses(200, SchedulePage, "The schedules"),
    )
    def list_schedules() -> Response[SchedulePage]:
        page = SchedulePage(items=schedules().list())
        return model_response(200, page)

    @router.get(
        "/schedules/<schedule_id>",
        summary="One schedule and the history of its runs",
        tags=[TAG],
        operation_id="getSchedule",
        responses=responses(200, Schedule, "The schedule", 404),
    )
    def get_schedule(schedule_id: ScheduleId) -> Response[Schedule]:
        return model_response(200, schedules().get(schedule_id))

    @router.delete(
        "/schedules/<schedule_id>",
        summary="Delete a schedule (its run history is kept)",
        tags=[TAG],
        operation_id="deleteSchedule",
        responses=responses(200, Schedule, "Deleted", 404),
    )
    def delete_schedule(schedule_id: ScheduleId) -> Response[Schedule]:
        return model_response(200, schedules().delete(schedule_id))

    return router
