"""The HTTP API of lambda-promoter, built on any Powertools resolver.

``build_app(APIGatewayRestResolver(enable_validation=True))`` in Lambda (functions/api);
``build_app(HttpResolverLocal(enable_validation=True))`` for the local server. Same routes, same
errors, same OpenAPI document (``/openapi.json``, Swagger UI at ``/swagger``).

The document and the Swagger page are built on their first request: Powertools' OpenAPI models
take about 110 ms to import, which no other request should pay at cold start (Powertools'
``enable_swagger`` imports them when it is called, so the page is served here, with its HTML).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from aws_lambda_powertools.event_handler import HttpResolverLocal, Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver

from ..runtime import schedules_for
from ..service import PromoterService
from . import errors, inventory, local, pipelines, promotions, schedules
from .context import base_path
from .idempotency import Idempotency

__all__ = ["build_app", "openapi_document"]

ResolverT = TypeVar("ResolverT", bound=ApiGatewayResolver)

TITLE = "lambda-promoter"
VERSION = "1.0.0"
DESCRIPTION = (
    "Release control plane for AWS Lambda: move a published version onto an alias in traffic "
    "steps, watch gates, promote or roll back. Every error has one body: "
    '`{"error", "message", "field", ...}`.'
)
SIGV4_SECURITY: list[dict[str, list[str]]] = [{"sigv4": []}]


def sigv4_scheme() -> dict[str, Any]:
    """The document's security scheme: SigV4, as API Gateway's AWS_IAM authorization takes it."""
    from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn

    scheme = APIKey(
        name="Authorization",
        in_=APIKeyIn.header,
        description="AWS Signature Version 4 (API Gateway AWS_IAM authorization)",
        **{"x-amazon-apigateway-authtype": "awsSigv4"},
    )
    return {"sigv4": scheme}


def build_app(
    resolver: ResolverT,
    service: PromoterService | Callable[[], PromoterService] | None = None,
    *,
    iam_auth: bool | None = None,
) -> ResolverT:
    """Add the routers, the error handlers, ``/openapi.json`` and Swagger UI to ``resolver``.

    ``service`` defaults to the process-wide one built from the environment. ``iam_auth`` says
    whether the OpenAPI document declares SigV4; it defaults to True except on the local server,
    which takes unsigned calls.
    """
    get_service = _service_getter(service)
    idempotency = Idempotency(lambda: get_service().settings.idempotency_table)
    resolver.include_router(promotions.build_router(get_service, idempotency))
    resolver.include_router(inventory.build_router(get_service))
    resolver.include_router(schedules.build_router(lambda: schedules_for(get_service())))
    resolver.include_router(pipelines.build_router(get_service, idempotency))
    errors.register(resolver)

    if isinstance(resolver, HttpResolverLocal):
        local.adapt(resolver)  # Powertools' local server: no deadlock under load, no 500 on bad bytes

    signed = not isinstance(resolver, HttpResolverLocal) if iam_auth is None else iam_auth
    documents: dict[str, str] = {}

    def document() -> str:
        base = base_path(resolver.current_event)
        if base not in documents:
            documents[base] = openapi_document(resolver, base, signed=signed)
        return documents[base]

    # No return annotation: Powertools would validate the answer against it and document it.
    @resolver.get("/openapi.json", include_in_schema=False)
    def openapi_json():  # type: ignore[no-untyped-def]  # see above
        return Response(200, content_types.APPLICATION_JSON, document())

    @resolver.get("/swagger", include_in_schema=False)
    def swagger():  # type: ignore[no-untyped-def]  # see above
        return Response(200, content_types.TEXT_HTML, swagger_page(document()))

    return resolver


def openapi_document(resolver: ApiGatewayResolver, base: str = "", *, signed: bool = True) -> str:
    """OpenAPI 3.1 of every route, without the schemas of Powertools' own error bodies: this API
    answers every error with ErrorBody, so documenting those would not be honest."""
    from aws_lambda_powertools.event_handler.openapi.models import Server

    document = json.loads(
        resolver.get_openapi_json_schema(
            title=TITLE,
            version=VERSION,
            description=DESCRIPTION,
            servers=[Server(url=base or "/")],
            security_schemes=sigv4_scheme() if signed else None,
            security=SIGV4_SECURITY if signed else None,
        )
    )
    schemas = document.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        if f'"#/components/schemas/{unused}"' not in json.dumps(document["paths"]):
            schemas.pop(unused, None)
    return json.dumps(document, indent=2)


def swagger_page(document: str) -> str:
    """Swagger UI for ``document``, its script and style inlined from Powertools' package (no CDN)."""
    from aws_lambda_powertools.event_handler.openapi import swagger_ui
    from aws_lambda_powertools.event_handler.openapi.swagger_ui.html import generate_swagger_html

    assets = Path(swagger_ui.__file__).parent
    script = (assets / "swagger-ui-bundle.min.js").read_text(encoding="utf-8")
    style = (assets / "swagger-ui.min.css").read_text(encoding="utf-8")
    # "</" escaped, so the document cannot close the page's <script> early
    return generate_swagger_html(document.replace("</", "<\\/"), script, style, "", None)


def _service_getter(
    service: PromoterService | Callable[[], PromoterService] | None,
) -> Callable[[], PromoterService]:
    if service is None:
        from ..runtime import service as from_environment

        return from_environment
    if isinstance(service, PromoterService):
        return lambda: service
    return service
