"""Request bodies built from options, and from a promotion's record (retry, undo). Pure functions."""

from __future__ import annotations

import argparse
from typing import Any

from .errors import Conflict, UsageError
from .options import STRATEGY_FLAGS

RETRYABLE = ("ROLLED_BACK", "ABORTED", "FAILED")


def promotion_body(a: argparse.Namespace) -> dict[str, Any]:
    """POST /promotions from `start`'s options (also a schedule's ``promotion``)."""
    body: dict[str, Any] = {"function": a.function, "alias": a.alias}
    if a.publish:
        body["publish"] = True
    else:
        body["version"] = a.version
    if a.code_sha256:
        if not a.publish:
            raise UsageError("--code-sha256 only goes with --publish")
        body["code_sha256"] = a.code_sha256
    body |= shape(a)
    if a.reason:
        body["reason"] = a.reason
    if a.role_arn:
        body["role_arn"] = a.role_arn
    if a.external_id:
        body["external_id"] = a.external_id
    return body


def shape(a: argparse.Namespace) -> dict[str, Any]:
    """Strategy and gates from the options; only what was given (the API has the defaults)."""
    body: dict[str, Any] = {}
    chosen = strategy(a)
    if chosen is not None:
        body["strategy"] = chosen
    if a.alarm:
        body["alarms"] = a.alarm
    hooks = {k: v for k, v in (("pre_traffic", a.pre_traffic), ("post_traffic", a.post_traffic)) if v}
    if hooks:
        body["hooks"] = hooks
    if a.approval:
        body["approval"] = True
    if a.insufficient_data:
        body["insufficient_data"] = a.insufficient_data
    gate = fast_gate(a)
    if gate is not None:
        body["fast_gate"] = gate
    return body


def fast_gate(a: argparse.Namespace) -> dict[str, Any] | None:
    """The fast gate from its options: any of them turns it on; only what was given (the API has the defaults)."""
    given = {
        "max_errors": a.fast_gate_max_errors,
        "window_seconds": a.fast_gate_window_seconds,
        "pattern": a.fast_gate_pattern,
    }
    given = {k: v for k, v in given.items() if v is not None}
    return given if a.fast_gate or given else None


def strategy(a: argparse.Namespace) -> dict[str, Any] | None:
    given = {flag: vars(a)[dest] for flags in STRATEGY_FLAGS.values() for dest, flag in flags.items()}
    given = {flag: value for flag, value in given.items() if value is not None}
    if a.steps is not None:
        if a.strategy or given:
            raise UsageError("--steps replaces --strategy and its options; give one or the other")
        return {"steps": a.steps}
    implied = [kind for kind, flags in STRATEGY_FLAGS.items() if set(flags.values()) & set(given)]
    kind = a.strategy or (implied[0] if implied else None)
    if kind is None:
        return None
    own = STRATEGY_FLAGS[kind]
    stray = [flag for flag in given if flag not in own.values()]
    if stray:
        how = "" if a.strategy else " (implied by the options given)"
        raise UsageError(f"{', '.join(stray)} does not apply to the {kind} strategy{how}")
    return {"type": kind} | {dest: given[flag] for dest, flag in own.items() if flag in given}


def recorded_steps(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The record's planned steps, as custom steps: the same weights and bakes as the first time."""
    return [{"weight": s["weight"], "bake_seconds": s.get("bake_seconds", 0)} for s in record.get("steps") or []]


def retry_request(record: dict[str, Any], reason: str | None, external_id: str | None) -> tuple[str, dict[str, Any]]:
    """What starts ``record`` again: ("start", body) for POST /promotions, or ("pipeline", body)
    for a pipeline promotion (POST /pipelines/{name}/promote, so its guards apply again).

    The record is the spec: the candidate version (a published one, also when it was --publish),
    its steps, alarms, hooks, approval, INSUFFICIENT_DATA rule, role and reason.
    """
    status = record.get("status")
    if status not in RETRYABLE:
        raise Conflict(
            f"{record.get('id')} is {status}: only a promotion that ended {', '.join(RETRYABLE)} can be retried"
        )
    why = reason or f"retry of {record.get('id')}" + (f": {record['reason']}" if record.get("reason") else "")
    origin = record.get("origin")
    if isinstance(origin, dict) and origin.get("pipeline"):
        body: dict[str, Any] = {"to": origin["environment"], "reason": why}
        if origin.get("source_version"):
            body["version"] = origin["source_version"]
        return "pipeline", body
    body = {
        "function": record.get("function_arn") or record["function"],
        "alias": record["alias"],
        "version": str(record["candidate_version"]),
        "strategy": {"steps": recorded_steps(record)},
        "reason": why,
    }
    body |= _gates(record)
    if record.get("role_arn"):
        body["role_arn"] = record["role_arn"]
        if external_id:
            body["external_id"] = external_id
    elif external_id:
        raise UsageError(f"--external-id goes with a role; {record.get('id')} has no role_arn")
    return "start", body


def undo_body(record: dict[str, Any], a: argparse.Namespace) -> dict[str, Any]:
    """A new promotion that moves ``record``'s alias back to its stable version, with the strategy and
    gates given now (not the record's: going back is its own release)."""
    if record.get("status") != "SUCCEEDED":
        raise Conflict(
            f"{record.get('id')} is {record.get('status')}: only a SUCCEEDED promotion can be undone "
            "(a promotion that did not succeed already left the alias on its stable version)"
        )
    body: dict[str, Any] = {
        "function": record.get("function_arn") or record["function"],
        "alias": record["alias"],
        "version": str(record["stable_version"]),
        "reason": a.reason or f"undo of {record.get('id')} (back to version {record['stable_version']})",
    }
    body |= shape(a)
    if record.get("role_arn"):
        body["role_arn"] = record["role_arn"]
        if a.external_id:
            body["external_id"] = a.external_id
    elif a.external_id:
        raise UsageError(f"--external-id goes with a role; {record.get('id')} has no role_arn")
    return body


def _gates(record: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if record.get("alarms"):
        body["alarms"] = list(record["alarms"])
    hooks = {k: v for k, v in (record.get("hooks") or {}).items() if v}
    if hooks:
        body["hooks"] = hooks
    if record.get("approval"):
        body["approval"] = True
    if record.get("insufficient_data"):
        body["insufficient_data"] = record["insufficient_data"]
    if record.get("fast_gate"):
        body["fast_gate"] = dict(record["fast_gate"])
    return body
