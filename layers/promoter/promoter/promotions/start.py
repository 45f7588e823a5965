"""Starting a promotion: every check that needs no new version, the lock, then publish, record, start.

Nothing on the alias changes here, so a refusal leaves the alias as it was. A version published
for a start that is then refused is named in the refusal (``published_version``).
"""

from __future__ import annotations

import secrets
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

from .. import clock, observability
from ..analysis.models import AnalysisRecord
from ..aws.errors import plain_message
from ..aws.lambda_ import MAX_HOOK_TIMEOUT_SECONDS, AliasState
from ..errors import InvalidRequest, NotFound, PromoterError, TargetBusy
from ..guards import TargetGuards
from ..models import (
    FAST_GATE_CROSS_ACCOUNT,
    AliasTarget,
    Carry,
    Ending,
    Promotion,
    PromotionOrigin,
    PromotionRequest,
    Status,
    StatusChange,
    StepRecord,
)
from ..strategies import steps_for
from .context import WORKFLOW, Context
from .protocol import Records, end


def execution_arn_for(state_machine_arn: str, name: str) -> str:
    """Known before the start, so the record never needs a write after the workflow runs."""
    return state_machine_arn.replace(":stateMachine:", ":execution:", 1) + ":" + name


# No Lambda runs longer than 15 minutes: a lock older than that whose record was never written
# belongs to a start that died between the lock and the record, and the next start takes it over.
ORPHAN_LOCK_SECONDS = 900


def new_promotion_id() -> str:
    """Its time is when the lock is taken (``lock_age_seconds`` reads it)."""
    return f"p-{clock.now():%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"


def lock_age_seconds(promotion_id: str) -> float | None:
    try:
        taken = datetime.strptime(promotion_id.split("-")[1], "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
    except (IndexError, ValueError):
        return None
    return (clock.now() - taken).total_seconds()


class Starter:
    def __init__(self, ctx: Context, records: Records) -> None:
        self.ctx = ctx
        self.records = records
        self.guards: TargetGuards | None = None  # None where no pipeline store is wired (fakes)

    def start(
        self,
        request: PromotionRequest,
        actor: str,
        *,
        origin: PromotionOrigin | None = None,
        approval_by_other: bool = False,
        carry: Carry | None = None,
    ) -> Promotion:
        """Validate against AWS, take the target's lock, publish if asked, record, start the workflow.

        ``origin`` and ``approval_by_other`` come from a pipeline (promoter.pipelines); any other
        start on a target a pipeline covers gets that environment's guards here. With ``carry``
        nothing is published here: the workflow's Carry step uploads the artifact and publishes the
        candidate, so the start answers at once.
        """
        self._ensure_fast_gate_supported(request)  # before the role is assumed: it needs no call
        lambdas = self.ctx.lambdas_for(request)
        config, alias = self.preflight(request)
        approval = request.approval
        if origin is None and self.guards is not None:
            guarded = self.guards(request, config["FunctionArn"])
            if guarded is not None:
                approval = approval or guarded.approval
                approval_by_other = approval_by_other or guarded.approval_by_other
                origin = guarded.origin
        if request.version:
            self._ensure_candidate(lambdas, request, alias, request.version)
        target = f"{config['FunctionArn']}:{request.alias}"
        promotion_id = new_promotion_id()
        published = None
        # Publishing takes the lock first (two starts must not both publish); otherwise the lock
        # is taken with the record, in one transaction: a start leaves both or neither.
        publishing = request.version is None and carry is None
        try:
            # In the try: a lock taken whose answer was lost (a throttle) is released too.
            candidate = request.version
            if publishing:
                self.ctx.store.acquire_lock(target, promotion_id)
                published = candidate = lambdas.publish_version(
                    request.function, request.code_sha256, description=_description(request.reason)
                )
                self._ensure_candidate(lambdas, request, alias, candidate)
            promotion = self._new_record(promotion_id, request, config, alias, candidate, actor, origin)
            promotion.approval = approval
            promotion.approval_by_other = approval_by_other
            if carry is not None:
                promotion.carry = carry
                promotion.record(actor, "carry", f"the workflow carries the artifact ({carry.code_sha256}) first")
            written = self.ctx.store.create(promotion, lock=None if publishing else target)
        except PromoterError as error:
            if publishing:
                self.ctx.store.release_lock(target, promotion_id)
            if published:
                error.details["published_version"] = published
                error.message += f" (version {published} was published for this start and is left in place)"
            raise
        except Exception as error:
            if publishing:
                self.ctx.store.release_lock(target, promotion_id)
            else:  # the transaction may have landed with its answer lost: end it, free the target
                self._abandon(promotion_id, error, "the start's record write did not answer")
            raise
        try:
            self.records.announce(promotion, read=written)
            self.ctx.workflow.start(
                self.ctx.settings.state_machine_arn,
                promotion.id,
                # "judge": holds go through the Judge task (canary analysis); "carry": the Carry task first
                {
                    "promotion_id": promotion.id,
                    "woke": None,
                    "judge": promotion.analysis is not None,
                    "carry": promotion.carry is not None,
                },
            )
        except Exception as error:
            self._abandon(promotion.id, error)
            raise
        observability.started(promotion)
        return promotion

    def _new_record(
        self,
        promotion_id: str,
        request: PromotionRequest,
        config: dict[str, Any],
        alias: AliasState,
        candidate: str | None,
        actor: str,
        origin: PromotionOrigin | None,
    ) -> Promotion:
        steps = steps_for(request.strategy)
        promotion = Promotion(
            id=promotion_id,
            function=config["FunctionName"],
            function_arn=config["FunctionArn"],
            alias=request.alias,
            stable_version=alias.version,
            candidate_version=candidate,
            steps=[StepRecord(index=i, weight=s.weight, bake_seconds=s.bake_seconds) for i, s in enumerate(steps)],
            alarms=request.alarms,
            hooks=request.hooks,
            approval=request.approval,
            insufficient_data=request.insufficient_data,
            watch_seconds=request.watch_seconds,
            reason=request.reason,
            revision_id=alias.revision_id,
            confirmed_alias=AliasTarget(version=alias.version, weights=alias.weights),
            role_arn=request.role_arn,
            external_id=request.external_id,
            origin=origin,
            analysis=AnalysisRecord(spec=request.analysis) if request.analysis else None,
            fast_gate=request.fast_gate,
            created_by=actor,
            created_at=clock.now(),
        )
        promotion.execution_arn = execution_arn_for(self.ctx.settings.state_machine_arn, promotion.id)
        promotion.record(actor, "created", request.reason or "promotion requested")
        promotion.unannounced.append(
            StatusChange(
                previous=None, status=Status.PENDING, actor=actor, reason=promotion.events[-1].message, at=clock.now()
            )
        )
        if request.role_arn:
            promotion.record(actor, "target_account", f"every call on the target goes through role {request.role_arn}")
        if origin is not None:
            promotion.record(actor, "origin", describe_origin(origin))
        return promotion

    def _abandon(self, promotion_id: str, error: Exception, what: str = "could not start the workflow") -> None:
        """The workflow never started: the record (if it was written) ends FAILED and the target is
        free, in one write."""
        reason = f"{what}: {plain_message(error)}"

        def fail(p: Promotion) -> None:
            if p.ending is None:
                p.ending = Ending(status=Status.FAILED, reason=reason, actor=WORKFLOW)
            end(p, WORKFLOW)

        with suppress(NotFound):
            self.records.mutate(promotion_id, fail)

    def preflight(self, request: PromotionRequest) -> tuple[dict[str, Any], AliasState]:
        """What ``start`` checks before it touches anything, except the version: the function is
        managed, the target not busy, the alias settled, hooks present, alarms present and quiet.
        Returns the function's configuration and the alias."""
        self._ensure_fast_gate_supported(request)  # before any call: it needs none
        lambdas = self.ctx.lambdas_for(request)
        function = lambdas.get_function(request.function)
        config, tags = function["Configuration"], function.get("Tags") or {}
        self.ensure_managed(request.function, tags)
        target = f"{config['FunctionArn']}:{request.alias}"
        holder = self.ctx.store.lock_holder(target)
        if holder and self._orphaned_lock(target, holder):
            holder = None
        if holder:  # busy wins over "alias is mid-shift"
            raise TargetBusy(f"{target} is busy with promotion {holder}", field="alias", active_promotion=holder)
        alias = lambdas.get_alias(request.function, request.alias)
        if not alias.is_settled:
            raise InvalidRequest(
                f"alias {request.alias!r} already routes traffic to {sorted(alias.weights)}; "
                "settle it (one version, empty routing) first",
                field="alias",
            )
        self._ensure_hooks_ready(request)
        self.ensure_alarms_ready(request.alarms, request.insufficient_data, request)
        return config, alias

    def _ensure_fast_gate_supported(self, request: PromotionRequest) -> None:
        if request.fast_gate is None:
            return
        if request.role_arn:  # the filter, its destination and the permission would span two accounts
            raise InvalidRequest(FAST_GATE_CROSS_ACCOUNT, field="fast_gate")

    def _orphaned_lock(self, target: str, holder: str) -> bool:
        """A lock with no record, older than any start can run: its start died; release it."""
        try:
            self.ctx.store.get_with_rev(holder)
            return False
        except NotFound:
            pass
        age = lock_age_seconds(holder)
        if age is None or age < ORPHAN_LOCK_SECONDS:
            return False
        self.ctx.store.release_lock(target, holder)  # only if it is still that start's
        return True

    def ensure_target_exists(self, request: PromotionRequest) -> None:
        """For a later start (a schedule): the function exists, is managed, and has the alias."""
        lambdas = self.ctx.lambdas_for(request)
        function = lambdas.get_function(request.function)
        self.ensure_managed(request.function, function.get("Tags") or {})
        lambdas.get_alias(request.function, request.alias)

    def ensure_managed(self, function: str, tags: dict[str, str]) -> None:
        key, value = self.ctx.settings.managed_tag_key, self.ctx.settings.managed_tag_value
        if tags.get(key) != value:
            raise InvalidRequest(
                f"function {function!r} is not managed by lambda-promoter: tag it {key}={value}",
                field="function",
            )

    def _ensure_hooks_ready(self, request: PromotionRequest) -> None:
        for phase in ("pre_traffic", "post_traffic"):
            hook = getattr(request.hooks, phase)
            if not hook:
                continue
            try:
                config = self.ctx.lambdas_for(request).get_function(hook)["Configuration"]
            except NotFound as error:
                raise InvalidRequest(f"hook function {hook!r} does not exist", field=f"hooks.{phase}") from error
            if int(config.get("Timeout") or 3) > MAX_HOOK_TIMEOUT_SECONDS:
                raise InvalidRequest(
                    f"hook function {hook!r} has a Timeout of {config.get('Timeout')} s; a hook may run at most "
                    f"{MAX_HOOK_TIMEOUT_SECONDS} s so that the workflow's own timeout covers it",
                    field=f"hooks.{phase}",
                )

    def ensure_alarms_ready(self, names: list[str], insufficient_data: str, target: Any) -> None:
        """Alarms exist, are not in ALARM, and not INSUFFICIENT_DATA under the ``fail`` policy."""
        states = self.ctx.alarms_for(target).states(names)
        missing = [n for n, s in states.items() if s == "MISSING"]
        if missing:
            raise InvalidRequest(f"alarms do not exist: {', '.join(missing)}", field="alarms")
        firing = [n for n, s in states.items() if s == "ALARM"]
        if firing:
            raise InvalidRequest(
                f"alarms are already in ALARM: {', '.join(firing)}; a promotion cannot start", field="alarms"
            )
        unknown = [n for n, s in states.items() if s == "INSUFFICIENT_DATA"]
        if unknown and insufficient_data == "fail":
            raise InvalidRequest(
                f"alarms are INSUFFICIENT_DATA: {', '.join(unknown)}; with insufficient_data=fail a promotion "
                "cannot start on alarms that have no data (send traffic first, or set insufficient_data=pass)",
                field="alarms",
            )

    def _ensure_candidate(self, lambdas: Any, request: PromotionRequest, alias: AliasState, candidate: str) -> None:
        """Not the stable version, published, and alias-compatible (same role and DLQ)."""
        if candidate == alias.version:
            raise InvalidRequest(
                f"version {candidate} is already the stable version of alias {request.alias!r}", field="version"
            )
        old, new = (
            lambdas.get_version(request.function, alias.version),
            lambdas.get_version(request.function, candidate),
        )
        for key, label in (("Role", "execution role"), ("DeadLetterConfig", "dead-letter config")):
            if old.get(key) != new.get(key):
                raise InvalidRequest(
                    f"versions {alias.version} and {candidate} differ in {label}; a weighted alias needs them equal",
                    field="version",
                )


def _description(reason: str) -> str:
    """A version's Description is at most 256 characters on AWS."""
    text = f"published by lambda-promoter: {reason}" if reason else "published by lambda-promoter"
    return text if len(text) <= 256 else text[:255] + "…"


def describe_origin(origin: PromotionOrigin) -> str:
    """One line for the event history: which pipeline step, from where, which artifact."""
    text = f"pipeline {origin.pipeline}: into {origin.environment}"
    if origin.source_environment:
        text += f" from {origin.source_environment} (version {origin.source_version} of {origin.source_function_arn})"
    if origin.code_sha256:
        text += f", CodeSha256 {origin.code_sha256}"
    if origin.copied:
        text += "; the artifact is carried to this function and published here"
    if origin.override_reason:
        text += f"; guards overridden: {origin.override_reason}"
    return text
