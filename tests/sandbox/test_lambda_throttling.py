"""Lambda's control-plane rates per account and Region, as AWS enforces them: GetFunction 100
requests/s, GetPolicy 15/s, every other control-plane request 15/s together, invocations not
counted; past them HTTP 429 TooManyRequestsException with Retry-After.
https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html#api-requests"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from sandbox import Sandbox
from sandbox.aws.awslambda import throttling
from sandbox.fixtures.targets import Targets

NO_RETRIES = Config(retries={"mode": "standard", "max_attempts": 1})


@pytest.fixture
def fresh_windows() -> None:
    throttling.reset()


def test_the_remaining_control_plane_takes_fifteen_a_second_across_all_its_apis(fresh_windows: None) -> None:
    at = 1000.0
    taken = [throttling.admit("111111111111", "us-east-1", op, now=at) for op in ["GetAlias", "UpdateAlias"] * 10]
    assert taken == [True] * 15 + [False] * 5
    assert not throttling.admit("111111111111", "us-east-1", "ListAliases", now=at + 0.9)  # still that second
    assert throttling.admit("111111111111", "us-east-1", "ListAliases", now=at + 1.0)  # a second later
    assert throttling.admit("222222222222", "us-east-1", "GetAlias", now=at)  # another account: its own
    assert throttling.admit("111111111111", "eu-west-1", "GetAlias", now=at)  # another Region: its own
    assert throttling.counts().refused == 6


def test_get_function_and_get_policy_have_their_own_rates_and_invocations_none(fresh_windows: None) -> None:
    at = 2000.0
    assert all(throttling.admit("1", "r", "GetFunction", now=at) for _ in range(100))
    assert not throttling.admit("1", "r", "GetFunction", now=at)
    assert all(throttling.admit("1", "r", "GetPolicy", now=at) for _ in range(15))
    assert not throttling.admit("1", "r", "GetPolicy", now=at)
    assert all(throttling.admit("1", "r", "Invoke", now=at) for _ in range(500))
    assert throttling.admit("1", "r", "UpdateAlias", now=at)  # the remainder's bucket is untouched


def test_a_burst_past_the_rate_is_429_too_many_requests_with_retry_after(sandbox: Sandbox, targets: Targets) -> None:
    targets.function("orders")
    lambdas = boto3.client("lambda", region_name=sandbox.region, config=NO_RETRIES)
    throttling.reset()

    def read(_: int) -> dict | None:
        try:
            lambdas.get_alias(FunctionName="orders", Name="live")
            return None
        except ClientError as error:
            return error.response

    began = time.monotonic()
    with ThreadPoolExecutor(16) as pool:  # one in-process call takes tens of ms: a burst needs threads
        answers = list(pool.map(read, range(64)))
    elapsed = time.monotonic() - began
    refusals = [answer for answer in answers if answer is not None]
    accepted = len(answers) - len(refusals)

    assert refusals, "64 GetAlias in a burst: AWS refuses past 15/s"
    assert accepted <= 15 * (elapsed + 1)  # 15 in any one second
    refused = refusals[0]
    assert refused["Error"]["Code"] == "TooManyRequestsException"
    assert refused["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert refused["ResponseMetadata"]["HTTPHeaders"]["retry-after"] == "1"
    time.sleep(1.0)
    assert lambdas.get_alias(FunctionName="orders", Name="live")["Name"] == "live"  # a second later


def test_invocations_are_not_throttled_by_the_control_plane_rate(sandbox: Sandbox, targets: Targets) -> None:
    targets.function("orders")
    lambdas = boto3.client("lambda", region_name=sandbox.region, config=NO_RETRIES)
    throttling.reset()
    for _ in range(30):
        assert lambdas.invoke(FunctionName="orders", Qualifier="live", Payload=b"{}")["StatusCode"] == 200
    assert throttling.counts().refused == 0
