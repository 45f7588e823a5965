"""Fifty promotions started in the same second, under Lambda's control-plane rates.

    python -m bench.concurrent_promotions [--promotions 50]

In one in-process sandbox (Lambda's rates on: 15 control-plane requests/s per account,
GetFunction 100/s; sandbox/aws/awslambda/throttling.py), each promotion is a POST /promotions
through the real API resolver from its own thread, all released at once, then the real workflow
(canary 10%, bake 2 s at time scale 50, so the steps of all of them fall together). A 429 is
answered again after its Retry-After, with jitter, as the CLI does. Prints, next to the
reference of one promotion alone in the same run: the wall time ratio, the API's answers by
status (no 5xx is the goal), the final statuses, the peak control-plane rate the sandbox
accepted, and the throttles that Lambda refused and the product's retries absorbed; and once more
with the rates lifted, the sandbox's own scaling.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import threading
import time
from collections import Counter

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from bench.api_latency import Context, event
from promoter.api import build_app
from promoter.service import PromoterService
from sandbox import Sandbox
from sandbox.aws.awslambda import throttling
from sandbox.aws.awslambda.throttling import THROTTLE_ENV
from sandbox.fixtures.targets import Targets

TIME_SCALE = 50.0
STRATEGY = {"type": "canary", "weight": 0.1, "bake_seconds": 2}
_lock = threading.Lock()
refusals: list[str] = []


def post(service: PromoterService, name: str, answers: Counter[int]) -> str | None:
    """POST /promotions until accepted, honouring 429's Retry-After with full jitter. Each thread
    has its own resolver (one serves one request at a time, as in a Lambda container); they share
    one service and its clients, as the requests of ``make sandbox``'s API server do."""
    app = build_app(APIGatewayRestResolver(enable_validation=True), service)
    body = {"function": name, "alias": "live", "version": "2", "strategy": STRATEGY}
    for attempt in range(10):
        answer = app.resolve(event("start_promotion", body=json.dumps(body)), Context())
        with _lock:
            answers[answer["statusCode"]] += 1
            if answer["statusCode"] != 202:
                refusals.append(f"{name}: {answer['statusCode']} {answer['body'][:300]}")
        if answer["statusCode"] == 202:
            return str(json.loads(answer["body"])["id"])
        if answer["statusCode"] != 429:
            return None  # refused: printed with the figures
        retry_after = float((answer.get("headers") or {}).get("Retry-After", 1))
        time.sleep(random.uniform(0, retry_after * 2**attempt))
    return None


def run(box: Sandbox, names: list[str]) -> tuple[float, Counter[int], Counter[str]]:
    """Start them together; the wall time until the last ends, the API's answers, the outcomes."""
    answers: Counter[int] = Counter()
    ids: dict[str, str] = {}
    barrier = threading.Barrier(len(names) + 1)
    service = PromoterService(box.settings)  # new in each run: its clients are made within the run

    def start(name: str) -> None:
        barrier.wait()
        promotion_id = post(service, name, answers)
        if promotion_id:
            ids[name] = promotion_id

    threads = [threading.Thread(target=start, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    barrier.wait()
    began = time.monotonic()
    for thread in threads:
        thread.join()
    finals = [box.wait_until_final(ids[name], timeout=900) for name in names if name in ids]
    took = time.monotonic() - began
    return took, answers, Counter(str(final.status.value) for final in finals)


def main() -> None:
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"  # the in-process API's EMF lines would bury the figures
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--promotions", type=int, default=50)
    args = parser.parse_args()
    with Sandbox(time_scale=TIME_SCALE) as box:
        targets = Targets(region=box.region)
        names = [f"load{index}" for index in range(args.promotions)]
        lifted = [f"lifted{index}" for index in range(args.promotions)]
        for name in ["alone", *names, *lifted]:
            targets.function(name)
        throttling.reset()
        one, _, alone = run(box, ["alone"])
        throttling.reset()
        many, answers, outcomes = run(box, names)
        counts = throttling.counts()
        os.environ[THROTTLE_ENV] = "off"  # the sandbox's own scaling, without Lambda's quota
        unlimited, _, unlimited_outcomes = run(box, lifted)
        del os.environ[THROTTLE_ENV]
    print(f"{args.promotions} promotions started together (canary 10%, bake 2 s at time scale {TIME_SCALE:g})")
    print(f"  one alone                   {one:6.1f} s   ({dict(alone)})")
    print(f"  wall time to the last end   {many:6.1f} s   ratio {many / one:.1f}x one alone")
    floor = counts.control_plane / throttling.CONTROL_PLANE_RATE  # no client can go faster on AWS
    print(
        f"  ... Lambda's quota alone    {floor:6.1f} s   ({counts.control_plane} requests at "
        f"{throttling.CONTROL_PLANE_RATE:g}/s: {floor / one:.1f}x one alone; the run took {many / floor:.2f}x that)"
    )
    lifted_ratio = unlimited / one
    print(f"  ... with the rates lifted   {unlimited:6.1f} s   ratio {lifted_ratio:.1f}x ({dict(unlimited_outcomes)})")
    server_errors = sum(n for status, n in answers.items() if status >= 500)
    print(f"  API answers                 {dict(sorted(answers.items()))}   (5xx: {server_errors})")
    print(f"  final statuses              {dict(outcomes)}")
    print(
        f"  Lambda control plane        peak {counts.peak_per_second} requests accepted in one second "
        f"(AWS: 15/s, GetFunction 100/s)"
    )
    for refusal in refusals:
        print(f"  refused: {refusal}")
    print(f"  throttled by Lambda         {counts.refused} requests refused (429), absorbed by retries")


if __name__ == "__main__":
    main()
