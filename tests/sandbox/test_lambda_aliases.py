"""UpdateAlias with a RevisionId writes only if the alias is still at that revision, as on AWS:
"Only update the alias if the revision ID matches the ID that's specified. Use this option to
avoid modifying an alias that has changed since you last read it." A stale one is
PreconditionFailedException, HTTP 412.
https://docs.aws.amazon.com/lambda/latest/api/API_UpdateAlias.html"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from sandbox import Sandbox
from sandbox.fixtures.targets import Targets


def test_update_alias_with_its_revision_id_writes_and_answers_a_new_one(sandbox: Sandbox, targets: Targets) -> None:
    stable, candidate = targets.function("orders").versions[:2]
    lambdas = sandbox.client("lambda")
    read = lambdas.get_alias(FunctionName="orders", Name="live")["RevisionId"]
    written = lambdas.update_alias(
        FunctionName="orders",
        Name="live",
        FunctionVersion=stable,
        RoutingConfig={"AdditionalVersionWeights": {candidate: 0.1}},
        RevisionId=read,
    )
    assert written["RevisionId"] != read
    assert lambdas.get_alias(FunctionName="orders", Name="live")["RevisionId"] == written["RevisionId"]


def test_update_alias_with_a_stale_revision_id_is_412_and_writes_nothing(sandbox: Sandbox, targets: Targets) -> None:
    stable, candidate = targets.function("orders").versions[:2]
    lambdas = sandbox.client("lambda")
    stale = lambdas.get_alias(FunctionName="orders", Name="live")["RevisionId"]
    lambdas.update_alias(FunctionName="orders", Name="live", Description="someone else's edit")
    current = lambdas.get_alias(FunctionName="orders", Name="live")

    with pytest.raises(ClientError) as refused:
        lambdas.update_alias(
            FunctionName="orders",
            Name="live",
            FunctionVersion=candidate,
            RoutingConfig={"AdditionalVersionWeights": {}},
            RevisionId=stale,
        )
    assert refused.value.response["Error"]["Code"] == "PreconditionFailedException"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    after = lambdas.get_alias(FunctionName="orders", Name="live")
    assert (after["FunctionVersion"], after["RevisionId"]) == (stable, current["RevisionId"])
    assert current["RevisionId"] != stale
