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
