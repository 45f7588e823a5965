"""Invoking an alias applies its routing weights; the response says which version ran."""

from __future__ import annotations

import json
import math

from sandbox import Sandbox
from sandbox.fixtures.targets import Targets

INVOKES = 2000
WEIGHT = 0.1


def invoke(lambdas, qualified: str) -> tuple[str, dict]:
    response = lambdas.invoke(FunctionName=qualified, Payload=b"{}")
    return response["ExecutedVersion"], json.loads(response["Payload"].read())


def test_weighted_alias_splits_traffic_within_binomial_bounds(sandbox: Sandbox, targets: Targets) -> None:
    target = targets.function("orders", builds=("v1", "v2"))
    stable, candidate = target.versions
    lambdas = sandbox.client("lambda")
    lambdas.update_alias(
        FunctionName="orders", Name="live", RoutingConfig={"AdditionalVersionWeights": {candidate: WEIGHT}}
    )

    ran = {stable: 0, candidate: 0}
    for _ in range(INVOKES):
        executed, body = invoke(lambdas, "orders:live")
        # the executed version's own code ran, and saw its own version number
        assert body == {"build": "v1" if executed == stable else "v2", "version": executed}
        ran[executed] += 1

    # Binomial(n=2000, p=0.1): mean 200, sigma 13.4; 5 sigma leaves a 1-in-1.7-million false failure.
    mean = INVOKES * WEIGHT
    sigma = math.sqrt(INVOKES * WEIGHT * (1 - WEIGHT))
    assert abs(ran[candidate] - mean) <= 5 * sigma, ran
    assert ran[stable] + ran[candidate] == INVOKES


def test_alias_without_weights_version_and_latest(sandbox: Sandbox, targets: Targets) -> None:
    target = targets.function("orders", builds=("v1", "v2"))
    lambdas = sandbox.client("lambda")
    for _ in range(20):
        assert invoke(lambdas, "orders:live") == (target.versions[0], {"build": "v1", "version": "1"})
    assert invoke(lambdas, "orders:2") == ("2", {"build": "v2", "version": "2"})
    arn = lambdas.get_alias(FunctionName="orders", Name="live")["AliasArn"]
    assert invoke(lambdas, arn)[0] == "1"
    assert invoke(lambdas, "orders")[0] == "$LATEST"


def test_full_weight_to_the_other_version(sandbox: Sandbox, targets: Targets) -> None:
    targets.function("orders", builds=("v1", "v2"))
    lambdas = sandbox.client("lambda")
    lambdas.update_alias(FunctionName="orders", Name="live", RoutingConfig={"AdditionalVersionWeights": {"2": 1.0}})
    assert {invoke(lambdas, "orders:live")[0] for _ in range(20)} == {"2"}
