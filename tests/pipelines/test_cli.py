"""``promoter pipeline`` and ``promoter promote`` as a user runs them, against a sandbox server
that serves two accounts (the control plane's, and prod's account B)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.fixtures.accounts import AccountSession, deploy_target_account
from sandbox.fixtures.targets import Targets
from sandbox.server import ServerProcess, endpoint_session
from tests.cli.helpers import Shell
from tests.pipelines.conftest import ACCOUNT_A, ACCOUNT_B, EXTERNAL_ID, prod_function

HYBRID = Path(__file__).resolve().parents[2] / "examples" / "pipelines" / "hybrid.yaml"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with ServerProcess(time_scale=50.0, log=tmp_path_factory.mktemp("sandbox") / "server.log") as process:
        yield process


@pytest.fixture(scope="module")
def shell(server: ServerProcess) -> Shell:
    a = Targets(session=endpoint_session(server.aws_url))
    a.function("orders", builds=("v1", "v2"), alias="dev")
    a.lambdas.create_alias(FunctionName="orders", Name="staging", FunctionVersion="1")
    b = AccountSession(ACCOUNT_B, endpoint_url=server.aws_url)
    deploy_target_account(b, control_plane_account=ACCOUNT_A, external_id=EXTERNAL_ID)
    prod_function(Targets(session=b))  # type: ignore[arg-type]
    return Shell(server)


def promotion_id(out: str) -> str:
    return re.search(r"p-\d{8}T\d{6}-[0-9a-f]{8}", out).group(0)


def test_apply_promote_through_two_accounts_and_show(shell):
    applied = shell.promoter("pipeline", "apply", str(HYBRID))
    assert applied.code == 0, applied
    assert "Pipeline orders stored: dev" in applied.out and "prod" in applied.out

    dev = shell.promoter("promote", "orders", "--to", "dev", "--version", "2", "--watch", "--interval", "0.2")
    assert dev.code == 0, dev
    staging = shell.promoter("promote", "orders", "--to", "staging", "--watch", "--interval", "0.2")
    assert staging.code == 0, staging

    skipped = shell.promoter("promote", "orders", "--to", "prod", "--version", "1")
    assert skipped.code == 2, skipped
    assert "prod takes the version staging runs now, version 2, not version 1" in skipped.err
    assert "field: version" in skipped.err

    prod = shell.promoter("promote", "orders", "--to", "prod", "--reason", "release 42")
    assert prod.code == 0, prod
    started = promotion_id(prod.out)
    # prod is another account's function: the 202 comes before the carry, which the workflow does
    assert "(PENDING)" in prod.out and "carries the artifact to the target" in prod.out
    assert f"Follow it:  promoter watch {started}" in prod.out
    waiting = shell.promoter("status", started, "--json")
    assert waiting.json["status"] in {"PENDING", "AWAITING_APPROVAL"}  # prod is protected
    approved = shell.promoter("approve", started, "--reason", "go")
    assert approved.code == 0, approved
    assert shell.promoter("watch", started, "--interval", "0.2").code == 0

    shown = shell.promoter("pipeline", "show", "orders")
    assert shown.code == 0, shown
    rows = {line.split()[0]: line for line in shown.out.splitlines()[2:] if line and not line.startswith(" ")}
    assert f"orders @{ACCOUNT_B}" in rows["prod"] and f"orders @{ACCOUNT_A}" in rows["dev"]
    assert all(re.search(r"\s2\s", rows[env]) for env in ("dev", "staging", "prod"))
    assert f"prod: through role arn:aws:iam::{ACCOUNT_B}:role/lambda-promoter-target" in shown.out

    as_json = shell.promoter("pipeline", "show", "orders", "--json").json
    state = {e["name"]: e for e in as_json["state"]}
    assert {e["code_sha256"] for e in state.values()} == {state["dev"]["code_sha256"]}
    assert state["prod"]["last_promotion"]["id"] == started
    assert [p["name"] for p in shell.promoter("pipeline", "list", "--json").json["items"]] == ["orders"]


def test_bad_files_and_flags_are_usage_errors(shell, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: broken\nenvironments: []\n")
    refused = shell.promoter("pipeline", "apply", str(broken))
    assert refused.code == 2 and "field: environments" in refused.err

    nameless = tmp_path / "nameless.json"
    nameless.write_text('{"environments": [{"name": "dev", "function": "orders", "alias": "dev"}]}')
    assert "has no 'name'" in shell.promoter("pipeline", "apply", str(nameless)).err

    no_reason = shell.promoter("promote", "orders", "--to", "prod", "--override")
    assert no_reason.code == 2 and "--override needs --override-reason" in no_reason.err
