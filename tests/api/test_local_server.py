"""The same API on the local server (HttpResolverLocal under uvicorn), over real HTTP."""

from __future__ import annotations

import threading

import httpx

from promoter.models import Status
from tests.api.conftest import executions

BODY = {
    "function": "orders",
    "alias": "live",
    "version": "2",
    "strategy": {"type": "canary", "weight": 0.1, "bake_seconds": 2},
}


def test_local_calls_are_unsigned_and_the_actor_is_local(sandbox, targets, local_api):
    targets.function("orders")
    with httpx.Client(base_url=local_api, timeout=30) as http:
        started = http.post("/promotions", json=BODY, headers={"Idempotency-Key": "local-1"})
        again = http.post("/promotions", json=BODY, headers={"Idempotency-Key": "local-1"})
        assert started.status_code == 202, started.text
        assert again.json() == started.json()
        promotion_id = started.json()["id"]
        assert started.headers["location"] == f"/promotions/{promotion_id}"
        sandbox.wait_until_final(promotion_id)

        view = http.get(f"/promotions/{promotion_id}").json()
        assert view["status"] == "SUCCEEDED"
        assert view["created_by"] == "local"
        assert view["events"][0]["actor"] == "local"
        assert len(executions(sandbox)) == 1

        document = http.get("/openapi.json").json()
        assert "security" not in document  # the local server takes unsigned calls, and says so
        assert document["servers"] == [{"url": "/"}]
        assert http.get("/swagger").headers["content-type"].startswith("text/html")
        assert http.get("/functions/orders/aliases").json()["aliases"][0]["last_promotion"]["id"] == promotion_id


def test_twenty_parallel_starts_on_one_target_one_wins(sandbox, targets, local_api):
    targets.function("orders")
    targets.alarm("orders-errors", "orders")
    callers = 20
    barrier = threading.Barrier(callers)
    answers: list[httpx.Response] = []
    lock = threading.Lock()

    def caller(index: int) -> None:
        with httpx.Client(base_url=local_api, timeout=60) as http:
            barrier.wait()
            response = http.post("/promotions", json=BODY | {"alarms": ["orders-errors"], "reason": f"caller {index}"})
        with lock:
            answers.append(response)

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    statuses = sorted(r.status_code for r in answers)
    assert statuses == [202] + [409] * (callers - 1), [r.text for r in answers if r.status_code != 409]
    winner = next(r.json()["id"] for r in answers if r.status_code == 202)
    for refused in (r.json() for r in answers if r.status_code == 409):
        assert refused["error"] == "TargetBusy"
        assert refused["active_promotion"] == winner
    assert len(executions(sandbox)) == 1
    final = sandbox.wait_until_final(winner)
    assert final.status is Status.SUCCEEDED
    assert targets.alias_state("orders", "live")["version"] == "2"
    assert len(sandbox.service().list_promotions()[0]) == 1  # the losers left no record behind
