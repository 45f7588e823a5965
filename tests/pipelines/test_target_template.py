"""templates/target-account.yaml: lint-clean, and its role allows what the control plane calls
through it (and nothing on functions without the promoter:managed tag)."""

from __future__ import annotations

from samtranslator.yaml_helper import yaml_parse

from tests.contract.test_template import BIN, ROOT, adapter_operations, run

TEMPLATE = ROOT / "templates" / "target-account.yaml"
OWN_ACCOUNT_ONLY = {"lambda:ListAliases"}  # GET /functions/{name}/aliases: the control plane's account


def role_statements() -> list[dict]:
    role = yaml_parse(TEMPLATE.read_text())["Resources"]["PromoterTargetRole"]["Properties"]
    return [s for policy in role["Policies"] for s in policy["PolicyDocument"]["Statement"]]


def test_the_target_template_is_lint_clean():
    result = run(BIN / "cfn-lint", TEMPLATE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_role_allows_every_lambda_and_cloudwatch_call_made_through_it():
    needed = {a for a in adapter_operations() if a.split(":")[0] in {"lambda", "cloudwatch"}} - OWN_ACCOUNT_ONLY
    allowed = {a for s in role_statements() for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert needed - allowed == set()
    assert not [a for a in allowed if "*" in a]


def test_the_role_trusts_only_the_control_plane_with_the_external_id_and_changes_only_managed_functions():
    template = yaml_parse(TEMPLATE.read_text())
    trust = template["Resources"]["PromoterTargetRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Condition"] == {"StringEquals": {"sts:ExternalId": {"Ref": "ExternalId"}}}
    assert "ControlPlaneAccountId" in trust["Principal"]["AWS"]["Fn::Sub"]
    changes = next(s for s in role_statements() if "lambda:UpdateAlias" in s["Action"])
    assert changes["Condition"] == {"StringEquals": {"aws:ResourceTag/promoter:managed": "true"}}
    assert "lambda:UpdateFunctionCode" in changes["Action"]
    rule = template["Resources"]["AlarmForwardingRule"]["Properties"]
    assert rule["EventPattern"]["detail-type"] == ["CloudWatch Alarm State Change"]
    assert "event-bus/default" in rule["Targets"][0]["Arn"]["Fn::Sub"]
