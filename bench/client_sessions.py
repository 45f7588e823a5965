"""First use of the five clients a workflow handler makes: a new boto3 Session per client (as the
layer did) against the layer's ``new_client`` (one Session per process). Each in a fresh
interpreter, alternating, so both pay the same cold imports; prints medians and their ratio.

    .venv/bin/python -m bench.client_sessions [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("lambda", "dynamodb", "stepfunctions", "cloudwatch", "events")
SETUP = "import os; os.environ.setdefault('AWS_DEFAULT_REGION', 'us-east-1'); import boto3, time\n"
PER_CLIENT = SETUP + (
    "t = time.perf_counter()\n"
    f"for s in {SERVICES!r}: boto3.session.Session().client(s)\n"
    "print((time.perf_counter() - t) * 1000)"
)
SHARED = SETUP + (
    "from promoter.aws.clients import new_client\n"
    "t = time.perf_counter()\n"
    f"for s in {SERVICES!r}: new_client(s)\n"
    "print((time.perf_counter() - t) * 1000)"
)


def once(code: str) -> float:
    env = {"PYTHONPATH": f"{ROOT}:{ROOT / 'layers' / 'promoter'}", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    return float(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    per_client, shared = [], []
    for _ in range(runs):
        per_client.append(once(PER_CLIENT))
        shared.append(once(SHARED))
    a, b = statistics.median(per_client), statistics.median(shared)
    print(f"first use of {len(SERVICES)} clients, median of {runs} fresh interpreters")
    print(f"  a new Session per client: {a:6.0f} ms")
    print(f"  one Session per process:  {b:6.0f} ms   ({a / b:.1f}x faster)")


if __name__ == "__main__":
    main()
