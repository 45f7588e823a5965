"""What `sam build` ships runs from bytecode on Lambda, and fits Lambda's size limit.

Lambda's code folders are read-only, so a module without its bytecode is compiled again on every
cold start (layers/package.mk). These tests run the same make targets SAM runs (BuildMethod
makefile) into a temporary folder and look at what they produced.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from samtranslator.yaml_helper import yaml_parse

from sandbox.aws.awslambda.code import MAX_UNZIPPED_BYTES  # Lambda's limit, as the sandbox applies it

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = yaml_parse((ROOT / "template.yaml").read_text())
PACKAGE_MK = (ROOT / "layers" / "package.mk").read_text()
(LAMBDA_PYTHON_VERSION,) = re.findall(r"^LAMBDA_PYTHON_VERSION := (\S+)$", PACKAGE_MK, re.M)


def build(code_dir: str, logical_id: str, artifacts: Path) -> Path:
    """Run ``make build-<logical_id>`` in ``code_dir`` as sam build does: ARTIFACTS_DIR set."""
    env = os.environ | {"ARTIFACTS_DIR": str(artifacts)}
    subprocess.run(["make", "--no-print-directory", f"build-{logical_id}"], cwd=ROOT / code_dir, env=env, check=True)
    return artifacts


@pytest.fixture(scope="module")
def layer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build("layers/promoter", "PromoterLayer", tmp_path_factory.mktemp("layer")) / "python"


@pytest.fixture(scope="module")
def judge(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build("functions/judge", "JudgeFunction", tmp_path_factory.mktemp("judge"))


def lambda_python(env: dict[str, str] | None = None) -> str:
    """The interpreter package.mk compiles with: the template's Runtime."""
    rule = "print-python:\n\t@echo $(LAMBDA_PYTHON)"
    command = ["make", "--no-print-directory", "-f", str(ROOT / "layers/package.mk"), "--eval", rule, "print-python"]
    return subprocess.run(command, capture_output=True, text=True, check=True, env=env).stdout.strip()


def test_the_runtime_python_is_found_in_pyenvs_folder_when_pyenv_is_not_on_the_path():
    """Where only pyenv's shims are on PATH (a CI image's), a shim fails without pyenv itself."""
    version = LAMBDA_PYTHON_VERSION
    installed = sorted(Path.home().glob(f".pyenv/versions/{version}.*/bin/python{version}"))
    if not installed:
        pytest.skip(f"no python{version} in pyenv's folder")
    without_pyenv = {"PATH": "/usr/bin:/bin", "HOME": str(Path.home())}
    assert lambda_python(without_pyenv) in {str(python) for python in installed}


def size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


# Run by the runtime's interpreter: a pyc's source hash is keyed by the interpreter's magic number
CHECK_BYTECODE = """
import importlib.util, json, sys
from pathlib import Path
folder, problems = Path(sys.argv[1]), []
for source in folder.rglob("*.py"):
    name = source.relative_to(folder)
    try:
        header = Path(importlib.util.cache_from_source(str(source))).read_bytes()[:16]
    except FileNotFoundError:
        problems.append(f"{name}: no bytecode")
        continue
    flags = int.from_bytes(header[4:8], "little")
    if header[:4] != importlib.util.MAGIC_NUMBER or flags != 0b01:  # PEP 552: hash-based, unchecked
        problems.append(f"{name}: magic {header[:4].hex()}, flags {flags:#b}")
    elif header[8:16] != importlib.util.source_hash(source.read_bytes()):
        problems.append(f"{name}: compiled from other source")
others = [str(p.relative_to(folder)) for p in folder.rglob("*.pyc") if sys.implementation.cache_tag not in p.name]
print(json.dumps({"problems": problems, "others": others}))
"""


def bytecode_problems(folder: Path) -> dict[str, list[str]]:
    """Modules whose bytecode for the runtime is absent, checked against the source's mtime or
    compiled from other source; and bytecode for another interpreter."""
    ran = subprocess.run([lambda_python(), "-I", "-c", CHECK_BYTECODE, str(folder)], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    return json.loads(ran.stdout)


def test_the_package_targets_the_template_runtime_and_architecture():
    functions = TEMPLATE["Globals"]["Function"]
    assert functions["Runtime"] == f"python{LAMBDA_PYTHON_VERSION}"
    assert functions["Architectures"] == ["arm64"] and "_aarch64" in PACKAGE_MK
    layer = TEMPLATE["Resources"]["PromoterLayer"]
    assert layer["Properties"]["CompatibleRuntimes"] == [functions["Runtime"]]
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    # the judge is the only function with dependencies of its own: every other one is its app.py
    resources = TEMPLATE["Resources"].items()
    with_requirements = {
        name
        for name, resource in resources
        if resource["Type"] == "AWS::Serverless::Function"
        and (ROOT / resource["Properties"]["CodeUri"] / "requirements.txt").exists()
    }
    assert with_requirements == {"JudgeFunction"}
    assert TEMPLATE["Resources"]["JudgeFunction"]["Metadata"]["BuildMethod"] == "makefile"


def test_every_module_of_the_layer_ships_bytecode_for_the_runtime_compiled_from_its_source(layer: Path):
    service = "promoter/service.py"
    assert (layer / service).read_bytes() == (ROOT / "layers/promoter" / service).read_bytes()
    assert (layer / "pydantic").is_dir() and (layer / "aws_lambda_powertools").is_dir()
    # and none of the developer's interpreter, from the source folder
    assert bytecode_problems(layer) == {"problems": [], "others": []}


def test_the_runtime_loads_the_bytecode_without_reading_the_source(layer: Path, tmp_path: Path):
    # jmespath is pure Python: its compiled modules load here although the layer is built for arm64
    package = shutil.copytree(layer / "jmespath", tmp_path / "jmespath")
    (package / "lexer.py").write_text("this is not Python\n")  # its bytecode must be what runs
    search = "import jmespath; print(jmespath.search('a.b', {'a': {'b': 7}}))"
    script = f"import sys; sys.path.insert(0, {str(tmp_path)!r}); {search}"
    env = {"PATH": os.environ["PATH"], "PYTHONDONTWRITEBYTECODE": "1"}
    ran = subprocess.run([lambda_python(), "-I", "-c", script], capture_output=True, text=True, env=env)
    assert (ran.returncode, ran.stdout.strip()) == (0, "7"), ran.stderr


def test_the_judge_ships_bytecode_and_fits_lambdas_size_limit_with_the_layer(judge: Path, layer: Path):
    assert (judge / "app.py").is_file() and (judge / "scipy" / "stats").is_dir()
    assert bytecode_problems(judge) == {"problems": [], "others": []}
    assert not list(judge.rglob("tests")), "the wheels' test suites are left out"
    total = size(judge) + size(layer.parent)
    assert total <= MAX_UNZIPPED_BYTES, f"{total / 1e6:.0f} MB"
