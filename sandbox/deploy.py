"""Deploy template.yaml itself into moto: package like ``sam package``, translate SAM offline,
create the CloudFormation stack.

What moto's CloudFormation cannot create is listed in ``SKIPPED_BY_MOTO``; the sandbox does
not fake those resources (see README, "The sandbox").
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import warnings
import zipfile
from pathlib import Path
from typing import Any

import boto3
from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parent.parent
ARTIFACT_BUCKET = "lambda-promoter-sandbox-artifacts"
# The sandbox's second account (tests/pipelines, the demo) is a target account, as a user with one
# would deploy: the control plane may assume roles only in TargetAccountIds (sandbox/aws/iam/policy.py enforces it).
SANDBOX_PARAMETERS = {"TargetAccountIds": "222222222222"}
SKIPPED_BY_MOTO = ("AWS::Lambda::Alias", "AWS::CloudWatch::Alarm", "AWS::Scheduler::Schedule", "AWS::ApiGateway::Stage")
logging.getLogger("samtranslator").setLevel(logging.ERROR)  # its metrics warning is noise here


def _not_a_skipped_type(record: logging.LogRecord) -> bool:
    """moto warns (and logs) for each type its CloudFormation skips; the README lists them."""
    args = record.args
    skipped = isinstance(args, tuple) and bool(args) and args[0] in SKIPPED_BY_MOTO
    return not (record.getMessage().startswith("No Moto CloudFormation support for") and skipped)


logging.getLogger("moto").addFilter(_not_a_skipped_type)
for _skipped in SKIPPED_BY_MOTO:
    warnings.filterwarnings("ignore", message=f"Tried to parse {_skipped} but it's not supported")


class _OfflinePolicies(ManagedPolicyLoader):
    """SAM only looks up AWS managed policies by name; the template uses none, so nothing to load."""

    def __init__(self) -> None:
        pass

    def load(self) -> dict[str, str]:
        return {}


def zip_dir(source: Path, prefix: str = "") -> bytes:
    """A deterministic zip of ``source`` (same bytes for the same files, like sam build)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(source.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                info = zipfile.ZipInfo(prefix + str(path.relative_to(source)), date_time=(2020, 1, 1, 0, 0, 0))
                info.external_attr = 0o644 << 16
                archive.writestr(info, path.read_bytes(), zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _upload(s3: Any, body: bytes) -> str:
    key = hashlib.sha256(body).hexdigest() + ".zip"
    s3.put_object(Bucket=ARTIFACT_BUCKET, Key=key, Body=body)
    return f"s3://{ARTIFACT_BUCKET}/{key}"


def package(template: dict[str, Any], s3: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """Upload code to S3 as ``sam package`` would; return the template and the raw ASL per machine."""
    s3.create_bucket(Bucket=ARTIFACT_BUCKET)
    definitions: dict[str, str] = {}
    for logical_id, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        kind = resource["Type"]
        if kind == "AWS::Serverless::Function" and isinstance(props.get("CodeUri"), str):
            props["CodeUri"] = _upload(s3, zip_dir(ROOT / props["CodeUri"]))
        elif kind == "AWS::Serverless::LayerVersion" and isinstance(props.get("ContentUri"), str):
            # sam build (BuildMethod python3.x) puts the package under python/
            props["ContentUri"] = _upload(s3, zip_dir(ROOT / props["ContentUri"], prefix="python/"))
        elif kind == "AWS::Serverless::StateMachine" and isinstance(props.get("DefinitionUri"), str):
            raw = (ROOT / props.pop("DefinitionUri")).read_text()
            definitions[logical_id] = raw
            props["Definition"] = json.loads(raw)
    return template, definitions


def _substitute_definitions(cfn: dict[str, Any], definitions: dict[str, str]) -> None:
    """Use the ASL file's own text; patches.py applies DefinitionSubstitutions, which moto ignores."""
    for logical_id, raw in definitions.items():
        cfn["Resources"][logical_id]["Properties"]["DefinitionString"] = raw


def deploy(
    stack_name: str = "lambda-promoter",
    region: str = "us-east-1",
    parameters: dict[str, str] | None = None,
    template_path: Path = ROOT / "template.yaml",
) -> dict[str, str]:
    """Deploy into the active moto; returns the stack's outputs."""
    session = boto3.session.Session(region_name=region)
    sam = yaml_parse(template_path.read_text())
    declared = {k: v for k, v in SANDBOX_PARAMETERS.items() if k in (sam.get("Parameters") or {})}
    parameters = declared | (parameters or {})
    sam, definitions = package(sam, session.client("s3"))
    cfn = transform(sam, parameters or {}, _OfflinePolicies())
    _substitute_definitions(cfn, definitions)
    cloudformation = session.client("cloudformation")
    cloudformation.create_stack(
        StackName=stack_name,
        TemplateBody=json.dumps(cfn),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in (parameters or {}).items()],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    if stack["StackStatus"] != "CREATE_COMPLETE":
        raise RuntimeError(f"sandbox stack {stack_name} is {stack['StackStatus']}")
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
