"""The pipeline files of examples/pipelines validate, and the hybrid one applies on the sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from promoter.models import Pipeline, PipelineDefinition, WeeklyFreeze
from tests.pipelines.conftest import ACCOUNT_B, ROLE_B

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "pipelines"
FILES = sorted(EXAMPLES.glob("*.yaml"))


def test_there_is_one_example_per_strategy():
    assert [f.stem for f in FILES] == ["accounts", "aliases", "functions", "hybrid"]


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_every_example_is_a_valid_pipeline(path):
    pipeline = Pipeline.model_validate(yaml.safe_load(path.read_text()))
    assert [e.name for e in pipeline.environments] == ["dev", "staging", "prod"]
    assert pipeline.environments[-1].protected


def test_the_examples_show_what_they_say():
    load = {f.stem: Pipeline.model_validate(yaml.safe_load(f.read_text())) for f in FILES}
    assert {e.function for e in load["aliases"].environments} == {"orders"}
    assert all(e.role_arn is None for e in load["aliases"].environments + load["functions"].environments)
    assert len({e.function for e in load["functions"].environments}) == 3
    assert len({e.role_arn.split(":")[4] for e in load["accounts"].environments}) == 3
    hybrid = load["hybrid"].environments
    assert [e.role_arn for e in hybrid] == [None, None, ROLE_B]
    assert isinstance(load["aliases"].environments[-1].freeze_windows[0], WeeklyFreeze)


def test_the_hybrid_example_applies_against_the_two_account_sandbox(world):
    body = yaml.safe_load((EXAMPLES / "hybrid.yaml").read_text())
    record = world.pipelines().put(body["name"], PipelineDefinition.model_validate(body), "alice")
    inventory = {e.name: e for e in world.pipelines().inventory("orders").environments}
    assert record.pipeline.name == "orders"
    assert inventory["prod"].function_arn.split(":")[4] == ACCOUNT_B
    assert [inventory[n].version for n in ("dev", "staging", "prod")] == ["1", "1", "1"]
    assert [inventory[n].drift for n in ("dev", "staging", "prod")] == [None, None, None]  # no promotion yet
