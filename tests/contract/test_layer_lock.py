"""The layer is reproducible: its lock covers the whole dependency tree, agrees with the direct
requirements and with the project's SDK pins, and ships tzdata."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "promoter"
# Lambda python3.13 on arm64, the layer's runtime (template.yaml)
LAMBDA_ENVIRONMENT = {
    "python_version": "3.13",
    "python_full_version": "3.13.0",
    "sys_platform": "linux",
    "platform_machine": "aarch64",
    "platform_system": "Linux",
    "os_name": "posix",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "extra": "",
}


def pins(path: Path) -> dict[str, str]:
    """name -> exact version of every ``name==version`` line (comments and -r lines skipped)."""
    found = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        requirement = Requirement(line)
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", f"{path.name}: {line} is not pinned exactly"
        found[canonicalize_name(requirement.name)] = specifier.version
    return found


LOCK = pins(LAYER / "requirements.txt")


def test_every_direct_requirement_is_locked_at_its_version():
    direct = pins(LAYER / "requirements.in")
    assert {"aws-lambda-powertools", "aws-xray-sdk", "pydantic", "tzdata"} <= set(direct)
    assert {name: LOCK.get(name) for name in direct} == direct


def test_the_lock_is_closed_every_dependency_of_a_locked_package_is_locked_too():
    missing = []
    for name, version in LOCK.items():
        distribution = metadata.distribution(name)  # the dev venv holds the same versions
        assert distribution.version == version, f"venv has {name} {distribution.version}, the lock {version}"
        for line in distribution.requires or []:
            requirement = Requirement(line)
            if requirement.marker and not requirement.marker.evaluate(LAMBDA_ENVIRONMENT):
                continue  # an extra, or another platform
            locked = LOCK.get(canonicalize_name(requirement.name))
            if locked is None or locked not in requirement.specifier:
                missing.append(f"{name} needs {requirement}, the lock has {locked}")
    assert missing == []


def test_the_sdk_in_the_layer_is_the_sdk_the_project_pins():
    project = pins(ROOT / "requirements.txt")
    assert LOCK["botocore"] == project["botocore"]
    assert LOCK["boto3"] == project["boto3"]


def test_the_layer_ships_iana_time_zones():
    assert "tzdata" in LOCK


def test_make_lock_regenerates_the_file_the_layer_installs():
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^lock:.*?(?=^\S)", makefile, re.S | re.M).group(0)
    assert "layers/promoter/requirements.in" in recipe and "--output-file layers/promoter/requirements.txt" in recipe
    assert "--python-version 3.13" in recipe
