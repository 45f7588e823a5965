"""``python -m promoter.api > docs/openapi.json``: the API's OpenAPI document as API Gateway serves it."""

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from . import SIGV4, build_app, openapi_document


def document() -> str:
    app = build_app(APIGatewayRestResolver(enable_validation=True), service=lambda: None)  # routes only
    return openapi_document(app, "", security_schemes=SIGV4, security=[{"sigv4": []}])


if __name__ == "__main__":
    print(document())
