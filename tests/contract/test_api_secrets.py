"""The API never answers a pipeline's external_id (a shared secret); it says whether one is set."""

import json
from pathlib import Path

from tests.pipelines.conftest import EXTERNAL_ID, definition, gateway, world  # noqa: F401 - fixtures

OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def _environments(body: dict) -> dict[str, dict]:
    return {e["name"]: e for e in body["definition"]["environments"]}


def test_get_and_list_say_whether_an_external_id_is_set_and_never_return_it(world, gateway):  # noqa: F811
    stored = gateway.send("put_pipeline", path="/pipelines/orders", body=definition())
    listed = gateway.send("list_pipelines").body["items"][0]
    read = gateway.send("get_pipeline", path="/pipelines/orders").body

    for body in (stored.body, listed, read):
        assert EXTERNAL_ID not in json.dumps(body)
        environments = _environments(body)
        assert environments["prod"]["external_id_set"] is True
        assert environments["dev"]["external_id_set"] is False
        assert all("external_id" not in e for e in environments.values())


def test_the_stored_pipeline_keeps_the_external_id_and_still_reaches_the_other_account(world, gateway):  # noqa: F811
    gateway.send("put_pipeline", path="/pipelines/orders", body=definition())
    (prod,) = [e for e in world.pipelines().get("orders").pipeline.environments if e.name == "prod"]
    assert prod.external_id == EXTERNAL_ID
    state = {e["name"]: e for e in gateway.send("get_pipeline", path="/pipelines/orders").body["state"]}
    assert state["prod"]["error"] is None and state["prod"]["version"] == "1"


def test_the_openapi_document_has_external_id_set_and_no_external_id_in_pipeline_answers():
    schemas = json.loads(OPENAPI.read_text())["components"]["schemas"]
    view = schemas["EnvironmentDefinitionView"]["properties"]
    assert "external_id_set" in view and "external_id" not in view
    assert "external_id" in schemas["Environment"]["properties"]  # PUT still takes it
