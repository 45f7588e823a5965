"""CONTRIBUTING.md's strategy recipe, followed once: a strategy added only where the recipe says is
accepted by the models, the steps, the API (its error mapping and its OpenAPI document) and the CLI.

The recipe's edits are made to a copy of the layer and the CLI in a scratch folder, and a fresh
interpreter that imports the copy checks the result; the real tree is not touched."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Step 1: the model, next to the others, and its member of the union.
MODEL = """

class ExponentialStrategy(Model):
    model_config = ConfigDict(extra="forbid")

    type: Literal["exponential"] = "exponential"
    first: Share = Field(default=0.01, gt=0, lt=1, description="the first share; each step doubles it")
    bake_seconds: Seconds = Field(default=60, ge=0, le=MAX_BAKE_SECONDS)

    def step_count(self) -> int:
        count, weight = 1, self.first
        while weight < 1 and count <= MAX_STEPS:
            count, weight = count + 1, weight * 2
        return count

    def bake_total(self) -> int:
        return self.bake_seconds * (self.step_count() - 1)


def _custom_step_count("""
UNION_MEMBER = '    | Annotated[CustomStrategy, Tag("custom")],\n'
# Step 2: the steps.
STEPS_CASE = """        case ExponentialStrategy(first=first, bake_seconds=bake):
            steps, weight = [], first
            while weight < FULL:
                steps.append(Step(weight=weight, bake_seconds=bake))
                weight *= 2
        case _:"""
# Step 4: the CLI's table of strategies and its option.
CLI_FLAGS = '    "all-at-once": {},\n'
CLI_OPTION = '    shape.add_argument(\n        "--steps",'

CHECKS = r"""
import json, subprocess, sys
from types import SimpleNamespace

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

import promoter
from promoter.api import build_app
from promoter.errors import InvalidRequest
from promoter.models import PromotionRequest
from promoter.strategies import steps_for
from promoter_cli.main import build_parser
from promoter_cli.requests import strategy
from tests.api.conftest import ApiGateway

assert promoter.__file__.startswith(sys.argv[1]), promoter.__file__  # the copy, not the tree

request = PromotionRequest(function="f", alias="a", version="2", strategy={"type": "exponential", "first": 0.1})
assert [s.weight for s in steps_for(request.strategy)] == [0.1, 0.2, 0.4, 0.8, 1.0], steps_for(request.strategy)
assert request.strategy.step_count() == 5

reached = []
def start(request, actor, **kw):
    reached.append(request)
    raise InvalidRequest("reached the service", field="sentinel")
service = SimpleNamespace(start=start, settings=SimpleNamespace(idempotency_table="t"))
gateway = ApiGateway(build_app(APIGatewayRestResolver(enable_validation=True), lambda: service))
good = {"function": "f", "alias": "a", "version": "2", "strategy": {"type": "exponential", "first": 0.1}}
answer = gateway.send("start_promotion", body=good)
assert answer.body["field"] == "sentinel", answer.body  # validation let it through
assert reached[0].strategy.type == "exponential"

bad = gateway.send("start_promotion", body=good | {"strategy": {"type": "exponential", "first": 2}})
assert (bad.status, bad.body["field"], bad.body["rule"]) == (422, "strategy.first", "less_than"), bad.body

document = subprocess.run([sys.executable, "-m", "promoter.api"], capture_output=True, text=True, check=True).stdout
assert '"exponential"' in document and "ExponentialStrategy" in json.loads(document)["components"]["schemas"]

args = build_parser().parse_args(["start", "f", "a", "--version", "2", "--strategy", "exponential", "--first", "0.1"])
assert strategy(args) == {"type": "exponential", "first": 0.1}, strategy(args)
implied = build_parser().parse_args(["start", "f", "a", "--version", "2", "--first", "0.2"])
assert strategy(implied) == {"type": "exponential", "first": 0.2}
print("recipe followed")
"""


def _edit(path: Path, anchor: str, replacement: str) -> None:
    text = path.read_text()
    assert text.count(anchor) == 1, f"{path.name}: the recipe's place {anchor!r} is not there once"
    path.write_text(text.replace(anchor, replacement))


def test_a_strategy_added_where_the_recipe_says_is_accepted_everywhere(tmp_path):
    layer = tmp_path / "layer" / "promoter"
    shutil.copytree(ROOT / "layers" / "promoter" / "promoter", layer)
    cli = tmp_path / "promoter_cli"
    shutil.copytree(ROOT / "promoter_cli", cli)

    _edit(layer / "models.py", "\n\ndef _custom_step_count(", MODEL)
    _edit(
        layer / "models.py",
        UNION_MEMBER,
        UNION_MEMBER.replace("],", ']\n    | Annotated[ExponentialStrategy, Tag("exponential")],'),
    )
    _edit(layer / "strategies.py", "    CustomStrategy,\n", "    CustomStrategy,\n    ExponentialStrategy,\n")
    _edit(layer / "strategies.py", "        case _:", STEPS_CASE)
    _edit(cli / "options.py", CLI_FLAGS, CLI_FLAGS + '    "exponential": {"first": "--first"},\n')
    _edit(
        cli / "options.py",
        CLI_OPTION,
        '    shape.add_argument("--first", type=fraction, help="exponential: the first share")\n' + CLI_OPTION,
    )

    paths = [str(tmp_path), str(tmp_path / "layer"), str(ROOT)]
    env = os.environ | {"PYTHONPATH": os.pathsep.join(paths)}
    done = subprocess.run(
        [sys.executable, "-c", CHECKS, str(layer)], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )

    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("recipe followed")
