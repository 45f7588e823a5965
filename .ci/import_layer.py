"""Run with python3.13 after `make build`: the built layer imports the promoter package on Lambda's Python.

1. The arm64 build (.aws-sam/build/PromoterLayer/python) carries only aarch64, cpython-313 binaries,
   and the layer and the judge carry bytecode for python3.13 next to every module (sam build ran
   layers/package.mk; tests/contract/test_packaging.py checks that recipe itself in depth).
2. Those binaries cannot load on this x86_64 machine, so the same lock is installed for this machine next to
   the *built* promoter package, and the package is imported from there alone, with no other
   site-packages and no system time zones (tzdata must come from the layer).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILT = ROOT / ".aws-sam" / "build" / "PromoterLayer" / "python"
JUDGE = ROOT / ".aws-sam" / "build" / "JudgeFunction"
AARCH64 = 0xB7  # ELF e_machine
IMPORTS = """
import sys, zoneinfo
zoneinfo.reset_tzpath([])  # only the layer's tzdata
import promoter, promoter.api, promoter.service, promoter.pipelines
from promoter.api import build_app
assert promoter.__file__.startswith(sys.argv[1]), promoter.__file__
berlin = zoneinfo.ZoneInfo("Europe/Berlin")
print("promoter from", promoter.__file__, "on", sys.version.split()[0], "| time zone:", berlin)
"""


def check_binaries() -> int:
    libraries = list(BUILT.rglob("*.so"))
    for library in libraries:
        machine = int.from_bytes(library.read_bytes()[18:20], "little")
        assert machine == AARCH64, f"{library} is not aarch64"
        assert "cpython-313" in library.name or "abi3" in library.name, f"{library} is not for python3.13"
    return len(libraries)


def check_bytecode() -> int:
    sources = [*BUILT.rglob("*.py"), *JUDGE.rglob("*.py")]
    missing = [str(path) for path in sources if not Path(importlib.util.cache_from_source(str(path))).is_file()]
    assert not missing, f"{len(missing)} modules without python3.13 bytecode, such as {missing[0]}"
    return len(sources)


def import_built_package() -> None:
    with tempfile.TemporaryDirectory() as target:
        pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--only-binary=:all:"]
        subprocess.run([*pip, "--target", target, "-r", str(ROOT / "layers/promoter/requirements.txt")], check=True)
        shutil.copytree(BUILT / "promoter", Path(target) / "promoter")
        env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": target, "PYTHONNOUSERSITE": "1"}
        subprocess.run([sys.executable, "-S", "-c", IMPORTS, target], check=True, env=env, cwd=target)


def main() -> None:
    assert sys.version_info[:2] == (3, 13), f"run with python3.13, not {sys.version}"
    assert (BUILT / "promoter" / "__init__.py").is_file(), "run `make build` first"
    print(f"{check_binaries()} aarch64 cpython-313 libraries in the arm64 layer")
    print(f"{check_bytecode()} modules of the layer and the judge, each with its python3.13 bytecode")
    import_built_package()


if __name__ == "__main__":
    main()
