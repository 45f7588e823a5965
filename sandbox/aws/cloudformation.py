"""CloudFormation creates the template's resources as AWS does (template.yaml deployed itself).

moto's CloudFormation creates most resource types; these patches fill the gaps lambda-promoter's
templates hit. sandbox/deploy.py packages and translates the template as ``sam deploy`` does.
"""

from __future__ import annotations

import re
from typing import Any

from moto.awslambda import models as lambda_models
from moto.stepfunctions import models as sfn_base
from moto.stepfunctions import responses as sfn_responses

from sandbox.patching import original_classmethod, replace_classmethod


def keep_function_properties() -> None:
    """A CloudFormation ``AWS::Lambda::Function`` keeps its Layers, Architectures and Tags, as AWS
    creates it (moto dropped them, so a tagged target or the layer's code went missing).
    https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-lambda-function.html"""
    original = original_classmethod(lambda_models.LambdaFunction, "create_from_cloudformation_json")

    def create(cls: Any, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **kw: Any):
        fn = original(cls, resource_name, cloudformation_json, account_id, region_name, **kw)
        props = cloudformation_json["Properties"]
        if props.get("Layers"):
            arns = [layer if isinstance(layer, str) else layer.arn for layer in props["Layers"]]
            fn.layers = fn._get_layers_data(arns)
        if props.get("Architectures"):
            fn.architectures = props["Architectures"]
        tags = props.get("Tags") or []
        fn.tags = tags if isinstance(tags, dict) else {t["Key"]: t["Value"] for t in tags}
        return fn

    replace_classmethod(lambda_models.LambdaFunction, "create_from_cloudformation_json", create)


def create_schedule_groups() -> None:
    """``AWS::Scheduler::ScheduleGroup`` is created in moto's Scheduler (moto's CloudFormation lacks
    the type); ``!Ref`` gives its name, ``!GetAtt Arn`` its ARN.
    https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-scheduler-schedulegroup.html"""
    from moto.cloudformation import parsing
    from moto.core.common_models import CloudFormationModel
    from moto.scheduler.models import scheduler_backends

    class ScheduleGroupResource(CloudFormationModel):
        def __init__(self, group: Any) -> None:
            self.group = group

        @property
        def physical_resource_id(self) -> str:
            return self.group.name

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::Scheduler::ScheduleGroup"

        @staticmethod
        def cloudformation_name_type() -> str:
            return "Name"

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return attr == "Arn"

        def get_cfn_attribute(self, attribute_name: str) -> str:
            return self.group.arn

        @classmethod
        def create_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **kw: Any
        ) -> ScheduleGroupResource:
            name = cloudformation_json.get("Properties", {}).get("Name", resource_name)
            return cls(scheduler_backends[account_id][region_name].create_schedule_group(name, tags=[]))

    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()


def ref_names_and_arns() -> None:
    """``!Ref`` of an event bus gives its name and of a layer version its ARN, as AWS documents
    (moto gave the object itself).
    https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-events-eventbus.html#aws-resource-events-eventbus-return-values,
    https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-lambda-layerversion.html#aws-resource-lambda-layerversion-return-values"""
    from moto.events import models as events_models

    # moto's models lack the attribute its CloudFormation reads for !Ref; it is added here.
    events_models.EventBus.physical_resource_id = property(lambda self: self.name)  # type: ignore[attr-defined]
    lambda_models.LayerVersion.physical_resource_id = property(lambda self: self.arn)  # type: ignore[attr-defined]


def executable_state_machines() -> None:
    """A CloudFormation ``AWS::StepFunctions::StateMachine`` is created in the backend that executes,
    with its ``DefinitionSubstitutions`` applied as AWS applies them (moto created it where it
    cannot execute, and ignored the substitutions).
    https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-stepfunctions-statemachine.html#cfn-stepfunctions-statemachine-definitionsubstitutions"""

    def create_state_machine(
        cls: Any, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **kw: Any
    ):
        props = cloudformation_json["Properties"]
        substitutions = props.get("DefinitionSubstitutions") or {}
        definition = re.sub(
            r"\$\{([A-Za-z0-9_]+)\}",
            lambda m: str(substitutions.get(m.group(1), m.group(0))),
            props.get("DefinitionString", ""),
        )
        return sfn_responses.get_backend(account_id, region_name).create_state_machine(
            props.get("StateMachineName", resource_name),
            definition,
            props.get("RoleArn", ""),
            tags=sfn_base.cfn_to_api_tags(props.get("Tags", [])),
        )

    replace_classmethod(sfn_base.StateMachine, "create_from_cloudformation_json", create_state_machine)


def import_rest_api_bodies() -> None:
    """A CloudFormation ``AWS::ApiGateway::RestApi`` gets the methods of its OpenAPI ``Body``, as AWS
    imports it (moto ignored it, and the Deployment SAM adds failed with "The REST API doesn't
    contain any methods").
    https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-apigateway-restapi.html#cfn-apigateway-restapi-body"""
    from moto.apigateway import models as apigateway_models

    original = original_classmethod(apigateway_models.RestAPI, "create_from_cloudformation_json")

    def create(cls: Any, name: str, cloudformation_json: dict, account_id: str, region: str, **kw: Any):
        api = original(cls, name, cloudformation_json, account_id, region, **kw)
        body = cloudformation_json["Properties"].get("Body")
        if isinstance(body, dict) and str(body.get("openapi", "")).startswith("3"):
            backend = apigateway_models.apigateway_backends[account_id][region]
            backend.put_rest_api(api.id, body, fail_on_warnings=False, mode="overwrite")
        return api

    replace_classmethod(apigateway_models.RestAPI, "create_from_cloudformation_json", create)


def keep_bucket_properties() -> None:
    """A CloudFormation ``AWS::S3::Bucket`` gets its lifecycle rules, public access block and object
    ownership, as AWS creates it (moto applied only encryption and tags), and
    ``AWS::S3::BucketPolicy`` puts the bucket's policy (moto's CloudFormation lacks the type).
    https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-s3-bucket.html
    https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-s3-bucketpolicy.html"""
    import json

    from moto.cloudformation import parsing
    from moto.core.common_models import CloudFormationModel
    from moto.s3 import models as s3_models
    from moto.utilities.utils import get_partition

    original = original_classmethod(s3_models.FakeBucket, "create_from_cloudformation_json")

    def create(cls: Any, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **kw: Any):
        bucket = original(cls, resource_name, cloudformation_json, account_id, region_name, **kw)
        backend = s3_models.s3_backends[account_id][get_partition(region_name)]
        props = cloudformation_json.get("Properties", {})
        lifecycle = props.get("LifecycleConfiguration")
        if lifecycle:
            rules = []
            for rule in lifecycle.get("Rules", []):
                shaped: dict[str, Any] = {"ID": rule.get("Id"), "Status": rule["Status"], "Filter": {"Prefix": ""}}
                if "ExpirationInDays" in rule:
                    shaped["Expiration"] = {"Days": rule["ExpirationInDays"]}
                if "AbortIncompleteMultipartUpload" in rule:
                    days = rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"]
                    shaped["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": days}
                rules.append(shaped)
            backend.put_bucket_lifecycle_configuration(bucket.name, rules)
        block = props.get("PublicAccessBlockConfiguration")
        if block:
            backend.put_public_access_block(bucket.name, {k: str(v).lower() for k, v in block.items()})
        ownership = (props.get("OwnershipControls") or {}).get("Rules")
        if ownership:
            backend.put_bucket_ownership_controls(bucket.name, ownership[0]["ObjectOwnership"])
        return bucket

    replace_classmethod(s3_models.FakeBucket, "create_from_cloudformation_json", create)

    class BucketPolicyResource(CloudFormationModel):
        def __init__(self, bucket: str) -> None:
            self.bucket = bucket

        @property
        def physical_resource_id(self) -> str:
            return self.bucket

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::S3::BucketPolicy"

        @staticmethod
        def cloudformation_name_type() -> str:
            return ""

        @classmethod
        def create_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **kw: Any
        ) -> BucketPolicyResource:
            props = cloudformation_json["Properties"]
            backend = s3_models.s3_backends[account_id][get_partition(region_name)]
            backend.put_bucket_policy(props["Bucket"], json.dumps(props["PolicyDocument"]).encode())
            return cls(props["Bucket"])

    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()
