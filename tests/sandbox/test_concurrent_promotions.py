"""Fifty promotions at once in one in-process sandbox, half of them with a pre-traffic hook (a
nested invoke), under Lambda's control-plane rates (a throttled start is retried, as a client
retries a 429): every one ends as its strategy says, none with a States.Runtime error (before
invocations had environments of their own, some lost AWS_LAMBDA_FUNCTION_NAME mid-run)."""

from __future__ import annotations

import random
import threading
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from promoter.aws.errors import code_of
from promoter.models import PromotionRequest, Status
from sandbox import Sandbox
from sandbox.fixtures.targets import Targets
from tests.workflow.helpers import request

PROMOTIONS = 50


def prepare(targets: Targets, names: list[str]) -> list[PromotionRequest]:
    """A canary promotion of version 2 per target; every other one with a passing pre-traffic hook."""
    bodies = []
    for index, name in enumerate(names):
        target = targets.function(name)
        hooks = {"pre_traffic": targets.hook(f"{name}-smoke")} if index % 2 else {}
        bodies.append(request(target, hooks=hooks))
    return bodies


def run_all(sandbox: Sandbox, bodies: list[PromotionRequest]) -> tuple[dict[str, Any], float]:
    """Start them all at once; their final records by function, and the wall time it took."""
    barrier = threading.Barrier(len(bodies) + 1)
    started: dict[str, str] = {}
    throttled_starts: list[str] = []

    def start(body: PromotionRequest) -> None:
        service = sandbox.service()
        barrier.wait()
        for attempt in range(8):
            try:
                started[body.function] = service.start(body, actor="load").id
                return
            except ClientError as error:  # Lambda's 15 requests/s: the API answers 429, callers back off
                if code_of(error) != "TooManyRequestsException" or attempt == 7:
                    raise
                throttled_starts.append(body.function)
                time.sleep(random.uniform(0, 2**attempt))

    threads = [threading.Thread(target=start, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    barrier.wait()
    began = time.monotonic()
    for thread in threads:
        thread.join()
    assert len(started) == len(bodies)
    finals = {name: sandbox.wait_until_final(pid, timeout=600) for name, pid in started.items()}
    return finals, time.monotonic() - began


@pytest.mark.slow
def test_fifty_concurrent_promotions_all_succeed(sandbox: Sandbox, targets: Targets) -> None:
    alone, one = run_all(sandbox, prepare(targets, ["solo"]))
    assert alone["solo"].status is Status.SUCCEEDED, alone["solo"].outcome_reason

    finals, fifty = run_all(sandbox, prepare(targets, [f"orders-{n}" for n in range(PROMOTIONS)]))

    outcomes = {name: (p.status, p.outcome_reason) for name, p in finals.items()}
    assert {name: status for name, (status, _) in outcomes.items()} == dict.fromkeys(finals, Status.SUCCEEDED), outcomes
    assert not [reason for _, reason in outcomes.values() if "States.Runtime" in (reason or "")]
    for name in finals:
        assert targets.alias_state(name, "live") | {"revision_id": None} == {
            "version": "2",
            "weights": {},
            "revision_id": None,
        }
    print(f"\n{PROMOTIONS} concurrent promotions: {fifty:.1f} s, one alone: {one:.1f} s, ratio {fifty / one:.1f}")
