"""/pipelines over the HTTP API (API-Gateway-shaped events, in process) on the two-account sandbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.api.conftest import ALICE
from tests.pipelines.conftest import ACCOUNT_B, DEV, PROD, STAGING, definition

# another role: a second session of ALICE's role is the same principal for four eyes (decisions.principal_of)
BOB = {"userArn": "arn:aws:sts::123456789012:assumed-role/release-approver/bob", "accountId": "123456789012"}


def put(gateway, body, name="orders"):
    return gateway.send("put_pipeline", path=f"/pipelines/{name}", body=body)


def promote(gateway, body, name="orders", **changes):
    return gateway.send("promote_pipeline", path=f"/pipelines/{name}/promote", body=body, **changes)


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"environments": []}, "environments", "at least 1 item"),
        ({"environments": [DEV, DEV | {"alias": "staging"}]}, "environments", "names must be unique: 'dev'"),
        (
            {"environments": [DEV, PROD | {"role_arn": "arn:aws:iam::2222:role/x"}]},
            "environments.1.role_arn",
            "IAM role ARN",
        ),
        (
            {"environments": [DEV | {"freeze_windows": [{"days": ["fri"], "hours": "16-24"}]}]},
            "environments.0.freeze_windows.0.hours",
            "must be HH:MM-HH:MM",
        ),
        (
            {
                "environments": [
                    DEV | {"freeze_windows": [{"start": "2026-12-20T00:00:00", "end": "2027-01-04T00:00:00Z"}]}
                ]
            },
            "environments.0.freeze_windows.0.start",
            "needs a UTC offset",
        ),
        ({"environments": [DEV | {"function": "nope"}]}, "environments.0.function", "function 'nope' does not exist"),
        (
            {"environments": [DEV, PROD | {"function": "payments"}]},
            "environments.1.role_arn",  # AWS answers AccessDenied: the role reads tagged functions only
            f"role arn:aws:iam::{ACCOUNT_B}:role/lambda-promoter-target may not read function 'payments': it does "
            "not exist",
        ),
        (
            {"environments": [DEV, STAGING | {"alias": "qa"}]},
            "environments.1.alias",
            "alias 'qa' of 'orders' does not exist",
        ),
        ({"environments": [DEV, PROD | {"alarms": ["prod-errors"]}]}, "environments.1.alarms", "alarms do not exist"),
        ({"name": "billing", "environments": [DEV]}, "name", "the body names pipeline 'billing', the path 'orders'"),
        (
            {"environments": [DEV | {"strategy": {"type": "canary", "weight": 2}}]},
            "environments.0.strategy.weight",
            "less than 1",
        ),
    ],
)
def test_a_bad_pipeline_is_a_4xx_that_names_the_field(world, gateway, body, field, says):
    answer = put(gateway, body)

    assert answer.status == 422, answer.body
    assert answer.body["error"] == "InvalidRequest"
    assert answer.body["field"] == field
    assert says in answer.body["message"]
    assert gateway.send("get_pipeline", path="/pipelines/orders").status == 404  # nothing stored


def test_define_promote_through_three_environments_and_read_the_inventory(world, gateway, sandbox):
    stored = put(gateway, definition())
    assert stored.status == 200
    assert stored.body["environments"] == ["dev", "staging", "prod"]
    assert stored.body["created_by"] == ALICE
    assert [p["name"] for p in gateway.send("list_pipelines").body["items"]] == ["orders"]

    ids = []
    for body in ({"to": "dev", "version": "2"}, {"to": "staging"}, {"to": "prod", "reason": "release 42"}):
        answer = promote(gateway, body)
        assert answer.status == 202, answer.body
        assert answer.headers["Location"] == f"/dev/promotions/{answer.body['id']}"
        # prod is another function: accepted before the carry, which the workflow does
        carrying = body["to"] == "prod"
        assert answer.body["carrying"] is carrying and answer.body["status"] == "PENDING"
        assert (answer.body["candidate_version"] is None) is carrying
        assert sandbox.wait_until_final(answer.body["id"]).status.value == "SUCCEEDED"
        ids.append(answer.body["id"])

    prod = gateway.send("get_promotion", path=f"/promotions/{ids[-1]}").body
    assert prod["role_arn"] == f"arn:aws:iam::{ACCOUNT_B}:role/lambda-promoter-target"
    assert prod["origin"]["source_environment"] == "staging" and prod["origin"]["copied"] is True
    assert prod["reason"] == "release 42"
    assert prod["candidate_version"] == "2"
    assert prod["carry"]["done"] is True and prod["carry"]["uploads"] == 1 and prod["carry"]["via"] == "zip"
    assert "source_external_id" not in prod["carry"]

    inventory = gateway.send("get_pipeline", path="/pipelines/orders")
    assert inventory.status == 200
    state = {e["name"]: e for e in inventory.body["state"]}
    assert [state[n]["version"] for n in ("dev", "staging", "prod")] == ["2", "2", "2"]
    assert len({state[n]["code_sha256"] for n in state}) == 1  # one artifact everywhere
    assert state["prod"]["function_arn"].split(":")[4] == ACCOUNT_B
    assert all(e["drift"] is False and e["weights"] == {} for e in state.values())
    assert state["prod"]["last_promotion"]["id"] == ids[-1]

    deleted = gateway.send("delete_pipeline", path="/pipelines/orders")
    assert deleted.status == 200 and deleted.body["name"] == "orders"
    assert gateway.send("get_pipeline", path="/pipelines/orders").status == 404
    assert gateway.send("get_promotion", path=f"/promotions/{ids[-1]}").status == 200  # promotions are kept


def test_approval_by_the_starter_is_403_and_another_principal_approves(world, gateway, sandbox):
    put(gateway, definition(protected=True, approval_by_other=True))
    for body in ({"to": "dev", "version": "2"}, {"to": "staging"}):
        sandbox.wait_until_final(promote(gateway, body).body["id"])
    started = promote(gateway, {"to": "prod"}).body["id"]
    sandbox.wait_for_status(started, "AWAITING_APPROVAL")

    by_alice = gateway.send("approve_promotion", path=f"/promotions/{started}/approve")
    by_bob = gateway.send("approve_promotion", path=f"/promotions/{started}/approve", identity=BOB)

    assert by_alice.status == 403
    assert by_alice.body["error"] == "NotAllowed"
    assert by_alice.body["started_by"] == ALICE
    assert "needs approval by a different principal" in by_alice.body["message"]
    assert by_bob.status == 202
    assert sandbox.wait_until_final(started).status.value == "SUCCEEDED"


def test_promotion_refusals_over_the_api(world, gateway, sandbox):
    now = datetime.now(UTC)
    freeze = {
        "start": (now - timedelta(hours=1)).isoformat(),
        "end": (now + timedelta(hours=2)).isoformat(),
        "reason": "audit",
    }
    put(gateway, definition(allow_override=False, freeze_windows=[freeze]))
    sandbox.wait_until_final(promote(gateway, {"to": "dev", "version": "2"}).body["id"])
    sandbox.wait_until_final(promote(gateway, {"to": "staging"}).body["id"])

    frozen = promote(gateway, {"to": "prod"})
    unknown_env = promote(gateway, {"to": "qa"})
    no_pipeline = promote(gateway, {"to": "prod"}, name="billing")
    no_reason = promote(gateway, {"to": "prod", "override": True})
    not_allowed = promote(gateway, {"to": "staging", "version": "3", "override": True, "override_reason": "hotfix"})
    first_without_version = promote(gateway, {"to": "dev"})

    assert (frozen.status, frozen.body["error"], frozen.body["field"]) == (409, "Frozen", "to")
    assert datetime.fromisoformat(frozen.body["frozen_until"]) == datetime.fromisoformat(freeze["end"])
    assert "in a freeze window (audit) until" in frozen.body["message"]
    assert (unknown_env.status, unknown_env.body["field"]) == (422, "to")
    assert (no_pipeline.status, no_pipeline.body["error"]) == (404, "NotFound")
    assert (no_reason.status, no_reason.body["field"]) == (422, "override_reason")
    assert (not_allowed.status, not_allowed.body["field"]) == (422, "override")
    assert (first_without_version.status, first_without_version.body["field"]) == (422, "version")


def test_guards_belong_to_the_target_whatever_the_route(world, gateway, sandbox):
    """Issue 9, item 8: a plain POST /promotions on a pipeline's target gets the environment's guards."""
    now = datetime.now(UTC)
    freeze = {"start": (now - timedelta(hours=1)).isoformat(), "end": (now + timedelta(hours=2)).isoformat()}
    body = definition(protected=True, approval_by_other=True, freeze_windows=[freeze])
    body["environments"][0] = DEV | {"protected": True, "approval_by_other": True}
    put(gateway, body)
    prod = {"function": f"arn:aws:lambda:us-east-1:{ACCOUNT_B}:function:orders", "alias": "live", "version": "1"}
    prod |= {"role_arn": PROD["role_arn"], "external_id": PROD["external_id"]}
    staging = {"function": "orders", "alias": "staging", "version": "2"}

    frozen = gateway.send("start_promotion", body=prod)
    out_of_order = gateway.send("start_promotion", body=staging)
    into_dev = gateway.send("start_promotion", body={"function": "orders", "alias": "dev", "version": "2"})

    assert (frozen.status, frozen.body["error"], frozen.body["field"]) == (409, "Frozen", "function")
    assert (out_of_order.status, out_of_order.body["error"], out_of_order.body["field"]) == (
        409,
        "PipelineOnly",
        "function",
    )
    assert "only through POST /pipelines/orders/promote (to: staging)" in out_of_order.body["message"]
    assert into_dev.status == 202
    started = into_dev.body["id"]
    sandbox.wait_for_status(started, "AWAITING_APPROVAL")  # dev is protected: the plain start waits too
    record = sandbox.service().get(started)
    assert (record.origin.pipeline, record.origin.environment) == ("orders", "dev")
    by_alice = gateway.send("approve_promotion", path=f"/promotions/{started}/approve")
    assert (by_alice.status, by_alice.body["error"]) == (403, "NotAllowed")
    assert gateway.send("approve_promotion", path=f"/promotions/{started}/approve", identity=BOB).status == 202
    assert sandbox.wait_until_final(started).status.value == "SUCCEEDED"
