"""Tried as a new user would: start the sandbox server, make a function with the AWS CLI, and
promote it with the promoter CLI."""

import json
import re

from tests.cli.helpers import TRUST_POLICY, handler_zip

HANDLER = """
def handler(event, context):
    return {{"build": "{build}", "echo": event}}
"""


def test_a_function_made_with_the_aws_cli_is_promoted_with_the_promoter_cli(shell, tmp_path):
    function, alias, alarm = "hello", "live", "hello-errors"
    # --- the function, as a user makes it with the AWS CLI ----------------------------------------
    role = shell.aws("iam", "create-role", "--role-name", "hello-role", "--assume-role-policy-document", TRUST_POLICY)
    v1 = handler_zip(tmp_path / "v1.zip", HANDLER.format(build="v1"))
    v2 = handler_zip(tmp_path / "v2.zip", HANDLER.format(build="v2"))
    shell.aws(
        "lambda", "create-function", "--function-name", function, "--runtime", "python3.13",
        "--handler", "app.handler", "--role", role.json["Role"]["Arn"], "--zip-file", f"fileb://{v1}",
        "--tags", "promoter:managed=true",
    )  # fmt: skip
    assert shell.aws("lambda", "publish-version", "--function-name", function).json["Version"] == "1"
    shell.aws("lambda", "create-alias", "--function-name", function, "--name", alias, "--function-version", "1")
    shell.aws("lambda", "update-function-code", "--function-name", function, "--zip-file", f"fileb://{v2}")
    assert shell.aws("lambda", "publish-version", "--function-name", function).json["Version"] == "2"
    shell.aws(
        "cloudwatch", "put-metric-alarm", "--alarm-name", alarm, "--namespace", "AWS/Lambda",
        "--metric-name", "Errors", "--statistic", "Sum", "--period", "60", "--evaluation-periods", "1",
        "--threshold", "1", "--comparison-operator", "GreaterThanOrEqualToThreshold",
        "--dimensions", f"Name=FunctionName,Value={function}", "--treat-missing-data", "notBreaching",
    )  # fmt: skip
    alarms = shell.aws("cloudwatch", "describe-alarms", "--alarm-names", alarm).json["MetricAlarms"]
    assert alarms[0]["StateValue"] == "OK"  # no errors yet, and missing data does not breach
    function_arn = shell.aws("lambda", "get-function", "--function-name", function).json["Configuration"]["FunctionArn"]
    assert shell.aws("lambda", "list-tags", "--resource", function_arn).json["Tags"] == {"promoter:managed": "true"}

    def invoke(qualifier: str) -> dict:
        out = tmp_path / f"out-{qualifier}.json"
        shell.aws(
            "lambda", "invoke", "--function-name", f"{function}:{qualifier}",
            "--payload", '{"n": 1}', str(out),
        )  # fmt: skip
        return json.loads(out.read_text())

    assert invoke(alias) == {"build": "v1", "echo": {"n": 1}}  # the zip really runs

    # --- the promotion, with the promoter CLI -----------------------------------------------------
    started = shell.promoter(
        "start", function, alias, "--version", "2", "--weight", "0.2", "--bake-seconds", "100",
        "--alarm", alarm, "--reason", "first promotion",
    )  # fmt: skip
    assert started.code == 0, started
    promotion_id = re.search(r"Started promotion (\S+)", started.out).group(1)
    assert f"promoter watch {promotion_id}" in started.out

    watched = shell.promoter("watch", promotion_id, "--interval", "0.2")
    assert watched.code == 0, watched
    assert "SUCCEEDED" in watched.out
    assert "20% to version 2" in watched.out  # the canary step, as an event line
    assert f"{function}:{alias} now serves version 2" in watched.out

    live = shell.aws("lambda", "get-alias", "--function-name", function, "--name", alias).json
    assert live["FunctionVersion"] == "2"
    assert not (live.get("RoutingConfig") or {}).get("AdditionalVersionWeights")
    assert invoke(alias)["build"] == "v2"

    record = shell.promoter("status", promotion_id, "--json")
    assert record.code == 0, record
    promotion = record.json
    assert promotion["status"] == "SUCCEEDED"
    assert promotion["events"][0]["actor"] == "local"  # no signature locally: the actor is "local"
    assert [step["weight"] for step in promotion["steps"]] == [0.2, 1.0]
    assert all(step["started_at"] and step["ended_at"] for step in promotion["steps"])

    human = shell.promoter("status", promotion_id)
    assert human.code == 0 and "SUCCEEDED" in human.out and "first promotion" in human.out

    listed = shell.promoter("list", "--function", function)
    assert listed.code == 0 and promotion_id in listed.out
