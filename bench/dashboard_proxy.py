"""What the dashboard's signing proxy adds to a read: GET /promotions/{id} straight from the CLI's
client, next to the same read through ``promoter dashboard``'s server (page -> proxy -> API), against
the sandbox server, in one run. Prints the medians and their ratio, and the API calls one poll of
each page makes.

    .venv/bin/python -m bench.dashboard_proxy
"""

from __future__ import annotations

import statistics
import threading
import time
import urllib.request
from collections.abc import Callable

from promoter_cli.aws import Credentials, StaticCredentials
from promoter_cli.client import ApiClient
from promoter_cli.dashboard.server import DashboardServer
from sandbox.core import FAKE_CREDENTIALS
from sandbox.fixtures.targets import Targets
from sandbox.server import ServerProcess, endpoint_session

RUNS = 200
KEYS = Credentials(FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"], FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"])


def timed(call: Callable[[], object], runs: int = RUNS) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return samples


def main() -> None:
    with ServerProcess(time_scale=1.0) as sandbox:
        Targets(session=endpoint_session(sandbox.aws_url)).function("bench-dashboard")
        client = ApiClient(sandbox.api_url, credentials=StaticCredentials(KEYS), region="us-east-1")
        body = {"function": "bench-dashboard", "alias": "live", "version": "2", "strategy": {"type": "canary"}}
        promotion = client.start(body).body["id"]  # a 300 s bake: live for the whole run
        server = DashboardServer(client, port=0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        through = f"{server.url}api/promotions/{promotion}"

        def via_proxy() -> None:
            with urllib.request.urlopen(through, timeout=30) as answer:  # noqa: S310 - loopback
                answer.read()

        timed(lambda: client.get(promotion), 10)  # warm both paths
        timed(via_proxy, 10)
        direct, proxied = timed(lambda: client.get(promotion)), timed(via_proxy)
        server.shutdown()
        server.server_close()
        client.signal(promotion, "abort", "bench done")

    d, p = statistics.median(direct), statistics.median(proxied)
    print(f"GET /promotions/{{id}} x{RUNS}, signed, against the sandbox server")
    print(f"  straight from the client   median {d * 1000:6.2f} ms")
    print(f"  through the dashboard      median {p * 1000:6.2f} ms   ({p / d:.2f}x the straight read)")
    print("API calls per poll: a promotion's page 1; the promotions page 1 + one per live row")
    print("  (a final promotion is read once and kept); the pipelines page 1 + one per pipeline, every 5 s")


if __name__ == "__main__":
    main()
