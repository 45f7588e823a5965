"""The workflow's Carry step: put a pipeline's artifact on another function and publish it there.

The API checked everything that needs no upload (promoter.pipelines) and answered 202; the carry
is the long part (download, UpdateFunctionCode, the wait for the update, PublishVersion), so it runs
here, with its own timeout and retries. A retry is safe:

- ``$LATEST`` already holding the source's CodeSha256 is not uploaded again;
- PublishVersion with the CodeSha256 precondition publishes nothing new when ``$LATEST`` did not
  change since the last version, and answers that version (an attempt that died after publishing).

The version found or published becomes the candidate, on the record, before Prepare runs. Nothing
here touches the alias: a failed carry ends FAILED with the alias where it was.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any, Literal

from ..aws import artifacts
from ..aws.sts import TargetAdapters
from ..errors import CarryFailed, InvalidRequest
from ..models import Carry, Promotion
from .context import WORKFLOW, Context
from .protocol import Records, ensure_live

Route = Literal["zip", "s3", "image"]


def route_for(package_type: str, size: int) -> Route:
    """How the code goes up: an image by digest, a zip in the request, or a zip through S3."""
    if package_type == "Image":
        return "image"
    if size > artifacts.MAX_CODE_SIZE:
        raise CarryFailed(f"the zip is {size} bytes, over Lambda's limit of {artifacts.MAX_CODE_SIZE} bytes")
    return "s3" if size > artifacts.MAX_DIRECT_UPLOAD else "zip"


def staging_key(promotion_id: str, code_sha256: str) -> str:
    digest = base64.b64decode(code_sha256).hex()
    return f"carry/{promotion_id}/{digest}.zip"


class Carrier:
    def __init__(self, ctx: Context, records: Records) -> None:
        self.ctx = ctx
        self.records = records

    def carry(self, promotion_id: str) -> dict[str, Any]:
        promotion = self.records.get(promotion_id)
        ensure_live(promotion)
        plan = promotion.carry
        if plan is None or (plan.done and promotion.candidate_version):
            return {"candidate": promotion.candidate_version}
        target = self.ctx.adapters_for(promotion.role_arn, promotion.external_id)
        latest = target.lambdas.get_function(promotion.function_arn)["Configuration"]
        if latest.get("CodeSha256") != plan.code_sha256:  # a retry finds it there and uploads nothing
            route = self._upload(promotion, plan, target, latest)
            self.records.mutate(promotion_id, lambda p: _uploaded(p, route))
        candidate = self._publish(promotion, plan, target)

        def carried(p: Promotion) -> None:
            ensure_live(p)
            p.candidate_version = candidate
            if p.carry is not None:
                p.carry.done = True
            p.record(WORKFLOW, "carried", f"version {candidate} published with CodeSha256 {plan.code_sha256}")

        self.records.mutate(promotion_id, carried)
        return {"candidate": candidate}

    def _upload(self, promotion: Promotion, plan: Carry, target: TargetAdapters, latest: dict[str, Any]) -> Route:
        source = self.ctx.adapters_for(plan.source_role_arn, plan.source_external_id)
        code = source.artifacts.version_code(plan.source_function_arn, plan.source_version)
        config = code["Configuration"]
        if config.get("CodeSha256") != plan.code_sha256:
            raise CarryFailed(
                f"version {plan.source_version} of {plan.source_function_arn} now has CodeSha256 "
                f"{config.get('CodeSha256')}, not {plan.code_sha256}"
            )
        route = route_for(config.get("PackageType", "Zip"), int(config.get("CodeSize") or 0))
        function, revision = promotion.function_arn, latest.get("RevisionId")
        if route == "image":
            image = code["Code"].get("ResolvedImageUri") or code["Code"]["ImageUri"]
            target.artifacts.update_code(function, image_uri=image, revision_id=revision)
            return route
        body = source.artifacts.download(code["Code"]["Location"], config.get("CodeSize"))
        if base64.b64encode(hashlib.sha256(body).digest()).decode() != plan.code_sha256:
            raise CarryFailed(f"the code downloaded does not match CodeSha256 {plan.code_sha256}")
        if route == "zip":
            target.artifacts.update_code(function, zip_file=body, revision_id=revision)
            return route
        bucket = self.ctx.settings.artifacts_bucket
        if not bucket:
            raise CarryFailed(f"the zip is {len(body)} bytes, over 50 MB, and no artifacts bucket is configured")
        key = staging_key(promotion.id, plan.code_sha256)
        self.ctx.staging.put(bucket, key, body, plan.code_sha256)
        try:
            target.artifacts.update_code(function, s3_object=(bucket, key), revision_id=revision)
        finally:
            self.ctx.staging.delete(bucket, key)  # Lambda copied it; the lifecycle rule is the fallback
        return route

    @staticmethod
    def _publish(promotion: Promotion, plan: Carry, target: TargetAdapters) -> str:
        try:
            candidate = target.lambdas.publish_version(
                promotion.function_arn, plan.code_sha256, description=plan.description[:256]
            )
        except InvalidRequest as error:
            raise CarryFailed(f"the function changed while the artifact was carried ({error.message})") from error
        published = target.lambdas.get_version(promotion.function_arn, candidate)
        if published.get("CodeSha256") != plan.code_sha256:
            raise CarryFailed(f"version {candidate} has CodeSha256 {published.get('CodeSha256')}, not the source's")
        if candidate == promotion.stable_version:
            raise CarryFailed(f"version {candidate} is the stable version: the alias already runs this artifact")
        stable = target.lambdas.get_version(promotion.function_arn, promotion.stable_version)
        for key, label in (("Role", "execution role"), ("DeadLetterConfig", "dead-letter config")):
            if stable.get(key) != published.get(key):
                raise CarryFailed(
                    f"versions {promotion.stable_version} and {candidate} differ in {label}; "
                    "a weighted alias needs them equal"
                )
        return candidate


def _uploaded(p: Promotion, route: Route) -> None:
    ensure_live(p)
    if p.carry is not None:
        p.carry.uploads += 1
        p.carry.via = route
    how = {"zip": "in the request", "s3": "through the artifacts bucket", "image": "by image digest"}[route]
    p.record(WORKFLOW, "uploaded", f"the artifact went up {how}")
