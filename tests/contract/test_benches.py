"""Every bench script `make bench` runs can at least be imported: one that fails on a name another
module no longer has would only show when someone ran the benches."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IN_MAKE_BENCH = set(re.findall(r"-m (bench\.\w+)", (ROOT / "Makefile").read_text()))
SCRIPTS = sorted(
    f"bench.{path.stem}" for path in (ROOT / "bench").glob("*.py") if path.stem not in ("__init__", "calls")
)


def test_make_bench_runs_every_bench_script_but_the_permission_matrix():
    # bench.iam_matrix runs the sandbox's test tiers itself: a run of its own
    assert set(SCRIPTS) - {"bench.iam_matrix"} == IN_MAKE_BENCH


@pytest.mark.parametrize("module", SCRIPTS)
def test_the_bench_script_imports(module: str):
    assert callable(importlib.import_module(module).main)
