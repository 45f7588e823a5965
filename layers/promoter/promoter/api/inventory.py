"""Route of /functions/{name}/aliases: which version is on which alias, and who is moving it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from ..service import PromoterService
from .errors import model_response, responses
from .models import FUNCTION_NAME_PATTERN, InventoryView

TAG = "inventory"


def build_router(service: Callable[[], PromoterService]) -> Router:
    router = Router()

    @router.get(
        "/functions/<name>/aliases",
        summary="Inventory of a function's aliases",
        description="Each alias with its version, routing weights, the active promotion (the one "
        "holding the target's lock) and the last finished promotion. The function must be managed "
        "(tagged promoter:managed=true).",
        tags=[TAG],
        operation_id="listAliases",
        responses=responses(
            200,
            InventoryView,
            "The function's aliases",
            404,
            notes={422: "Invalid name, or the function is not managed by lambda-promoter"},
        ),
    )
    def list_aliases(
        name: Annotated[
            str,
            Path(
                min_length=1,
                max_length=170,
                pattern=FUNCTION_NAME_PATTERN,
                description="function name or ARN",
            ),
        ],
    ) -> Response[InventoryView]:
        view = InventoryView.of(service().inventory(name))
        return model_response(200, view)

    return router
