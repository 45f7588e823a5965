"""`promoter retry` and `promoter undo` against the sandbox server (the real ASL and handlers), and
--output yaml / --query on the API's real answers."""

import yaml

from tests.cli.helpers import Run, wait_until

EXIT_CONFLICT, EXIT_ROLLED_BACK = 3, 10


def _ok(run: Run) -> Run:
    assert run.code == 0, run
    return run


def _record(shell, promotion_id: str) -> dict:
    return _ok(shell.promoter("status", promotion_id, "--json")).json


def test_retry_starts_a_rolled_back_promotion_again_with_the_same_spec(shell, targets):
    target = targets.function("refunds")
    alarm = targets.alarm("refunds-errors", "refunds")
    first = _ok(shell.promoter(
        "start", "refunds", "live", "--version", "2", "--weight", "0.2", "--bake-seconds", "300",
        "--alarm", alarm, "--insufficient-data", "pass", "--reason", "ship refunds v2", "--json",
    )).json["id"]  # fmt: skip
    wait_until(lambda: _record(shell, first)["current_weight"] > 0, "traffic on the canary")
    targets.set_alarm(alarm, "ALARM", "errors on the canary")  # in the middle of the bake
    assert shell.promoter("watch", first, "--interval", "0.2").code == EXIT_ROLLED_BACK
    targets.set_alarm(alarm, "OK", "fixed")

    retried = _ok(shell.promoter("retry", first, "--watch", "--interval", "0.2"))
    assert "SUCCEEDED" in retried.out and "refunds:live now serves version 2" in retried.out
    assert targets.alias_state(target.function, target.alias)["version"] == "2"

    again = _ok(shell.promoter("list", "--function", "refunds", "--query", "items[0].id", "--output", "json")).json
    assert again != first
    old, new = _record(shell, first), _record(shell, again)
    assert new["candidate_version"] == old["candidate_version"] == "2"
    assert [(s["weight"], s["bake_seconds"]) for s in new["steps"]] == [(0.2, 300), (1.0, 0)]
    assert [(s["weight"], s["bake_seconds"]) for s in new["steps"]] == [
        (s["weight"], s["bake_seconds"]) for s in old["steps"]
    ]
    assert new["alarms"] == old["alarms"] == [alarm]
    assert new["insufficient_data"] == "pass"
    assert new["reason"] == f"retry of {first}: ship refunds v2"

    refused = shell.promoter("retry", again)
    assert refused.code == EXIT_CONFLICT, refused
    assert "SUCCEEDED" in refused.err and "only a promotion that ended" in refused.err


def test_undo_moves_the_alias_back_through_a_new_promotion_with_its_own_strategy(shell, targets):
    target = targets.function("coupons")
    alarm = targets.alarm("coupons-errors", "coupons")
    shipped = _ok(shell.promoter("start", "coupons", "live", "--version", "2", "--strategy", "all-at-once", "--json"))
    shipped_id = shipped.json["id"]
    _ok(shell.promoter("watch", shipped_id, "--interval", "0.2"))
    assert targets.alias_state(target.function, target.alias)["version"] == "2"

    undone = _ok(shell.promoter(
        "undo", shipped_id, "--weight", "0.5", "--bake-seconds", "10", "--alarm", alarm,
        "--watch", "--interval", "0.2",
    ))  # fmt: skip
    assert "coupons:live now serves version 1" in undone.out
    assert targets.alias_state(target.function, target.alias) | {"revision_id": None} == {
        "version": "1",
        "weights": {},
        "revision_id": None,
    }
    listed = _ok(shell.promoter("list", "--function", "coupons", "--output", "yaml"))
    newest = yaml.safe_load(listed.out)["items"][0]
    assert newest["id"] != shipped_id
    record = _record(shell, newest["id"])
    assert (record["stable_version"], record["candidate_version"], record["status"]) == ("2", "1", "SUCCEEDED")
    assert [(s["weight"], s["bake_seconds"]) for s in record["steps"]] == [(0.5, 10), (1.0, 0)]
    assert record["alarms"] == [alarm]
    assert record["reason"] == f"undo of {shipped_id} (back to version 1)"

    stale = shell.promoter("undo", shipped_id)  # a later promotion (the undo) ran on the alias since
    assert stale.code == EXIT_CONFLICT, stale
    assert newest["id"] in stale.err and "--force" in stale.err

    not_succeeded = shell.promoter("undo", "p-does-not-exist")
    assert not_succeeded.code == 2 and "does not exist" in not_succeeded.err


def test_output_yaml_and_query_on_the_sandbox_s_answers(shell, targets):
    targets.function("vouchers")
    promotion_id = _ok(shell.promoter(
        "start", "vouchers", "live", "--version", "2", "--strategy", "all-at-once", "--query", "id", "--output", "json",
    )).json  # fmt: skip
    _ok(shell.promoter("watch", promotion_id, "--interval", "0.2", "--output", "json"))
    shown = yaml.safe_load(_ok(shell.promoter("status", promotion_id, "--output", "yaml")).out)
    assert shown["id"] == promotion_id and shown["status"] == "SUCCEEDED"
    weights = _ok(shell.promoter("status", promotion_id, "--query", "steps[].weight", "--output", "json")).json
    assert weights == [1.0]
    table = _ok(shell.promoter("inventory", "vouchers", "--query", "aliases[].{alias: alias, version: version}"))
    assert [line.split() for line in table.out.splitlines()] == [["ALIAS", "VERSION"], ["live", "2"]]


def test_watch_on_a_terminal_is_drawn_live_by_rich(shell, targets):
    import os
    import pty
    import subprocess

    from sandbox.server import promoter_command

    targets.function("gifts")
    promotion_id = _ok(shell.promoter(
        "start", "gifts", "live", "--version", "2", "--weight", "0.5", "--bake-seconds", "50", "--query", "id",
        "--output", "json",
    )).json  # fmt: skip
    leader, follower = pty.openpty()
    env = shell.env | {"TERM": "xterm", "COLUMNS": "120"}
    watcher = subprocess.Popen(
        [*promoter_command(), "watch", promotion_id, "--interval", "0.2"], stdout=follower, stderr=follower, env=env
    )
    os.close(follower)
    screen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        screen += chunk
    os.close(leader)
    assert watcher.wait(timeout=300) == 0
    text = screen.decode(errors="replace")
    assert "\x1b[?25l" in text  # rich's Live hides the cursor while it redraws the block
    assert "━" in text  # its progress bar for the traffic share
    assert "SUCCEEDED" in text and "gifts:live now serves version 2" in text
