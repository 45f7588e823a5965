"""Wall time of one promotion through the sandbox server and the ``promoter`` CLI.

    python -m bench.sandbox_wall_time [--runs 5]

Starts ``python -m sandbox.server`` on free ports (time scale 1), makes a function with two
versions, then times ``promoter start ... --watch`` (a new CLI process that starts the promotion
over HTTP and polls it until SUCCEEDED) for a canary with no bake and for all-at-once. Bakes are
0, so the figure is the control plane's own overhead: API, DynamoDB, Step Functions, the workflow
Lambdas, alias writes, and the CLI's start-up and polling (every 0.1 s). Prints the median, min
and max of a few runs, plus the server's start-up time (moto + deploying template.yaml).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import time

from sandbox.fixtures.targets import Targets
from sandbox.server import ServerProcess, client_environment, endpoint_session, promoter_command

STRATEGIES = {
    "canary 10% (bake 0), then 100%": ["--weight", "0.1", "--bake-seconds", "0"],
    "all-at-once": ["--strategy", "all-at-once"],
}


def one_promotion(env: dict[str, str], version: str, strategy: list[str]) -> float:
    command = [*promoter_command(), "start", "bench", "live", "--version", version, *strategy]
    began = time.perf_counter()
    done = subprocess.run(
        [*command, "--watch", "--interval", "0.1", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    took = time.perf_counter() - began
    if done.returncode != 0:
        raise RuntimeError(f"promotion did not succeed (exit {done.returncode}): {done.stderr}{done.stdout[-500:]}")
    return took


def cli_start_up(env: dict[str, str]) -> float:
    began = time.perf_counter()
    subprocess.run([*promoter_command(), "--help"], env=env, capture_output=True, check=True)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="promotions per strategy (default: 5)")
    args = parser.parse_args()

    began = time.perf_counter()
    with ServerProcess(time_scale=1.0) as server:
        start_up = time.perf_counter() - began
        env = client_environment() | {"PROMOTER_API": server.api_url}
        Targets(session=endpoint_session(server.aws_url)).function("bench", builds=("v1", "v2"))
        print(f"sandbox server start-up (moto + template.yaml deployed): {start_up:.2f} s")
        print(f"promoter CLI start-up (promoter --help):                  {cli_start_up(env):.2f} s")
        stable = "1"
        for name, strategy in STRATEGIES.items():
            times = []
            for _ in range(args.runs):
                candidate = "2" if stable == "1" else "1"
                times.append(one_promotion(env, candidate, strategy))
                stable = candidate
            print(
                f"one promotion, {name:<32} median {statistics.median(times):.2f} s  "
                f"(min {min(times):.2f}, max {max(times):.2f}, {len(times)} runs)"
            )


if __name__ == "__main__":
    main()
