"""Bad input for every field: a 4xx that names the field (and the rule), never a 5xx, nothing done."""

from __future__ import annotations

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from promoter.api import build_app
from tests.api.conftest import ApiGateway, executions

GOOD = {"function": "orders", "alias": "live", "version": "2"}


def _no_aws() -> None:
    raise AssertionError("a request that fails validation must not reach the service")


@pytest.fixture
def shape_gateway() -> ApiGateway:
    """The API with a service that must never be called: shape errors stop before it."""
    return ApiGateway(build_app(APIGatewayRestResolver(enable_validation=True), _no_aws))


# (case, body, field, rule)
BODY_CASES = [
    ("function missing", {"alias": "live", "version": "2"}, "function", "missing"),
    ("function empty", GOOD | {"function": ""}, "function", "string_too_short"),
    ("function too long", GOOD | {"function": "f" * 171}, "function", "string_too_long"),
    ("function not a string", GOOD | {"function": 7}, "function", "string_type"),
    ("alias missing", {"function": "orders", "version": "2"}, "alias", "missing"),
    ("alias with a space", GOOD | {"alias": "li ve"}, "alias", "string_pattern_mismatch"),
    ("alias only digits", GOOD | {"alias": "123"}, "alias", "string_pattern_mismatch"),
    ("version $LATEST", GOOD | {"version": "$LATEST"}, "version", "value_error"),
    ("version zero", GOOD | {"version": "0"}, "version", "value_error"),
    ("version words", GOOD | {"version": "seven"}, "version", "value_error"),
    ("version boolean", GOOD | {"version": True}, "version", "value_error"),
    ("version float", GOOD | {"version": 2.5}, "version", "string_type"),
    ("version and publish", GOOD | {"publish": True}, "body", "value_error"),
    ("neither version nor publish", {"function": "orders", "alias": "live"}, "body", "value_error"),
    ("code_sha256 without publish", GOOD | {"code_sha256": "abc"}, "body", "value_error"),
    (
        "publish not a boolean",
        {"function": "f", "alias": "a", "publish": "yes please"},
        "publish",
        "bool_parsing",
    ),
    ("strategy unknown type", GOOD | {"strategy": {"type": "big-bang"}}, "strategy", "union_tag_invalid"),
    ("strategy not an object", GOOD | {"strategy": "canary"}, "strategy", "model_attributes_type"),
    (
        "canary weight 0",
        GOOD | {"strategy": {"type": "canary", "weight": 0}},
        "strategy.weight",
        "greater_than",
    ),
    ("canary weight 1", GOOD | {"strategy": {"type": "canary", "weight": 1}}, "strategy.weight", "less_than"),
    ("canary weight text", GOOD | {"strategy": {"weight": "lots"}}, "strategy.weight", "float_parsing"),
    (
        "canary bake negative",
        GOOD | {"strategy": {"type": "canary", "bake_seconds": -1}},
        "strategy.bake_seconds",
        "greater_than_equal",
    ),
    (
        "canary bake over a day",
        GOOD | {"strategy": {"type": "canary", "bake_seconds": 86_401}},
        "strategy.bake_seconds",
        "less_than_equal",
    ),
    (
        "canary unknown key",
        GOOD | {"strategy": {"type": "canary", "speed": 3}},
        "strategy.speed",
        "extra_forbidden",
    ),
    ("linear step 1.5", GOOD | {"strategy": {"type": "linear", "step": 1.5}}, "strategy.step", "less_than"),
    (
        "linear interval negative",
        GOOD | {"strategy": {"type": "linear", "interval_seconds": -5}},
        "strategy.interval_seconds",
        "greater_than_equal",
    ),
    (
        "all-at-once with a weight",
        GOOD | {"strategy": {"type": "all-at-once", "weight": 0.5}},
        "strategy.weight",
        "extra_forbidden",
    ),
    ("steps empty", GOOD | {"strategy": {"steps": []}}, "strategy.steps", "too_short"),
    (
        "steps falling",
        GOOD | {"strategy": {"steps": [{"weight": 0.5}, {"weight": 0.2}]}},
        "strategy.steps",
        "value_error",
    ),
    (
        "step weight above 1",
        GOOD | {"strategy": {"steps": [{"weight": 1.5}]}},
        "strategy.steps.0.weight",
        "less_than_equal",
    ),
    (
        "step weight missing",
        GOOD | {"strategy": {"steps": [{"weight": 0.1}, {"bake_seconds": 5}]}},
        "strategy.steps.1.weight",
        "missing",
    ),
    ("alarms not a list", GOOD | {"alarms": "orders-errors"}, "alarms", "list_type"),
    ("alarms too many", GOOD | {"alarms": [f"a{i}" for i in range(21)]}, "alarms", "too_long"),
    ("alarm not a string", GOOD | {"alarms": [3]}, "alarms.0", "string_type"),
    ("hook empty", GOOD | {"hooks": {"pre_traffic": ""}}, "hooks.pre_traffic", "string_too_short"),
    ("hook unknown phase", GOOD | {"hooks": {"during": "x"}}, "hooks.during", "extra_forbidden"),
    ("approval not a boolean", GOOD | {"approval": "maybe"}, "approval", "bool_parsing"),
    (
        "insufficient_data policy",
        GOOD | {"insufficient_data": "ignore"},
        "insufficient_data",
        "literal_error",
    ),
    ("reason too long", GOOD | {"reason": "x" * 1001}, "reason", "string_too_long"),
    ("reason not text", GOOD | {"reason": 5}, "reason", "string_type"),
    ("unknown field", GOOD | {"colour": "blue"}, "colour", "extra_forbidden"),
    ("body an array", [GOOD], "body", "model_attributes_type"),
]


@pytest.mark.parametrize(("case", "body", "field", "rule"), BODY_CASES, ids=[c[0] for c in BODY_CASES])
def test_bad_start_bodies_name_the_field_and_the_rule(shape_gateway, case, body, field, rule):
    answer = shape_gateway.send("start_promotion", body=body)

    assert answer.status == 422, answer.body
    assert answer.body["error"] == "InvalidRequest"
    assert answer.body["field"] == field
    assert answer.body["rule"] == rule
    assert answer.body["message"].startswith(f"{field}: ")
    assert {"field": field, "rule": rule} == {k: answer.body["errors"][0][k] for k in ("field", "rule")}


def test_the_body_must_be_json(shape_gateway):
    broken = shape_gateway.send("start_promotion", raw_body="{not json")
    assert (broken.status, broken.body["field"], broken.body["rule"]) == (422, "body", "json_invalid")

    empty = shape_gateway.send("start_promotion", raw_body=None)
    assert (empty.status, empty.body["field"], empty.body["rule"]) == (422, "body", "missing")

    text = shape_gateway.send("start_promotion", raw_body="hello", headers={"Content-Type": "text/plain"})
    assert text.status == 415
    assert text.body == {
        "error": "UnsupportedMediaType",
        "message": "send the body as application/json",
        "field": "body",
    }


def test_messages_keep_the_rule_in_words(shape_gateway):
    answer = shape_gateway.send("start_promotion", body=GOOD | {"version": "$LATEST"})
    assert (
        answer.body["message"]
        == "version: version must be a published version number (digits), not '$LATEST'"
    )

    both = shape_gateway.send("start_promotion", body=GOOD | {"publish": True})
    assert "exactly one of 'version' or 'publish'" in both.body["message"]


# (case, sample event, changes, field, rule)
REQUEST_CASES = [
    ("limit zero", "list_promotions", {"query": {"limit": "0"}}, "query.limit", "greater_than_equal"),
    ("limit 101", "list_promotions", {"query": {"limit": "101"}}, "query.limit", "less_than_equal"),
    ("limit text", "list_promotions", {"query": {"limit": "ten"}}, "query.limit", "int_parsing"),
    ("status unknown", "list_promotions", {"query": {"status": "DONE"}}, "query.status", "enum"),
    (
        "function too long",
        "list_promotions",
        {"query": {"function": "f" * 171}},
        "query.function",
        "string_too_long",
    ),
    (
        "promotion id with a slash-like char",
        "get_promotion",
        {"path": "/promotions/p%20x"},
        "path.promotion_id",
        "string_pattern_mismatch",
    ),
    (
        "promotion id too long",
        "get_promotion",
        {"path": "/promotions/" + "p" * 129},
        "path.promotion_id",
        "string_too_long",
    ),
    (
        "function name with spaces",
        "list_aliases",
        {"path": "/functions/my%20fn/aliases"},
        "path.name",
        "string_pattern_mismatch",
    ),
    (
        "Idempotency-Key too long",
        "start_promotion",
        {"idempotency_key": "k" * 256},
        "header.idempotency-key",
        "string_too_long",
    ),
    (
        "Idempotency-Key with spaces",
        "start_promotion",
        {"idempotency_key": "my key"},
        "header.idempotency-key",
        "string_pattern_mismatch",
    ),
    (
        "signal reason too long",
        "abort_promotion",
        {"body": {"reason": "x" * 1001}},
        "reason",
        "string_too_long",
    ),
    ("signal unknown field", "pause_promotion", {"body": {"why": "x"}}, "why", "extra_forbidden"),
    ("signal body not an object", "resume_promotion", {"body": ["x"]}, "body", "model_attributes_type"),
]


@pytest.mark.parametrize(
    ("case", "name", "changes", "field", "rule"), REQUEST_CASES, ids=[c[0] for c in REQUEST_CASES]
)
def test_bad_query_path_header_and_signal_bodies(shape_gateway, case, name, changes, field, rule):
    answer = shape_gateway.send(name, **changes)

    assert answer.status == 422, answer.body
    assert (answer.body["error"], answer.body["field"], answer.body["rule"]) == (
        "InvalidRequest",
        field,
        rule,
    )


def test_requests_aws_refuses_are_422_and_start_nothing(sandbox, targets, gateway):
    """Well-formed, but wrong against AWS: the service says which field, and nothing starts."""
    targets.function("orders")
    targets.function("legacy", managed=False)
    targets.function("busy")
    targets.alarm("orders-errors", "orders")
    targets.alarm("orders-firing", "orders", state="ALARM")
    targets.hook("orders-smoke")
    targets.lambdas.update_alias(
        FunctionName="busy",
        Name="live",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}},
    )
    cases = [
        ("unknown function", GOOD | {"function": "nothing-here"}, "function"),
        ("unmanaged function", GOOD | {"function": "legacy"}, "function"),
        ("unknown alias", GOOD | {"alias": "prod"}, "alias"),
        ("alias already shifting", GOOD | {"function": "busy"}, "alias"),
        ("unknown version", GOOD | {"version": "99"}, "version"),
        ("candidate is the stable version", GOOD | {"version": "1"}, "version"),
        ("unknown alarm", GOOD | {"alarms": ["orders-errors", "no-such-alarm"]}, "alarms"),
        ("alarm already firing", GOOD | {"alarms": ["orders-firing"]}, "alarms"),
        ("unknown pre-traffic hook", GOOD | {"hooks": {"pre_traffic": "no-such-hook"}}, "hooks.pre_traffic"),
        (
            "unknown post-traffic hook",
            GOOD | {"hooks": {"post_traffic": "no-such-hook"}},
            "hooks.post_traffic",
        ),
        (
            "code changed since code_sha256",
            {"function": "orders", "alias": "live", "publish": True, "code_sha256": "bm90IHRoZSBjb2Rl"},
            "code_sha256",
        ),
    ]
    for case, body, field in cases:
        answer = gateway.send("start_promotion", body=body)
        assert answer.status == 422, (case, answer.body)
        assert answer.body["error"] == "InvalidRequest", case
        assert answer.body["field"] == field, (case, answer.body)

    listing = gateway.send("list_promotions", query={"alias": "live"})
    assert (listing.status, listing.body["field"]) == (422, "alias")  # alias needs function
    for token in ("not-base64!", "e30=", "W10=", "eyJwayI6IHsiUyI6ICJ4In19"):
        page = gateway.send("list_promotions", query={"next_token": token})
        assert (page.status, page.body["field"]) == (422, "next_token"), token

    assert executions(sandbox) == []
    assert gateway.send("list_promotions", query=None).body["items"] == []
    assert targets.alias_state("orders", "live")["version"] == "1"
