"""The limits of one promotion: derived from AWS's limits, enforced by counting, and still true of the ASL."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from promoter import limits
from promoter.analysis.models import AnalysisSpec
from promoter.models import LinearStrategy, PromotionRequest
from promoter.strategies import steps_for

ASL = Path(__file__).resolve().parents[2] / "statemachines" / "promotion.asl.json"


def test_max_steps_follows_from_the_history_limit_with_headroom():
    budget = limits.STEP_FUNCTIONS_MAX_HISTORY_EVENTS / limits.HEADROOM - limits.EVENTS_FIXED_WORST
    assert budget // limits.EVENTS_PER_STEP_WORST >= limits.MAX_STEPS
    worst = limits.EVENTS_FIXED_WORST + limits.MAX_STEPS * limits.EVENTS_PER_STEP_WORST
    assert worst * limits.HEADROOM <= limits.STEP_FUNCTIONS_MAX_HISTORY_EVENTS


def test_max_duration_is_under_half_of_the_execution_limit():
    assert limits.MAX_TOTAL_SECONDS * limits.HEADROOM <= limits.STEP_FUNCTIONS_MAX_EXECUTION_SECONDS


def test_the_longest_accepted_request_fits_the_duration_limit():
    """The per-field maxima alone do not bound the total: the duration check does."""
    longest = limits.MAX_BAKE_SECONDS * (limits.MAX_STEPS - 1) + limits.MAX_BAKE_SECONDS + limits.APPROVAL_WAIT_SECONDS
    assert longest > limits.MAX_TOTAL_SECONDS


def test_the_approval_wait_is_the_asl_timeout():
    states = json.loads(ASL.read_text())["States"]
    assert states["AwaitApproval"]["TimeoutSeconds"] == limits.APPROVAL_WAIT_SECONDS


@given(step=st.floats(min_value=limits.MIN_LINEAR_STEP, max_value=0.999))
def test_linear_step_count_is_what_steps_for_builds(step):
    strategy = LinearStrategy(step=step, interval_seconds=1)
    built = steps_for(strategy)
    assert len(built) == limits.linear_step_count(step) == strategy.step_count() <= limits.MAX_STEPS
    assert strategy.bake_total() == sum(s.bake_seconds for s in built)


@pytest.mark.parametrize("step", [1e-6, 1e-300, 5e-324, 0.0049])
def test_a_tiny_linear_step_is_counted_not_built(step):
    assert limits.linear_step_count(step) > limits.MAX_STEPS
    with pytest.raises(ValidationError, match="more than 200 steps"):
        LinearStrategy(step=step)


def test_steps_for_refuses_an_unvalidated_tiny_step():
    with pytest.raises(ValueError, match="at most 200"):
        steps_for(LinearStrategy.model_construct(step=1e-6, interval_seconds=0, type="linear"))


def test_the_smallest_linear_step_makes_exactly_max_steps():
    steps = steps_for(LinearStrategy(step=limits.MIN_LINEAR_STEP))
    assert len(steps) == limits.MAX_STEPS
    assert steps[-1].weight == 1.0


def body(**overrides):
    return {"function": "orders", "alias": "live", "version": "2"} | overrides


def custom(days: int) -> dict:
    return {"steps": [{"weight": (i + 1) / 200, "bake_seconds": 86_400} for i in range(days)]}


def test_exactly_the_duration_limit_is_accepted_and_a_second_more_is_not():
    at_limit = PromotionRequest.model_validate(body(strategy=custom(173), approval=True))
    assert at_limit.strategy.bake_total() + limits.APPROVAL_WAIT_SECONDS == limits.MAX_TOTAL_SECONDS

    with pytest.raises(ValidationError) as error:
        PromotionRequest.model_validate(body(strategy=custom(173), approval=True, watch_seconds=1))
    assert [e["loc"] for e in error.value.errors()] == [("strategy",)]
    assert "the limit is 180 days" in str(error.value)


def test_json_depth_counts_nesting_outside_strings():
    from promoter.api.errors import json_depth

    assert json_depth('{"a": [1, {"b": []}], "c": "[[[[{{{{"}') == 4
    assert json_depth("[" * 1000) == limits.MAX_JSON_DEPTH + 1  # stops counting past the limit
    assert json_depth('"\\"[[["') == 0
    assert math.isfinite(json_depth("{}" * 10_000))


# --- measured on the sandbox: the ASL's events per step still fit the budget above ------------------
def wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.02)


def history_events(sandbox, targets, name: str, step: float) -> int:
    """Events in the execution history of a linear promotion with every gate on (approval, both
    hooks, an alarm, a watch window)."""
    from promoter.models import Signal, Status

    target = targets.function(name)
    targets.hook(f"{name}-smoke")
    targets.alarm(f"{name}-errors", name)
    service = sandbox.service()
    request = PromotionRequest.model_validate(
        body(
            function=name,
            version=target.versions[-1],
            strategy={"type": "linear", "step": step, "interval_seconds": 1},
            approval=True,
            watch_seconds=1,
            alarms=[f"{name}-errors"],
            hooks={"pre_traffic": f"{name}-smoke", "post_traffic": f"{name}-smoke"},
        )
    )
    promotion = service.start(request, actor="test")
    wait_for(lambda: service.get(promotion.id).status is Status.AWAITING_APPROVAL)
    service.signal(promotion.id, Signal.APPROVE, actor="approver")
    final = sandbox.wait_until_final(promotion.id, timeout=120)
    assert final.status is Status.SUCCEEDED, final.outcome_reason
    sfn = sandbox.client("stepfunctions")
    events, token = 0, None
    while True:
        more = {"nextToken": token} if token else {}
        page = sfn.get_execution_history(executionArn=final.execution_arn, maxResults=1000, **more)
        events += len(page["events"])
        token = page.get("nextToken")
        if not token:
            return events


@pytest.mark.slow
def test_history_events_per_step_fit_the_budget(sandbox, targets):
    """Re-measures EVENTS_PER_STEP and EVENTS_FIXED: if the ASL grows, MAX_STEPS must be derived again."""
    ten = history_events(sandbox, targets, "measured-ten", 0.1)  # 10 steps: 9 weighted, then 100%
    twenty = history_events(sandbox, targets, "measured-twenty", 0.05)  # 20 steps: 19 weighted

    per_step = (twenty - ten) / 10
    fixed = ten - 9 * per_step
    assert per_step <= limits.EVENTS_PER_STEP, (ten, twenty)
    assert fixed <= limits.EVENTS_FIXED, (ten, twenty)


# --- canary analysis: the judge's events and extension time count too --------------------------
def _request(strategy: dict, analysis: dict) -> dict:
    return {"function": "orders", "alias": "live", "version": "2", "strategy": strategy, "analysis": analysis}


def test_judged_steps_are_bounded_by_the_history_with_the_judges_events():
    fits = limits.max_judged_steps(2)  # the default max_extensions
    assert fits < limits.MAX_STEPS  # each judged step costs more history than a plain one
    custom = {"steps": [{"weight": (i + 1) / (fits + 2), "bake_seconds": 60} for i in range(fits)]}
    PromotionRequest.model_validate(_request(custom, {}))  # fits: exactly the limit
    one_more = {"steps": [{"weight": (i + 1) / (fits + 2), "bake_seconds": 60} for i in range(fits + 1)]}
    with pytest.raises(ValidationError) as refused:
        PromotionRequest.model_validate(_request(one_more, {}))
    assert refused.value.errors()[0]["loc"] == ("analysis",)
    assert f"at most {fits}" in str(refused.value)
    PromotionRequest.model_validate(_request(one_more, {"max_extensions": 0}))  # no extensions: fits again
    PromotionRequest.model_validate(_request(one_more, {}) | {"analysis": None})  # no analysis: a plain limit


def test_the_judges_extensions_cannot_outgrow_the_duration_limit():
    """The most a judged promotion can wait: every judged step baking a day and extended as often as
    allowed, the watch window and the approval wait. The history bound keeps it inside the limit."""
    extension = AnalysisSpec.model_fields["extension_seconds"].metadata
    most_seconds = next(m.le for m in extension if hasattr(m, "le"))
    extensions = AnalysisSpec.model_fields["max_extensions"].metadata
    most_extensions = next(m.le for m in extensions if hasattr(m, "le"))
    for allowed in range(most_extensions + 1):
        judged = limits.max_judged_steps(allowed)
        per_step = limits.MAX_BAKE_SECONDS + allowed * most_seconds
        longest = judged * per_step + limits.MAX_BAKE_SECONDS + limits.APPROVAL_WAIT_SECONDS
        assert longest <= limits.MAX_TOTAL_SECONDS, (allowed, judged, longest / 86_400)
