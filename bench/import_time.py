"""Cold import time of each handler module next to a bare ``import boto3``.

Each figure is the median of fresh interpreter runs, so module caches never help, and each ratio
the median of pairs (a bare ``import boto3`` run just before each one), so that it stays true while
a shared machine's speed drifts. The layer's models build their validators on first use
(promoter/model_base.py): the "+ first task models" row adds to the workflow's import the models
its first task builds, so what deferring moved is counted too; the last row is the workflow's
import with tracing on (``Tracing: Active``: Powertools' Tracer imports the X-Ray SDK and patches
botocore), the price of keeping traces. The "without bytecode" row is the workflow's import when no
module has its compiled bytecode, as SAM's python3.13 builder packed the layer before
layers/package.mk: Lambda's code folders are read-only, so each cold start compiled every module.

The "floor" column is what no change to the layer's own code can go below: boto3 and every other
module the handler ends up importing that is not the layer's (pydantic, Powertools, the standard
library), imported in the same order in a fresh interpreter, without the layer's modules.

Only what Lambda has is on the path: the layer's pinned dependencies and the functions' own
(layers/promoter/requirements.txt, functions/*/requirements.txt), installed for the interpreter once
per set of pins into .venv/import-time-*, after the layer, as Lambda puts /opt/python; no
site-packages. The dev venv would add aws-sam-cli's awscrt and pyOpenSSL, which botocore imports
when present, to every figure, the bare ``import boto3`` too. ``--python`` measures under another
interpreter, such as the template's Runtime (python3.13).

    .venv/bin/python -m bench.import_time [--python ~/.pyenv/versions/3.13.0/bin/python3.13]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYER = str(ROOT / "layers" / "promoter")
RUNS = 9
NO_BYTECODE = ROOT / ".venv" / "import-time-no-bytecode"
SNIPPET = """
import sys, time
sys.path[:0] = {paths!r}
sys.path += {site!r}
began = time.perf_counter()
{statement}
print(time.perf_counter() - began)
"""

# A workflow task's first call parses its input and reads, changes and writes the record.
FIRST_TASK = """import app
from promoter.models import CheckInput, Promotion, StepInput
for model in (CheckInput, Promotion, StepInput):
    model.model_rebuild()"""

# The modules a handler's import loads that are not the layer's own, in the order they were loaded.
IMPORTED = """
before = set(sys.modules)
import app
ours = ("app", "promoter")
import json
print(json.dumps([m for m in sys.modules if m not in before and m.split(".")[0] not in ours]))
"""
# Imports them all (each one's failure alone ignored: a few only load as a part of their parent).
FLOOR = """
import importlib
for name in {modules!r}:
    try:
        importlib.import_module(name)
    except Exception:
        pass
"""

ENV = {"POWERTOOLS_TRACE_DISABLED": "true", "AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"}
# As Lambda sets them with ``Tracing: Active`` (the template's setting): Powertools' Tracer is on.
TRACING_ON = {"POWERTOOLS_TRACE_DISABLED": "false", "LAMBDA_TASK_ROOT": "/var/task"}


@dataclass
class Interpreter:
    python: str
    site: list[str]  # the pinned dependencies

    def run(self, statement: str, paths: list[str], tracing: bool = False, bytecode: bool = True) -> str:
        site, env = self.site, ENV | TRACING_ON if tracing else ENV
        if not bytecode:  # copies without it, and none written (the standard library keeps its own)
            paths, site, env = uncompiled(paths), uncompiled(site), env | {"PYTHONDONTWRITEBYTECODE": "1"}
        code = SNIPPET.format(paths=paths, site=site, statement=statement)
        command = [self.python, "-S", "-c", code]  # -S: no site-packages but the pinned ones
        return subprocess.run(command, capture_output=True, text=True, env=env, check=True).stdout

    def paired(self, statement: str, paths: list[str], **options: bool) -> tuple[float, float]:
        """The median seconds of ``statement`` and the median of its ratios to a bare ``import
        boto3`` run just before it (``options``: of ``run``)."""
        times, ratios = [], []
        for _ in range(RUNS):
            baseline = float(self.run("import boto3", []))
            seconds = float(self.run(statement, paths, **options).splitlines()[-1])
            times.append(seconds)
            ratios.append(seconds / baseline)
        return statistics.median(times), statistics.median(ratios)

    def floor_statement(self, paths: list[str]) -> str:
        modules = json.loads(self.run(IMPORTED, paths).splitlines()[0])
        return FLOOR.format(modules=modules)


def uncompiled(folders: list[str]) -> list[str]:
    """A copy of each folder without its bytecode (made once per run: ``main`` removes the last)."""
    copies = []
    for folder in folders:
        copy = NO_BYTECODE / hashlib.sha256(folder.encode()).hexdigest()[:8] / Path(folder).name
        if not copy.exists():
            shutil.copytree(folder, copy, ignore=shutil.ignore_patterns("__pycache__"))
        copies.append(str(copy))
    return copies


def interpreter_for(python: str) -> Interpreter:
    """``python`` with the pinned dependencies installed for it (once)."""
    version = subprocess.run(
        [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], capture_output=True, text=True, check=True
    ).stdout.strip()
    requirements = [
        ROOT / "layers" / "promoter" / "requirements.txt",
        *sorted(ROOT.glob("functions/*/requirements.txt")),
    ]
    pins = hashlib.sha256(b"".join(path.read_bytes() for path in requirements)).hexdigest()[:8]
    site = ROOT / ".venv" / f"import-time-{version}-{pins}"  # a new one when a pin changes
    if not site.exists():
        print(f"installing the pinned dependencies for python {version} into {site} (once)", flush=True)
        arguments = [arg for path in requirements for arg in ("-r", str(path))]
        partial = site.with_name(site.name + ".partial")  # renamed only once the install is whole
        shutil.rmtree(partial, ignore_errors=True)
        pip = [python, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(partial), *arguments]
        subprocess.run(pip, check=True)
        partial.rename(site)
    return Interpreter(python=python, site=[str(site)])


def row(name: str, seconds: float, ratio: float, floor: float | None = None) -> None:
    print(f"{name:<32}{seconds * 1000:>10.0f}{ratio:>9.2f}" + (f"{floor:>15.2f}" if floor is not None else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=sys.executable, help="the interpreter to measure under (default: this one)")
    python = interpreter_for(parser.parse_args().python)
    shutil.rmtree(NO_BYTECODE, ignore_errors=True)  # the copies of the last run may hold older code
    print("python", python.run("print(sys.version.split()[0])", []).split()[0])
    print(f"{'module':<32}{'median ms':>10}{'x boto3':>9}{'floor x boto3':>15}")
    row("import boto3", *python.paired("import boto3", []))
    for app in sorted((ROOT / "functions").glob("*/app.py")):
        paths = [str(app.parent), LAYER]
        _, floor = python.paired(python.floor_statement(paths), [])
        row("functions/" + app.parent.name + "/app.py", *python.paired("import app", paths), floor)
    workflow = [str(ROOT / "functions" / "workflow"), LAYER]
    row("  + first task models", *python.paired(FIRST_TASK, workflow))
    row("  with X-Ray tracing on", *python.paired("import app", workflow, tracing=True))
    row("  without bytecode", *python.paired("import app", workflow, bytecode=False))


if __name__ == "__main__":
    main()
