"""A new user's install: `pip install .` into a clean virtualenv gives a working `promoter`, with its
dependencies and the dashboard's page, and puts no other top-level package (not the layer's
`promoter`, not `sandbox`) there; `pipx install .` puts a working `promoter` on the path."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from promoter_cli import __version__
from sandbox.server import client_environment

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 900  # a safety net for a hung install, not a timing check


# What a clone does not hold: pip builds a local project in its own folder (build/, *.egg-info), so
# each test installs from a copy of its own, and two test workers never build in the same place.
NOT_IN_A_CLONE = shutil.ignore_patterns(
    ".git", ".venv", "build", "*.egg-info", "__pycache__", ".hypothesis", ".ruff_cache", ".aws-sam", ".pytest_cache"
)


def checkout_copy(tmp_path: Path) -> Path:
    return shutil.copytree(ROOT, tmp_path / "checkout", ignore=NOT_IN_A_CLONE)


def _run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=LIMIT, check=False)


@pytest.mark.slow
def test_pip_install_in_a_clean_venv_gives_a_working_promoter(tmp_path, server):
    venv = tmp_path / "venv"
    made = _run([sys.executable, "-m", "venv", str(venv)], tmp_path)
    assert made.returncode == 0, made.stderr
    python, promoter = venv / "bin" / "python", venv / "bin" / "promoter"
    # From PyPI (the dependencies' ranges in pyproject.toml), never from this checkout's venv.
    env = {k: v for k, v in client_environment().items() if k not in {"PYTHONPATH", "VIRTUAL_ENV", "PIP_NO_INDEX"}}
    installed = _run([str(python), "-m", "pip", "install", "--quiet", str(checkout_copy(tmp_path))], tmp_path, env)
    assert installed.returncode == 0, installed.stdout + installed.stderr

    version = _run([str(promoter), "--version"], tmp_path, env)
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == f"promoter {__version__}"

    listed = _run([str(promoter), "list", "--api", server.api_url, "--output", "json"], tmp_path, env)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert "items" in json.loads(listed.stdout)
    table = _run([str(promoter), "list", "--api", server.api_url], tmp_path, env)
    assert table.returncode == 0, table.stderr

    names = ("promoter", "sandbox", "boto3", "rich", "jmespath", "yaml")
    probe = (
        "import importlib.metadata as m, importlib.util as u, json; d = m.distribution('lambda-promoter'); "
        "print(json.dumps({'top': sorted({f.parts[0] for f in d.files if f.suffix == '.py'}), "
        "'requires': sorted(r.split('>')[0].split('<')[0].split('=')[0] for r in d.requires), "
        "'page': sorted(f.name for f in d.files if f.parent.as_posix() == 'promoter_cli/dashboard/static' "
        "and f.suffix != '.py'), "
        f"'found': {{n: u.find_spec(n) is not None for n in {names!r}}}}}))"
    )
    seen = _run([str(python), "-c", probe], tmp_path, env)
    assert seen.returncode == 0, seen.stderr
    facts = json.loads(seen.stdout)
    assert facts["top"] == ["promoter_cli"]
    assert facts["page"] == ["app.js", "index.html", "style.css"]  # promoter dashboard's page, as package data
    assert facts["requires"] == ["PyYAML", "boto3", "botocore", "jmespath", "rich"]
    assert facts["found"] == {
        "promoter": False, "sandbox": False, "boto3": True, "rich": True, "jmespath": True, "yaml": True,
    }  # fmt: skip


PIPX = "pipx==1.7.1"  # the installer many users reach for; pinned here, installed into the test's own venv


@pytest.mark.slow
def test_pipx_install_gives_a_promoter_on_the_path_that_reaches_the_api(tmp_path, server):
    tools = tmp_path / "tools"
    made = _run([sys.executable, "-m", "venv", str(tools)], tmp_path)
    assert made.returncode == 0, made.stderr
    env = {k: v for k, v in client_environment().items() if k not in {"PYTHONPATH", "VIRTUAL_ENV", "PIP_NO_INDEX"}}
    got = _run([str(tools / "bin" / "python"), "-m", "pip", "install", "--quiet", PIPX], tmp_path, env)
    assert got.returncode == 0, got.stdout + got.stderr

    bin_dir = tmp_path / "bin"
    env |= {"PIPX_HOME": str(tmp_path / "pipx"), "PIPX_BIN_DIR": str(bin_dir), "PIPX_MAN_DIR": str(tmp_path / "man")}
    installed = _run([str(tools / "bin" / "pipx"), "install", str(checkout_copy(tmp_path))], tmp_path, env)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert (bin_dir / "promoter").exists(), installed.stdout

    version = _run([str(bin_dir / "promoter"), "--version"], tmp_path, env)
    assert version.returncode == 0 and version.stdout.strip() == f"promoter {__version__}", version.stderr
    listed = _run([str(bin_dir / "promoter"), "list", "--api", server.api_url, "--output", "json"], tmp_path, env)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert "items" in json.loads(listed.stdout)
