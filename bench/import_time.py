"""Cold import time of each handler module next to a bare ``import boto3``.

Each figure is the median of fresh interpreter runs, so module caches never help. The layer's
models build their validators on first use (promoter/model_base.py): the last row adds to the
workflow's import the models its first task builds, so what deferring moved is counted too, and
the workflow's import with tracing on (``Tracing: Active``: Powertools' Tracer imports the X-Ray
SDK and patches botocore), the price of keeping traces.

    .venv/bin/python -m bench.import_time
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 7
SNIPPET = """
import sys, time
sys.path[:0] = {paths!r}
began = time.perf_counter()
{statement}
print(time.perf_counter() - began)
"""

# A workflow task's first call parses its input and reads, changes and writes the record.
FIRST_TASK = """import app
from promoter.models import CheckInput, Promotion, StepInput
for model in (CheckInput, Promotion, StepInput):
    model.model_rebuild()"""


# As Lambda sets them with ``Tracing: Active`` (the template's setting): Powertools' Tracer is on.
TRACING_ON = {"POWERTOOLS_TRACE_DISABLED": "false", "LAMBDA_TASK_ROOT": "/var/task"}


def cold_import(statement: str, paths: list[str], tracing: bool = False) -> float:
    code = SNIPPET.format(paths=paths, statement=statement)
    env = {"POWERTOOLS_TRACE_DISABLED": "true", "AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"}
    if tracing:
        env |= TRACING_ON
    samples = [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout)
        for _ in range(RUNS)
    ]
    return statistics.median(samples)


def main() -> None:
    layer = str(ROOT / "layers" / "promoter")
    baseline = cold_import("import boto3", [])
    print(f"{'module':<28}{'median ms':>10}{'x boto3':>9}")
    print(f"{'import boto3':<28}{baseline * 1000:>10.0f}{1.0:>9.2f}")
    for app in sorted((ROOT / "functions").glob("*/app.py")):
        seconds = cold_import("import app", [str(app.parent), layer])
        print(f"{'functions/' + app.parent.name + '/app.py':<28}{seconds * 1000:>10.0f}{seconds / baseline:>9.2f}")
    workflow = str(ROOT / "functions" / "workflow")
    seconds = cold_import(FIRST_TASK, [workflow, layer])
    print(f"{'  + first task models':<28}{seconds * 1000:>10.0f}{seconds / baseline:>9.2f}")
    seconds = cold_import("import app", [workflow, layer], tracing=True)
    print(f"{'  with X-Ray tracing on':<28}{seconds * 1000:>10.0f}{seconds / baseline:>9.2f}")


if __name__ == "__main__":
    main()
