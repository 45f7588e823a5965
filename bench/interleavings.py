"""Randomised interleavings of the promotion protocol, many more than `make test` runs.

Each run is tests/unit/test_interleavings.py's: the real start, ASL and tasks on the in-memory
fakes, with signals, alarm events, alias edits, StopExecution, the reconciler and injected faults
at random moments, then every invariant checked. Seeds are consecutive from ``--seed``.

    .venv/bin/python -m bench.interleavings --runs 10000 [--seed N]
    .venv/bin/python -m bench.interleavings --seed 123 --runs 1 --trace   # replay one run
"""

from __future__ import annotations

import argparse
import contextlib
import io
import time
from collections import Counter

from tests.unit.test_interleavings import run_one


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1, help="the first seed")
    parser.add_argument("--fault-rate", type=float, default=None, help="per call (default: drawn per run)")
    parser.add_argument("--trace", action="store_true", help="print the trace of every run with a violation")
    parser.add_argument("--show", type=int, default=3, help="seeds to list per kind of violation")
    parser.add_argument("--strict", action="store_true", help="exit 1 if any run has a violation")
    args = parser.parse_args()

    kinds: Counter[str] = Counter()
    seeds: dict[str, list[int]] = {}
    failed = 0
    started = time.perf_counter()
    for seed in range(args.seed, args.seed + args.runs):
        with contextlib.redirect_stdout(io.StringIO()):  # the protocol's logs and EMF metrics
            run = run_one(seed, args.fault_rate)
        if args.trace and (run.violations or args.runs == 1):
            print(run.report())
        if run.violations:
            failed += 1
        for kind in sorted({v.kind for v in run.violations}):
            kinds[kind] += 1
            seeds.setdefault(kind, []).append(seed)
    elapsed = time.perf_counter() - started

    print(f"runs: {args.runs} (seeds {args.seed}..{args.seed + args.runs - 1})")
    print(f"runs with a violation: {failed}")
    for kind, count in kinds.most_common():
        print(f"  {kind:<16} {count:>6}   e.g. seeds {seeds[kind][: args.show]}")
    print(f"runs/s: {args.runs / elapsed:.1f} ({elapsed:.1f} s, one core)")
    return 1 if failed and args.strict else 0


if __name__ == "__main__":
    raise SystemExit(main())
