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
    assert targets.alias_state(target.function, target.alias)["weights"] == {}
    assert targets.alias_state(target.function, target.alias)["version"] == "1"
