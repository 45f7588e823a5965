"""`python -m promoter.api` builds the OpenAPI document from the routes alone, with no service."""

import json

import pytest

from promoter.api import __main__ as openapi_main


def test_the_document_is_built_without_calling_the_service(monkeypatch):
    calls: list[str] = []

    def spy():
        calls.append("service")
        return openapi_main.routes_only()

    monkeypatch.setattr(openapi_main, "routes_only", spy)
    document = json.loads(openapi_main.document())
    assert "/promotions" in document["paths"] and "/pipelines/{name}" in document["paths"]
    assert calls == []


def test_the_routes_only_service_refuses_to_serve():
    # Had a route run, it would fail here and say why, not on an attribute of None.
    with pytest.raises(RuntimeError, match="routes alone"):
        openapi_main.routes_only()
