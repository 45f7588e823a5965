"""How retry and undo rebuild a request from a promotion's record (pure; the sandbox tests run them)."""

import argparse
import re

import pytest

from promoter_cli.errors import Conflict, UsageError
from promoter_cli.main import build_parser
from promoter_cli.requests import retry_request, strategy, undo_body

RECORD = {
    "id": "p-1",
    "function": "orders",
    "function_arn": "arn:aws:lambda:us-east-1:123456789012:function:orders",
    "alias": "live",
    "stable_version": "6",
    "candidate_version": "7",
    "status": "ROLLED_BACK",
    "steps": [
        {"index": 0, "weight": 0.1, "bake_seconds": 300, "started_at": "2026-11-23T10:00:00Z"},
        {"index": 1, "weight": 1.0, "bake_seconds": 0},
    ],
    "alarms": ["orders-errors"],
    "hooks": {"pre_traffic": "orders-smoke", "post_traffic": None},
    "approval": True,
    "insufficient_data": "pass",
    "fast_gate": {"max_errors": 3, "window_seconds": 30, "pattern": None},
    "reason": "fix rounding",
    "role_arn": None,
    "origin": None,
}


def undo_args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["undo", "p-1", *argv])


@pytest.mark.parametrize("status", ["ROLLED_BACK", "ABORTED", "FAILED"])
def test_retry_rebuilds_the_same_spec(status):
    route, body = retry_request(RECORD | {"status": status}, None, None)
    assert route == "start"
    assert body == {
        "function": RECORD["function_arn"],
        "alias": "live",
        "version": "7",
        "strategy": {"steps": [{"weight": 0.1, "bake_seconds": 300}, {"weight": 1.0, "bake_seconds": 0}]},
        "alarms": ["orders-errors"],
        "hooks": {"pre_traffic": "orders-smoke"},
        "approval": True,
        "insufficient_data": "pass",
        "fast_gate": {"max_errors": 3, "window_seconds": 30, "pattern": None},
        "reason": "retry of p-1: fix rounding",
    }


@pytest.mark.parametrize("status", ["PENDING", "AWAITING_APPROVAL", "RUNNING", "PAUSED", "SUCCEEDED"])
def test_only_an_ended_unsuccessful_promotion_is_retried(status):
    with pytest.raises(Conflict, match=f"p-1 is {status}"):
        retry_request(RECORD | {"status": status}, None, None)


def test_retry_keeps_the_role_and_takes_its_external_id_again():
    role = "arn:aws:iam::222222222222:role/lambda-promoter-target"
    _, body = retry_request(RECORD | {"role_arn": role}, "again", "ext-1")
    assert (body["role_arn"], body["external_id"], body["reason"]) == (role, "ext-1", "again")
    with pytest.raises(UsageError, match="no role_arn"):
        retry_request(RECORD, None, "ext-1")


def test_a_pipeline_promotion_is_retried_through_its_pipeline():
    origin = {"pipeline": "orders", "environment": "prod", "source_environment": "staging", "source_version": "7"}
    route, body = retry_request(RECORD | {"origin": origin}, None, None)
    assert route == "pipeline"
    assert body == {"to": "prod", "version": "7", "reason": "retry of p-1: fix rounding"}


def test_undo_goes_back_to_the_stable_version_with_the_strategy_given_now():
    succeeded = RECORD | {"status": "SUCCEEDED"}
    body = undo_body(succeeded, undo_args("--strategy", "linear", "--step", "0.25", "--alarm", "undo-watch"))
    assert body == {
        "function": RECORD["function_arn"],
        "alias": "live",
        "version": "6",
        "reason": "undo of p-1 (back to version 6)",
        "strategy": {"type": "linear", "step": 0.25},
        "alarms": ["undo-watch"],
    }  # none of the record's own gates: going back is its own release
    assert "strategy" not in undo_body(succeeded, undo_args())  # the API's default strategy


@pytest.mark.parametrize("status", ["ROLLED_BACK", "ABORTED", "FAILED", "RUNNING"])
def test_only_a_succeeded_promotion_is_undone(status):
    with pytest.raises(Conflict, match="only a SUCCEEDED promotion"):
        undo_body(RECORD | {"status": status}, undo_args())


def start_strategy(*argv: str) -> dict | None:
    return strategy(build_parser().parse_args(["start", "orders", "live", "--version", "2", *argv]))


@pytest.mark.parametrize(
    ("argv", "body"),
    [
        ((), None),
        (("--strategy", "linear", "--step", "0.2"), {"type": "linear", "step": 0.2}),
        (("--interval-seconds", "30"), {"type": "linear", "interval_seconds": 30}),
        (("--weight", "0.05", "--bake-seconds", "60"), {"type": "canary", "weight": 0.05, "bake_seconds": 60}),
        (("--strategy", "all-at-once"), {"type": "all-at-once"}),
        (("--steps", "0.1:5,1"), {"steps": [{"weight": 0.1, "bake_seconds": 5}, {"weight": 1.0, "bake_seconds": 0}]}),
    ],
)
def test_the_strategy_options_become_the_requests_strategy(argv, body):
    assert start_strategy(*argv) == body


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--step", "0.2", "--weight", "0.1"), "--step does not apply to the canary strategy (implied by"),
        (("--strategy", "all-at-once", "--bake-seconds", "5"), "--bake-seconds does not apply to the all-at-once"),
        (("--strategy", "canary", "--steps", "0.5"), "--steps replaces --strategy"),
        (("--weight", "0.1", "--steps", "0.5"), "--steps replaces --strategy"),
    ],
)
def test_options_of_another_strategy_are_a_usage_error(argv, message):
    with pytest.raises(UsageError, match=re.escape(message)):
        start_strategy(*argv)


def test_the_fast_gate_options_build_its_body_and_any_of_them_turns_it_on():
    assert "fast_gate" not in undo_body(RECORD | {"status": "SUCCEEDED"}, undo_args())
    assert undo_body(RECORD | {"status": "SUCCEEDED"}, undo_args("--fast-gate"))["fast_gate"] == {}
    body = undo_body(
        RECORD | {"status": "SUCCEEDED"},
        undo_args("--fast-gate-max-errors", "0", "--fast-gate-window-seconds", "20", "--fast-gate-pattern", "Declined"),
    )
    assert body["fast_gate"] == {"max_errors": 0, "window_seconds": 20, "pattern": "Declined"}
