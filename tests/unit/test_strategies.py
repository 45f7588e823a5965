"""Strategies become step lists whose weights rise strictly, stay in (0, 1] and end at 1."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from promoter.models import (
    AllAtOnceStrategy,
    CanaryStrategy,
    CustomStrategy,
    LinearStrategy,
    PromotionRequest,
)
from promoter.strategies import steps_for


def assert_well_formed(steps):
    weights = [s.weight for s in steps]
    assert all(0 < w <= 1 for w in weights), weights
    assert all(a < b for a, b in zip(weights, weights[1:], strict=False)), weights
    assert weights[-1] == 1.0


@given(weight=st.floats(min_value=0.001, max_value=0.999), bake=st.integers(0, 86_400))
def test_canary_is_one_weighted_step_then_full(weight, bake):
    steps = steps_for(CanaryStrategy(weight=weight, bake_seconds=bake))
    assert_well_formed(steps)
    assert [(s.weight, s.bake_seconds) for s in steps] == [(weight, bake), (1.0, 0)]


@given(step=st.floats(min_value=0.01, max_value=0.99), interval=st.integers(0, 3600))
def test_linear_rises_by_its_step(step, interval):
    steps = steps_for(LinearStrategy(step=step, interval_seconds=interval))
    assert_well_formed(steps)
    assert steps[0].weight == pytest.approx(step)
    assert all(s.bake_seconds == interval for s in steps[:-1])


@given(
    weights=st.lists(st.floats(min_value=0.001, max_value=1.0), min_size=1, max_size=30, unique=True),
    bake=st.integers(0, 600),
)
def test_custom_sorted_steps_are_kept_and_completed(weights, bake):
    ordered = sorted(weights)
    steps = steps_for(CustomStrategy(steps=[{"weight": w, "bake_seconds": bake} for w in ordered]))
    assert_well_formed(steps)
    assert [s.weight for s in steps][: len(ordered)] == ordered


def test_all_at_once_is_a_single_full_step():
    assert [s.weight for s in steps_for(AllAtOnceStrategy())] == [1.0]


def test_linear_ten_percent_has_nine_weighted_steps():
    assert [s.weight for s in steps_for(LinearStrategy(step=0.1))] == [
        0.1,
        0.2,
        0.3,
        0.4,
        0.5,
        0.6,
        0.7,
        0.8,
        0.9,
        1.0,
    ]


@pytest.mark.parametrize(
    ("steps", "rule"),
    [
        ([{"weight": 0.5}, {"weight": 0.2}], "rise strictly"),
        ([{"weight": 0.5}, {"weight": 0.5}], "rise strictly"),
        ([{"weight": 1.5}], "less than or equal to 1"),
        ([{"weight": 0}], "greater than 0"),
        ([{"weight": -0.1}], "greater than 0"),
        ([], "at least 1"),
    ],
)
def test_bad_custom_steps_name_the_rule(steps, rule):
    with pytest.raises(ValidationError) as error:
        PromotionRequest(function="f", alias="live", version="2", strategy={"steps": steps})
    assert rule in str(error.value)
    assert "steps" in str(error.value)


@given(step=st.floats(min_value=0.005, max_value=0.999), interval=st.integers(0, 3600))
def test_linear_counts_match_what_is_built(step, interval):
    strategy = LinearStrategy(step=step, interval_seconds=interval)
    steps = steps_for(strategy)
    assert len(steps) == strategy.step_count() <= 200
    assert sum(s.bake_seconds for s in steps) == strategy.bake_total()


@given(
    weights=st.lists(st.floats(min_value=0.001, max_value=1.0), min_size=1, max_size=30, unique=True),
    bake=st.integers(0, 600),
)
def test_custom_counts_match_what_is_built(weights, bake):
    strategy = CustomStrategy(steps=[{"weight": w, "bake_seconds": bake} for w in sorted(weights)])
    steps = steps_for(strategy)
    assert len(steps) == strategy.step_count()
    assert sum(s.bake_seconds for s in steps) == strategy.bake_total()


def test_canary_and_all_at_once_counts():
    assert (CanaryStrategy(bake_seconds=7).step_count(), CanaryStrategy(bake_seconds=7).bake_total()) == (2, 7)
    assert (AllAtOnceStrategy().step_count(), AllAtOnceStrategy().bake_total()) == (1, 0)
