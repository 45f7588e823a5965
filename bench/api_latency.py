"""In-process latency of POST /promotions and GET /promotions/{id}, and the API's import time.

API-Gateway-shaped events go through the real resolver (functions/api's build_app on
APIGatewayRestResolver) against the sandbox. Each POST starts a real promotion on its own target.
Lambda's control-plane rates are lifted here: this is the code's own latency, one request at a
time (bench.concurrent_promotions measures what the rates do to many at once). Prints the AWS
calls one POST makes, by action.

    .venv/bin/python -m bench.api_latency
"""

from __future__ import annotations

import copy
import json
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from bench.calls import recording
from bench.import_time import LAYER, interpreter_for
from promoter.api import build_app
from promoter.service import PromoterService
from sandbox import Sandbox
from sandbox.aws.awslambda.throttling import THROTTLE_ENV
from sandbox.fixtures.targets import Targets

ROOT = Path(__file__).resolve().parent.parent
RUNS = 100


class Context:
    function_name = "lambda-promoter-ApiFunction"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:lambda-promoter-ApiFunction"
    aws_request_id = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def event(name: str, **changes: object) -> dict:
    raw = copy.deepcopy(json.loads((ROOT / "events" / "api" / f"{name}.json").read_text()))
    raw["headers"].pop("Idempotency-Key", None)  # every request here is a new one
    (raw.get("multiValueHeaders") or {}).pop("Idempotency-Key", None)
    raw.update(changes)
    return raw


def percentiles(samples: list[float]) -> str:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return f"p50 {cuts[49] * 1000:6.1f} ms   p99 {cuts[98] * 1000:6.1f} ms"


def calls_of_one_post(app: APIGatewayRestResolver, targets: Targets) -> tuple[list[str], str]:
    targets.function("counted")
    body = {"function": "counted", "alias": "live", "version": "2", "strategy": {"type": "all-at-once"}}
    # the API's own calls: the execution it started may already be invoking its first task
    with recording(this_thread_only=True) as calls:
        answer = app.resolve(event("start_promotion", body=json.dumps(body)), Context())
        made = [f"{service}.{action}" for _principal, service, action in calls]
    assert answer["statusCode"] == 202, answer["body"]
    return made, json.loads(answer["body"])["id"]


def main() -> None:
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"  # the in-process API's EMF lines would bury the figures
    os.environ[THROTTLE_ENV] = "off"
    with Sandbox(time_scale=1000.0) as box:
        targets = Targets(region=box.region)
        app = build_app(APIGatewayRestResolver(enable_validation=True), PromoterService(box.settings))
        posts, gets, ids = [], [], []
        for index in range(RUNS):
            name = f"bench{index}"
            targets.function(name)
            body = {"function": name, "alias": "live", "version": "2", "strategy": {"type": "all-at-once"}}
            began = time.perf_counter()
            answer = app.resolve(event("start_promotion", body=json.dumps(body)), Context())
            posts.append(time.perf_counter() - began)
            assert answer["statusCode"] == 202, answer["body"]
            ids.append(json.loads(answer["body"])["id"])
        for promotion_id in ids:
            path = f"/promotions/{promotion_id}"
            request = event("get_promotion", path=path, pathParameters={"proxy": path.lstrip("/")})
            began = time.perf_counter()
            answer = app.resolve(request, Context())
            gets.append(time.perf_counter() - began)
            assert answer["statusCode"] == 200, answer["body"]
        made, counted = calls_of_one_post(app, targets)
        ids.append(counted)
        for promotion_id in ids:  # let the workflows end before the sandbox does
            box.wait_until_final(promotion_id, timeout=120)
    print(f"in-process API latency over {RUNS} requests each (sandbox AWS, real resolver)")
    print(f"POST /promotions        {percentiles(posts)}")
    print(f"GET  /promotions/{{id}}   {percentiles(gets)}")
    by_action = ", ".join(f"{action} x{n}" for action, n in Counter(made).items())
    print(f"AWS calls in one POST /promotions: {len(made)}  ({by_action})")
    python = interpreter_for(sys.executable)  # as bench.import_time measures it: pairs, Lambda's path
    api, ratio = python.paired("import app", [str(ROOT / "functions" / "api"), LAYER])
    print(f"cold import of functions/api/app.py: {api * 1000:.0f} ms ({ratio:.2f}x a bare import boto3)")


if __name__ == "__main__":
    main()
