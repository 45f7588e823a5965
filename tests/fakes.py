"""In-memory fakes of the adapters the promotion protocol uses, and the ASL run over them.

Each fake has the interface of its adapter in ``promoter/aws`` and keeps the semantics the protocol
leans on: conditional record writes (``RecordConflict``), the final write with the lock release and
the watch removal in one step, ``RevisionId`` preconditions on the alias (``AliasDrift``), task
tokens that are answered once. Every call goes through ``Calls`` first and after its effect, so a
test can run something in the middle of a call, fail it, or (the interleaving scheduler) hand the
turn to another actor there.

``Execution`` runs ``statemachines/promotion.asl.json`` itself (Task, Choice, Pass; Retry and Catch
as written there) against the real ``WorkflowTasks``, so the order of the tasks is the ASL's.
"""

from __future__ import annotations

import functools
import itertools
import json
import random
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from promoter import clock
from promoter.aws.lambda_ import AliasState
from promoter.errors import AliasDrift, InvalidRequest, NotFound, RecordConflict, TargetBusy
from promoter.models import (
    CheckInput,
    FinalizeInput,
    HookInput,
    Promotion,
    RollbackInput,
    StepInput,
    TaskInput,
    WaitInput,
)
from promoter.promotions import PromoterService
from promoter.settings import Settings

REGION, ACCOUNT = "us-east-1", "123456789012"
STATE_MACHINE_ARN = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:promotion"
FAST_GATE_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:fast-gate"
ASL_PATH = Path(__file__).resolve().parents[1] / "statemachines" / "promotion.asl.json"
START = datetime(2026, 1, 1, tzinfo=UTC)


# --- errors a fake raises when told to (their class name is what the ASL's Retry matches) -----
class TooManyRequestsException(Exception):  # noqa: N818 - the name is AWS's error code
    """A throttle, as botocore raises it for a modeled error: retried by the ASL's Retry."""


class ClientError(Exception):  # noqa: N818
    """An unmodeled AWS error (botocore's ``ClientError``): the ASL does not retry it, it catches it."""


class Crash(BaseException):  # noqa: N818 - not an Exception, so no ``except Exception`` in the code stops it
    """The Lambda running the code died here (timeout, out of memory): nothing after this line ran."""


# --- the call hook ---------------------------------------------------------------------------
Hook = Callable[[str, str], None]


class Calls:
    """Every fake call passes here twice: ``before`` (nothing done yet) and ``after`` (done).

    ``on(name, fn, phase)`` runs ``fn`` at that point of the next call (``times`` calls); ``fail``
    raises there. ``interceptor`` sees every call point (the interleaving scheduler's hook).
    """

    def __init__(self) -> None:
        self.log: list[str] = []
        self.interceptor: Hook | None = None
        self._once: list[tuple[str, str, Callable[[], None], list[int]]] = []

    def on(self, name: str, action: Callable[[], None], phase: str = "before", times: int = 1) -> None:
        self._once.append((name, phase, action, [times]))

    def fail(self, name: str, error: BaseException, phase: str = "before", times: int = 1) -> None:
        def raise_it() -> None:
            raise error

        self.on(name, raise_it, phase, times)

    def __call__(self, name: str, phase: str) -> None:
        if phase == "before":
            self.log.append(name)
        for entry in list(self._once):
            wanted, at, action, left = entry
            if wanted == name and at == phase and left[0] > 0:
                left[0] -= 1
                if left[0] == 0:
                    self._once.remove(entry)
                action()
        if self.interceptor is not None:
            self.interceptor(name, phase)

    def count(self, name: str) -> int:
        return self.log.count(name)


class _Fake:
    service = ""

    def __init__(self, calls: Calls) -> None:
        self.calls = calls

    def _before(self, op: str) -> None:
        self.calls(f"{self.service}.{op}", "before")

    def _after(self, op: str) -> None:
        self.calls(f"{self.service}.{op}", "after")


# --- DynamoDB: records, locks, watches -------------------------------------------------------
@dataclass
class Written:
    """One record write that landed (for the checks: status history, sizes)."""

    status: str
    size: int
    previous: str | None
    sequence: int


class FakeStore(_Fake):
    """Records as JSON with a ``rev``, like ``PromotionStore``'s items; locks; alarm watches."""

    service = "dynamodb"

    def __init__(self, calls: Calls) -> None:
        super().__init__(calls)
        self.docs: dict[str, tuple[str, int]] = {}
        self.locks: dict[str, str] = {}
        self.watches: dict[str, set[str]] = {}
        self.history: dict[str, list[Written]] = {}

    def _land(self, promotion: Promotion, rev: int) -> None:
        doc = promotion.model_dump_json()
        previous = self.docs.get(promotion.id)
        before = json.loads(previous[0])["status"] if previous else None
        self.docs[promotion.id] = (doc, rev)
        sequence = len(promotion.events)
        size = len(promotion.record_document().encode())  # the record item; events are items of their own
        self.history.setdefault(promotion.id, []).append(Written(promotion.status.value, size, before, sequence))

    def create(self, promotion: Promotion, lock: str | None = None) -> tuple[Promotion, int]:
        self._before("create")
        if promotion.id in self.docs:
            raise RecordConflict(f"promotion {promotion.id} exists")
        holder = self.locks.get(lock) if lock else None
        if holder is not None:
            raise TargetBusy(f"{lock} is busy with promotion {holder}", field="alias", active_promotion=holder)
        if lock:
            self.locks[lock] = promotion.id
        self._land(promotion, 1)
        for alarm in promotion.alarms:
            self.watches.setdefault(alarm, set()).add(promotion.id)
        self._after("create")
        return Promotion.model_validate_json(self.docs[promotion.id][0]), 1

    def get_with_rev(self, promotion_id: str) -> tuple[Promotion, int]:
        self._before("get_with_rev")
        if promotion_id not in self.docs:
            raise NotFound(f"promotion {promotion_id!r} does not exist", field="id")
        doc, rev = self.docs[promotion_id]
        self._after("get_with_rev")
        return Promotion.model_validate_json(doc), rev

    def get(self, promotion_id: str) -> Promotion:
        return self.get_with_rev(promotion_id)[0]

    def peek(self, promotion_id: str) -> Promotion:
        """The stored record, read without a call (for tests and checks)."""
        return Promotion.model_validate_json(self.docs[promotion_id][0])

    def _check_rev(self, promotion: Promotion, expected_rev: int) -> None:
        if self.docs.get(promotion.id, ("", 0))[1] != expected_rev:
            raise RecordConflict(f"promotion {promotion.id} changed concurrently")

    def save(self, promotion: Promotion, expected_rev: int) -> None:
        self._before("save")
        self._check_rev(promotion, expected_rev)
        self._land(promotion, expected_rev + 1)
        self._after("save")

    def finish(self, promotion: Promotion, expected_rev: int) -> None:
        """Record, lock release (if still ours) and watch removal: all or nothing."""
        self._before("finish")
        self._check_rev(promotion, expected_rev)
        self._land(promotion, expected_rev + 1)
        if self.locks.get(promotion.target_key) == promotion.id:
            del self.locks[promotion.target_key]
        for alarm in promotion.alarms:
            self.watches.get(alarm, set()).discard(promotion.id)
        self._after("finish")

    def acquire_lock(self, target: str, promotion_id: str) -> None:
        self._before("acquire_lock")
        holder = self.locks.get(target)
        if holder not in (None, promotion_id):
            raise TargetBusy(f"{target} is busy with promotion {holder}", field="alias", active_promotion=holder)
        self.locks[target] = promotion_id
        self._after("acquire_lock")

    def lock_holder(self, target: str) -> str | None:
        self._before("lock_holder")
        holder = self.locks.get(target)
        self._after("lock_holder")
        return holder

    def release_lock(self, target: str, promotion_id: str) -> None:
        self._before("release_lock")
        if self.locks.get(target) == promotion_id:
            del self.locks[target]
        self._after("release_lock")

    def watchers(self, alarm: str) -> list[str]:
        self._before("watchers")
        found = sorted(self.watches.get(alarm, set()))
        self._after("watchers")
        return found

    def _all(self) -> list[Promotion]:
        found = [Promotion.model_validate_json(doc) for doc, _ in self.docs.values()]
        return sorted(found, key=lambda p: p.created_at, reverse=True)

    def list(
        self,
        *,
        target: str | None = None,
        function: str | None = None,
        status: str | None = None,
        limit: int = 50,
        next_token: str | None = None,
    ) -> tuple[list[Promotion], str | None]:
        self._before("list")
        items = [
            p
            for p in self._all()
            if (target is None or p.target_key == target)
            and (function is None or p.function == function)
            and (status is None or p.status.value == status)
        ]
        self._after("list")
        return items[:limit], None

    def live(self, min_age_seconds: float = 0.0) -> list[Promotion]:
        self._before("live")
        before = clock.now() - timedelta(seconds=min_age_seconds)
        items = [p for p in self._all() if not p.status.is_final and p.created_at <= before]
        self._after("live")
        return items


# --- Lambda: versions, aliases with RevisionId, hooks ---------------------------------------
@dataclass
class FakeFunction:
    name: str
    versions: dict[str, dict[str, Any]] = field(default_factory=dict)
    aliases: dict[str, AliasState] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=lambda: {"promoter:managed": "true"})
    timeout: int = 3

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.name}"


def _revision() -> str:
    return secrets.token_hex(8)


class FakeLambda(_Fake):
    """Functions with published versions and aliases; hooks answer what ``answers`` says."""

    service = "lambda"

    def __init__(self, calls: Calls) -> None:
        super().__init__(calls)
        self.functions: dict[str, FakeFunction] = {}
        self.answers: dict[str, Any] = {}  # hook name -> answer, or an exception to raise
        self.invocations: list[tuple[str, dict[str, Any]]] = []

    # set-up (no calls)
    def add_function(self, name: str, versions: int = 3, alias: str = "live", on: str = "1") -> FakeFunction:
        function = FakeFunction(name)
        for number in range(1, versions + 1):
            function.versions[str(number)] = {"Version": str(number), "Role": "role/app"}
        function.aliases[alias] = AliasState(version=on, revision_id=_revision())
        self.functions[name] = function
        return function

    def add_hook(self, name: str, answer: Any = None) -> str:
        self.functions[name] = FakeFunction(name)
        self.answers[name] = {"passed": True} if answer is None else answer
        return name

    def alias(self, function: str, alias: str = "live") -> AliasState:
        return self._function(function).aliases[alias]

    def edit_out_of_band(
        self, function: str, alias: str = "live", version: str | None = None, weights: dict | None = None
    ) -> AliasState:
        """Someone else's UpdateAlias (no RevisionId): a description edit when version is None."""
        current = self.alias(function, alias)
        state = AliasState(
            version=current.version if version is None else version,
            weights=dict(current.weights) if version is None else dict(weights or {}),
            revision_id=_revision(),
        )
        self._function(function).aliases[alias] = state
        return state

    def _function(self, function: str) -> FakeFunction:
        name = function.split(":function:")[-1].split(":")[0] if ":function:" in function else function
        if name not in self.functions:
            raise NotFound(f"function {function!r} does not exist", field="function")
        return self.functions[name]

    # the adapter's interface
    def get_function(self, function: str) -> dict[str, Any]:
        self._before("get_function")
        found = self._function(function)
        self._after("get_function")
        return {
            "Configuration": {"FunctionName": found.name, "FunctionArn": found.arn, "Timeout": found.timeout},
            "Tags": dict(found.tags),
        }

    def get_version(self, function: str, version: str) -> dict[str, Any]:
        self._before("get_version")
        found = self._function(function)
        if version not in found.versions:
            raise InvalidRequest(f"version {version} of {function!r} is not published", field="version")
        answer = dict(found.versions[version])
        self._after("get_version")
        return answer

    def get_alias(self, function: str, alias: str) -> AliasState:
        self._before("get_alias")
        found = self._function(function)
        if alias not in found.aliases:
            raise InvalidRequest(f"alias {alias!r} of {function!r} does not exist", field="alias")
        state = found.aliases[alias]  # what was read, before the turn may pass
        self._after("get_alias")
        return state

    def list_aliases(self, function: str) -> dict[str, AliasState]:
        self._before("list_aliases")
        found = dict(self._function(function).aliases)
        self._after("list_aliases")
        return found

    def update_alias(
        self, function: str, alias: str, version: str, weights: dict[str, float], revision_id: str
    ) -> AliasState:
        self._before("update_alias")
        found = self._function(function)
        if found.aliases[alias].revision_id != revision_id:
            raise AliasDrift(f"alias {alias!r} of {function!r} changed out of band (RevisionId mismatch)")
        state = AliasState(version=version, weights=dict(weights), revision_id=_revision())
        found.aliases[alias] = state
        self._after("update_alias")
        return state

    def publish_version(self, function: str, code_sha256: str | None = None, description: str = "") -> str:
        self._before("publish_version")
        found = self._function(function)
        number = str(max(int(v) for v in found.versions) + 1)
        found.versions[number] = {"Version": number, "Role": "role/app", "Description": description}
        self._after("publish_version")
        return number

    def invoke(self, function: str, payload: dict[str, Any]) -> tuple[bool, Any]:
        self._before("invoke")
        self.invocations.append((function, payload))
        answer = self.answers.get(function)
        self._after("invoke")
        if isinstance(answer, BaseException):
            return True, {"errorType": type(answer).__name__, "errorMessage": str(answer)}
        return False, answer


# --- CloudWatch, EventBridge -----------------------------------------------------------------
class FakeAlarms(_Fake):
    service = "cloudwatch"

    def __init__(self, calls: Calls) -> None:
        super().__init__(calls)
        self.alarm_states: dict[str, str] = {}

    def states(self, names: list[str]) -> dict[str, str]:
        if not names:
            return {}
        self._before("states")
        found = {name: self.alarm_states.get(name, "MISSING") for name in names}
        self._after("states")
        return found


class FakeLogs(_Fake):
    """CloudWatch Logs: the fast gate's subscription filters, by log group and name."""

    service = "logs"

    def __init__(self, calls: Calls) -> None:
        super().__init__(calls)
        self.filters: dict[tuple[str, str], str] = {}  # (log group, filter name) -> destination

    def subscribe(self, log_group: str, filter_name: str, filter_pattern: str, destination_arn: str) -> Any:
        from promoter.aws.logs import Subscription

        self._before("subscribe")
        self.filters[(log_group, filter_name)] = destination_arn
        self._after("subscribe")
        return Subscription(
            log_group=log_group, filter_name=filter_name, filter_pattern=filter_pattern, destination_arn=destination_arn
        )

    def unsubscribe(self, log_group: str, filter_name: str) -> Any:
        from promoter.aws.logs import Unsubscribed

        self._before("unsubscribe")
        removed = self.filters.pop((log_group, filter_name), None) is not None
        self._after("unsubscribe")
        return Unsubscribed(log_group=log_group, filter_name=filter_name, removed=removed)


class FakeCounts(_Fake):
    """The fast gate's per-second error sets (``FastGateCounts``): a set per (promotion, second)."""

    service = "counts"

    def __init__(self, calls: Calls) -> None:
        super().__init__(calls)
        self.seconds: dict[tuple[str, int], set[str]] = {}

    def add(self, promotion_id: str, ids_by_second: dict[int, list[str]]) -> None:
        self._before("add")
        for second, ids in ids_by_second.items():
            self.seconds.setdefault((promotion_id, second), set()).update(ids)
        self._after("add")

    def window(self, promotion_id: str, first_second: int, last_second: int) -> Any:
        from promoter.aws.fast_gate_counts import WindowCount

        self._before("window")
        found = {
            s: len(ids)
            for (p, s), ids in self.seconds.items()
            if p == promotion_id and first_second <= s <= last_second
        }
        self._after("window")
        if not found:
            return WindowCount(errors=0)
        return WindowCount(errors=sum(found.values()), first_second=min(found), last_second=max(found))


class FakeEvents(_Fake):
    service = "events"

    def __init__(self, calls: Calls) -> None:
        super().__init__(calls)
        self.announced: list[dict[str, Any]] = []

    def put(self, bus_name: str, detail_type: str, detail: dict[str, Any]) -> None:
        self._before("put")
        self.announced.append(json.loads(json.dumps(detail, default=str)))
        self._after("put")


# --- Step Functions: executions and task tokens ---------------------------------------------
@dataclass
class Token:
    token: str
    state: str = "pending"  # pending, succeeded, failed, timed_out, dead
    output: Any = None
    error: str = ""
    cause: str = ""


class FakeWorkflow(_Fake):
    """Executions by name (status only; ``Execution`` runs them) and task tokens answered once."""

    service = "stepfunctions"

    def __init__(self, calls: Calls) -> None:
        super().__init__(calls)
        self.executions: dict[str, str] = {}  # arn -> RUNNING, SUCCEEDED, FAILED, ABORTED
        self.started: list[tuple[str, dict[str, Any]]] = []
        self.tokens: dict[str, Token] = {}
        self.answered: list[tuple[str, str]] = []  # (token, "success" | "failure:<error>")
        self._ids = itertools.count(1)

    def new_token(self) -> Token:
        token = Token(f"token-{next(self._ids)}")
        self.tokens[token.token] = token
        return token

    def start(self, state_machine_arn: str, name: str, payload: dict[str, Any]) -> str:
        self._before("start")
        arn = state_machine_arn.replace(":stateMachine:", ":execution:", 1) + ":" + name
        self.executions[arn] = "RUNNING"
        self.started.append((arn, payload))
        self._after("start")
        return arn

    def stop(self, arn: str) -> None:
        """StopExecution: the execution is ABORTED and its open tokens are gone."""
        self.executions[arn] = "ABORTED"
        for token in self.tokens.values():
            if token.state == "pending":
                token.state = "dead"

    def status(self, execution_arn: str) -> str | None:
        self._before("status")
        found = self.executions.get(execution_arn)
        self._after("status")
        return found

    def succeed(self, token: str, output: dict[str, Any]) -> bool:
        self._before("succeed")
        found = self.tokens.get(token)
        if found is None or found.state != "pending":
            return False
        found.state, found.output = "succeeded", json.loads(json.dumps(output))
        self.answered.append((token, "success"))
        self._after("succeed")
        return True

    def fail(self, token: str, error: str, cause: str) -> bool:
        self._before("fail")
        found = self.tokens.get(token)
        if found is None or found.state != "pending":
            return False
        found.state, found.error, found.cause = "failed", error, cause[:32_000]
        self.answered.append((token, f"failure:{error}"))
        self._after("fail")
        return True


class StubRoles:
    """No promotion here uses a role: any use of one is a mistake in the test."""

    def adapters(self, role_arn: str, external_id: str | None = None) -> Any:
        raise AssertionError(f"role {role_arn} was used; the fakes have one account")


# --- a clock the test sets ------------------------------------------------------------------
class FakeClock:
    def __init__(self, start: datetime = START) -> None:
        self.at = start

    def now(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


# --- everything together --------------------------------------------------------------------
class Fakes:
    """The fakes of one world: one account, one control plane, a function ``orders`` (versions 1-3,
    alias ``live`` on 1) and an alarm ``orders-errors`` (OK)."""

    def __init__(self) -> None:
        self.calls = Calls()
        self.store = FakeStore(self.calls)
        self.lambdas = FakeLambda(self.calls)
        self.alarms = FakeAlarms(self.calls)
        self.workflow = FakeWorkflow(self.calls)
        self.events = FakeEvents(self.calls)
        self.logs = FakeLogs(self.calls)
        self.counts = FakeCounts(self.calls)
        self.settings = Settings(
            table_name="promotions",
            state_machine_arn=STATE_MACHINE_ARN,
            event_bus_name="bus",
            fast_gate_function_arn=FAST_GATE_ARN,
        )
        self.service = PromoterService(
            self.settings,
            lambdas=self.lambdas,  # type: ignore[arg-type]
            alarms=self.alarms,  # type: ignore[arg-type]
            store=self.store,  # type: ignore[arg-type]
            workflow=self.workflow,  # type: ignore[arg-type]
            events=self.events,  # type: ignore[arg-type]
            roles=StubRoles(),  # type: ignore[arg-type]
        )
        self.service.ctx.logs = self.logs  # type: ignore[assignment]
        self.service.fast_gate.counts = self.counts  # type: ignore[assignment]
        self.function = self.lambdas.add_function("orders")
        self.alarms.alarm_states["orders-errors"] = "OK"

    @property
    def target(self) -> str:
        return f"{self.function.arn}:live"


# --- the ASL, run over the fakes ------------------------------------------------------------
# Which Task resource is which task of the workflow, with the input model its handler parses
# (functions/workflow/app.py).
TASKS: dict[str, tuple[type, Callable[[Any, Any], Any]]] = {
    "${PrepareFunctionArn}": (TaskInput, lambda t, e: t.prepare(e.promotion_id)),
    "${WaitFunctionArn}": (WaitInput, lambda t, e: t.wait(e.promotion_id, e.token, e.kind)),
    "${HookFunctionArn}": (HookInput, lambda t, e: t.run_hook(e.promotion_id, e.phase)),
    "${ShiftFunctionArn}": (StepInput, lambda t, e: t.shift(e.promotion_id, e.step)),
    "${CheckFunctionArn}": (CheckInput, lambda t, e: t.check(e.promotion_id, e.step, e.woke)),
    "${RollbackFunctionArn}": (RollbackInput, lambda t, e: t.rollback(e.promotion_id, e.error)),
    "${FinalizeFunctionArn}": (FinalizeInput, lambda t, e: t.finalize(e.promotion_id, e.status, e.reason)),
}


def load_asl() -> dict[str, Any]:
    return json.loads(_asl_text())


@functools.cache
def _asl_text() -> str:  # read once: the interleaving runs start thousands of executions
    return ASL_PATH.read_text()


class TaskFailed(Exception):  # noqa: N818
    """A Task state ended in error ``name`` (what a Catch matches on)."""

    def __init__(self, name: str, cause: str) -> None:
        super().__init__(f"{name}: {cause}")
        self.name, self.cause = name, cause


class Stopped(Exception):  # noqa: N818
    """The execution was stopped (StopExecution): it advances no further."""


def _path(data: Any, path: str, context: dict[str, Any]) -> Any:
    """The JSONPath subset the ASL uses: ``$``, ``$.a.b``, ``$$.Task.Token``."""
    root, rest = (context, path[3:]) if path.startswith("$$.") else (data, path[2:])
    value = root
    for part in filter(None, rest.split(".")):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _select(template: Any, data: Any, context: dict[str, Any]) -> Any:
    """Parameters and ResultSelector: keys ending in ``.$`` are paths."""
    if isinstance(template, dict):
        out = {}
        for key, value in template.items():
            if key.endswith(".$"):
                out[key[:-2]] = _path(data, value, context)
            else:
                out[key] = _select(value, data, context)
        return out
    return template


def _put(data: dict[str, Any], result_path: str | None, result: Any) -> dict[str, Any]:
    if result_path is None:
        return data
    if result_path == "$":
        return result
    updated = json.loads(json.dumps(data))
    node = updated
    parts = result_path[2:].split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = result
    return updated


def _matches(names: list[str], error: str) -> bool:
    if "States.ALL" in names:
        return error != "States.Runtime"
    return error in names


def _present(data: Any, path: str) -> bool:
    node = data
    for part in filter(None, path[2:].split(".")):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def _holds(rule: dict[str, Any], data: dict[str, Any]) -> bool:
    """One Choice rule: the comparisons the ASL uses, and And."""
    if "And" in rule:
        return all(_holds(inner, data) for inner in rule["And"])
    if "IsPresent" in rule:
        return _present(data, rule["Variable"]) is rule["IsPresent"]
    value = _path(data, rule["Variable"], {})
    if "BooleanEquals" in rule:
        return value is rule["BooleanEquals"]
    if "StringEquals" in rule:
        return value == rule["StringEquals"]
    if "NumericGreaterThan" in rule:
        return isinstance(value, int | float) and value > rule["NumericGreaterThan"]
    return False


def _choose(state: dict[str, Any], data: dict[str, Any]) -> str:
    for rule in state.get("Choices", []):
        if _holds(rule, data):
            return rule["Next"]
    return state["Default"]


@dataclass
class Parked:
    """A waitForTaskToken task waiting for its token (``deadline`` on the fake clock, or None)."""

    token: Token
    deadline: datetime | None
    kind: str


class Execution:
    """One execution of the promotion state machine, state by state, as Step Functions runs it.

    Subclasses decide what the world does while a task runs or a token is open:
    ``run_task`` (default: call it) and ``await_token`` (default: take the token as it is now;
    still open means the wait timed out). ``retry_delay`` moves the clock by the Retry's interval.
    """

    def __init__(self, fakes: Fakes, promotion_id: str, execution_arn: str) -> None:
        self.fakes = fakes
        self.promotion_id = promotion_id
        self.arn = execution_arn
        self.asl = load_asl()
        self.visited: list[str] = []
        self.outcome: str | None = None  # SUCCEEDED, FAILED or ABORTED when done

    @property
    def stopped(self) -> bool:
        return self.fakes.workflow.executions.get(self.arn) == "ABORTED"

    def run(self) -> str:
        data: dict[str, Any] = {"promotion_id": self.promotion_id, "woke": None}
        name: str | None = self.asl["StartAt"]
        try:
            while name is not None:
                if self.stopped:
                    raise Stopped(name)
                self.visited.append(name)
                name, data = self._state(name, self.asl["States"][name], data)
            self.outcome = "SUCCEEDED"
        except Stopped:
            self.outcome = "ABORTED"
        except TaskFailed:
            self.outcome = "FAILED"
        if not self.stopped:
            self.fakes.workflow.executions[self.arn] = self.outcome
        return self.outcome

    def _state(self, name: str, state: dict[str, Any], data: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
        kind = state["Type"]
        if kind == "Choice":
            return _choose(state, data), data
        if kind == "Pass":
            return _next(state), _put(data, state.get("ResultPath", "$"), state.get("Result", data))
        if kind != "Task":
            raise AssertionError(f"state {name}: type {kind} is not run by the fake")
        try:
            result = self._task_with_retry(name, state, data)
        except TaskFailed as error:
            for catcher in state.get("Catch", []):
                if _matches(catcher["ErrorEquals"], error.name):
                    caught = {"Error": error.name, "Cause": error.cause}
                    return catcher["Next"], _put(data, catcher.get("ResultPath", "$"), caught)
            raise
        selected = _select(state["ResultSelector"], result, {}) if "ResultSelector" in state else result
        return _next(state), _put(data, state.get("ResultPath", "$"), selected)

    def _task_with_retry(self, name: str, state: dict[str, Any], data: dict[str, Any]) -> Any:
        attempts: dict[int, int] = {}
        while True:
            try:
                return self._task_once(name, state, data)
            except TaskFailed as error:
                for index, retrier in enumerate(state.get("Retry", [])):
                    if _matches(retrier["ErrorEquals"], error.name):
                        done = attempts.get(index, 0)
                        if done >= retrier.get("MaxAttempts", 3):
                            raise
                        attempts[index] = done + 1
                        self.retry_delay(retrier.get("IntervalSeconds", 1) * retrier.get("BackoffRate", 2.0) ** done)
                        if self.stopped:
                            raise Stopped(name) from error
                        break
                else:
                    raise

    def _task_once(self, name: str, state: dict[str, Any], data: dict[str, Any]) -> Any:
        resource, params = state["Resource"], state["Parameters"]
        waits = resource.endswith(".waitForTaskToken")
        token = self.fakes.workflow.new_token() if waits else None
        context = {"Task": {"Token": token.token if token else None}}
        payload = _select(params["Payload"], data, context)
        model, call = TASKS[params["FunctionName"]]
        timeout = state.get("TimeoutSeconds")
        if "TimeoutSecondsPath" in state:
            timeout = _path(data, state["TimeoutSecondsPath"], {})
        started = clock.now()
        try:
            answer = self.run_task(name, lambda: call(self.fakes.service.tasks, model.model_validate(payload)))
        except TaskFailed:
            if token is None or token.state == "pending":
                if token is not None:
                    token.state = "dead"  # a retry gets a new token
                raise
            # the token was answered while the wait's Lambda ran: the first completion wins
        if token is None:
            return {"Payload": answer}
        deadline = started + timedelta(seconds=timeout) if timeout else None
        return self._await(token, Parked(token, deadline, payload.get("kind", "")))

    def run_task(self, name: str, task: Callable[[], Any]) -> Any:
        """Run one Lambda invocation of a task: its exception becomes the state's error."""
        try:
            return task()
        except Crash as crash:
            raise TaskFailed("Sandbox.Timedout", str(crash)) from None
        except Exception as error:  # the Lambda's errorType is the class name
            raise TaskFailed(type(error).__name__, json.dumps({"errorMessage": str(error)})) from None

    def _await(self, token: Token, parked: Parked) -> Any:
        self.await_token(parked)
        if token.state == "pending":  # the timeout fired first
            token.state = "timed_out"
        if token.state == "succeeded":
            return token.output
        if token.state == "failed":
            raise TaskFailed(token.error, token.cause)
        if token.state == "dead":
            raise Stopped("token")
        raise TaskFailed("States.Timeout", "the wait timed out")

    def await_token(self, parked: Parked) -> None:
        """Return once the token is answered or its wait timed out (default: at once)."""

    def retry_delay(self, seconds: float) -> None:
        """Default: the Retry's interval passes on the clock the test controls (if any)."""


def _next(state: dict[str, Any]) -> str | None:
    return None if state.get("End") else state["Next"]


class DrivenExecution(Execution):
    """An execution run in the test's own thread: ``on_wait(parked)`` acts while a token is open
    (answer it, signal, fire an alarm); a token still open after it times out, and the clock (if
    given) moves to the wait's deadline."""

    def __init__(
        self,
        fakes: Fakes,
        promotion_id: str,
        execution_arn: str,
        *,
        clock_: FakeClock | None = None,
        on_wait: Callable[[Parked], None] | None = None,
    ) -> None:
        super().__init__(fakes, promotion_id, execution_arn)
        self.clock = clock_
        self.on_wait = on_wait
        self.parked: list[Parked] = []

    def await_token(self, parked: Parked) -> None:
        self.parked.append(parked)
        if self.on_wait is not None:
            self.on_wait(parked)
        if parked.token.state == "pending" and self.clock is not None and parked.deadline is not None:
            self.clock.at = max(self.clock.at, parked.deadline)

    def retry_delay(self, seconds: float) -> None:
        if self.clock is not None:
            self.clock.advance(seconds)


def request_body(**overrides: Any) -> dict[str, Any]:
    """A promotion of version 2 of ``orders`` onto ``live``, watching ``orders-errors``."""
    body: dict[str, Any] = {
        "function": "orders",
        "alias": "live",
        "version": "2",
        "alarms": ["orders-errors"],
        "strategy": {"type": "canary", "weight": 0.25, "bake_seconds": 60},
    }
    return body | overrides


# --- the interleaving scheduler -----------------------------------------------------------------
class Killed(BaseException):  # noqa: N818
    """The run is over: an actor still parked unwinds."""


class Actor:
    """One concurrent party (an execution, an API call, an event's Lambda) in its own thread."""

    def __init__(self, scheduler: Scheduler, name: str, body: Callable[[], Any]) -> None:
        self.scheduler, self.name, self.body = scheduler, name, body
        self.go = threading.Semaphore(0)
        self.done = False
        self.waiting = False  # parked on a task token: runs only to time the wait out
        self.killed = False
        self.result: Any = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._main, name=name, daemon=True)

    def _main(self) -> None:
        self.go.acquire()
        try:
            if not self.killed:
                self.result = self.body()
        except Killed:
            pass
        except BaseException as error:  # noqa: BLE001 - the run's checks judge it
            self.error = error
        finally:
            self.done = True
            self.scheduler._back.release()


class Scheduler:
    """Runs actors one at a time, each in a thread, and hands the turn over at every fake call.

    A baton passes between the threads: only the actor holding it runs, so a run is a function of
    the seed alone. ``pause`` (called from an actor, e.g. by the ``Calls`` interceptor) gives the
    turn back; ``step`` lets an actor chosen at random run to its next pause.
    """

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.actors: list[Actor] = []
        self.current: Actor | None = None
        self._back = threading.Semaphore(0)
        self._ids = itertools.count(1)

    def spawn(self, name: str, body: Callable[[], Any]) -> Actor:
        actor = Actor(self, f"{name}#{next(self._ids)}", body)
        self.actors.append(actor)
        actor.thread.start()
        return actor

    def live(self) -> list[Actor]:
        return [a for a in self.actors if not a.done]

    def busy(self) -> list[Actor]:
        """Live actors that are not only waiting for a token."""
        return [a for a in self.actors if not a.done and not a.waiting]

    def step(self) -> Actor | None:
        live = self.live()
        if not live:
            return None
        return self.step_actor(self.rng.choice(live))

    def step_actor(self, actor: Actor) -> Actor:
        """Let ``actor`` run to its next pause (a test that places a race by hand)."""
        self.current = actor
        actor.go.release()
        self._back.acquire()
        self.current = None
        return actor

    def me(self) -> Actor | None:
        """The actor running in this thread (None in the test's own thread)."""
        current = self.current
        return current if current is not None and current.thread is threading.current_thread() else None

    def pause(self) -> None:
        actor = self.me()
        if actor is None:
            return
        self._back.release()
        actor.go.acquire()
        if actor.killed:
            raise Killed

    def close(self) -> None:
        """Unwind every actor still parked (a run that stopped early)."""
        for actor in self.live():
            actor.killed = True
            self.current = actor
            actor.go.release()
            self._back.acquire()
        self.current = None


class ScheduledExecution(Execution):
    """An execution as one actor of a ``Scheduler``: a wait parks until its token is answered or
    ``times_out(parked)`` says the wait's timeout fired (the clock then moves to its deadline)."""

    def __init__(
        self,
        fakes: Fakes,
        promotion_id: str,
        execution_arn: str,
        *,
        scheduler: Scheduler,
        clock_: FakeClock,
        times_out: Callable[[Parked], bool],
    ) -> None:
        super().__init__(fakes, promotion_id, execution_arn)
        self.scheduler, self.clock, self.times_out = scheduler, clock_, times_out

    def await_token(self, parked: Parked) -> None:
        actor = self.scheduler.me()
        try:
            while parked.token.state == "pending":
                if actor is not None:
                    actor.waiting = True
                self.scheduler.pause()
                if parked.token.state == "pending" and self.times_out(parked):
                    if parked.deadline is not None:
                        self.clock.at = max(self.clock.at, parked.deadline)
                    return
        finally:
            if actor is not None:
                actor.waiting = False

    def retry_delay(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.scheduler.pause()
