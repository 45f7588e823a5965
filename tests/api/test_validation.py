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
        "bool_type",
    ),
    ("publish yes", {"function": "f", "alias": "a", "publish": "yes"}, "publish", "bool_type"),
    ("publish 1", {"function": "f", "alias": "a", "publish": 1}, "publish", "bool_type"),
    ("strategy unknown type", GOOD | {"strategy": {"type": "big-bang"}}, "strategy", "union_tag_invalid"),
    ("strategy not an object", GOOD | {"strategy": "canary"}, "strategy", "model_attributes_type"),
    (
        "canary weight 0",
        GOOD | {"strategy": {"type": "canary", "weight": 0}},
        "strategy.weight",
        "greater_than",
    ),
    ("canary weight 1", GOOD | {"strategy": {"type": "canary", "weight": 1}}, "strategy.weight", "less_than"),
    ("canary weight text", GOOD | {"strategy": {"weight": "lots"}}, "strategy.weight", "float_type"),
    ("canary weight as a string", GOOD | {"strategy": {"weight": "0.1"}}, "strategy.weight", "float_type"),
    ("canary weight true", GOOD | {"strategy": {"weight": True}}, "strategy.weight", "float_type"),
    (
        "canary bake as a string",
        GOOD | {"strategy": {"type": "canary", "bake_seconds": "60"}},
        "strategy.bake_seconds",
        "int_type",
    ),
    (
        "canary bake as a float",
        GOOD | {"strategy": {"type": "canary", "bake_seconds": 60.5}},
        "strategy.bake_seconds",
        "int_type",
    ),
    (
        "linear step as a string",
        GOOD | {"strategy": {"type": "linear", "step": "0.1"}},
        "strategy.step",
        "float_type",
    ),
    (
        "linear interval as a string",
        GOOD | {"strategy": {"type": "linear", "interval_seconds": "60"}},
        "strategy.interval_seconds",
        "int_type",
    ),
    (
        "step weight as a string",
        GOOD | {"strategy": {"steps": [{"weight": "0.5"}]}},
        "strategy.steps.0.weight",
        "float_type",
    ),
    ("watch as a string", GOOD | {"watch_seconds": "60"}, "watch_seconds", "int_type"),
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
    ("alarm empty", GOOD | {"alarms": [""]}, "alarms.0", "string_too_short"),
    ("alarm blank", GOOD | {"alarms": ["   "]}, "alarms.0", "value_error"),
    ("alarm too long", GOOD | {"alarms": ["a" * 256]}, "alarms.0", "string_too_long"),
    ("alarm with a control character", GOOD | {"alarms": ["errors\u0000"]}, "alarms.0", "value_error"),
    ("second alarm empty", GOOD | {"alarms": ["orders-errors", ""]}, "alarms.1", "string_too_short"),
    ("function qualified by an alias", GOOD | {"function": "orders:live"}, "function", "value_error"),
    ("function qualified by a version", GOOD | {"function": "orders:1"}, "function", "value_error"),
    (
        "function ARN qualified by a version",
        GOOD | {"function": "arn:aws:lambda:us-east-1:123456789012:function:orders:1"},
        "function",
        "value_error",
    ),
    ("function $LATEST", GOOD | {"function": "orders:$LATEST"}, "function", "value_error"),
    ("function with a space", GOOD | {"function": "my orders"}, "function", "value_error"),
    ("function another service's ARN", GOOD | {"function": "arn:aws:sqs:us-east-1:1:q"}, "function", "value_error"),
    ("hook with a space", GOOD | {"hooks": {"post_traffic": "my hook"}}, "hooks.post_traffic", "value_error"),
    (
        "linear step 1e-6: a million steps",
        GOOD | {"strategy": {"type": "linear", "step": 1e-6}},
        "strategy.step",
        "value_error",
    ),
    (
        "linear step just under the limit",
        GOOD | {"strategy": {"type": "linear", "step": 0.0049}},
        "strategy.step",
        "value_error",
    ),
    (
        "linear step the smallest float",
        GOOD | {"strategy": {"type": "linear", "step": 5e-324}},
        "strategy.step",
        "value_error",
    ),
    (
        "custom steps: 200 and the final 100%",
        GOOD | {"strategy": {"steps": [{"weight": (i + 1) / 1000} for i in range(200)]}},
        "strategy.steps",
        "value_error",
    ),
    (
        "custom steps: 201",
        GOOD | {"strategy": {"steps": [{"weight": (i + 1) / 1000} for i in range(201)]}},
        "strategy.steps",
        "too_long",
    ),
    (
        "linear: 199 days of bakes",
        GOOD | {"strategy": {"type": "linear", "step": 0.005, "interval_seconds": 86_400}},
        "strategy",
        "value_error",
    ),
    (
        "custom: 180 days of bakes and a day of watch",
        GOOD
        | {"strategy": {"steps": [{"weight": (i + 1) / 200, "bake_seconds": 86_400} for i in range(180)]}}
        | {"watch_seconds": 86_400},
        "strategy",
        "value_error",
    ),
    (
        "custom: 174 days of bakes and an approval wait",
        GOOD
        | {"strategy": {"steps": [{"weight": (i + 1) / 200, "bake_seconds": 86_400} for i in range(174)]}}
        | {"approval": True},
        "strategy",
        "value_error",
    ),
    (
        "analysis: 99 judged steps with 2 extensions each outgrow the history",
        GOOD | {"strategy": {"type": "linear", "step": 0.01}, "analysis": {}},
        "analysis",
        "value_error",
    ),
    (
        "analysis: 170 judged steps outgrow the history even without extensions",
        GOOD
        | {"strategy": {"steps": [{"weight": (i + 1) / 200, "bake_seconds": 60} for i in range(170)]}}
        | {"analysis": {"max_extensions": 0}},
        "analysis",
        "value_error",
    ),
    ("fast_gate not an object", GOOD | {"fast_gate": 5}, "fast_gate", "model_attributes_type"),
    (
        "fast_gate max_errors negative",
        GOOD | {"fast_gate": {"max_errors": -1}},
        "fast_gate.max_errors",
        "greater_than_equal",
    ),
    (
        "fast_gate max_errors over 10,000",
        GOOD | {"fast_gate": {"max_errors": 10_001}},
        "fast_gate.max_errors",
        "less_than_equal",
    ),
    ("fast_gate max_errors text", GOOD | {"fast_gate": {"max_errors": "5"}}, "fast_gate.max_errors", "int_type"),
    (
        "fast_gate window under 10 s",
        GOOD | {"fast_gate": {"window_seconds": 9}},
        "fast_gate.window_seconds",
        "greater_than_equal",
    ),
    (
        "fast_gate window over an hour",
        GOOD | {"fast_gate": {"window_seconds": 3601}},
        "fast_gate.window_seconds",
        "less_than_equal",
    ),
    ("fast_gate pattern empty", GOOD | {"fast_gate": {"pattern": ""}}, "fast_gate.pattern", "string_too_short"),
    ("fast_gate pattern blank", GOOD | {"fast_gate": {"pattern": "  "}}, "fast_gate.pattern", "value_error"),
    (
        "fast_gate pattern with a quote",
        GOOD | {"fast_gate": {"pattern": 'say "no"'}},
        "fast_gate.pattern",
        "value_error",
    ),
    (
        "fast_gate pattern with a newline",
        GOOD | {"fast_gate": {"pattern": "a\nb"}},
        "fast_gate.pattern",
        "value_error",
    ),
    (
        "fast_gate pattern too long",
        GOOD | {"fast_gate": {"pattern": "x" * 101}},
        "fast_gate.pattern",
        "string_too_long",
    ),
    ("fast_gate unknown field", GOOD | {"fast_gate": {"threshold": 3}}, "fast_gate.threshold", "extra_forbidden"),
    ("hook empty", GOOD | {"hooks": {"pre_traffic": ""}}, "hooks.pre_traffic", "string_too_short"),
    ("hook unknown phase", GOOD | {"hooks": {"during": "x"}}, "hooks.during", "extra_forbidden"),
    ("approval not a boolean", GOOD | {"approval": "maybe"}, "approval", "bool_type"),
    ("approval yes", GOOD | {"approval": "yes"}, "approval", "bool_type"),
    ("approval true as a string", GOOD | {"approval": "true"}, "approval", "bool_type"),
    ("approval 0", GOOD | {"approval": 0}, "approval", "bool_type"),
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
    assert answer.body["message"] == "version: version must be a published version number (digits), not '$LATEST'"

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


@pytest.mark.parametrize(("case", "name", "changes", "field", "rule"), REQUEST_CASES, ids=[c[0] for c in REQUEST_CASES])
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


def test_limit_refusals_name_the_limit(shape_gateway):
    tiny = shape_gateway.send("start_promotion", body=GOOD | {"strategy": {"type": "linear", "step": 1e-6}})
    assert "at most 200 steps" in tiny.body["message"] or "more than 200 steps" in tiny.body["message"]
    assert "0.005" in tiny.body["message"]

    many = {"steps": [{"weight": (i + 1) / 1000} for i in range(200)]}
    assert "at most 200" in shape_gateway.send("start_promotion", body=GOOD | {"strategy": many}).body["message"]

    long = {"type": "linear", "step": 0.005, "interval_seconds": 86_400}
    answer = shape_gateway.send("start_promotion", body=GOOD | {"strategy": long})
    assert answer.body["message"].startswith("strategy: the promotion could run 199 days")
    assert "the limit is 180 days" in answer.body["message"]


def test_a_qualified_function_says_to_give_the_alias_separately(shape_gateway):
    answer = shape_gateway.send("start_promotion", body=GOOD | {"function": "orders:live"})
    assert answer.body["message"] == (
        "function: 'orders:live' names version or alias 'live' of function 'orders': give the function "
        "without a qualifier, and the alias in 'alias' (the version in 'version')"
    )


ENVIRONMENT = {"name": "dev", "function": "orders", "alias": "dev"}
SCHEDULE = {"at": "2030-01-01T02:00:00Z", "promotion": GOOD}
# (case, sample event, body, field, rule): the same rules on every route that takes a target.
NESTED_CASES = [
    (
        "pipeline alarm empty",
        "put_pipeline",
        {"environments": [ENVIRONMENT | {"alarms": [""]}]},
        "environments.0.alarms.0",
        "string_too_short",
    ),
    (
        "pipeline alarm blank",
        "put_pipeline",
        {"environments": [ENVIRONMENT | {"alarms": [" "]}]},
        "environments.0.alarms.0",
        "value_error",
    ),
    (
        "pipeline function qualified",
        "put_pipeline",
        {"environments": [ENVIRONMENT | {"function": "orders:dev"}]},
        "environments.0.function",
        "value_error",
    ),
    (
        "pipeline protected yes",
        "put_pipeline",
        {"environments": [ENVIRONMENT | {"protected": "yes"}]},
        "environments.0.protected",
        "bool_type",
    ),
    (
        "pipeline weight string",
        "put_pipeline",
        {"environments": [ENVIRONMENT | {"strategy": {"type": "canary", "weight": "0.1"}}]},
        "environments.0.strategy.weight",
        "float_type",
    ),
    (
        "pipeline linear step too small",
        "put_pipeline",
        {"environments": [ENVIRONMENT | {"strategy": {"type": "linear", "step": 0.001}}]},
        "environments.0.strategy.step",
        "value_error",
    ),
    (
        "pipeline too long with approval",
        "put_pipeline",
        {
            "environments": [
                ENVIRONMENT
                | {
                    "protected": True,
                    "strategy": {"steps": [{"weight": (i + 1) / 200, "bake_seconds": 86_400} for i in range(174)]},
                }
            ]
        },
        "environments.0.strategy",
        "value_error",
    ),
    (
        "pipeline allow_override string",
        "put_pipeline",
        {"environments": [ENVIRONMENT], "allow_override": "true"},
        "allow_override",
        "bool_type",
    ),
    ("pipeline promote override yes", "promote_pipeline", {"to": "prod", "override": "yes"}, "override", "bool_type"),
    (
        "schedule alarm empty",
        "create_schedule",
        SCHEDULE | {"promotion": GOOD | {"alarms": [""]}},
        "promotion.alarms.0",
        "string_too_short",
    ),
    (
        "schedule function qualified",
        "create_schedule",
        SCHEDULE | {"promotion": GOOD | {"function": "orders:1"}},
        "promotion.function",
        "value_error",
    ),
    (
        "schedule approval yes",
        "create_schedule",
        SCHEDULE | {"promotion": GOOD | {"approval": "yes"}},
        "promotion.approval",
        "bool_type",
    ),
    (
        "schedule linear step 1e-6",
        "create_schedule",
        SCHEDULE | {"promotion": GOOD | {"strategy": {"type": "linear", "step": 1e-6}}},
        "promotion.strategy.step",
        "value_error",
    ),
]


@pytest.mark.parametrize(("case", "name", "body", "field", "rule"), NESTED_CASES, ids=[c[0] for c in NESTED_CASES])
def test_pipelines_and_schedules_refuse_the_same_input(shape_gateway, case, name, body, field, rule):
    answer = shape_gateway.send(name, body=body)

    assert answer.status == 422, answer.body
    assert (answer.body["error"], answer.body["field"], answer.body["rule"]) == ("InvalidRequest", field, rule)


BODY_ROUTES = [
    "start_promotion",
    "abort_promotion",
    "pause_promotion",
    "resume_promotion",
    "approve_promotion",
    "promote_now_promotion",
    "create_schedule",
    "put_pipeline",
    "promote_pipeline",
]


@pytest.mark.parametrize("name", BODY_ROUTES)
@pytest.mark.parametrize("shape", ["array", "object"])
def test_json_nested_1000_levels_is_a_422_on_every_post_and_put(shape_gateway, name, shape):
    opening, closing = ("[", "]") if shape == "array" else ('{"a": ', "}")
    deep = '{"reason": ' + opening * 1000 + "1" + closing * 1000 + "}"

    answer = shape_gateway.send(name, raw_body=deep, headers={"Content-Type": "application/json"})

    assert answer.status == 422, answer.body
    assert (answer.body["field"], answer.body["rule"]) == ("body", "json_too_deep")
    assert "deeper than 32 levels" in answer.body["message"]


def test_brackets_inside_strings_do_not_count_as_depth(shape_gateway):
    answer = shape_gateway.send("start_promotion", body=GOOD | {"reason": "[" * 1000, "colour": 1})
    assert (answer.status, answer.body["field"], answer.body["rule"]) == (422, "colour", "extra_forbidden")


class FakeClientError(Exception):
    """What botocore raises for an AWS error answer: ``response`` and ``operation_name``."""

    def __init__(self, code: str, message: str, status: int, operation: str) -> None:
        super().__init__(f"An error occurred ({code}) when calling the {operation} operation: {message}")
        self.response = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}
        self.operation_name = operation


class FakeParamValidationError(Exception):
    def __init__(self, report: str) -> None:
        super().__init__(f"Parameter validation failed:\n{report}")
        self.kwargs = {"report": report}


FakeParamValidationError.__name__ = "ParamValidationError"

HTML = "<!DOCTYPE HTML PUBLIC><html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>"
# (case, error the service raises, status, error, field, rule, message)
AWS_CASES = [
    (
        "HTML from AWS",
        FakeClientError("404", HTML, 404, "GetFunction"),
        422,
        "InvalidRequest",
        "function",
        "404",
        "AWS refused the request: GetFunction answered 404",
    ),
    (
        "a plain AWS message is kept",
        FakeClientError("InvalidParameterValueException", "Value 'x' at 'functionName' failed", 400, "GetAlias"),
        422,
        "InvalidRequest",
        "alias",
        "InvalidParameterValueException",
        "AWS refused the request: GetAlias answered InvalidParameterValueException: Value 'x' at 'functionName' failed",
    ),
    (
        "AWS's message names the parameter",
        FakeClientError(
            "InvalidParameterValueException", "CodeSHA256 (abc) does not match $LATEST", 400, "PublishVersion"
        ),
        422,
        "InvalidRequest",
        "code_sha256",
        "InvalidParameterValueException",
        "AWS refused the request: PublishVersion answered InvalidParameterValueException: "
        "CodeSHA256 (abc) does not match $LATEST",
    ),
    (
        "access denied names the call",
        FakeClientError(
            "AccessDeniedException", "User: arn:aws:sts::1:assumed-role/x is not authorized", 403, "DescribeAlarms"
        ),
        403,
        "AccessDenied",
        "alarms",
        "AccessDeniedException",
        "AWS denied the control plane: DescribeAlarms answered AccessDeniedException: "
        "User: arn:aws:sts::1:assumed-role/x is not authorized",
    ),
    (
        "the SDK refuses an alarm name",
        FakeParamValidationError("Invalid length for parameter AlarmNames[0], value: 0, valid min length: 1"),
        422,
        "InvalidRequest",
        "alarms.0",
        "aws_parameter_validation",
        "AWS's SDK refused the input: Invalid length for parameter AlarmNames[0], value: 0, valid min length: 1",
    ),
]


@pytest.mark.parametrize(
    ("case", "raised", "status", "error", "field", "rule", "message"), AWS_CASES, ids=[c[0] for c in AWS_CASES]
)
def test_aws_errors_become_plain_messages_that_name_the_field(case, raised, status, error, field, rule, message):
    def service():
        raise raised

    gateway = ApiGateway(build_app(APIGatewayRestResolver(enable_validation=True), service))
    answer = gateway.send("start_promotion", body=GOOD)

    assert answer.status == status, answer.body
    assert answer.body == {"error": error, "message": message, "field": field, "rule": rule}


def test_an_unknown_route_names_the_path(shape_gateway):
    answer = shape_gateway.send("get_promotion", path="/nowhere")
    assert (answer.status, answer.body["field"]) == (404, "path")
