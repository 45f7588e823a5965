"""Use cases: start a promotion, run its workflow tasks, and take signals from outside.

The API, the workflow handlers and the CLI all go through this module; handlers stay thin.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
from datetime import UTC, datetime
from typing import Any

from . import decisions
from .aws.cloudwatch import AlarmsAdapter
from .aws.dynamodb import PromotionStore
from .aws.events import STATUS_CHANGED, EventsAdapter
from .aws.lambda_ import AliasState, LambdaAdapter
from .aws.stepfunctions import WorkflowAdapter
from .aws.sts import RoleSessions
from .errors import (
    AlarmFired,
    AliasDrift,
    HookFailed,
    InvalidRequest,
    NotFound,
    PromotionAborted,
    PromotionEnded,
    TargetBusy,
)
from .models import (
    AliasInventory,
    AliasTarget,
    FunctionInventory,
    Promotion,
    PromotionOrigin,
    PromotionRequest,
    Signal,
    Status,
    StepRecord,
    utcnow,
)
from .settings import Settings
from .strategies import steps_for

WORKFLOW = "workflow"
NEXT_MOVE_WORDS = {"next": "next step", "promote": "promoting", "pause": "pausing"}


def execution_arn_for(state_machine_arn: str, name: str) -> str:
    """Known before the start, so the record never needs a write after the workflow runs."""
    return state_machine_arn.replace(":stateMachine:", ":execution:", 1) + ":" + name


def new_promotion_id() -> str:
    return f"p-{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"


class PromoterService:
    def __init__(
        self,
        settings: Settings,
        *,
        lambdas: LambdaAdapter | None = None,
        alarms: AlarmsAdapter | None = None,
        store: PromotionStore | None = None,
        workflow: WorkflowAdapter | None = None,
        events: EventsAdapter | None = None,
        roles: RoleSessions | None = None,
    ) -> None:
        self.settings = settings
        self.lambdas = lambdas or LambdaAdapter()
        self.alarms = alarms or AlarmsAdapter()
        self.store = store or PromotionStore(settings.table_name)
        self.workflow = workflow or WorkflowAdapter()
        self.events = events or EventsAdapter()
        self.roles = roles or RoleSessions(settings.region)

    # === which account: the control plane's own, or a target account through its role ===========
    def _lambdas_for(self, target: Promotion | PromotionRequest) -> LambdaAdapter:
        """Lambda calls for a promotion (or request) go through its role when it has one."""
        if not target.role_arn:
            return self.lambdas
        return self.roles.adapters(target.role_arn, target.external_id).lambdas

    def _alarms_for(self, target: Promotion | PromotionRequest) -> AlarmsAdapter:
        """Alarms live in the target's account: read them through the same role."""
        if not target.role_arn:
            return self.alarms
        return self.roles.adapters(target.role_arn, target.external_id).alarms

    # === start ===================================================================================
    def start(
        self,
        request: PromotionRequest,
        actor: str,
        *,
        origin: PromotionOrigin | None = None,
        approval_by_other: bool = False,
    ) -> Promotion:
        """Validate against AWS, take the target's lock, record, and start the workflow.

        Nothing on the alias changes here, so a refusal leaves everything as it was. With a
        ``role_arn`` every call goes to the target's account through that role. ``origin`` and
        ``approval_by_other`` come from a pipeline (promoter.pipelines).
        """
        lambdas = self._lambdas_for(request)
        config, alias = self.preflight(request)
        candidate = request.version or lambdas.publish_version(
            request.function, request.code_sha256, description=f"published by lambda-promoter: {request.reason}"
        )
        if candidate == alias.version:
            raise InvalidRequest(
                f"version {candidate} is already the stable version of alias {request.alias!r}",
                field="version",
            )
        self._ensure_compatible(lambdas, request.function, alias.version, candidate)

        steps = steps_for(request.strategy)
        promotion = Promotion(
            id=new_promotion_id(),
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
            role_arn=request.role_arn,
            external_id=request.external_id,
            approval_by_other=approval_by_other,
            origin=origin,
            created_by=actor,
        )
        promotion.execution_arn = execution_arn_for(self.settings.state_machine_arn, promotion.id)
        promotion.record(actor, "created", request.reason or "promotion requested")
        if request.role_arn:
            promotion.record(actor, "target_account", f"every call on the target goes through role {request.role_arn}")
        if origin is not None:
            promotion.record(actor, "origin", describe_origin(origin))
        self.store.acquire_lock(promotion.target_key, promotion.id)
        try:
            self.store.create(promotion)
            self.store.add_watches(promotion.id, promotion.alarms)
            self._notify(promotion, previous=None)
            self.workflow.start(self.settings.state_machine_arn, promotion.id, {"promotion_id": promotion.id})
        except Exception as error:
            self._abandon(promotion, error)
            raise
        return promotion

    def _abandon(self, promotion: Promotion, error: Exception) -> None:
        """The workflow never started: mark the record FAILED (if written) and free the target."""
        try:
            def fail(p: Promotion) -> None:
                p.status = Status.FAILED
                p.ended_at = utcnow()
                p.outcome_reason = f"could not start the workflow: {error}"
                p.record(WORKFLOW, "failed", p.outcome_reason)

            self._mutate(promotion.id, fail)
        except NotFound:
            pass
        finally:
            self.store.remove_watches(promotion.id, promotion.alarms)
            self.store.release_lock(promotion.target_key, promotion.id)

    def preflight(self, request: PromotionRequest) -> tuple[dict[str, Any], AliasState]:
        """What ``start`` checks before it touches anything, except the version: the function is
        managed, the target not busy, the alias settled, hooks present, alarms present and quiet.
        Returns the function's configuration and the alias."""
        lambdas = self._lambdas_for(request)
        function = lambdas.get_function(request.function)
        config, tags = function["Configuration"], function.get("Tags") or {}
        self._ensure_managed(request.function, tags)
        target = f"{config['FunctionArn']}:{request.alias}"
        if holder := self.store.lock_holder(target):  # busy wins over "alias is mid-shift"
            raise TargetBusy(f"{target} is busy with promotion {holder}", field="alias", active_promotion=holder)
        alias = lambdas.get_alias(request.function, request.alias)
        if not alias.is_settled:
            raise InvalidRequest(
                f"alias {request.alias!r} already routes traffic to {sorted(alias.weights)}; "
                "settle it (one version, empty routing) first",
                field="alias",
            )
        self._ensure_hooks_exist(request)
        self._ensure_alarms_ready(request.alarms, self._alarms_for(request))
        return config, alias

    def ensure_target_exists(self, request: PromotionRequest) -> None:
        """For a later start (a schedule): the function exists, is managed, and has the alias."""
        lambdas = self._lambdas_for(request)
        function = lambdas.get_function(request.function)
        self._ensure_managed(request.function, function.get("Tags") or {})
        lambdas.get_alias(request.function, request.alias)

    def _ensure_managed(self, function: str, tags: dict[str, str]) -> None:
        key, value = self.settings.managed_tag_key, self.settings.managed_tag_value
        if tags.get(key) != value:
            raise InvalidRequest(
                f"function {function!r} is not managed by lambda-promoter: tag it {key}={value}",
                field="function",
            )

    def _ensure_hooks_exist(self, request: PromotionRequest) -> None:
        for phase in ("pre_traffic", "post_traffic"):
            hook = getattr(request.hooks, phase)
            if hook:
                try:
                    self._lambdas_for(request).get_function(hook)
                except NotFound as error:
                    raise InvalidRequest(f"hook function {hook!r} does not exist", field=f"hooks.{phase}") from error

    def _ensure_alarms_ready(self, names: list[str], alarms: AlarmsAdapter | None = None) -> None:
        states = (alarms or self.alarms).states(names)
        missing = [n for n, s in states.items() if s == "MISSING"]
        if missing:
            raise InvalidRequest(f"alarms do not exist: {', '.join(missing)}", field="alarms")
        firing = [n for n, s in states.items() if s == "ALARM"]
        if firing:
            raise InvalidRequest(
                f"alarms are already in ALARM: {', '.join(firing)}; a promotion cannot start", field="alarms"
            )

    def _ensure_compatible(self, lambdas: LambdaAdapter, function: str, stable: str, candidate: str) -> None:
        """A weighted alias needs both versions to share the execution role and DLQ config."""
        old, new = lambdas.get_version(function, stable), lambdas.get_version(function, candidate)
        for key, label in (("Role", "execution role"), ("DeadLetterConfig", "dead-letter config")):
            if old.get(key) != new.get(key):
                raise InvalidRequest(
                    f"versions {stable} and {candidate} differ in {label}; a weighted alias needs them equal",
                    field="version",
                )

    # === workflow tasks ==========================================================================
    def prepare(self, promotion_id: str) -> dict[str, Any]:
        """Last check before traffic: the alias is still where we found it, alarms are quiet."""
        promotion = self.store.get(promotion_id)
        if promotion.status is not Status.PENDING:
            raise PromotionAborted(f"promotion is already {promotion.status}; nothing to run")
        if promotion.signal is Signal.ABORT:
            raise PromotionAborted("aborted before it started")
        alias = self._lambdas_for(promotion).get_alias(promotion.function_arn, promotion.alias)
        if alias.revision_id != promotion.revision_id:
            raise AliasDrift(f"alias {promotion.alias} changed between the request and the start")
        self._ensure_alarms_ready(promotion.alarms, self._alarms_for(promotion))

        def begin(p: Promotion) -> None:
            p.status = Status.AWAITING_APPROVAL if p.approval else Status.RUNNING
            p.record(WORKFLOW, "prepared", f"stable {p.stable_version}, candidate {p.candidate_version}")

        promotion = self._mutate(promotion_id, begin)
        first_move = "promote" if len(promotion.steps) == 1 else "next"  # all-at-once: no weighted step
        return {"approval": promotion.approval, "step": 0, "move": first_move}

    def wait(self, promotion_id: str, token: str, kind: str) -> None:
        """Park the workflow on ``token`` (approval, bake, pause, watch); answer at once if a signal waits."""

        def park(p: Promotion) -> None:
            p.task_token = token
            if kind == "pause":
                p.status = Status.PAUSED
                p.record(WORKFLOW, "paused", "waiting for resume, promote-now or abort")

        promotion = self._mutate(promotion_id, park)
        pending = promotion.signal
        if pending is Signal.ABORT:
            self.workflow.fail(token, "PromotionAborted", "aborted on request")
        elif pending in decisions.WAKES[kind]:
            self.workflow.succeed(token, {"signal": pending.value})

    def run_hook(self, promotion_id: str, phase: str) -> dict[str, Any]:
        promotion = self.store.get(promotion_id)
        _ensure_live(promotion)
        hook = getattr(promotion.hooks, phase)
        if not hook:
            return {"hook": phase, "skipped": True}
        if phase == "pre_traffic" and promotion.status is Status.AWAITING_APPROVAL:
            self._mutate(promotion_id, self._approved)
        payload = {
            "promotion_id": promotion.id,
            "phase": phase,
            "function": promotion.function,
            "alias": promotion.alias,
            "stable": promotion.stable_version,
            "candidate": promotion.candidate_version,
        }
        errored, answer = self._lambdas_for(promotion).invoke(hook, payload)
        passed = not errored and not (isinstance(answer, dict) and answer.get("passed") is False)
        self._mutate(
            promotion_id,
            lambda p: p.record(WORKFLOW, f"hook.{phase}", f"{hook}: {'passed' if passed else 'failed'}"),
        )
        if not passed:
            raise HookFailed(f"{phase} hook {hook} failed: {json.dumps(answer)[:500]}")
        return {"hook": phase, "passed": True}

    @staticmethod
    def _approved(p: Promotion) -> None:
        if p.status is Status.AWAITING_APPROVAL:
            p.status = Status.RUNNING
            if p.signal is Signal.APPROVE:
                p.signal = None

    def shift(self, promotion_id: str, step: int) -> dict[str, Any]:
        """Route ``weight`` of the alias's traffic to the candidate (RevisionId-checked)."""
        promotion = self.store.get(promotion_id)
        _ensure_live(promotion)
        if promotion.signal is Signal.ABORT:
            raise PromotionAborted("aborted on request")
        planned = promotion.steps[step]
        written = self._write_alias(
            promotion, promotion.stable_version, {promotion.candidate_version: planned.weight}
        )

        def shifted(p: Promotion) -> None:
            self._approved(p)
            self._wrote(p, written)
            p.current_weight = planned.weight
            p.current_step = step
            p.steps[step].started_at = utcnow()
            message = f"{planned.weight:.0%} to version {p.candidate_version}"
            p.record(WORKFLOW, "shifted", message, weight=planned.weight)

        self._mutate(promotion_id, shifted)
        return {"step": step, "bake_seconds": planned.bake_seconds}

    def check(self, promotion_id: str, step: int) -> dict[str, Any]:
        """End of a bake: check the gates, then say what comes next."""
        promotion = self.store.get(promotion_id)
        _ensure_live(promotion)
        failures = decisions.alarm_failures(
            self._alarms_for(promotion).states(promotion.alarms), promotion.insufficient_data
        )
        move = decisions.after_check(promotion, step, failures)

        def checked(p: Promotion) -> None:
            p.task_token = None
            if p.steps[step].ended_at is None:
                p.steps[step].ended_at = utcnow()
            if p.status is Status.PAUSED:
                p.status = Status.RUNNING
                p.record(WORKFLOW, "resumed")
            if p.signal in {Signal.PAUSE, Signal.PROMOTE_NOW, Signal.RESUME}:
                p.signal = None
            p.record(WORKFLOW, "checked", f"step {step + 1}: gates passed; {NEXT_MOVE_WORDS[move]}")

        self._mutate(promotion_id, checked)
        return {"move": move, "step": step + 1}

    def check_watch(self, promotion_id: str) -> dict[str, Any]:
        """End of the post-promotion watch window: the gates must still pass."""
        promotion = self.store.get(promotion_id)
        _ensure_live(promotion)
        if promotion.signal is Signal.ABORT:
            raise PromotionAborted("aborted during the watch window")
        failures = decisions.alarm_failures(
            self._alarms_for(promotion).states(promotion.alarms), promotion.insufficient_data
        )
        if failures:
            raise AlarmFired("gate failed in the watch window: " + "; ".join(failures))
        self._mutate(promotion_id, lambda p: p.record(WORKFLOW, "watched", f"{p.watch_seconds}s at 100%: quiet"))
        return {"watched": True}

    def promote(self, promotion_id: str) -> dict[str, Any]:
        """The alias moves to the candidate with empty routing."""
        promotion = self.store.get(promotion_id)
        _ensure_live(promotion)
        if promotion.signal is Signal.ABORT:
            raise PromotionAborted("aborted on request")
        written = self._write_alias(promotion, promotion.candidate_version, {})

        def promoted(p: Promotion) -> None:
            self._approved(p)
            last = p.steps[-1]
            now = utcnow()
            last.started_at, last.ended_at = last.started_at or now, now
            self._wrote(p, written)
            p.current_weight = 1.0
            p.current_step = last.index
            p.record(WORKFLOW, "promoted", f"alias on version {p.candidate_version}", weight=1.0)

        promotion = self._mutate(promotion_id, promoted)
        return {"promoted": True, "watch_seconds": promotion.watch_seconds}

    def rollback(self, promotion_id: str, error: dict[str, Any] | None) -> dict[str, Any]:
        """Put the alias back on stable with empty routing. Idempotent and drift-aware.

        Returns the final status to record: the error's name decides between ROLLED_BACK (a gate
        said no), ABORTED (someone asked) and FAILED (an error or drift).
        """
        error_name, cause = _error_of(error)
        status = decisions.final_status_for(error_name)
        promotion = self.store.get(promotion_id)
        if promotion.status.is_final:
            return {"status": promotion.status.value, "reason": promotion.outcome_reason}
        if error_name == "AliasDrift":
            return {"status": status.value, "reason": f"drift: {cause}; the out-of-band change was kept"}
        alias = self._lambdas_for(promotion).get_alias(promotion.function_arn, promotion.alias)
        if _on_stable(alias, promotion):
            return {"status": status.value, "reason": cause}
        try:
            written = self._write_alias(promotion, promotion.stable_version, {}, alias)
        except AliasDrift as drift:
            reason = f"drift during rollback after {cause}: {drift}; left as it is"
            return {"status": Status.FAILED.value, "reason": reason}

        def rolled_back(p: Promotion) -> None:
            self._wrote(p, written)
            p.current_weight = 0.0
            p.record(WORKFLOW, "rolled_back", f"alias back on version {p.stable_version}: {cause}", weight=0.0)

        self._mutate(promotion_id, rolled_back)
        return {"status": status.value, "reason": cause}

    def finalize(self, promotion_id: str, status: str, reason: str) -> dict[str, Any]:
        """Record the final status (once) and release the target's lock, on every path."""
        final = Status(status)

        def end(p: Promotion) -> None:
            if p.status.is_final:
                return
            p.status = final
            p.outcome_reason = reason
            p.ended_at = utcnow()
            p.task_token = None
            p.record(WORKFLOW, "finished", reason or final.value.lower())

        promotion = self._mutate(promotion_id, end)
        self.store.remove_watches(promotion.id, promotion.alarms)
        self.store.release_lock(promotion.target_key, promotion.id)
        return {"status": promotion.status.value}

    # === instant rollback on alarms ==============================================================
    def alarm_fired(self, alarm: str, reason: str, account: str | None = None) -> list[dict[str, Any]]:
        """Roll back every live promotion that watches ``alarm``, at once, then end its workflow.

        Safe in any order with the workflow's own rollback, and any number of times: a promotion
        that already ended is left alone. ``account`` is the account of the alarm (the event's
        ``account``): alarms of target accounts arrive on this account's bus too, and an alarm
        of the same name in another account is not this promotion's alarm.
        """
        outcomes = []
        for promotion_id in self.store.watchers(alarm):
            if account and _account_of(self.store.get(promotion_id).function_arn) not in (None, account):
                ignored = {"promotion_id": promotion_id, "action": "ignored", "reason": f"alarm of account {account}"}
                outcomes.append(ignored)
                continue
            outcomes.append(self._roll_back_on_alarm(promotion_id, alarm, reason))
        return outcomes

    def _roll_back_on_alarm(self, promotion_id: str, alarm: str, reason: str) -> dict[str, Any]:
        actor = f"alarm:{alarm}"
        promotion = self.store.get(promotion_id)
        if promotion.status.is_final:
            return {"promotion_id": promotion_id, "action": "ignored", "status": promotion.status.value}
        alias = self._lambdas_for(promotion).get_alias(promotion.function_arn, promotion.alias)
        status, message = Status.ROLLED_BACK, f"alarm {alarm} is ALARM: {reason}"
        written = None
        if not _on_stable(alias, promotion):
            try:
                written = self._write_alias(promotion, promotion.stable_version, {}, alias)
            except AliasDrift as drift:
                status, message = Status.FAILED, f"drift: {drift}; alarm {alarm} fired, alias left as it is"

        def ended(p: Promotion) -> None:
            if p.status.is_final:
                return
            if written:
                self._wrote(p, written)
                p.current_weight = 0.0
                p.record(actor, "rolled_back", f"alias back on version {p.stable_version}", weight=0.0)
            p.status, p.outcome_reason, p.ended_at = status, message, utcnow()
            p.record(actor, "finished", message)

        promotion = self._mutate(promotion_id, ended)
        if promotion.task_token:  # wake the workflow so no further step runs
            self.workflow.fail(promotion.task_token, "AlarmFired", message)
        return {"promotion_id": promotion_id, "action": "rolled_back", "status": promotion.status.value}

    # === record writes and notifications =========================================================
    def _mutate(self, promotion_id: str, change: Any) -> Promotion:
        """Change the record; a status change is announced on the event bus after the write."""
        before: list[Status] = []

        def tracked(p: Promotion) -> None:
            before[:] = [p.status]
            change(p)

        promotion = self.store.mutate(promotion_id, tracked)
        if before and before[0] is not promotion.status:
            self._notify(promotion, previous=before[0])
        return promotion

    def _notify(self, promotion: Promotion, previous: Status | None) -> None:
        if not self.settings.event_bus_name:
            return
        last = promotion.events[-1] if promotion.events else None
        self.events.put(
            self.settings.event_bus_name,
            STATUS_CHANGED,
            {
                "promotion_id": promotion.id,
                "function": promotion.function,
                "function_arn": promotion.function_arn,
                "alias": promotion.alias,
                "status": promotion.status.value,
                "previous_status": previous.value if previous else None,
                "stable_version": promotion.stable_version,
                "candidate_version": promotion.candidate_version,
                "current_weight": promotion.current_weight,
                "reason": promotion.outcome_reason or (last.message if last else ""),
                "actor": last.actor if last else promotion.created_by,
                "sequence": len(promotion.events),
                "at": promotion.updated_at.isoformat(),
            },
        )

    # === alias writes ============================================================================
    def _write_alias(
        self, promotion: Promotion, version: str, weights: dict[str, float], alias: AliasState | None = None
    ) -> AliasState:
        """RevisionId-checked write. The intent is recorded first, so that after a crash between
        the write and the record update we recognise the alias state as ours, not as drift."""
        lambdas = self._lambdas_for(promotion)
        alias = alias or lambdas.get_alias(promotion.function_arn, promotion.alias)
        if alias.revision_id != promotion.revision_id and not _is_pending(alias, promotion):
            raise AliasDrift(
                f"alias {promotion.alias} of {promotion.function} changed out of band: now version "
                f"{alias.version} with routing {alias.weights or 'empty'}"
            )
        intent = AliasTarget(version=version, weights=weights)
        self._mutate(promotion.id, lambda p: setattr(p, "pending_alias", intent))
        return lambdas.update_alias(promotion.function_arn, promotion.alias, version, weights, alias.revision_id)

    @staticmethod
    def _wrote(p: Promotion, written: AliasState) -> None:
        p.revision_id = written.revision_id
        p.pending_alias = None

    # === signals from outside ====================================================================
    def signal(self, promotion_id: str, signal: Signal, actor: str, reason: str = "") -> Promotion:
        """Record the request, then wake the workflow if it is parked. The record is the truth;
        the token only makes the workflow notice at once instead of at its next step."""

        def requested(p: Promotion) -> None:
            decisions.ensure_signal_allowed(p, signal)
            decisions.ensure_approver(p, signal, actor)
            p.signal = signal
            p.record(actor, signal.value, reason)

        promotion = self._mutate(promotion_id, requested)
        if promotion.task_token:
            if signal is Signal.ABORT:
                self.workflow.fail(promotion.task_token, "PromotionAborted", reason or f"aborted by {actor}")
            else:
                self.workflow.succeed(promotion.task_token, {"signal": signal.value})
        return promotion

    def get(self, promotion_id: str) -> Promotion:
        return self.store.get(promotion_id)

    # === read models for the API =================================================================
    def list_promotions(
        self,
        *,
        function: str | None = None,
        alias: str | None = None,
        status: Status | None = None,
        limit: int = 50,
        next_token: str | None = None,
    ) -> tuple[list[Promotion], str | None]:
        """Newest first. ``alias`` narrows to one target and needs ``function``.

        A page may hold fewer than ``limit`` items (filters apply after the read): follow
        ``next_token`` until it is None.
        """
        if alias and not function:
            raise InvalidRequest("filtering by alias needs the function too", field="alias")
        target = None
        if function and alias:
            arn = _unqualified_arn(function)
            if arn is None:
                try:
                    arn = self.lambdas.get_function(function)["Configuration"]["FunctionArn"]
                except NotFound:
                    return [], None
            target = f"{arn}:{alias}"
            function = None  # the target already names the function
        elif function:
            function = _function_name(function)
        _check_page_token(next_token, target)
        return self.store.list(
            target=target,
            function=function,
            status=status.value if status else None,
            limit=limit,
            next_token=next_token,
        )

    def inventory(self, function: str) -> FunctionInventory:
        """Every alias of a managed function: version, routing, the active and the last promotion."""
        found = self.lambdas.get_function(function)
        config, tags = found["Configuration"], found.get("Tags") or {}
        self._ensure_managed(function, tags)
        aliases = []
        for name, state in self.lambdas.list_aliases(config["FunctionName"]).items():
            target = f"{config['FunctionArn']}:{name}"
            aliases.append(
                AliasInventory(
                    alias=name,
                    version=state.version,
                    weights=state.weights,
                    active_promotion=self._active_promotion(target),
                    last_promotion=self._last_finished_promotion(target),
                )
            )
        return FunctionInventory(
            function=config["FunctionName"], function_arn=config["FunctionArn"], aliases=aliases
        )

    def _active_promotion(self, target: str) -> Promotion | None:
        holder = self.store.lock_holder(target)
        if not holder:
            return None
        try:
            return self.store.get(holder)
        except NotFound:  # a lock whose record was never written (start failed half-way)
            return None

    def _last_finished_promotion(self, target: str, pages: int = 5) -> Promotion | None:
        token = None
        for _ in range(pages):
            items, token = self.store.list(target=target, limit=25, next_token=token)
            for promotion in items:
                if promotion.status.is_final:
                    return promotion
            if not token:
                break
        return None


def _error_of(error: dict[str, Any] | None) -> tuple[str | None, str]:
    """Name and readable cause from a Step Functions Catch result."""
    if not error:
        return None, ""
    name = error.get("Error") or "Unknown"
    cause = error.get("Cause") or ""
    try:
        parsed = json.loads(cause)
        if isinstance(parsed, dict):
            cause = parsed.get("errorMessage") or cause
    except ValueError:
        pass
    return name, f"{name}: {cause}" if cause else name


def describe_origin(origin: PromotionOrigin) -> str:
    """One line for the event history: which pipeline step, from where, which artifact."""
    text = f"pipeline {origin.pipeline}: into {origin.environment}"
    if origin.source_environment:
        text += f" from {origin.source_environment} (version {origin.source_version} of {origin.source_function_arn})"
    if origin.code_sha256:
        text += f", CodeSha256 {origin.code_sha256}"
    if origin.copied:
        text += "; the artifact was carried to this function and published here"
    if origin.override_reason:
        text += f"; guards overridden: {origin.override_reason}"
    return text


def _account_of(function_arn: str) -> str | None:
    parts = function_arn.split(":")
    return parts[4] if len(parts) > 4 and parts[0] == "arn" else None


def _ensure_live(promotion: Promotion) -> None:
    if promotion.status.is_final:
        raise PromotionEnded(f"promotion already ended {promotion.status}: {promotion.outcome_reason}")


def _is_pending(alias: AliasState, promotion: Promotion) -> bool:
    intent = promotion.pending_alias
    return intent is not None and intent.version == alias.version and intent.weights == alias.weights


def _on_stable(alias: AliasState, promotion: Promotion) -> bool:
    return alias.version == promotion.stable_version and alias.is_settled


def _unqualified_arn(function: str) -> str | None:
    """``arn:aws:lambda:region:account:function:name[:qualifier]`` without the qualifier."""
    parts = function.split(":")
    if len(parts) >= 7 and parts[0] == "arn" and parts[5] == "function":
        return ":".join(parts[:7])
    return None


def _function_name(function: str) -> str:
    arn = _unqualified_arn(function)
    return arn.split(":")[6] if arn else function


_PAGE_KEY = re.compile(r"^PROMOTION#.+$")


def _check_page_token(token: str | None, target: str | None) -> None:
    """A ``next_token`` must be one this API handed out for the same query; anything else is a 422,
    never a DynamoDB error."""
    if token is None:
        return
    index_key = "target" if target else "kind"
    try:
        key = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
        values = {name: value["S"] for name, value in key.items()}
        valid = (
            set(values) == {"pk", "sk", "created_at", index_key}
            and all(isinstance(v, str) for v in values.values())
            and bool(_PAGE_KEY.match(values["pk"]))
            and values["sk"] == "PROMOTION"
            and values[index_key] == (target or "PROMOTION")
        )
    except (ValueError, TypeError, AttributeError, KeyError, UnicodeError):
        valid = False
    if not valid:
        raise InvalidRequest("next_token is not a token from this listing", field="next_token")

