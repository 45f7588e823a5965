"""The fast gate through the user's path: the promoter CLI against the sandbox server process, whose
Lambda writes the candidate's errors to its log group and delivers them to the FastGate function."""

from __future__ import annotations

import threading

from tests.cli.helpers import wait_until
from tests.workflow.test_judge import flaky_target

EXIT_ROLLED_BACK = 10


def test_promoter_start_with_the_fast_gate_rolls_back_a_raising_candidate(shell, targets):
    target = flaky_target(targets, "payments", share=1.0)  # version 2 raises on every call
    started = shell.promoter(
        "start", "payments", "live", "--version", "2", "--weight", "0.5", "--bake-seconds", "30000",
        "--fast-gate-max-errors", "2", "--fast-gate-window-seconds", "60", "--json",
    )  # fmt: skip
    assert started.code == 0, started
    promotion_id = started.json["id"]
    wait_until(lambda: shell.promoter("status", promotion_id, "--json").json["current_weight"] > 0, "on the canary")

    done = threading.Event()

    def traffic() -> None:
        while not done.is_set():
            targets.lambdas.invoke(FunctionName="payments:live", Payload=b"{}")

    caller = threading.Thread(target=traffic, daemon=True)
    caller.start()
    try:
        watched = shell.promoter("watch", promotion_id, "--interval", "0.2")
    finally:
        done.set()
        caller.join(timeout=30)

    assert watched.code == EXIT_ROLLED_BACK, watched
    assert "fast gate" in watched.out
    status = shell.promoter("status", promotion_id, "--json").json
    assert status["fast_gate"]["max_errors"] == 2
    trip = status["fast_gate_state"]["trip"]
    assert trip["errors"] > 2 and trip["window_seconds"] == 60
    assert status["fast_gate_state"]["removed"] is True
    shown = shell.promoter("status", promotion_id)
    assert shown.code == 0, shown
    assert "more than 2 errors in 60 s roll back; filter removed; tripped: " in " ".join(shown.out.split())
    assert targets.alias_state(target.function, target.alias)["weights"] == {}
    assert targets.alias_state(target.function, target.alias)["version"] == "1"


def test_the_fast_gate_line_says_its_threshold_filter_and_trip():
    from promoter_cli.render import fast_gate_line

    assert fast_gate_line({"fast_gate": None}) == ""
    live = {
        "fast_gate": {"max_errors": 5, "window_seconds": 60, "pattern": "Declined"},
        "fast_gate_state": {"log_group": "/aws/lambda/orders", "removed": False, "trip": None},
    }
    assert (
        fast_gate_line(live) == "more than 5 errors in 60 s roll back (also 'Declined'); filter on /aws/lambda/orders"
    )
    tripped = live | {
        "fast_gate_state": {
            "log_group": "/aws/lambda/orders",
            "removed": True,
            "trip": {"errors": 6, "first_error_at": "2026-11-23T10:15:03Z", "at": "2026-11-23T10:15:04Z"},
        }
    }
    assert "; filter removed; tripped: 6 errors from " in fast_gate_line(tripped)
