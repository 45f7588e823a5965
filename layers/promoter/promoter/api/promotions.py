"""Routes of /promotions: start, list, read, and the signals that steer a live promotion."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponseHeader

from .. import clock
from ..errors import InvalidRequest, NotFound
from ..models import PromotionRequest, Signal, Status
from ..service import PromoterService
from .context import actor_of, base_path, lambda_context_of
from .errors import TRANSITION_NOTE, model_response, responses
from .idempotency import HEADER, Idempotency
from .models import (
    PROMOTION_ID_PATTERN,
    AlarmGateView,
    GatesView,
    PromotionAccepted,
    PromotionPage,
    PromotionSummary,
    PromotionView,
    SignalAccepted,
    SignalRequest,
)

TAG = "promotions"
LOCATION: dict[str, OpenAPIResponseHeader] = {
    "Location": {"description": "URL of the promotion", "schema": {"type": "string"}}
}

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=HEADER,
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="Same key, same caller, same body: the first answer again, and nothing is done twice",
    ),
]
PromotionId = Annotated[
    str, Path(min_length=1, max_length=128, pattern=PROMOTION_ID_PATTERN, description="promotion id")
]

# signal -> (operationId, summary, statuses that allow it; see decisions.ALLOWED_SIGNALS)
SIGNAL_DOCS = {
    Signal.ABORT: (
        "abortPromotion",
        "Abort: roll back to stable and stop",
        "PENDING, AWAITING_APPROVAL, RUNNING or PAUSED",
    ),
    Signal.PAUSE: ("pausePromotion", "Pause after the current step's bake", "RUNNING"),
    Signal.RESUME: ("resumePromotion", "Resume a paused promotion", "PAUSED"),
    Signal.APPROVE: ("approvePromotion", "Approve a promotion waiting for approval", "AWAITING_APPROVAL"),
    Signal.PROMOTE_NOW: (
        "promoteNowPromotion",
        "Skip the remaining steps and move all traffic",
        "RUNNING or PAUSED",
    ),
}


def build_router(service: Callable[[], PromoterService], idempotency: Idempotency) -> Router:
    router = Router()

    def location(promotion_id: str) -> str:
        return f"{base_path(router.current_event)}/promotions/{promotion_id}"

    def accepted(body: dict[str, Any], promotion_id: str) -> Response[Any]:  # not a route: no schema needed
        return Response(
            status_code=202,
            content_type=content_types.APPLICATION_JSON,
            body=body,
            headers={"Location": location(promotion_id)},
        )

    @router.post(
        "/promotions",
        summary="Start a promotion",
        description=(
            "Validates the request against AWS (function managed, alias settled, version published, "
            "alarms present and quiet, hooks present), takes the target's lock and starts the workflow. "
            "Nothing on the alias changes before the answer."
        ),
        tags=[TAG],
        operation_id="startPromotion",
        responses=responses(
            202,
            PromotionAccepted,
            "Accepted: the workflow started",
            409,
            415,
            headers=LOCATION,
            notes={
                409: "The target is busy with another promotion (body has active_promotion), or a "
                "request with the same Idempotency-Key is in progress",
                422: "Invalid request, or one AWS refuses: unknown function, version, alias, alarm or hook",
            },
        ),
    )
    def start_promotion(
        request: PromotionRequest, idempotency_key: IdempotencyKey = None
    ) -> Response[PromotionAccepted]:
        actor = actor_of(router.current_event)

        def start() -> dict[str, Any]:
            try:
                promotion = service().start(request, actor)
            except NotFound as error:  # something the body names does not exist: the body is at fault
                raise InvalidRequest(error.message, field=error.field or "function", **error.details) from error
            return PromotionAccepted.of(promotion).model_dump(mode="json")

        body = idempotency.run(
            idempotency_key,
            start,
            actor=actor,
            operation="start",
            payload=request.model_dump(mode="json"),
            lambda_context=lambda_context_of(router),
        )
        return accepted(body, body["id"])

    @router.get(
        "/promotions",
        summary="List promotions, newest first",
        description="Filter by function, alias (needs function) and status. A page may hold fewer than "
        "`limit` items: follow `next_token` until it is null.",
        tags=[TAG],
        operation_id="listPromotions",
        responses=responses(200, PromotionPage, "A page of promotions"),
    )
    def list_promotions(
        function: Annotated[str | None, Query(min_length=1, max_length=170, description="function name or ARN")] = None,
        alias: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
        status: Annotated[Status | None, Query()] = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 50,
        next_token: Annotated[str | None, Query(min_length=1, max_length=4096)] = None,
    ) -> Response[PromotionPage]:
        items, token = service().list_promotions(
            function=function, alias=alias, status=status, limit=limit, next_token=next_token
        )
        page = PromotionPage(items=[PromotionSummary.of(p) for p in items], next_token=token)
        return model_response(200, page)

    @router.get(
        "/promotions/<promotion_id>",
        summary="One promotion: status, weight, steps and the full event history",
        tags=[TAG],
        operation_id="getPromotion",
        responses=responses(200, PromotionView, "The promotion", 404),
    )
    def get_promotion(promotion_id: PromotionId) -> Response[PromotionView]:
        view = PromotionView.of(service().get(promotion_id))
        return model_response(200, view)

    @router.get(
        "/promotions/<promotion_id>/gates",
        summary="The promotion's alarms as CloudWatch has them now",
        description="Read in the target's account (through the promotion's role, if it has one). "
        "Apart from GET /promotions/{id} so that reading a record never costs a CloudWatch call.",
        tags=[TAG],
        operation_id="getPromotionGates",
        responses=responses(200, GatesView, "Each alarm and its state", 404),
    )
    def get_promotion_gates(promotion_id: PromotionId) -> Response[GatesView]:
        promotion, states = service().alarm_states(promotion_id)
        view = GatesView(
            promotion_id=promotion.id,
            status=promotion.status,
            alarms=[AlarmGateView(name=name, state=state) for name, state in states.items()],
            read_at=clock.now(),
        )
        return model_response(200, view)

    for signal in Signal:
        _add_signal_route(router, signal, service, idempotency, accepted)

    return router


def _add_signal_route(
    router: Router,
    signal: Signal,
    service: Callable[[], PromoterService],
    idempotency: Idempotency,
    accepted: Callable[[dict[str, Any], str], Response[Any]],
) -> None:
    verb = signal.value.replace("_", "-")
    operation_id, summary, allowed = SIGNAL_DOCS[signal]

    def send_signal(
        promotion_id: PromotionId,
        body: Annotated[SignalRequest | None, Body(description="optional: why")] = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[SignalAccepted]:
        actor = actor_of(router.current_event)
        reason = body.reason if body else ""

        def send() -> dict[str, Any]:
            promotion = service().signal(promotion_id, signal, actor, reason)
            return SignalAccepted(id=promotion.id, status=promotion.status, signal=signal).model_dump(mode="json")

        result = idempotency.run(
            idempotency_key,
            send,
            actor=actor,
            operation=verb,
            promotion=promotion_id,
            payload={"reason": reason},
            lambda_context=lambda_context_of(router),
        )
        return accepted(result, promotion_id)

    send_signal.__name__ = f"{signal.value}_promotion"
    router.post(
        f"/promotions/<promotion_id>/{verb}",
        summary=summary,
        description=f"Allowed when the promotion is {allowed}; otherwise 409 with current_status. "
        "The record takes the signal at once and a waiting workflow wakes up.",
        tags=[TAG],
        operation_id=operation_id,
        responses=responses(
            202,
            SignalAccepted,
            "Accepted: the signal is recorded",
            404,
            409,
            415,
            headers=LOCATION,
            notes={409: TRANSITION_NOTE},
        ),
    )(send_signal)
