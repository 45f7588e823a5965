"""CONTRIBUTING.md stays true: the paths it names exist, and the registries its recipes rely on agree.

A new strategy must be known to the models, the steps, the API's error mapping, the OpenAPI
document and the CLI (which cannot import the layer and repeats the names); a new gate on a
promotion request must be carried from a pipeline's environment."""

from __future__ import annotations

import argparse
import ast
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from pydantic import TypeAdapter

from promoter.api import build_app
from promoter.api.errors import _UNION_TAGS, union_tags
from promoter.models import Environment, Promotion, PromotionOrigin, PromotionRequest, StrategySpec
from promoter.pipelines import PipelineService
from promoter.strategies import steps_for
from promoter_cli.main import build_parser
from tests.api.conftest import ApiGateway

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "CONTRIBUTING.md"
STRATEGY = TypeAdapter(StrategySpec)

# One valid body per strategy tag, and one field of it with a value its bounds refuse.
SAMPLES: dict[str, dict[str, Any]] = {
    "canary": {"type": "canary", "weight": 0.25, "bake_seconds": 60},
    "linear": {"type": "linear", "step": 0.2, "interval_seconds": 30},
    "all-at-once": {"type": "all-at-once"},
    "custom": {"type": "custom", "steps": [{"weight": 0.1, "bake_seconds": 5}, {"weight": 0.5}]},
}
OUT_OF_BOUNDS: dict[str, tuple[str, Any]] = {
    "canary": ("weight", 1.5),
    "linear": ("interval_seconds", -1),
    "all-at-once": ("weight", 0.5),  # it has no fields: any field is refused
    "custom": ("steps", []),
}

# PromotionRequest fields a pipeline's environment does not carry: the candidate and the request's own
# words. Every other field (a gate, the strategy, the target's role) must come from the environment.
NOT_FROM_ENVIRONMENT = {"function", "alias", "version", "publish", "code_sha256", "reason"}
ENVIRONMENT_NAME_OF = {"approval": "protected"}


def test_every_path_the_guide_names_exists():
    named = set(
        re.findall(
            r"`([A-Za-z0-9_./-]+/[A-Za-z0-9_./<>-]*|[A-Za-z0-9_-]+\.(?:md|py|yaml|json|txt))`", GUIDE.read_text()
        )
    )
    paths = {p for p in named if "<" not in p and not p.startswith(("http", "docs.aws"))}
    assert len(paths) > 20, "the pattern finds the guide's paths"
    missing = sorted(p for p in paths if not (ROOT / p).exists())
    assert missing == []


def test_every_strategy_tag_has_a_sample_here():
    assert set(SAMPLES) == set(union_tags(StrategySpec)) == set(OUT_OF_BOUNDS)


@pytest.mark.parametrize("tag", sorted(SAMPLES))
def test_a_strategys_steps_end_at_full_traffic_and_match_its_count(tag):
    strategy = STRATEGY.validate_python(SAMPLES[tag])
    steps = steps_for(strategy)

    assert steps[-1].weight == 1.0
    assert len(steps) == strategy.step_count()
    assert [s.weight for s in steps] == sorted({s.weight for s in steps})  # rising, no repeats


@pytest.mark.parametrize("tag", sorted(SAMPLES))
def test_a_strategy_is_in_the_error_mapping_and_the_openapi_document(tag):
    document = json.loads((ROOT / "docs" / "openapi.json").read_text())
    consts = {
        schema.get("properties", {}).get("type", {}).get("const")
        for schema in document["components"]["schemas"].values()
    }
    assert tag in _UNION_TAGS
    assert tag in consts


def _strategy_choices() -> dict[tuple[str, ...], list[str]]:
    found = {}

    def walk(parser: argparse.ArgumentParser, path: tuple[str, ...]) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, (*path, name))
            elif "--strategy" in action.option_strings:
                found[path] = list(action.choices or [])

    walk(build_parser(), ())
    return found


def test_the_cli_offers_every_strategy():
    choices = _strategy_choices()
    assert ("start",) in choices
    for command, offered in choices.items():
        # custom is given as --steps, not by name
        assert set(offered) | {"custom"} == set(SAMPLES), command


def _no_aws() -> None:
    raise AssertionError("a request that fails validation must not reach the service")


@pytest.mark.parametrize("tag", sorted(SAMPLES))
def test_a_strategys_bad_field_is_a_422_that_names_it(tag):
    gateway = ApiGateway(build_app(APIGatewayRestResolver(enable_validation=True), _no_aws))
    field, value = OUT_OF_BOUNDS[tag]
    body = {"function": "orders", "alias": "live", "version": "2", "strategy": SAMPLES[tag] | {field: value}}

    answer = gateway.send("start_promotion", body=body)

    assert answer.status == 422, answer.body
    assert answer.body["field"] == f"strategy.{field}"


def test_a_pipeline_environment_carries_every_gate_of_a_promotion_request():
    carried = set(PromotionRequest.model_fields) - NOT_FROM_ENVIRONMENT
    on_environment = {ENVIRONMENT_NAME_OF.get(name, name) for name in carried}
    assert on_environment <= set(Environment.model_fields)

    environment = Environment(
        name="prod",
        function="orders",
        alias="live",
        role_arn="arn:aws:iam::222222222222:role/promoter-target",
        external_id="shared-secret-1",
        alarms=["orders-errors"],
        hooks={"pre_traffic": "orders-smoke", "post_traffic": "orders-check"},
        insufficient_data="pass",
        watch_seconds=120,
        protected=True,
        strategy=SAMPLES["linear"],
        analysis={"warmup_seconds": 30},
    )
    # the fast gate is this account's only (an environment with a role refuses it): its own environment
    same_account = Environment(name="dev", function="orders", alias="dev", fast_gate={"max_errors": 2})
    started: list[PromotionRequest] = []
    promoter = SimpleNamespace(settings=None, start=lambda request, actor, **kw: started.append(request))
    service = PipelineService(promoter, store=object(), artifacts=object(), clock=lambda: datetime.now(UTC))  # type: ignore[arg-type]
    origin = PromotionOrigin(pipeline="release", environment="prod")

    service._start(environment, "7", "next stage", "someone", origin)
    service._start(same_account, "7", "next stage", "someone", origin)

    request = started[0]
    assert started[1].fast_gate == same_account.fast_gate is not None
    for name in carried - {"fast_gate"}:
        value = getattr(environment, ENVIRONMENT_NAME_OF.get(name, name))
        default = Environment.model_fields[ENVIRONMENT_NAME_OF.get(name, name)].get_default(call_default_factory=True)
        assert value != default, f"{name}: give the environment a value other than the default"
        assert getattr(request, name) == value, name


def _record_built_from_request() -> set[str]:
    """The fields ``Promotion(...)`` in promotions/start.py takes straight from ``request.<field>``."""
    source = ROOT / "layers" / "promoter" / "promoter" / "promotions" / "start.py"
    taken = set()
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Promotion":
            for keyword in node.keywords:
                value = keyword.value
                if isinstance(value, ast.Attribute) and getattr(value.value, "id", None) == "request":
                    taken.add(value.attr)
    return taken


def test_the_record_keeps_every_gate_of_the_request():
    # the strategy becomes the record's steps, the analysis spec its analysis record
    gates = set(PromotionRequest.model_fields) - NOT_FROM_ENVIRONMENT - {"strategy", "analysis"}
    assert gates <= set(Promotion.model_fields)
    assert gates <= _record_built_from_request()
