"""Request validation names the field and the rule."""

import pytest
from pydantic import ValidationError

from promoter.models import PromotionRequest


def fields_of(error: ValidationError) -> set[str]:
    return {".".join(str(p) for p in e["loc"]) for e in error.errors()}


@pytest.mark.parametrize("version", ["$LATEST", "v2", "0", "-1", "1.5", "", True])
def test_version_must_be_a_published_number(version):
    with pytest.raises(ValidationError) as error:
        PromotionRequest(function="f", alias="live", version=version)
    assert fields_of(error.value) == {"version"}
    assert "published version number" in str(error.value)


def test_integer_version_is_accepted_as_text():
    assert PromotionRequest(function="f", alias="live", version=7).version == "7"


def test_exactly_one_of_version_or_publish():
    with pytest.raises(ValidationError, match="exactly one of 'version' or 'publish'"):
        PromotionRequest(function="f", alias="live")
    with pytest.raises(ValidationError, match="exactly one of 'version' or 'publish'"):
        PromotionRequest(function="f", alias="live", version="2", publish=True)


def test_code_sha_needs_publish():
    with pytest.raises(ValidationError, match="only used with 'publish'"):
        PromotionRequest(function="f", alias="live", version="2", code_sha256="abc")


@pytest.mark.parametrize("alias", ["", "123", "has space", "a" * 129])
def test_alias_name_rules(alias):
    with pytest.raises(ValidationError) as error:
        PromotionRequest(function="f", alias=alias, version="2")
    assert fields_of(error.value) == {"alias"}


def test_unknown_fields_are_refused():
    with pytest.raises(ValidationError) as error:
        PromotionRequest(function="f", alias="live", version="2", wieght=0.1)
    assert fields_of(error.value) == {"wieght"}


@pytest.mark.parametrize(
    ("strategy", "field"),
    [
        ({"type": "canary", "weight": 1.0}, "strategy.canary.weight"),
        ({"type": "canary", "weight": 0}, "strategy.canary.weight"),
        ({"type": "linear", "step": 0}, "strategy.linear.step"),
        ({"type": "linear", "interval_seconds": -1}, "strategy.linear.interval_seconds"),
        ({"type": "blue-green"}, "strategy"),
    ],
)
def test_strategy_errors_point_into_the_strategy(strategy, field):
    with pytest.raises(ValidationError) as error:
        PromotionRequest(function="f", alias="live", version="2", strategy=strategy)
    assert field in fields_of(error.value)


# --- strict scalars: JSON booleans and numbers only --------------------------------------------------
GOOD = {"function": "f", "alias": "live", "version": "2"}


@pytest.mark.parametrize(
    ("changes", "field", "rule"),
    [
        ({"approval": "yes"}, "approval", "bool_type"),
        ({"approval": 1}, "approval", "bool_type"),
        ({"version": None, "publish": "yes"}, "publish", "bool_type"),
        ({"watch_seconds": "60"}, "watch_seconds", "int_type"),
        ({"watch_seconds": 60.0}, "watch_seconds", "int_type"),
        ({"strategy": {"type": "canary", "weight": "0.1"}}, "strategy.canary.weight", "float_type"),
        ({"strategy": {"type": "canary", "bake_seconds": "60"}}, "strategy.canary.bake_seconds", "int_type"),
        ({"strategy": {"type": "linear", "step": "0.1"}}, "strategy.linear.step", "float_type"),
        ({"strategy": {"steps": [{"weight": True}]}}, "strategy.custom.steps.0.weight", "float_type"),
    ],
)
def test_strings_and_other_types_are_never_coerced(changes, field, rule):
    body = {k: v for k, v in (GOOD | changes).items() if v is not None}
    with pytest.raises(ValidationError) as error:
        PromotionRequest.model_validate(body)
    assert [(".".join(map(str, e["loc"])), e["type"]) for e in error.value.errors()] == [(field, rule)]


def test_json_integers_are_valid_numbers():
    request = PromotionRequest.model_validate_json(
        '{"function": "f", "alias": "live", "version": 2, "strategy": {"steps": [{"weight": 1, "bake_seconds": 5}]}}'
    )
    assert request.strategy.steps[0].weight == 1.0
    canary = PromotionRequest.model_validate(GOOD | {"strategy": {"type": "canary", "weight": 0.5, "bake_seconds": 0}})
    assert canary.strategy.bake_seconds == 0


@pytest.mark.parametrize("alarms", [[""], ["  "], ["a" * 256], ["ok", "\u0007bell"]])
def test_alarm_names_are_cloudwatch_names(alarms):
    with pytest.raises(ValidationError) as error:
        PromotionRequest.model_validate(GOOD | {"alarms": alarms})
    assert fields_of(error.value) == {f"alarms.{len(alarms) - 1}"}


def test_an_alarm_name_of_255_characters_is_fine():
    assert PromotionRequest.model_validate(GOOD | {"alarms": ["a" * 255]}).alarms == ["a" * 255]


@pytest.mark.parametrize(
    "function", ["f:live", "f:1", "arn:aws:lambda:us-east-1:123456789012:function:f:1", "123456789012:function:f:live"]
)
def test_a_qualified_function_is_refused_on_function(function):
    with pytest.raises(ValidationError, match="the alias in 'alias'") as error:
        PromotionRequest.model_validate(GOOD | {"function": function})
    assert fields_of(error.value) == {"function"}


@pytest.mark.parametrize(
    "function", ["f", "123456789012:function:f", "arn:aws:lambda:us-east-1:123456789012:function:f"]
)
def test_names_partial_and_full_arns_stay_valid(function):
    assert PromotionRequest.model_validate(GOOD | {"function": function}).function == function


def test_the_duration_counts_the_approval_wait_and_the_watch():
    days = {"steps": [{"weight": (i + 1) / 200, "bake_seconds": 86_400} for i in range(179)]}
    assert PromotionRequest.model_validate(GOOD | {"strategy": days, "watch_seconds": 86_400})
    with pytest.raises(ValidationError, match="approval wait up to 604800 s"):
        PromotionRequest.model_validate(GOOD | {"strategy": days, "approval": True})


def test_pipeline_environments_check_the_duration_with_protected():
    from promoter.models import Environment

    days = {"steps": [{"weight": (i + 1) / 200, "bake_seconds": 86_400} for i in range(179)]}
    env = {"name": "prod", "function": "f", "alias": "live", "strategy": days}
    assert Environment.model_validate(env)
    with pytest.raises(ValidationError) as error:
        Environment.model_validate(env | {"protected": True})
    assert fields_of(error.value) == {"strategy"}
