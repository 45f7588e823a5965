"""Use cases of pipelines: named, ordered environments, and promotion from one to the next.

Promoting into environment N takes the version environment N-1 runs now (README, "Choosing an environment strategy"):

- same function as N-1: that version number moves onto N's alias, with N's strategy and gates;
- another function, in this account or another one: every check is made here, then the
  promotion starts at once (the API answers 202) and the workflow's Carry step carries the same
  artifact across (the zip from GetFunction's code location, through S3 over 50 MB, or the
  image by digest), publishes it there with the CodeSha256 precondition and checks it, before N's
  strategy moves any traffic. N's configuration (environment variables, role, memory, layers)
  stays N's own.

Guards, all checked before anything changes: the version entered N-1 through a SUCCEEDED
promotion and is what N-1 runs now (``override`` with a reason skips both, where the pipeline
allows it); no freeze window is on; a protected environment waits for approval, by another
principal when ``approval_by_other``.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from datetime import datetime
from typing import Any

from .aws.artifacts import MAX_CODE_SIZE, ArtifactsAdapter
from .aws.errors import is_access_denied, plain_message
from .aws.lambda_ import AliasState
from .aws.pipeline_store import PipelineStore
from .aws.sts import TargetAdapters
from .errors import InvalidRequest, NotFound, PromoterError
from .freeze import frozen_until
from .guards import ensure_not_frozen
from .models import (
    Carry,
    Environment,
    EnvironmentInventory,
    Pipeline,
    PipelineDefinition,
    PipelineInventory,
    PipelinePromotionRequest,
    PipelineRecord,
    Promotion,
    PromotionOrigin,
    PromotionRequest,
    Status,
    utcnow,
)
from .promotions import PromoterService

GUARD_PAGES = 20  # pages of 25 promotions searched for the SUCCEEDED one that brought a version in


class PipelineService:
    def __init__(
        self,
        promoter: PromoterService,
        *,
        store: PipelineStore | None = None,
        artifacts: ArtifactsAdapter | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.promoter = promoter
        self.settings = promoter.settings
        self.store = store or PipelineStore(self.settings.table_name)
        self.artifacts = artifacts or ArtifactsAdapter()
        self.clock = clock

    # === definitions =============================================================================
    def put(self, name: str, definition: PipelineDefinition, actor: str) -> PipelineRecord:
        """Create or replace a pipeline after checking every target against AWS (through each
        environment's role): the function exists and is managed, the alias, alarms and hooks exist."""
        if definition.name is not None and definition.name != name:
            raise InvalidRequest(f"the body names pipeline {definition.name!r}, the path {name!r}", field="name")
        pipeline = Pipeline.model_validate(definition.model_dump() | {"name": name})
        for index, env in enumerate(pipeline.environments):
            self._check_target(index, env)
        now = self.clock()
        try:
            before = self.store.get(name)
            created_by, created_at = before.created_by, before.created_at
        except NotFound:
            created_by, created_at = actor, now
        record = PipelineRecord(
            pipeline=pipeline, created_by=created_by, created_at=created_at, updated_by=actor, updated_at=now
        )
        self.store.put(record)
        return record

    def get(self, name: str) -> PipelineRecord:
        return self.store.get(name)

    def list(self) -> list[PipelineRecord]:
        return self.store.list()

    def delete(self, name: str) -> PipelineRecord:
        record = self.store.get(name)
        self.store.delete(name)
        return record

    def ensure_environment(self, pipeline: str, environment: str, version: str | None = None) -> None:
        """For a later promotion (a schedule): the pipeline exists and has ``environment``, and
        something comes before it (or a version is given)."""
        try:
            record = self.store.get(pipeline)
        except NotFound as error:
            raise NotFound(error.message, field="pipeline") from error
        index, env = self._environment(record.pipeline, environment)
        if index == 0 and version is None:
            raise InvalidRequest(_first_needs_version(record.pipeline, env), field="to")

    # === promotion ===============================================================================
    def promote(self, request: PipelinePromotionRequest, actor: str) -> Promotion:
        pipeline = self.store.get(request.pipeline).pipeline
        index, env = self._environment(pipeline, request.to)
        if request.override and not pipeline.allow_override:
            raise InvalidRequest(
                f"pipeline {pipeline.name!r} does not allow overrides (allow_override: false)", field="override"
            )
        ensure_not_frozen(pipeline, env, self.clock(), field="to")
        reason = request.reason or f"promotion into {env.name} requested through pipeline {pipeline.name}"
        if index == 0:
            if request.version is None:
                raise InvalidRequest(_first_needs_version(pipeline, env), field="version")
            origin = PromotionOrigin(pipeline=pipeline.name, environment=env.name)
            return self._start(env, request.version, reason, actor, origin)

        source = pipeline.environments[index - 1]
        source_side, target_side = self._adapters(source), self._adapters(env)
        source_config = source_side.lambdas.get_function(source.function)["Configuration"]
        source_alias = source_side.lambdas.get_alias(source.function, source.alias)
        if not source_alias.is_settled:
            raise InvalidRequest(
                f"{source.name} is in the middle of a promotion (alias {source.alias} routes "
                f"{_routing(source_alias)}); promote into {env.name} once it has settled",
                field="to",
            )
        version = self._guarded_version(pipeline, source, env, source_config, source_alias, request)
        source_version = source_side.lambdas.get_version(source.function, version)
        origin = PromotionOrigin(
            pipeline=pipeline.name,
            environment=env.name,
            source_environment=source.name,
            source_function_arn=source_config["FunctionArn"],
            source_version=version,
            code_sha256=source_version.get("CodeSha256"),
            override_reason=request.override_reason if request.override else None,
        )
        target_function = target_side.lambdas.get_function(env.function)
        if target_function["Configuration"]["FunctionArn"] == source_config["FunctionArn"]:
            target_alias = target_side.lambdas.get_alias(env.function, env.alias)
            if target_alias.version == version:
                raise InvalidRequest(f"{env.name} already runs version {version}", field="to")
            return self._start(env, version, reason, actor, origin)
        # Another function: the workflow carries the artifact (its Carry step), so this answers at once.
        carry = self._carry_plan(pipeline, source, env, version, source_side, target_side, target_function)
        origin.copied = True
        return self._start(env, None, reason, actor, origin, carry=carry)

    def _guarded_version(
        self,
        pipeline: Pipeline,
        source: Environment,
        env: Environment,
        source_config: dict[str, Any],
        source_alias: AliasState,
        request: PipelinePromotionRequest,
    ) -> str:
        """The version to promote: what ``source`` runs now, and it got there through a SUCCEEDED
        promotion. ``override`` (allowed by the pipeline, with a reason) skips both checks."""
        running = source_alias.version
        how_to_override = (
            f"or pass override with a reason (pipeline {pipeline.name!r} allows it)"
            if pipeline.allow_override
            else f"(pipeline {pipeline.name!r} allows no override)"
        )
        if request.version is not None and request.version != running:
            if request.override:
                return request.version
            raise InvalidRequest(
                f"{env.name} takes the version {source.name} runs now, version {running}, not version "
                f"{request.version}: a version enters {env.name} only from {source.name}. Promote version "
                f"{request.version} into {source.name} first {how_to_override}",
                field="version",
            )
        if request.override:
            return running
        target = f"{source_config['FunctionArn']}:{source.alias}"
        if not self._succeeded_into(target, running):
            raise InvalidRequest(
                f"version {running} runs in {source.name} but never entered it through a SUCCEEDED promotion "
                f"of lambda-promoter; it may not move on to {env.name}. Promote it into {source.name} with "
                f"lambda-promoter first {how_to_override}",
                field="to",
            )
        return running

    def _succeeded_into(self, target: str, version: str) -> bool:
        token = None
        for _ in range(GUARD_PAGES):
            items, token = self.promoter.store.list(target=target, limit=25, next_token=token)
            if any(p.candidate_version == version and p.status is Status.SUCCEEDED for p in items):
                return True
            if not token:
                return False
        return False

    def _start(
        self,
        env: Environment,
        version: str | None,
        reason: str,
        actor: str,
        origin: PromotionOrigin,
        carry: Carry | None = None,
    ) -> Promotion:
        request = PromotionRequest(
            function=env.function,
            alias=env.alias,
            version=version,
            publish=version is None,
            strategy=env.strategy,
            analysis=env.analysis,
            fast_gate=env.fast_gate,
            alarms=env.alarms,
            hooks=env.hooks,
            approval=env.protected,
            insufficient_data=env.insufficient_data,
            watch_seconds=env.watch_seconds,
            reason=reason,
            role_arn=env.role_arn,
            external_id=env.external_id,
        )
        return self.promoter.start(request, actor, origin=origin, approval_by_other=env.approval_by_other, carry=carry)

    # === carrying an artifact to another function ==================================================
    def _carry_plan(
        self,
        pipeline: Pipeline,
        source: Environment,
        env: Environment,
        version: str,
        source_side: TargetAdapters,
        target_side: TargetAdapters,
        target_function: dict[str, Any],
    ) -> Carry:
        """Every check of carrying version ``version`` of the source's code to the target function,
        and what the workflow's Carry step needs to do it (promoter.promotions.carry). Only reads:
        the upload, the wait for the update and the publish are the workflow's, not the request's.
        """
        code = source_side.artifacts.version_code(source.function, version)
        source_config, target_config = code["Configuration"], target_function["Configuration"]
        sha = source_config["CodeSha256"]
        # The same checks as a start, so that a refusal comes before the target's code changes.
        config, alias = self.promoter.preflight(self._probe(env))
        current = target_side.lambdas.get_version(env.function, alias.version)
        if current.get("CodeSha256") == sha:
            raise InvalidRequest(
                f"{env.name} already runs this artifact: version {alias.version} of {config['FunctionName']} "
                f"has CodeSha256 {sha}",
                field="to",
            )
        problems = self._mismatches(source, env, version, source_config, target_config, source_side, target_side)
        if problems:
            raise InvalidRequest(
                f"cannot carry version {version} of {source.name} ({source_config['FunctionArn']}) to {env.name} "
                f"({target_config['FunctionArn']}): " + "; ".join(problems),
                field="to",
            )
        return Carry(
            source_function_arn=source_config["FunctionArn"],
            source_version=version,
            code_sha256=sha,
            source_role_arn=source.role_arn,
            source_external_id=source.external_id,
            description=f"lambda-promoter {pipeline.name}: {source.name} version {version} ({sha})"[:256],
        )

    @staticmethod
    def _probe(env: Environment) -> PromotionRequest:
        """A request for ``preflight``: everything but the version, which does not exist yet."""
        return PromotionRequest(
            function=env.function,
            alias=env.alias,
            publish=True,
            alarms=env.alarms,
            hooks=env.hooks,
            role_arn=env.role_arn,
            external_id=env.external_id,
        )

    def _mismatches(
        self,
        source: Environment,
        env: Environment,
        version: str,
        source_config: dict[str, Any],
        target_config: dict[str, Any],
        source_side: TargetAdapters,
        target_side: TargetAdapters,
    ) -> builtins.list[str]:
        """What keeps the artifact from running on the target as it ran on the source."""
        problems = []
        checks = (
            ("PackageType", "package type", "Zip"),
            ("Runtime", "runtime", None),
            ("Architectures", "architecture", ["x86_64"]),
            ("Handler", "handler", None),
        )
        for key, label, default in checks:
            mine, theirs = source_config.get(key, default), target_config.get(key, default)
            if mine != theirs:
                problems.append(
                    f"{label} differs: {source.name} version {version} has {_show(mine)}, {env.name}'s function "
                    f"has {_show(theirs)} (change {env.name}'s function configuration, or build for it)"
                )
        size = source_config.get("CodeSize") or 0
        if source_config.get("PackageType", "Zip") == "Zip" and size > MAX_CODE_SIZE:
            problems.append(f"the zip is {size} bytes, over Lambda's limit of {MAX_CODE_SIZE} bytes (250 MB)")
        problems += self._layer_problems(source, env, version, source_config, target_config, source_side, target_side)
        return problems

    @staticmethod
    def _layer_problems(
        source: Environment,
        env: Environment,
        version: str,
        source_config: dict[str, Any],
        target_config: dict[str, Any],
        source_side: TargetAdapters,
        target_side: TargetAdapters,
    ) -> builtins.list[str]:
        """The target's layers are its configuration, so they are never changed here; they must hold
        the same content (CodeSha256) as the source version's, in the same order."""
        mine = [layer["Arn"] for layer in source_config.get("Layers") or []]
        theirs = [layer["Arn"] for layer in target_config.get("Layers") or []]
        if mine == theirs:
            return []
        mine_content = [source_side.artifacts.layer_content(arn) for arn in mine]
        theirs_content = [target_side.artifacts.layer_content(arn) for arn in theirs]
        if mine_content == theirs_content and None not in mine_content:
            return []  # copies of the same layers in the target account
        account = (target_config.get("FunctionArn") or "").split(":")[4] if target_config.get("FunctionArn") else "?"
        problems = []
        for arn in mine:
            if target_side.artifacts.layer_content(arn) is None:
                layer_arn, _, number = arn.rpartition(":")
                problems.append(
                    f"account {account} cannot read layer {arn}: in the layer's account run `aws lambda "
                    f"add-layer-version-permission --layer-name {layer_arn} --version-number {number} "
                    f"--statement-id promoter-{account} --action lambda:GetLayerVersion --principal {account}`, "
                    "or publish the same layer in that account"
                )
        problems.append(
            f"layers differ: {source.name} version {version} runs with {mine or 'no layers'}, {env.name}'s function "
            f"with {theirs or 'no layers'}; configure {env.name}'s function with the same layers (lambda-promoter "
            "never changes a target's configuration)"
        )
        return problems

    # === inventory =================================================================================
    def inventory(self, name: str) -> PipelineInventory:
        """Per environment: function, alias, version, CodeSha256, routing, active and last promotion,
        freeze, and drift (the alias is not where the control plane left it)."""
        record = self.store.get(name)
        return PipelineInventory(
            record=record, environments=[self._environment_inventory(env) for env in record.pipeline.environments]
        )

    def _environment_inventory(self, env: Environment) -> EnvironmentInventory:
        view = EnvironmentInventory(
            name=env.name, function=env.function, alias=env.alias, role_arn=env.role_arn, protected=env.protected
        )
        frozen = frozen_until(env.freeze_windows, self.clock())
        view.frozen_until = frozen[0] if frozen else None
        try:
            side = self._adapters(env)
            view.function_arn = side.lambdas.get_function(env.function)["Configuration"]["FunctionArn"]
            alias = side.lambdas.get_alias(env.function, env.alias)
            view.version, view.weights = alias.version, alias.weights
            view.code_sha256 = side.lambdas.get_version(env.function, alias.version).get("CodeSha256")
        except Exception as error:  # noqa: BLE001 - one unreadable environment must not hide the others
            view.error = error.message if isinstance(error, PromoterError) else plain_message(error)
            return view
        target = f"{view.function_arn}:{env.alias}"
        view.active_promotion = self.promoter.reads.active_promotion(target)
        view.last_promotion = self.promoter.reads.last_finished_promotion(target)
        view.drift, view.drift_reason = drift_of(alias, view.active_promotion, view.last_promotion)
        return view

    # === helpers ===================================================================================
    def _adapters(self, env: Environment) -> TargetAdapters:
        if env.role_arn:
            return self.promoter.roles.adapters(env.role_arn, env.external_id)
        return TargetAdapters(self.promoter.ctx.lambdas, self.promoter.ctx.alarms, self.artifacts)

    @staticmethod
    def _environment(pipeline: Pipeline, name: str) -> tuple[int, Environment]:
        try:
            return pipeline.environment(name)
        except KeyError:
            names = ", ".join(e.name for e in pipeline.environments)
            raise InvalidRequest(
                f"pipeline {pipeline.name!r} has no environment {name!r}; it has {names}", field="to"
            ) from None

    def _check_target(self, index: int, env: Environment) -> None:
        where = f"environments.{index}"
        through = f" (through role {env.role_arn})" if env.role_arn else ""
        region = _region_of(env.function)
        if region and region != self.settings.region:
            raise InvalidRequest(
                f"{env.name}: the function is in {region}; this control plane works in {self.settings.region}",
                field=f"{where}.function",
            )
        try:
            side = self._adapters(env)
        except InvalidRequest as error:
            raise InvalidRequest(f"{env.name}: {error.message}", field=f"{where}.role_arn") from error
        try:
            function = side.lambdas.get_function(env.function)
        except NotFound as error:
            raise InvalidRequest(
                f"{env.name}: function {env.function!r} does not exist{through}", field=f"{where}.function"
            ) from error
        except Exception as error:
            raise _denied(error, env, f"{where}.role_arn" if env.role_arn else f"{where}.function") from error
        try:
            self.promoter.ensure_managed(env.function, function.get("Tags") or {})
        except InvalidRequest as error:
            raise InvalidRequest(f"{env.name}: {error.message}", field=f"{where}.function") from error
        try:
            side.lambdas.get_alias(env.function, env.alias)
        except InvalidRequest as error:
            raise InvalidRequest(f"{env.name}: {error.message}{through}", field=f"{where}.alias") from error
        missing = [name for name, state in side.alarms.states(env.alarms).items() if state == "MISSING"]
        if missing:
            raise InvalidRequest(
                f"{env.name}: alarms do not exist{through}: {', '.join(missing)}", field=f"{where}.alarms"
            )
        for phase in ("pre_traffic", "post_traffic"):
            hook = getattr(env.hooks, phase)
            if hook:
                try:
                    side.lambdas.get_function(hook)
                except NotFound as error:
                    raise InvalidRequest(
                        f"{env.name}: hook function {hook!r} does not exist{through}", field=f"{where}.hooks.{phase}"
                    ) from error


def drift_of(alias: AliasState, active: Promotion | None, last: Promotion | None) -> tuple[bool | None, str]:
    """Is the alias where the control plane left it? Compared by RevisionId with the promotion
    that holds the target now, else the last one that ended (None: no promotion yet)."""
    reference = active or last
    if reference is None:
        return None, "no promotion by lambda-promoter on this alias yet"
    if alias.revision_id == reference.revision_id:
        return False, ""
    in_flight = [
        c for c in reference.claims if c.state == "pending" and c.target.same_routing(alias.version, alias.weights)
    ]
    if active is not None and in_flight:
        return False, "a write of the active promotion is in flight"
    confirmed = reference.confirmed_alias
    if confirmed is not None and confirmed.same_routing(alias.version, alias.weights):
        return False, "the routing is as the control plane left it (another field of the alias changed)"
    if reference.status is Status.SUCCEEDED:
        left = f"version {reference.candidate_version}"
    elif reference.status.is_final:
        left = f"version {reference.stable_version}" if reference.current_weight == 0 else "its last write"
    else:
        left = f"its step at {reference.current_weight:.0%}"
    return True, (
        f"the alias is on version {alias.version} with routing {_routing(alias)}, but promotion {reference.id} "
        f"({reference.status}) left it at {left}: it was changed outside lambda-promoter"
    )


def _routing(alias: AliasState) -> str:
    return ", ".join(f"{v}: {w:.0%}" for v, w in sorted(alias.weights.items())) or "empty"


def _show(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none"
    return str(value) if value is not None else "none"


def _first_needs_version(pipeline: Pipeline, env: Environment) -> str:
    return (
        f"{env.name} is the first environment of pipeline {pipeline.name!r}: nothing runs before it, so "
        "give the version to promote into it"
    )


def _region_of(function: str) -> str | None:
    parts = function.split(":")
    return parts[3] if len(parts) >= 7 and parts[0] == "arn" else None


def _denied(error: Exception, env: Environment, field: str) -> PromoterError:
    if is_access_denied(error):
        who = f"role {env.role_arn}" if env.role_arn else "the control plane"
        return InvalidRequest(
            # With the tag condition, AWS answers AccessDenied for a function that does not exist too.
            f"{env.name}: {who} may not read function {env.function!r}: it does not exist, or it is not tagged "
            "promoter:managed=true, or the role does not carry templates/target-account.yaml's policy",
            field=field,
        )
    if isinstance(error, PromoterError):
        return error
    raise error
