"""Lambda's control-plane rates through ``make sandbox``: over HTTP, a burst past 15 requests/s is
HTTP 429 TooManyRequestsException with Retry-After, and the stock AWS CLI and the ``promoter`` CLI
still get their answers during one (their retries absorb it).
https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html#api-requests"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from sandbox.fixtures.targets import Targets
from sandbox.server import ServerProcess, endpoint_session
from tests.cli.helpers import Shell


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    log = tmp_path_factory.mktemp("sandbox") / "server.log"
    with ServerProcess(time_scale=50.0, log=log) as process:
        yield process


def burst(server: ServerProcess, stop: threading.Event | None = None, calls: int = 48) -> list[dict]:
    """GetAlias from 12 threads with retries off, once or until ``stop``: the answers refused."""
    lambdas = endpoint_session(server.aws_url).client(
        "lambda", config=Config(retries={"mode": "standard", "max_attempts": 1}, max_pool_connections=12)
    )

    def read(_: int) -> dict | None:
        try:
            lambdas.get_alias(FunctionName="orders", Name="live")
            return None
        except ClientError as error:
            return error.response

    refused: list[dict] = []
    with ThreadPoolExecutor(12) as pool:
        while True:
            refused += [answer for answer in pool.map(read, range(calls)) if answer is not None]
            if stop is None or stop.wait(3.0):  # a burst past the rate every 3 s, until stopped
                return refused


def test_a_burst_over_http_is_429_with_retry_after(server: ServerProcess) -> None:
    Targets(session=endpoint_session(server.aws_url)).function("orders")
    refused = burst(server)
    assert refused, "48 GetAlias at once over HTTP: AWS refuses past 15/s"
    assert {answer["Error"]["Code"] for answer in refused} == {"TooManyRequestsException"}
    assert {answer["ResponseMetadata"]["HTTPStatusCode"] for answer in refused} == {429}
    assert all(answer["ResponseMetadata"]["HTTPHeaders"].get("retry-after") == "1" for answer in refused)


def test_the_stock_cli_and_a_promotion_get_through_a_burst(server: ServerProcess, tmp_path: Path) -> None:
    shell = Shell(server)
    Targets(session=endpoint_session(server.aws_url)).function("payments")
    stop = threading.Event()
    refused: list[dict] = []
    background = threading.Thread(target=lambda: refused.extend(burst(server, stop, calls=24)))
    background.start()
    try:
        read = shell.aws("lambda", "get-alias", "--function-name", "payments", "--name", "live").json
        started = shell.promoter(
            "start", "payments", "live", "--version", "2", "--strategy", "all-at-once", "--watch", "--json"
        )
    finally:
        stop.set()
        background.join()
    assert read["FunctionVersion"] == "1"
    assert started.code == 0, started
    assert refused, "the burst went on beside them and was throttled"
    assert (
        shell.aws("lambda", "get-alias", "--function-name", "payments", "--name", "live").json["FunctionVersion"] == "2"
    )
