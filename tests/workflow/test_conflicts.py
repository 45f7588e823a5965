"""Out-of-band changes and competing promotions."""

import pytest

from promoter.errors import TargetBusy
from promoter.models import Signal, Status
from tests.workflow.helpers import lock_holder, request, wait_for_writes


def test_out_of_band_alias_change_mid_promotion_is_drift_and_survives(sandbox, targets):
    target = targets.function("orders", builds=("v1", "v2", "v3"))
    started = sandbox.service().start(
        request(target, version="2", strategy={"type": "linear", "step": 0.25, "interval_seconds": 30}), actor="alice"
    )
    sandbox.wait_for_status(started.id, Status.RUNNING)
    wait_for_writes("orders", bool)  # the first shift: 25% on version 2
    # Someone points the alias at version 3 by hand, during the bake.
    targets.lambdas.update_alias(FunctionName="orders", Name="live", FunctionVersion="3", RoutingConfig={})
    sandbox.service().signal(started.id, Signal.PROMOTE_NOW, actor="bob")

    final = sandbox.wait_until_final(started.id)

    assert final.status is Status.FAILED
    assert "drift" in final.outcome_reason
    assert targets.alias_state("orders", "live") | {"revision_id": None} == {
        "version": "3",
        "weights": {},
        "revision_id": None,
    }  # the out-of-band change was kept
    assert lock_holder(sandbox, final) is None


def test_second_promotion_on_a_busy_target_is_refused_and_the_first_is_unaffected(sandbox, targets):
    target = targets.function("orders", builds=("v1", "v2", "v3"))
    service = sandbox.service()
    first = service.start(request(target, version="2"), actor="alice")

    with pytest.raises(TargetBusy) as refused:
        service.start(request(target, version="3"), actor="bob")

    assert refused.value.status_code == 409
    assert first.id in refused.value.message
    final = sandbox.wait_until_final(first.id)
    assert final.status is Status.SUCCEEDED
    assert targets.alias_state("orders", "live")["version"] == "2"
    records, _ = service.store.list(target=final.target_key)
    assert [r.id for r in records] == [first.id]  # the refused request left no record


def test_a_start_whose_transaction_landed_and_was_sent_again_as_a_new_request_is_not_busy_with_itself(
    sandbox, targets, monkeypatch
):
    """The lock, the record and its first events are one TransactWriteItems. Sent again after it had
    landed (its answer lost, and the retry a new request: a new ClientRequestToken), its conditions
    fail on its own lock: the start had been refused as busy with itself, its record left PENDING
    and the target held with no workflow to free it."""
    target = targets.function("orders")
    service = sandbox.service()
    client = service.store.client
    original = client.transact_write_items
    sent_again: list[str] = []

    def landed_then_sent_again(**kwargs):
        if sent_again:
            return original(**kwargs)
        original(**kwargs)
        sent_again.append("create")
        return original(**kwargs)  # boto3 fills in a new token: DynamoDB applies it as a new request

    monkeypatch.setattr(client, "transact_write_items", landed_then_sent_again)
    started = service.start(request(target, version="2"), actor="alice")
    assert sent_again == ["create"]
    final = sandbox.wait_until_final(started.id)
    assert final.status is Status.SUCCEEDED
    assert targets.alias_state("orders", "live")["version"] == "2"
    assert lock_holder(sandbox, final) is None
