"""Pipeline promotions on the sandbox, with the real workflow: dev and staging are aliases of one
function in account A, prod is another function in account B reached through a role."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from moto.sts.models import sts_backends

from promoter.analysis.models import AnalysisSpec, StepVerdict
from promoter.errors import Frozen, InvalidRequest, NotAllowed
from promoter.models import PipelinePromotionRequest, Signal, Status
from tests.pipelines.conftest import (
    ACCOUNT_B,
    DEV,
    PROD,
    PROD_ENV,
    PROD_MEMORY,
    ROLE_B,
    STAGING,
    alias_writes,
    definition,
    prod_function,
    wait_for,
)


def code_sha(client, function: str, version: str) -> str:
    return client.get_function_configuration(FunctionName=function, Qualifier=version)["CodeSha256"]


def test_a_version_goes_dev_staging_prod_and_prod_gets_the_same_artifact_in_its_own_account(world):
    world.put()
    prod_before = world.b.lambdas.get_function_configuration(FunctionName="orders")

    dev = world.through("dev", version="2")
    staging = world.through("staging")
    prod = world.through("prod")

    assert [p.status for p in (dev, staging, prod)] == [Status.SUCCEEDED] * 3
    assert (dev.candidate_version, staging.candidate_version) == ("2", "2")  # staging took what dev ran
    # prod: a new version of B's own function, the very artifact dev and staging ran
    assert prod.function_arn == f"arn:aws:lambda:us-east-1:{ACCOUNT_B}:function:orders"
    assert prod.candidate_version == "2" and prod.stable_version == "1"
    assert code_sha(world.b.lambdas, "orders", "2") == code_sha(world.a.lambdas, "orders", "2")
    assert world.b.alias_state("orders", "live") == {"version": "2", "weights": {}, "revision_id": prod.revision_id}
    assert world.b.lambdas.invoke(FunctionName="orders:live")["Payload"].read().decode().count('"build": "v2"') == 1
    # prod's configuration is prod's own: environment, role and memory did not move
    prod_after = world.b.lambdas.get_function_configuration(FunctionName="orders", Qualifier="2")
    assert prod_after["Environment"]["Variables"] == PROD_ENV
    assert prod_after["Role"] == prod_before["Role"] == world.prod_role
    assert prod_after["MemorySize"] == PROD_MEMORY
    # the record says where it came from and through which role
    assert prod.role_arn == ROLE_B
    assert prod.origin is not None and prod.origin.copied
    assert (prod.origin.pipeline, prod.origin.environment, prod.origin.source_environment) == (
        "orders",
        "prod",
        "staging",
    )
    assert prod.origin.source_version == "2"
    assert prod.origin.code_sha256 == code_sha(world.a.lambdas, "orders", "2")
    assert any(e.type == "target_account" and ROLE_B in e.message for e in prod.events)


def test_each_environment_used_its_own_strategy(world):
    world.put()
    world.through("dev", version="2")
    world.through("staging")
    world.through("prod")

    assert alias_writes("orders", "dev") == [("1", {"2": 0.1}), ("2", {})]  # canary 10%
    assert alias_writes("orders", "staging") == [  # linear, 25% a step
        ("1", {"2": 0.25}),
        ("1", {"2": 0.5}),
        ("1", {"2": 0.75}),
        ("2", {}),
    ]
    assert alias_writes("orders", "live") == [("1", {"2": 0.05}), ("1", {"2": 0.5}), ("2", {})]  # custom


def test_an_environments_analysis_is_carried_into_its_promotion_and_judged(world):
    """No traffic reaches dev: the judge finds too few candidate invocations, Inconclusive, and with
    no extensions and the default policy the step fails: never a pass on no data."""
    analysis = {"warmup_seconds": 0, "max_extensions": 0}
    world.put({"environments": [DEV | {"analysis": analysis}, STAGING, PROD]})
    dev = world.through("dev", version="2")

    assert dev.analysis is not None
    assert dev.analysis.spec == AnalysisSpec.model_validate(analysis)
    assert dev.analysis.steps["0"].verdict is StepVerdict.INCONCLUSIVE
    assert dev.status is Status.ROLLED_BACK, dev.outcome_reason
    assert alias_writes("orders", "dev")[-1] == ("1", {})


def test_an_environments_fast_gate_is_carried_into_its_promotion_and_its_filter_removed(world):
    world.put({"environments": [DEV | {"fast_gate": {"max_errors": 3}}, STAGING, PROD]})
    dev = world.through("dev", version="2")

    assert dev.status is Status.SUCCEEDED, dev.outcome_reason
    assert dev.fast_gate is not None and dev.fast_gate.max_errors == 3
    assert dev.fast_gate_state is not None and dev.fast_gate_state.removed


def test_the_workflow_handlers_reach_account_b_through_the_role(world):
    world.put()
    world.through("dev", version="2")
    world.through("staging")
    world.through("prod")

    sessions = [r for r in sts_backends[ACCOUNT_B]["aws"].assumed_roles if r.role_arn == ROLE_B]
    assert sessions and {r.session_name for r in sessions} == {"lambda-promoter"}
    assert {r.external_id for r in sessions} == {"orders-prod-7f3a"}
    # and nothing landed in account A: it has no alias "live"
    assert "live" not in {a["Name"] for a in world.a.lambdas.list_aliases(FunctionName="orders")["Aliases"]}


def test_skipping_staging_is_refused_and_succeeds_with_the_override(world):
    world.put()
    world.through("dev", version="2")
    world.through("staging")
    world.through("dev", version="3")  # dev moves on; staging still runs 2

    with pytest.raises(InvalidRequest) as refused:
        world.promote("prod", version="3")
    assert refused.value.field == "version"
    assert "prod takes the version staging runs now, version 2, not version 3" in refused.value.message
    assert "Promote version 3 into staging first" in refused.value.message
    assert alias_writes("orders", "live") == []

    overridden = world.through("prod", version="3", override=True, override_reason="hotfix INC-42, staging is down")

    assert overridden.status is Status.SUCCEEDED
    assert overridden.origin.override_reason == "hotfix INC-42, staging is down"
    assert code_sha(world.b.lambdas, "orders", overridden.candidate_version) == code_sha(world.a.lambdas, "orders", "3")
    assert any("guards overridden: hotfix INC-42" in e.message for e in overridden.events)


def test_override_is_refused_where_the_pipeline_does_not_allow_it(world):
    world.put(definition(allow_override=False))
    world.through("dev", version="2")

    with pytest.raises(InvalidRequest) as no_override:
        world.promote("prod", version="2", override=True, override_reason="I know what I do")
    with pytest.raises(InvalidRequest) as not_through_staging:
        world.promote("prod", version="2")

    assert no_override.value.field == "override"
    assert "does not allow overrides" in no_override.value.message
    assert not_through_staging.value.field == "version"
    assert "allows no override" in not_through_staging.value.message


def test_a_version_that_did_not_enter_the_previous_environment_through_a_success_is_refused(world):
    world.put()
    world.a.lambdas.update_alias(FunctionName="orders", Name="dev", FunctionVersion="3")  # by hand

    with pytest.raises(InvalidRequest) as refused:
        world.promote("staging")

    assert refused.value.field == "to"
    assert "version 3 runs in dev but never entered it through a SUCCEEDED promotion" in refused.value.message
    assert alias_writes("orders", "staging") == []


def test_a_protected_prod_waits_for_approval_and_its_starter_may_not_approve(world):
    world.put(definition(protected=True, approval_by_other=True))
    world.through("dev", version="2")
    world.through("staging")
    started = world.promote("prod", actor="alice")
    service = world.sandbox.service()

    waiting = world.sandbox.wait_for_status(started.id, "AWAITING_APPROVAL")
    assert waiting.approval and waiting.approval_by_other
    with pytest.raises(NotAllowed) as refused:
        service.signal(started.id, Signal.APPROVE, "alice")
    assert refused.value.status_code == 403
    assert "alice is the same principal (alice) as the starter" in refused.value.message
    assert alias_writes("orders", "live") == []  # nothing moved while it waits

    service.signal(started.id, Signal.APPROVE, "bob", "looks good")
    final = world.sandbox.wait_until_final(started.id)

    assert final.status is Status.SUCCEEDED
    assert [(e.actor, e.type) for e in final.events if e.type == "approve"] == [("bob", "approve")]


def test_a_freeze_window_refuses_a_start_and_says_when_it_ends(world):
    weekly = {
        "days": ["fri"],
        "hours": "16:00-24:00",
        "timezone": "Europe/Berlin",
        "reason": "no Friday evening releases",
    }
    world.put(definition(freeze_windows=[weekly]))
    world.through("dev", version="2")
    world.through("staging")
    friday_evening = datetime(2026, 11, 27, 17, 30, tzinfo=UTC)  # 18:30 in Berlin

    with pytest.raises(Frozen) as refused:
        world.pipelines(clock=lambda: friday_evening).promote(
            PipelinePromotionRequest(pipeline="orders", to="prod"), "alice"
        )

    assert refused.value.field == "to"
    assert refused.value.details["frozen_until"] == "2026-11-27T23:00:00+00:00"
    assert "no Friday evening releases" in refused.value.message
    assert "until Sat 2026-11-28 00:00 Europe/Berlin (2026-11-27T23:00:00Z)" in refused.value.message
    assert alias_writes("orders", "live") == []
    # outside the window the same promotion goes
    monday = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    started = world.pipelines(clock=lambda: monday).promote(
        PipelinePromotionRequest(pipeline="orders", to="prod"), "alice"
    )
    assert world.sandbox.wait_until_final(started.id).status is Status.SUCCEEDED


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"runtime": "python3.12"},
            "runtime differs: staging version 2 has python3.13, prod's function has python3.12",
        ),
        ({"architecture": "x86_64"}, "architecture differs: staging version 2 has arm64, prod's function has x86_64"),
    ],
)
def test_mismatched_runtime_or_architecture_is_refused_before_any_change(world, change, expected):
    world.b.lambdas.delete_function(FunctionName="orders")
    world.b.iam.delete_role(RoleName="orders-prod-exec")
    prod_function(world.b, **change)
    world.put()
    world.through("dev", version="2")
    world.through("staging")
    before = world.b.lambdas.get_function_configuration(FunctionName="orders")
    versions_before = world.b.lambdas.list_versions_by_function(FunctionName="orders")["Versions"]

    with pytest.raises(InvalidRequest) as refused:
        world.promote("prod")

    assert refused.value.field == "to"
    assert expected in refused.value.message
    after = world.b.lambdas.get_function_configuration(FunctionName="orders")
    assert after["CodeSha256"] == before["CodeSha256"]  # $LATEST untouched
    assert world.b.lambdas.list_versions_by_function(FunctionName="orders")["Versions"] == versions_before
    assert alias_writes("orders", "live") == []


def test_layers_the_target_account_cannot_read_are_refused_with_the_fix(world):
    layer = world.a.lambdas.publish_layer_version(
        LayerName="orders-deps", Content={"ZipFile": b"PK\x05\x06" + b"\x00" * 18}, CompatibleRuntimes=["python3.13"]
    )["LayerVersionArn"]
    world.a.lambdas.update_function_configuration(FunctionName="orders", Layers=[layer])
    world.a.lambdas.update_function_code(FunctionName="orders", ZipFile=_code("v4"))
    version = world.a.lambdas.publish_version(FunctionName="orders")["Version"]
    world.put()
    world.through("dev", version=version)
    world.through("staging")

    with pytest.raises(InvalidRequest) as refused:
        world.promote("prod")

    message = refused.value.message
    assert f"layers differ: staging version {version} runs with ['{layer}'], prod's function with no layers" in message
    assert "lambda-promoter never changes a target's configuration" in message
    assert alias_writes("orders", "live") == []


def test_an_out_of_band_alias_change_shows_as_drift_in_the_inventory(world):
    world.put()
    world.through("dev", version="2")
    world.through("staging")
    world.through("prod")

    world.a.lambdas.update_alias(FunctionName="orders", Name="staging", FunctionVersion="3")  # by hand
    inventory = {e.name: e for e in world.pipelines().inventory("orders").environments}

    assert (inventory["dev"].drift, inventory["prod"].drift) == (False, False)
    assert inventory["staging"].drift is True
    assert (
        "on version 3" in inventory["staging"].drift_reason
        and "left it at version 2" in inventory["staging"].drift_reason
    )
    prod = inventory["prod"]
    assert (prod.function_arn, prod.version, prod.weights, prod.role_arn) == (
        f"arn:aws:lambda:us-east-1:{ACCOUNT_B}:function:orders",
        "2",
        {},
        ROLE_B,
    )
    assert prod.code_sha256 == code_sha(world.a.lambdas, "orders", "2")
    assert prod.last_promotion.status is Status.SUCCEEDED and prod.active_promotion is None


def test_an_alarm_in_account_b_rolls_prod_back_at_once_and_a_same_named_alarm_in_a_does_not(world):
    world.a.alarm("orders-errors", "orders")  # account A has one of the same name
    world.b.alarm("orders-errors", "orders")
    long_bake = {"type": "canary", "weight": 0.1, "bake_seconds": 3000}  # 60 s at the tests' time scale
    world.put(definition(strategy=long_bake, alarms=["orders-errors"]))
    world.through("dev", version="2")
    world.through("staging")
    started = world.promote("prod")
    wait_for(lambda: alias_writes("orders", "live") == [("1", {"2": 0.1})], "the canary step on prod")

    world.a.set_alarm("orders-errors", "ALARM", "dev errors")
    world.sandbox.settle()
    assert world.sandbox.service().get(started.id).status is Status.RUNNING  # not this account's alarm

    world.b.set_alarm("orders-errors", "ALARM", "prod errors on the canary")
    final = world.sandbox.wait_until_final(started.id)

    assert final.status is Status.ROLLED_BACK
    assert "alarm orders-errors is ALARM: prod errors on the canary" in final.outcome_reason
    assert alias_writes("orders", "live") == [("1", {"2": 0.1}), ("1", {})]
    assert world.b.alias_state("orders", "live")["version"] == "1"


def test_ensure_environment_names_the_field(world):
    world.put()
    service = world.pipelines()
    service.ensure_environment("orders", "prod")
    with pytest.raises(InvalidRequest) as unknown:
        service.ensure_environment("orders", "qa")
    with pytest.raises(InvalidRequest) as first:
        service.ensure_environment("orders", "dev")
    assert (unknown.value.field, first.value.field) == ("to", "to")
    assert "has no environment 'qa'; it has dev, staging, prod" in unknown.value.message
    assert "dev is the first environment" in first.value.message


def _code(build: str) -> bytes:
    from sandbox.fixtures.targets import SAMPLE_HANDLER, zip_source

    return zip_source(SAMPLE_HANDLER.format(build=build, fail=False))


def test_an_image_is_carried_by_digest_and_keeps_its_codesha256(world):
    repo_a, repo_b = (
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/orders",
        f"{ACCOUNT_B}.dkr.ecr.us-east-1.amazonaws.com/orders",
    )
    common = {"PackageType": "Image", "Tags": {"promoter:managed": "true"}, "Architectures": ["arm64"]}
    world.a.lambdas.create_function(
        FunctionName="orders-img", Role=world.a.role(), Code={"ImageUri": f"{repo_a}:v1"}, **common
    )
    world.a.lambdas.publish_version(FunctionName="orders-img")
    world.a.lambdas.update_function_code(FunctionName="orders-img", ImageUri=f"{repo_a}:v2")
    world.a.lambdas.publish_version(FunctionName="orders-img")
    for alias in ("dev", "staging"):
        world.a.lambdas.create_alias(FunctionName="orders-img", Name=alias, FunctionVersion="1")
    world.b.lambdas.create_function(
        FunctionName="orders-img", Role=world.prod_role, Code={"ImageUri": f"{repo_b}:prod"}, **common
    )
    world.b.lambdas.publish_version(FunctionName="orders-img")
    world.b.lambdas.create_alias(FunctionName="orders-img", Name="live", FunctionVersion="1")
    image = {"function": "orders-img", "strategy": {"type": "all-at-once"}}
    world.put({"environments": [DEV | image, STAGING | image, PROD | image]}, name="images")

    for to, extra in (("dev", {"version": "2"}), ("staging", {}), ("prod", {})):
        assert world.through(to, pipeline="images", **extra).status is Status.SUCCEEDED

    source = world.a.lambdas.get_function(FunctionName="orders-img", Qualifier="2")
    carried = world.b.lambdas.get_function(FunctionName="orders-img", Qualifier="2")
    assert carried["Configuration"]["CodeSha256"] == source["Configuration"]["CodeSha256"]
    assert carried["Code"]["ImageUri"] == source["Code"]["ResolvedImageUri"]  # pinned by digest, not by tag


def test_a_schedule_fires_a_pipeline_promotion_and_records_a_freeze_as_skipped(world):
    from promoter.runtime import schedules_for

    world.put()
    world.through("dev", version="2")
    schedules = schedules_for(world.sandbox.service())

    ran = schedules.run(None, PipelinePromotionRequest(pipeline="orders", to="staging"), actor="schedule:s-1")
    assert ran.outcome == "started"
    final = world.sandbox.wait_until_final(ran.promotion_id)
    assert (final.status, final.created_by, final.origin.environment) == (Status.SUCCEEDED, "schedule:s-1", "staging")

    now = datetime.now(UTC)
    frozen = {"start": (now - timedelta(days=1)).isoformat(), "end": (now + timedelta(days=1)).isoformat()}
    world.put(definition(freeze_windows=[frozen]))
    skipped = schedules.run(None, PipelinePromotionRequest(pipeline="orders", to="prod"), actor="schedule:s-2")
    assert skipped.outcome == "skipped" and skipped.reason.startswith("Frozen: prod of pipeline 'orders'")
