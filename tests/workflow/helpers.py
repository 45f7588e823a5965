"""Helpers for workflow tests: start promotions on the sandbox and read what AWS saw."""

import time
from collections.abc import Callable
from typing import Any

from promoter.models import PromotionRequest
from sandbox import Sandbox
from sandbox.aws.awslambda.versions import ALIAS_WRITES


def request(target, **overrides: Any) -> PromotionRequest:
    body = {
        "function": target.function,
        "alias": target.alias,
        "version": target.versions[-1],
        "strategy": {"type": "canary", "weight": 0.1, "bake_seconds": 2},
        "reason": "test",
    } | overrides
    return PromotionRequest.model_validate(body)


def alias_writes(function: str) -> list[tuple[str, dict[str, float]]]:
    """Every (version, weights) the alias was set to, in order, as the sandbox's Lambda saw it."""
    return [(version, weights) for fn, _, version, weights in ALIAS_WRITES if fn == function]


def assert_settled(sandbox: Sandbox, targets, target, version: str) -> None:
    state = targets.alias_state(target.function, target.alias)
    assert state["version"] == version
    assert state["weights"] == {}


def lock_holder(sandbox: Sandbox, promotion) -> str | None:
    return sandbox.service().store.lock_holder(promotion.target_key)


def execution_events(sandbox: Sandbox, execution_arn: str) -> list[dict]:
    sfn = sandbox.client("stepfunctions")
    return sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]


def wait_for_writes(function: str, done: Callable[[list], bool], timeout: float = 30.0) -> list:
    """Wait until the alias writes seen so far satisfy ``done``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        writes = alias_writes(function)
        if done(writes):
            return writes
        time.sleep(0.01)
    raise TimeoutError(f"alias writes of {function} are {alias_writes(function)}")
