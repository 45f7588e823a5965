"""The fast gate's latency: from the candidate's first uncaught exception in its log group to the
alias back on stable, on the sandbox (real ASL and handlers, clock at real time, scale 1).

Each run promotes a candidate that raises on 30% of its calls (canary 50%, a 10-minute bake that
only the fast gate ends), with traffic at 20 requests/s through the alias and the fast gate's
defaults (more than 5 errors in 60 s). Prints, per run and as the median, the seconds from the
first error (its log event's timestamp) to the fast gate's trip (the record's ``fast_gate_state.trip.at``),
the errors it had counted, and that latency as a share of one 60 s alarm period (an alarm on
one-minute Lambda metrics cannot fire before the period closes, and then waits for CloudWatch).

    .venv/bin/python -m bench.fast_gate [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import threading

from promoter.models import PromotionRequest, Status
from sandbox import Sandbox
from sandbox.clock import CLOCK
from sandbox.fixtures.targets import MANAGED_TAGS, Targets, zip_source

RATE = 20.0
ALARM_PERIOD_SECONDS = 60.0
FLAKY = """
import random

def handler(event, context):
    if random.random() < {share!r}:
        raise RuntimeError("flaky build")
    return {{"ok": True}}
"""


def flaky_function(targets: Targets, name: str, share: float) -> None:
    lambdas = targets.lambdas
    lambdas.create_function(
        FunctionName=name,
        Runtime="python3.13",
        Role=targets.role(),
        Handler="app.handler",
        Code={"ZipFile": zip_source(FLAKY.format(share=0.0))},
        Tags=MANAGED_TAGS,
        Architectures=["arm64"],
    )
    lambdas.publish_version(FunctionName=name)
    lambdas.update_function_code(FunctionName=name, ZipFile=zip_source(FLAKY.format(share=share)))
    lambdas.publish_version(FunctionName=name)
    lambdas.create_alias(FunctionName=name, Name="live", FunctionVersion="1")


def traffic(box: Sandbox, name: str, done: threading.Event, callers: int = 2) -> list[threading.Thread]:
    lambdas, interval = box.client("lambda"), callers / RATE

    def run(offset: float) -> None:
        due = CLOCK.now() + offset
        while not done.is_set():
            if (wait := due - CLOCK.now()) > 0:
                done.wait(CLOCK.real(wait))
                continue
            lambdas.invoke(FunctionName=f"{name}:live", Payload=b"{}")
            due += interval

    threads = [threading.Thread(target=run, args=(i / RATE,), daemon=True) for i in range(callers)]
    for thread in threads:
        thread.start()
    return threads


def candidate_errors(box: Sandbox, name: str) -> list[float]:
    """The timestamps (s) of the candidate's uncaught exceptions in its log group, in order."""
    pages = (
        box.client("logs")
        .get_paginator("filter_log_events")
        .paginate(logGroupName=f"/aws/lambda/{name}", filterPattern='"[ERROR]"')
    )
    return sorted(e["timestamp"] / 1000 for page in pages for e in page["events"] if "/[2]" in e["logStreamName"])


def one_run(box: Sandbox, targets: Targets, index: int) -> tuple[float, float, int]:
    name = f"fastgate{index}"
    flaky_function(targets, name, 0.3)
    request = PromotionRequest(
        function=name,
        alias="live",
        version="2",
        strategy={"type": "canary", "weight": 0.5, "bake_seconds": 600},
        fast_gate={},
    )
    promotion = box.service().start(request, actor="bench")
    done = threading.Event()
    threads = traffic(box, name, done)
    try:
        final = box.wait_until_final(promotion.id, timeout=120)
    finally:
        done.set()
        for thread in threads:
            thread.join(timeout=10)
    assert final.status is Status.ROLLED_BACK and final.fast_gate_state and final.fast_gate_state.trip, final
    trip, errors = final.fast_gate_state.trip, candidate_errors(box, name)
    over = errors[request.fast_gate.max_errors] if request.fast_gate else errors[0]  # the one too many
    return trip.at.timestamp() - errors[0], trip.at.timestamp() - over, trip.errors


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args(argv).runs
    latencies: list[float] = []
    reactions: list[float] = []
    with Sandbox(time_scale=1.0) as box:
        targets = Targets(region=box.region)
        for index in range(runs):
            latency, reaction, errors = one_run(box, targets, index)
            latencies.append(latency)
            reactions.append(reaction)
            print(
                f"run {index + 1}: {latency:.2f} s from the first error to the rollback, {reaction:.2f} s from the "
                f"error over the threshold, {errors} errors counted"
            )
    median = statistics.median(latencies)
    print(
        f"fast gate over {runs} runs (20 requests/s, canary 50%, 30% of the candidate's calls raise, "
        f"more than 5 errors in 60 s): median {median:.2f} s, max {max(latencies):.2f} s from the first error "
        f"to the alias on stable ({median / ALARM_PERIOD_SECONDS:.3f} of one 60 s alarm period); median "
        f"{statistics.median(reactions):.2f} s, max {max(reactions):.2f} s from the error over the threshold "
        "(delivery, count, claim, UpdateAlias)"
    )


if __name__ == "__main__":
    main()
