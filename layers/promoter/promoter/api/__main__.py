"""``python -m promoter.api > docs/openapi.json``: the API's OpenAPI document as API Gateway serves it."""

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from ..service import PromoterService
from . import build_app, openapi_document


def routes_only() -> PromoterService:
    """The service of an app built only for its routes: the document never calls it."""
    raise RuntimeError("the OpenAPI document is built from the routes alone; no route may run here")


def document() -> str:
    app = build_app(APIGatewayRestResolver(enable_validation=True), service=routes_only)
    return openapi_document(app, "", signed=True)


if __name__ == "__main__":
    print(document())
