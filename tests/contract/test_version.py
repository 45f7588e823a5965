"""One semantic version, pyproject.toml's: the CLI prints it, template.yaml publishes it as the
Serverless Application Repository's SemanticVersion, and the installed package carries it."""

import re
import subprocess
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest
from samtranslator.yaml_helper import yaml_parse

import promoter_cli
from promoter_cli import _version

ROOT = Path(__file__).resolve().parents[2]
SEMVER = re.compile(r"^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")


def project_version() -> str:
    return str(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"])


def template_version() -> str:
    template = yaml_parse((ROOT / "template.yaml").read_text())
    return str(template["Metadata"]["AWS::ServerlessRepo::Application"]["SemanticVersion"])


def test_pyproject_version_is_a_semantic_version():
    assert SEMVER.match(project_version()), project_version()


def test_cli_template_and_package_carry_pyprojects_version():
    expected = project_version()
    assert template_version() == expected, "template.yaml's SemanticVersion is not pyproject.toml's version"
    assert promoter_cli.__version__ == expected
    try:
        installed = version("lambda-promoter")
    except PackageNotFoundError:
        pytest.skip("lambda-promoter is not installed (make venv installs it)")
    assert installed == expected, "the installed package is stale: run make venv"


def test_promoter_version_prints_it():
    answer = subprocess.run(
        [sys.executable, "-m", "promoter_cli", "--version"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.strip() == f"promoter {project_version()}"


def test_version_reads_the_checkout_first_then_the_installed_metadata(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "lambda-promoter"\nversion = "9.8.7"\n')
    assert _version(pyproject) == "9.8.7"
    # Another project's pyproject.toml (the CLI installed beside it) is not ours: the metadata answers.
    pyproject.write_text('[project]\nname = "something-else"\nversion = "9.8.7"\n')
    try:
        installed = version("lambda-promoter")
    except PackageNotFoundError:
        installed = "unknown"
    assert _version(pyproject) == installed
    assert _version(tmp_path / "missing.toml") == installed
