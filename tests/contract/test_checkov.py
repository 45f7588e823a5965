"""checkov on both templates: nothing fails, and every check skipped in .checkov.yaml has a reason
on its line and still fails without the skip (no stale skips).

checkov runs from its own venv (``make checkov``, requirements-checkov.txt): it pins boto3 1.35,
which cannot be installed next to the project's pins.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHECKOV = ROOT / ".venv" / "checkov" / "bin" / "checkov"
CONFIG = ROOT / ".checkov.yaml"
TEMPLATES = (ROOT / "template.yaml", ROOT / "templates" / "target-account.yaml")
PINS = ROOT / "requirements-checkov.txt"


def checkov(*args: str, cwd: Path = ROOT) -> list[dict[str, Any]]:
    if not CHECKOV.exists():
        pytest.fail(f"{CHECKOV.relative_to(ROOT)} is missing: run `make checkov` (or `make venv`)")
    files = [arg for t in TEMPLATES for arg in ("-f", str(t))]
    done = subprocess.run(
        [str(CHECKOV), *files, "--framework", "cloudformation", "-o", "json", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.stdout.strip(), done.stderr
    report = json.loads(done.stdout)
    return report if isinstance(report, list) else [report]


def skips() -> dict[str, str]:
    """Skipped check id -> the reason written on its line."""
    ids = yaml.safe_load(CONFIG.read_text())["skip-check"]
    reasons = dict(re.findall(r"^\s*-\s*(CKV\w+)\s*#\s*(.*)$", CONFIG.read_text(), flags=re.MULTILINE))
    return {check: reasons.get(check, "") for check in ids}


def failed(reports: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [
        (f["check_id"], Path(f["file_path"]).name, f["resource"])
        for r in reports
        for f in r["results"]["failed_checks"]
    ]


def test_both_templates_pass_checkov_with_the_listed_skips():
    reports = checkov("--config-file", str(CONFIG))
    assert failed(reports) == []
    assert all(r["summary"]["parsing_errors"] == 0 for r in reports)
    scanned = {Path(c["file_path"]).name for r in reports for c in r["results"]["passed_checks"]}
    assert scanned == {t.name for t in TEMPLATES}  # both were read and checked


def test_every_skip_has_a_reason_and_is_still_needed(tmp_path):
    listed = skips()
    assert listed, "no skips: drop this test's second half"
    assert all(len(reason.split()) >= 5 for reason in listed.values()), listed
    # run only the skipped checks, from a folder without .checkov.yaml (checkov reads it from cwd)
    reports = checkov("--check", ",".join(listed), cwd=tmp_path)
    still_failing = {check for check, _, _ in failed(reports)}
    assert still_failing == set(listed), f"stale skips: {sorted(set(listed) - still_failing)}"


def test_the_checkov_venv_runs_the_pinned_version():
    pinned = re.search(r"^checkov==(\S+)$", PINS.read_text(), flags=re.MULTILINE).group(1)
    version = subprocess.run([str(CHECKOV), "--version"], capture_output=True, text=True, timeout=120).stdout
    assert version.strip() == pinned
