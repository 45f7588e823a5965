"""Canary analysis end to end on the sandbox: real ASL, real handlers (the Judge function too),
traffic through the alias, the judge reading both versions' metrics by ExecutedVersion. No alarm."""

from __future__ import annotations

import threading

import pytest

from promoter.models import Status
from sandbox.fixtures.targets import MANAGED_TAGS, Target, zip_source
from tests.workflow.helpers import alias_writes, assert_settled, request

pytestmark = pytest.mark.slow

# Version 1 is healthy; version 2 raises on a share of its calls (drawn per call).
FLAKY = """
import random

def handler(event, context):
    if random.random() < {share!r}:
        raise RuntimeError("flaky build")
    return {{"ok": True}}
"""


def flaky_target(targets, name: str, share: float) -> Target:
    target = Target(function=name, alias="live")
    for index, code in enumerate((FLAKY.format(share=0.0), FLAKY.format(share=share))):
        if index == 0:
            targets.lambdas.create_function(
                FunctionName=name,
                Runtime="python3.13",
                Role=targets.role(),
                Handler="app.handler",
                Code={"ZipFile": zip_source(code)},
                Tags=MANAGED_TAGS,
                Architectures=["arm64"],
            )
        else:
            targets.lambdas.update_function_code(FunctionName=name, ZipFile=zip_source(code))
        target.versions.append(targets.lambdas.publish_version(FunctionName=name)["Version"])
    targets.lambdas.create_alias(FunctionName=name, Name="live", FunctionVersion=target.versions[0])
    return target


def drive(sandbox, function: str, done: threading.Event, callers: int = 2) -> list[threading.Thread]:
    """Requests through the alias as fast as ``callers`` callers can, until ``done``."""
    lambdas = sandbox.client("lambda")

    def run() -> None:
        while not done.is_set():
            lambdas.invoke(FunctionName=f"{function}:live", Payload=b"{}")

    threads = [threading.Thread(target=run, daemon=True) for _ in range(callers)]
    for thread in threads:
        thread.start()
    return threads


def promote_with_analysis(sandbox, target, analysis):
    # A 10-minute bake (12 s at the tests' time scale): some 1,000 judged requests, so 5% errors on
    # the candidate against none on stable is a Fail in all but ~1e-4 of runs.
    strategy = {"type": "canary", "weight": 0.5, "bake_seconds": 600}
    started = sandbox.service().start(request(target, strategy=strategy, analysis=analysis), actor="alice")
    done = threading.Event()
    traffic = drive(sandbox, target.function, done)
    try:
        return sandbox.wait_until_final(started.id, timeout=180)
    finally:
        done.set()
        for thread in traffic:
            thread.join(timeout=10)


def test_the_judge_rolls_back_a_candidate_raising_on_5_percent_and_names_the_metric(sandbox, targets):
    target = flaky_target(targets, "orders", share=0.05)
    final = promote_with_analysis(sandbox, target, {})  # every default

    assert final.status is Status.ROLLED_BACK
    assert "canary analysis failed at step 1" in final.outcome_reason
    assert "errors High" in final.outcome_reason
    assert_settled(sandbox, targets, target, "1")
    assert alias_writes("orders") == [("1", {"2": 0.5}), ("1", {})]
    judged = final.analysis.steps["0"]
    assert judged.verdict.value == "fail" and judged.action == "fail"
    errors = next(m for m in final.analysis.last.metrics if m.name == "errors")
    assert errors.verdict.value == "High" and errors.stable == 0 and errors.candidate > 0
    assert any(e.type == "judged" and "errors High" in e.message for e in final.events)


def test_a_healthy_candidate_is_judged_and_promoted(sandbox, targets):
    target = flaky_target(targets, "orders", share=0.0)
    # alpha 0.001: the default's false Fail (~0.3% by the replay harness, from the latency tests on
    # the sandbox's noisy wall-time durations) would make this test flaky.
    final = promote_with_analysis(sandbox, target, {"alpha": 0.001})

    assert final.status is Status.SUCCEEDED, final.outcome_reason
    assert_settled(sandbox, targets, target, "2")
    judged = final.analysis.steps["0"]
    assert judged.verdict.value == "pass" and judged.action == "promote"
    last = final.analysis.last
    assert last.candidate_invocations >= final.analysis.spec.min_candidate_invocations
    assert {m.name: m.verdict.value for m in last.metrics}["errors"] == "Pass"
