"""The dashboard in a real browser: Debian's Chromium, driven by Playwright, against the real
``promoter dashboard`` process in front of the sandbox server. A promotion moves on the promotion's
page without a reload, a refused signal shows the API's answer, and abort (confirmed with a reason)
ends it ABORTED. Screenshots of each page go to the test's output directory."""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sandbox.fixtures.targets import Targets
from tests.cli.helpers import COMMAND_LIMIT, Shell, iam_user_env, wait_until

CHROMIUM = Path("/usr/bin/chromium")
# Headless, as root in a container (no sandbox), without a GPU, and with nothing that reaches the
# network on its own.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = COMMAND_LIMIT * 1000  # a safety net for a hung page, not a timing check

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent: apt-get install -y chromium"),
]


def dashboard_url(process: subprocess.Popen[str]) -> str:
    """The URL ``promoter dashboard`` prints when it listens."""
    assert process.stdout is not None
    line = process.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:\d+/", line)
    assert match, (
        f"no URL in the dashboard's first line: {line!r}; stderr: {process.stderr.read() if process.stderr else ''}"
    )
    return match.group(0)


@dataclass
class Dashboard:
    url: str
    actor: str  # the IAM user whose keys it signs with


@pytest.fixture
def dashboard(shell: Shell, targets: Targets) -> Iterator[Dashboard]:
    """``promoter dashboard`` run by a sandbox IAM user: the API verifies its signatures."""
    env, actor = iam_user_env(shell, f"operator-{uuid.uuid4().hex[:8]}", targets.iam)
    process = shell.promoter_background("dashboard", "--no-open", "--port", "0", env=env)
    try:
        yield Dashboard(dashboard_url(process), actor)
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture
def browser_page(tmp_path: Path) -> Iterator[Any]:
    try:  # Chromium is the one thing that may be missing (the apt package); Playwright is a pinned dev dependency
        from playwright import sync_api
    except ImportError:
        pytest.fail("Playwright for Python is not installed: make venv (requirements-dev.txt pins playwright)")
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),  # a fresh user-data-dir
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(WAIT_MS)
        sync_api.expect.set_options(timeout=WAIT_MS)
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


FINAL = {"SUCCEEDED", "ROLLED_BACK", "FAILED", "ABORTED"}


def api_call(server: Any, method: str, path: str, body: dict | None = None) -> dict:
    """The sandbox's API with curl, as a user of `make sandbox` may call it (it signs nothing)."""
    command = ["curl", "-sS", "-X", method, f"{server.api_url}{path}", "-H", "content-type: application/json"]
    if body is not None:
        command += ["--data", json.dumps(body)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=COMMAND_LIMIT, check=True)
    return dict(json.loads(done.stdout))


def start(shell: Shell, *args: str) -> str:
    run = shell.promoter("start", *args, "--json")
    assert run.code == 0, str(run)
    return str(run.json["id"])


def test_the_dashboard_follows_a_promotion_and_aborts_it(shell, targets, dashboard, browser_page, tmp_path):
    from playwright.sync_api import expect

    page = browser_page
    targets.function("storefront")
    targets.alarm("storefront-errors", "storefront", state="OK")
    targets.hook("storefront-smoke", passed=True)
    # At the sandbox's time scale of 50 the bakes last 5 s, 5 s and 400 s (the page polls every 2 s):
    # the last step waits for the abort.
    promotion = start(
        shell, "storefront", "live", "--version", "2", "--steps", "0.1:250,0.4:250,0.7:20000",
        "--alarm", "storefront-errors", "--pre-traffic", "storefront-smoke", "--reason", "checkout rounding fix",
    )  # fmt: skip

    page.goto(dashboard.url + "#/promotions")
    row = page.locator(f'[data-section="live"] tr[data-promotion="{promotion}"]')
    expect(row).to_be_visible()
    expect(row.locator(".status")).to_have_text(re.compile("PENDING|RUNNING"))
    page.screenshot(path=str(tmp_path / "promotions.png"), full_page=True)

    row.get_by_role("link", name="storefront:live").click()  # the keyboard's way in too: a link
    expect(page).to_have_url(re.compile(f"#/promotions/{promotion}$"))
    share = page.locator("#traffic .share-text")
    page.evaluate("window.loadedOnce = true")  # gone if the page were reloaded
    seen = [share.inner_text()]
    while seen[-1] != "70%":  # each share the page shows as the promotion moves, without a reload
        page.wait_for_function(  # the page redraws the node: look it up each time
            "before => document.querySelector('#traffic .share-text')?.textContent !== before", arg=seen[-1]
        )
        seen.append(share.inner_text())
    moved = [value for value in seen if value != "0%"]
    assert moved[0] in ("10%", "40%") and moved[-1] == "70%" and len(moved) >= 2, seen  # it showed the shares rise
    assert all(float(a[:-1]) < float(b[:-1]) for a, b in zip(moved, moved[1:], strict=False)), seen
    assert page.evaluate("window.loadedOnce") is True
    print(f"shares the page showed: {seen}")
    expect(page.locator("h1 .status")).to_have_text("RUNNING")
    expect(page.locator('.timeline li[data-step="2"]')).to_have_class(re.compile("current"))
    expect(page.locator(".chart svg")).to_have_attribute("aria-label", re.compile("10%.*40%.*70%"))
    pre_traffic = page.locator('table[data-section="hooks"] tr[data-hook="pre_traffic"]')
    expect(pre_traffic).to_contain_text("storefront-smoke")
    expect(pre_traffic).to_contain_text("passed")
    expect(page.locator('table[data-section="alarms"]')).to_contain_text("storefront-errors")
    # each alarm's state is CloudWatch's, read through GET /promotions/{id}/gates
    expect(page.locator('tr[data-alarm="storefront-errors"] [data-alarm-state]')).to_have_text("OK")
    expect(page.locator(".facts", has_text="Last gate check")).to_contain_text("step 2: gates passed")
    page.screenshot(path=str(tmp_path / "promotion-running.png"), full_page=True)

    # From the keyboard: Enter on a button opens the dialog with the reason focused; Escape closes it
    # and gives focus back to the button (the page redraws meanwhile).
    page.get_by_role("button", name="Pause").focus()
    page.keyboard.press("Enter")
    dialog = page.locator("dialog#confirm")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Reason")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("button", name="Pause")).to_be_focused()

    # A move the API refuses: its answer is shown as it said it, and nothing changes.
    page.get_by_role("button", name="Approve").click()
    expect(dialog).to_be_visible()
    dialog.get_by_label("Reason").fill("approve while running")
    dialog.get_by_role("button", name="Approve").click()
    refusal = dialog.locator("#confirm-error")
    expect(refusal).to_contain_text("HTTP 409")
    expect(refusal).to_contain_text("RUNNING")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()

    # Pause, then resume: each confirmed with a reason, each seen on the page as the workflow takes it.
    for button, status in (("Pause", "PAUSED"), ("Resume", "RUNNING")):
        page.get_by_role("button", name=button).click()
        dialog.get_by_label("Reason").fill(f"browser test: {button.lower()}")
        dialog.get_by_role("button", name=button).click()
        expect(dialog).to_be_hidden()
        expect(page.locator("h1 .status")).to_have_text(status)
        expect(page.locator('.timeline li[data-step="2"]')).to_contain_text(
            "paused" if status == "PAUSED" else "baking"
        )

    page.get_by_role("button", name="Abort").click()
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Abort").click()  # no reason yet: the dialog asks for one
    expect(refusal).to_contain_text("Give a reason")
    dialog.get_by_label("Reason").fill("browser test: stop at 70%")
    dialog.get_by_role("button", name="Abort").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("h1 .status")).to_have_text("ABORTED")
    expect(share).to_have_text("0%")
    history = page.locator('table[data-section="history"]')
    abort_event = history.locator("tr", has_text="browser test: stop at 70%").first
    expect(abort_event).to_contain_text(dashboard.actor)  # signed with the user's keys, verified by the API
    expect(page.get_by_role("button", name="Abort")).to_be_disabled()
    page.screenshot(path=str(tmp_path / "promotion-aborted.png"), full_page=True)

    page.get_by_role("link", name="All promotions").click()  # ended: no longer live, first of the recent
    recent = page.locator('[data-section="recent"] tbody tr').first
    expect(recent).to_have_attribute("data-promotion", promotion)
    expect(recent.locator(".status")).to_have_text("ABORTED")
    expect(page.locator(f'[data-section="live"] tr[data-promotion="{promotion}"]')).to_have_count(0)
    page.screenshot(path=str(tmp_path / "promotions-after.png"), full_page=True)

    status = shell.promoter("status", promotion, "--json")
    assert status.json["status"] == "ABORTED", str(status)
    assert targets.alias_state("storefront", "live") | {"revision_id": None} == {
        "version": "1",
        "weights": {},
        "revision_id": None,
    }


def test_the_pipelines_page_shows_each_environment_side_by_side(shell, targets, dashboard, browser_page, tmp_path):
    from playwright.sync_api import expect

    page = browser_page
    target = targets.function("shopfront", alias="dev")
    targets.lambdas.create_alias(FunctionName="shopfront", Name="prod", FunctionVersion=target.versions[0])
    definition = tmp_path / "shop.json"
    definition.write_text(
        json.dumps(
            {
                "name": "shop",
                "description": "dev, then prod, of one function",
                "environments": [
                    {"name": "dev", "function": "shopfront", "alias": "dev", "strategy": {"type": "all-at-once"}},
                    {"name": "prod", "function": "shopfront", "alias": "prod", "protected": True},
                ],
            }
        )
    )
    applied = shell.promoter("pipeline", "apply", str(definition))
    assert applied.code == 0, str(applied)
    promoted = shell.promoter("promote", "shop", "--to", "dev", "--version", "2", "--json")
    assert promoted.code == 0, str(promoted)

    page.goto(dashboard.url + "#/pipelines")
    dev, prod = page.locator('[data-env="dev"]'), page.locator('[data-env="prod"]')
    expect(dev).to_contain_text("SUCCEEDED")  # the page polls until the promotion into dev has ended
    expect(dev).to_contain_text("settled: all traffic on version 2")
    expect(prod).to_contain_text("settled: all traffic on version 1")
    expect(prod).to_contain_text("(protected)")
    expect(prod).to_contain_text("no promotion on it yet")
    sha = targets.lambdas.get_function_configuration(FunctionName="shopfront", Qualifier="2")["CodeSha256"]
    expect(dev).to_contain_text(sha)
    expect(dev.locator("dd", has_text="DRIFT")).to_have_count(0)
    page.screenshot(path=str(tmp_path / "pipelines.png"), full_page=True)

    # Someone moves dev's alias outside lambda-promoter: the page shows the drift on its next poll.
    targets.lambdas.update_alias(FunctionName="shopfront", Name="dev", FunctionVersion=target.versions[0])
    expect(dev).to_contain_text("DRIFT: ")
    expect(dev).to_contain_text("settled: all traffic on version 1")
    page.screenshot(path=str(tmp_path / "pipelines-drift.png"), full_page=True)


def test_the_promotion_page_shows_the_judges_evidence_and_the_fast_gate(
    shell, server, targets, dashboard, browser_page, tmp_path
):
    """A judged promotion with too little traffic is inconclusive, which fails by default: the page shows
    the judged step, the latest judgement and the fast gate's filter, removed at the end."""
    from playwright.sync_api import expect

    targets.function("judged")
    body = {
        "function": "judged",
        "alias": "live",
        "version": "2",
        "strategy": {"type": "canary", "weight": 0.1, "bake_seconds": 120},
        "analysis": {"warmup_seconds": 0},
        "fast_gate": {"max_errors": 3, "window_seconds": 30},
    }
    started = api_call(server, "POST", "/promotions", body)
    promotion = started["id"]
    final = wait_until(
        lambda: (view := api_call(server, "GET", f"/promotions/{promotion}"))["status"] in FINAL and view,
        "the judged promotion to end",
    )
    assert final["status"] == "ROLLED_BACK", final["outcome_reason"]

    page = browser_page
    page.goto(dashboard.url + f"#/promotions/{promotion}")
    expect(page.locator("h1 .status")).to_have_text("ROLLED_BACK")
    judged = page.locator('[data-section="analysis"] tr[data-judged-step="0"]')
    expect(judged).to_contain_text("inconclusive")
    expect(judged).to_contain_text("fewer than the 100 needed")
    expect(page.get_by_text(re.compile(r"^Latest judgement \(step 1\): inconclusive"))).to_be_visible()
    expect(page.locator('[data-section="fast-gate"]')).to_contain_text("3 errors of the candidate in 30 s")
    expect(page.locator('[data-section="fast-gate"]')).to_contain_text("removed")
    page.screenshot(path=str(tmp_path / "promotion-judged.png"), full_page=True)
