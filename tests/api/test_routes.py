"""Every route, with events shaped as API Gateway (REST, AWS_IAM) sends them, on the sandbox."""

from __future__ import annotations

import json

from promoter.models import Status
from sandbox.fixtures.targets import SAMPLE_HANDLER, zip_source
from tests.api.conftest import ALICE, executions, load_event

CANARY = {"type": "canary", "weight": 0.1, "bake_seconds": 2}
LONG_BAKE = {"type": "canary", "weight": 0.1, "bake_seconds": 3000}  # 60 s at the tests' time scale


def start_body(function: str = "orders", **overrides):
    return {"function": function, "alias": "live", "version": "2", "strategy": CANARY} | overrides


def test_start_then_read_the_promotion_with_its_steps_and_history(sandbox, targets, gateway):
    targets.function("orders")
    targets.alarm("orders-errors", "orders")

    started = gateway.send("start_promotion", body=start_body(alarms=["orders-errors"], reason="release 42"))

    assert started.status == 202
    assert set(started.body) == {"id", "status", "candidate_version", "carrying"}
    assert started.body["carrying"] is False and started.body["candidate_version"]  # nothing to carry here
    promotion_id = started.body["id"]
    assert started.body["status"] in {s.value for s in Status}
    assert started.headers["Location"] == f"/dev/promotions/{promotion_id}"  # behind the stage prefix
    sandbox.wait_until_final(promotion_id)

    read = gateway.send("get_promotion", path=f"/promotions/{promotion_id}")

    assert read.status == 200
    view = read.body
    assert view["id"] == promotion_id
    assert view["status"] == "SUCCEEDED"
    assert view["current_weight"] == 1.0
    assert (view["function"], view["alias"], view["stable_version"], view["candidate_version"]) == (
        "orders",
        "live",
        "1",
        "2",
    )
    assert [s["weight"] for s in view["steps"]] == [0.1, 1.0]
    assert all(s["started_at"] and s["ended_at"] and s["started_at"] <= s["ended_at"] for s in view["steps"])
    assert view["alarms"] == ["orders-errors"]
    assert view["reason"] == "release 42"
    assert view["created_by"] == ALICE
    history = [(e["actor"], e["type"]) for e in view["events"]]
    assert history[0] == (ALICE, "created")
    assert history[-1] == ("workflow", "finished")
    assert all(e["at"] for e in view["events"])
    assert "task_token" not in view  # internals stay inside


def test_version_may_be_an_integer_and_publish_publishes_the_current_code(sandbox, targets, gateway):
    targets.function("orders")
    targets.function("billing")

    by_int = gateway.send("start_promotion", body=start_body(version=2, strategy={"type": "all-at-once"}))
    assert by_int.status == 202
    assert sandbox.wait_until_final(by_int.body["id"]).candidate_version == "2"

    new_code = zip_source(SAMPLE_HANDLER.format(build="v3", fail=False))
    code = targets.lambdas.update_function_code(FunctionName="billing", ZipFile=new_code)["CodeSha256"]
    body = start_body("billing", strategy={"type": "all-at-once"}, publish=True, code_sha256=code)
    body.pop("version")
    published = gateway.send("start_promotion", body=body)

    assert published.status == 202
    final = sandbox.wait_until_final(published.body["id"])
    assert final.status is Status.SUCCEEDED
    assert final.candidate_version == "3"  # v1, v2 existed; the API published the new code as v3


def test_the_actor_is_the_callers_iam_identity(sandbox, targets, gateway):
    identities = {
        "alpha": ({"userArn": ALICE, "caller": "AROA:alice", "accountId": "123456789012"}, ALICE),
        "beta": ({"userArn": None, "caller": "AIDAEXAMPLE", "accountId": "123456789012"}, "AIDAEXAMPLE"),
        "gamma": ({"userArn": None, "caller": None, "accountId": "123456789012"}, "123456789012"),
        "delta": (None, "local"),
    }
    for function, (identity, actor) in identities.items():
        targets.function(function)
        answer = gateway.send(
            "start_promotion", body=start_body(function, strategy={"type": "all-at-once"}), identity=identity
        )
        assert answer.status == 202, answer.body
        final = sandbox.wait_until_final(answer.body["id"])
        assert final.created_by == actor
        assert final.events[0].actor == actor


def test_list_filters_and_paginates(sandbox, targets, gateway):
    targets.function("orders", builds=("v1", "v2", "v3"))
    targets.function("billing")
    ids = []
    for function, version in (("orders", "2"), ("orders", "3"), ("billing", "2")):
        answer = gateway.send(
            "start_promotion", body=start_body(function, version=version, strategy={"type": "all-at-once"})
        )
        assert answer.status == 202, answer.body
        ids.append(answer.body["id"])
        sandbox.wait_until_final(answer.body["id"])

    everything = gateway.send("list_promotions", query=None)
    assert everything.status == 200
    assert [p["id"] for p in everything.body["items"]] == ids[::-1]  # newest first
    assert everything.body["next_token"] is None

    orders = gateway.send("list_promotions")  # the sample event: orders, live, SUCCEEDED, limit 10
    assert [p["id"] for p in orders.body["items"]] == ids[1::-1]
    assert all(p["status"] == "SUCCEEDED" for p in orders.body["items"])

    by_function = gateway.send("list_promotions", query={"function": "billing"})
    assert [p["id"] for p in by_function.body["items"]] == [ids[2]]

    none_failed = gateway.send("list_promotions", query={"status": "FAILED"})
    assert none_failed.body["items"] == []

    seen, token = [], None
    for _ in range(10):
        query = {"limit": "1"} | ({"next_token": token} if token else {})
        page = gateway.send("list_promotions", query=query)
        assert page.status == 200
        assert len(page.body["items"]) <= 1
        seen += [p["id"] for p in page.body["items"]]
        token = page.body["next_token"]
        if not token:
            break
    assert seen == ids[::-1]

    unknown = gateway.send("list_promotions", query={"function": "nothing-here", "alias": "live"})
    assert unknown.status == 200
    assert unknown.body == {"items": [], "next_token": None}


def test_inventory_shows_versions_weights_and_the_active_and_last_promotions(sandbox, targets, gateway):
    targets.function("orders")
    targets.lambdas.create_alias(FunctionName="orders", Name="staging", FunctionVersion="2")

    before = gateway.send("list_aliases")
    assert before.status == 200
    aliases = {a["alias"]: a for a in before.body["aliases"]}
    assert before.body["function"] == "orders"
    assert aliases["live"] == {
        "alias": "live",
        "version": "1",
        "weights": {},
        "active_promotion": None,
        "last_promotion": None,
    }
    assert aliases["staging"]["version"] == "2"

    started = gateway.send("start_promotion", body=start_body(strategy=LONG_BAKE))
    promotion_id = started.body["id"]
    sandbox.wait_for_status(promotion_id, Status.RUNNING)
    _wait_for_weight(sandbox, promotion_id, 0.1)

    during = {a["alias"]: a for a in gateway.send("list_aliases").body["aliases"]}
    assert during["live"]["version"] == "1"
    assert during["live"]["weights"] == {"2": 0.1}
    assert during["live"]["active_promotion"]["id"] == promotion_id
    assert during["live"]["active_promotion"]["status"] == "RUNNING"
    assert during["staging"]["active_promotion"] is None

    assert gateway.send("abort_promotion", path=f"/promotions/{promotion_id}/abort").status == 202
    sandbox.wait_until_final(promotion_id)

    after = {a["alias"]: a for a in gateway.send("list_aliases").body["aliases"]}
    assert after["live"]["version"] == "1"
    assert after["live"]["weights"] == {}
    assert after["live"]["active_promotion"] is None
    assert after["live"]["last_promotion"]["id"] == promotion_id
    assert after["live"]["last_promotion"]["status"] == "ABORTED"


def test_inventory_of_an_unknown_function_is_404_and_of_an_unmanaged_one_422(sandbox, targets, gateway):
    targets.function("legacy", managed=False)

    missing = gateway.send("list_aliases", path="/functions/nothing-here/aliases")
    assert missing.status == 404
    assert missing.body["error"] == "NotFound"

    unmanaged = gateway.send("list_aliases", path="/functions/legacy/aliases")
    assert unmanaged.status == 422
    assert unmanaged.body["field"] == "function"
    assert "promoter:managed" in unmanaged.body["message"]


def test_openapi_document_and_swagger_ui(gateway):
    answer = gateway.send("get_openapi")
    assert answer.status == 200
    document = answer.body
    assert document["openapi"].startswith("3.1")
    assert document["servers"] == [{"url": "/dev"}]
    assert document["security"] == [{"sigv4": []}]
    assert document["components"]["securitySchemes"]["sigv4"]["x-amazon-apigateway-authtype"] == "awsSigv4"
    assert set(document["paths"]) == {
        "/promotions",
        "/promotions/{promotion_id}",
        "/promotions/{promotion_id}/gates",
        "/promotions/{promotion_id}/abort",
        "/promotions/{promotion_id}/pause",
        "/promotions/{promotion_id}/resume",
        "/promotions/{promotion_id}/approve",
        "/promotions/{promotion_id}/promote-now",
        "/functions/{name}/aliases",
        "/schedules",
        "/schedules/{schedule_id}",
        "/pipelines",
        "/pipelines/{name}",
        "/pipelines/{name}/promote",
    }
    start = document["paths"]["/promotions"]["post"]
    assert set(start["responses"]) == {"202", "403", "409", "415", "422", "429", "500"}
    assert start["responses"]["202"]["content"]["application/json"]["schema"]["$ref"].endswith("PromotionAccepted")
    assert "Location" in start["responses"]["202"]["headers"]
    assert start["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("PromotionRequest")
    get = document["paths"]["/promotions/{promotion_id}"]["get"]
    assert set(get["responses"]) == {"200", "403", "404", "422", "429", "500"}  # the 200 is not dropped
    for path in document["paths"].values():
        for operation in path.values():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    assert response["content"]["application/json"]["schema"]["$ref"].endswith("ErrorBody")
    assert "HTTPValidationError" not in document["components"]["schemas"]

    swagger = gateway.app.resolve(gateway.event("get_openapi", path="/swagger"), None)
    assert swagger["statusCode"] == 200
    assert "text/html" in (swagger.get("headers") or {}).get("Content-Type", "") + str(swagger.get("multiValueHeaders"))
    page = swagger["body"]
    assert '"x-amazon-apigateway-authtype": "awsSigv4"' in page  # the document served at /openapi.json
    assert "HTTPValidationError" not in page
    assert "<script src=" not in page and "SwaggerUIBundle" in page  # inlined: nothing from a CDN


def test_an_unknown_route_answers_the_error_body(gateway):
    answer = gateway.send("get_openapi", path="/nothing/here")
    assert answer.status == 404
    assert answer.body == {"error": "NotFound", "message": "no route for GET /nothing/here", "field": "path"}


def test_the_deployed_api_function_serves_the_same_routes(sandbox, targets):
    """template.yaml's ApiFunction (its code, layer and environment) invoked with the sample events."""
    targets.function("orders")
    targets.alarm("orders-errors", "orders")
    lambdas = sandbox.client("lambda")
    resources = sandbox.client("cloudformation").list_stack_resources(StackName=sandbox.stack_name)
    function = next(
        r["PhysicalResourceId"] for r in resources["StackResourceSummaries"] if r["LogicalResourceId"] == "ApiFunction"
    )

    def invoke(name: str, **changes) -> tuple[int, dict, dict]:
        event = load_event(name)
        for key, value in changes.items():
            event[key] = value
        raw = lambdas.invoke(FunctionName=function, Payload=json.dumps(event).encode())
        answer = json.loads(raw["Payload"].read())
        assert "FunctionError" not in raw, answer
        headers = answer.get("headers") or {k: v[-1] for k, v in (answer.get("multiValueHeaders") or {}).items()}
        return answer["statusCode"], headers, json.loads(answer["body"])

    event = load_event("start_promotion")
    body = json.loads(event["body"]) | {"strategy": CANARY}
    status, headers, started = invoke("start_promotion", body=json.dumps(body))

    assert status == 202, started
    assert headers["Location"] == f"/dev/promotions/{started['id']}"
    again = invoke("start_promotion", body=json.dumps(body))  # the sample event carries an Idempotency-Key
    assert again[0] == 202 and again[2] == started
    idempotency_table = sandbox.outputs["IdempotencyTableName"]
    assert sandbox.client("dynamodb").scan(TableName=idempotency_table)["Count"] == 1
    final = sandbox.wait_until_final(started["id"])
    assert final.status is Status.SUCCEEDED
    assert final.created_by == ALICE
    assert len(executions(sandbox)) == 1

    path = f"/promotions/{started['id']}"
    status, _, view = invoke(
        "get_promotion",
        path=path,
        pathParameters={"proxy": path[1:]},
        requestContext=load_event("get_promotion")["requestContext"] | {"path": f"/dev{path}"},
    )
    assert status == 200
    assert view["status"] == "SUCCEEDED"
    gates_path = f"{path}/gates"  # CloudWatch read with ApiFunction's own role
    status, _, gates = invoke(
        "get_promotion",
        path=gates_path,
        pathParameters={"proxy": gates_path[1:]},
        requestContext=load_event("get_promotion")["requestContext"] | {"path": f"/dev{gates_path}"},
    )
    assert status == 200, gates
    assert gates["alarms"] == [{"name": "orders-errors", "state": "OK"}]
    status, _, inventory = invoke("list_aliases")
    assert status == 200
    assert inventory["aliases"][0]["last_promotion"]["id"] == started["id"]


def _wait_for_weight(sandbox, promotion_id: str, weight: float) -> None:
    import time

    service = sandbox.service()
    deadline = time.monotonic() + 30
    while service.get(promotion_id).current_weight != weight:
        assert time.monotonic() < deadline, f"weight never reached {weight}"
        time.sleep(0.02)


def test_gates_answer_each_alarm_as_cloudwatch_has_it_now(sandbox, targets, gateway):
    targets.function("orders")
    for name in ("orders-errors", "orders-latency", "orders-gone"):
        targets.alarm(name, "orders")
    started = gateway.send(
        "start_promotion", body=start_body(alarms=["orders-errors", "orders-latency", "orders-gone"])
    )
    assert started.status == 202, started.body
    promotion_id = started.body["id"]
    sandbox.wait_until_final(promotion_id)
    targets.set_alarm("orders-latency", "ALARM")  # after the end: the record cannot know, CloudWatch does
    sandbox.client("cloudwatch").delete_alarms(AlarmNames=["orders-gone"])

    gates = gateway.send("get_promotion", path=f"/promotions/{promotion_id}/gates")

    assert gates.status == 200, gates.body
    assert gates.body["promotion_id"] == promotion_id and gates.body["status"] == "SUCCEEDED"
    assert gates.body["alarms"] == [
        {"name": "orders-errors", "state": "OK"},
        {"name": "orders-latency", "state": "ALARM"},
        {"name": "orders-gone", "state": "MISSING"},
    ]
    assert gates.body["read_at"]


def test_gates_of_an_unknown_or_malformed_promotion_are_404_and_422(sandbox, gateway):
    unknown = gateway.send("get_promotion", path="/promotions/p-20260101T000000-00000000/gates")
    assert unknown.status == 404 and unknown.body["field"] == "id"
    malformed = gateway.send("get_promotion", path="/promotions/-dash-first/gates")
    assert malformed.status == 422 and malformed.body["field"] == "path.promotion_id"
