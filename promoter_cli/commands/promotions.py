"""start, status, list, watch, the signals (abort, pause, resume, approve, promote-now), retry, undo,
and inventory."""

from __future__ import annotations

from typing import Any

from .. import render, requests, watching
from ..context import Context
from ..errors import EXIT_OK, Conflict, UsageError
from ..options import shape_options, start_like_options, target_options, watch_options

SIGNALS = {
    "abort": "Stop the promotion and roll the alias back to the stable version.",
    "pause": "Hold the current weight after this step's bake until resume, promote-now or abort.",
    "resume": "Continue a PAUSED promotion.",
    "approve": "Approve a promotion that is AWAITING_APPROVAL, so traffic starts to move.",
    "promote-now": "Skip the remaining steps and bakes: move all traffic to the candidate now.",
}
LATER_PAGES = 20  # undo looks this many pages back for a later promotion on the same alias


def register(command: Any) -> None:
    start = command(
        "start",
        "Start a promotion of a version onto an alias.",
        "Start a promotion: move VERSION onto FUNCTION's ALIAS in traffic steps. The API answers at "
        "once (202); follow it with 'promoter watch ID' or pass --watch.",
    )
    target_options(start)
    shape_options(start)
    start_like_options(start)
    start.set_defaults(handler=start_promotion)

    status = command("status", "Show one promotion: status, traffic, steps and events.")
    status.add_argument("id", metavar="ID", help="promotion id, e.g. p-20261123T101500-1a2b3c4d")
    status.set_defaults(handler=show_status)

    listing = command("list", "List promotions, newest first.")
    listing.add_argument("--function", metavar="NAME", help="only this function")
    listing.add_argument("--alias", metavar="NAME", help="only this alias (with --function)")
    listing.add_argument(
        "--status",
        metavar="STATUS",
        type=str.upper,
        help="only this status: PENDING, AWAITING_APPROVAL, RUNNING, PAUSED, SUCCEEDED, ROLLED_BACK, ABORTED or FAILED",
    )
    listing.add_argument("--limit", type=int, metavar="N", help="at most N per page")
    listing.add_argument("--next-token", metavar="TOKEN", help="continue from a previous page")
    listing.add_argument("--all", action="store_true", help="follow next tokens and print every page")
    listing.set_defaults(handler=list_promotions)

    watch = command(
        "watch",
        "Follow a promotion live until it ends; exit 0 only if it SUCCEEDED.",
        "Follow a promotion live: a bar for the traffic weight, the steps with their times, and events as "
        "they happen (plain lines when stdout is not a terminal; one JSON or YAML snapshot per change with "
        "--output json|yaml). Exits when the promotion ends: 0 on SUCCEEDED, 10 ROLLED_BACK, 11 ABORTED, "
        "12 FAILED.",
    )
    watch.add_argument("id", metavar="ID", help="promotion id")
    watch_options(watch, prefix="")
    watch.set_defaults(handler=lambda ctx: watching.watch(ctx, ctx.args.id, ctx.args.interval, ctx.args.timeout))

    for name, help_text in SIGNALS.items():
        sub = command(name, help_text)
        sub.add_argument("id", metavar="ID", help="promotion id")
        sub.add_argument("--reason", metavar="TEXT", help="recorded with the event")
        sub.set_defaults(handler=signal, signal=name)

    retry = command(
        "retry",
        "Start again a promotion that ended ROLLED_BACK, ABORTED or FAILED, with the same spec.",
        "Start again a promotion that ended ROLLED_BACK, ABORTED or FAILED: a new promotion of the same "
        "candidate version onto the same alias, with the record's steps, alarms, hooks, approval and role. "
        "A pipeline promotion is promoted again through its pipeline, so its guards apply.",
    )
    retry.add_argument("id", metavar="ID", help="the promotion to start again")
    retry.add_argument("--external-id", metavar="ID", help="the role's external id, if its trust policy needs one")
    start_like_options(retry)
    retry.set_defaults(handler=retry_promotion)

    undo = command(
        "undo",
        "Move a SUCCEEDED promotion's alias back to its previous stable version, as a new promotion.",
        "Move the alias of a SUCCEEDED promotion back to the version it replaced (its stable version), "
        "through a new promotion with its own strategy and gates, given here. Refused when a later "
        "promotion ran on the same alias (undo that one instead), unless --force.",
    )
    undo.add_argument("id", metavar="ID", help="the SUCCEEDED promotion to undo")
    shape_options(undo)
    undo.add_argument("--external-id", metavar="ID", help="the role's external id, if its trust policy needs one")
    undo.add_argument("--force", action="store_true", help="undo even though a later promotion ran on the alias")
    start_like_options(undo)
    undo.set_defaults(handler=undo_promotion)

    inventory = command(
        "inventory",
        "Which version is on which alias of a function, and its promotions.",
        "Each alias of FUNCTION with its version, routing weights, the active promotion and the last one.",
    )
    inventory.add_argument("function", metavar="FUNCTION", help="function name or ARN")
    inventory.set_defaults(handler=show_inventory)


def start_promotion(ctx: Context) -> int:
    a = ctx.args
    body = requests.promotion_body(a)
    version = "newly published version" if a.publish else f"version {a.version}"
    what = ctx.style.esc(f"{a.function}:{a.alias} {ctx.style.arrow} {version}")
    return watching.started(ctx, ctx.client.start(body, a.idempotency_key), what)


def show_status(ctx: Context) -> int:
    promotion = ctx.client.get(ctx.args.id)
    ctx.emit(lambda: render.promotion_detail(promotion, ctx.style), promotion)
    return EXIT_OK


def list_promotions(ctx: Context) -> int:
    a = ctx.args
    if a.alias and not a.function:
        raise UsageError("--alias needs --function")
    query = {"function": a.function, "alias": a.alias, "status": a.status, "limit": a.limit}
    token, items, pages = a.next_token, [], []
    while True:
        page = ctx.client.list(**query, next_token=token)
        pages.append(page)
        found, token = _items_and_token(page)
        items += found
        if not (a.all and token):
            break
    data = pages[0] if len(pages) == 1 else {"items": items, "next_token": token}

    def human() -> Any:
        if not items:
            return "No promotions."
        more = f"More: promoter list --next-token {token}" if token else None
        return render.block(ctx.style, render.promotions_table(items, ctx.style), more)

    ctx.emit(human, data)
    return EXIT_OK


def signal(ctx: Context) -> int:
    a = ctx.args
    answer = ctx.client.signal(a.id, a.signal, a.reason)
    data = answer if isinstance(answer, dict) else {"id": a.id, "result": answer}
    ctx.emit(
        lambda: f"{a.signal}: accepted for {ctx.style.esc(data.get('id', a.id))} "
        f"(status {ctx.style.status(str(data.get('status', '?')))})",
        data,
    )
    return EXIT_OK


def retry_promotion(ctx: Context) -> int:
    a = ctx.args
    record = ctx.client.get(a.id)
    route, body = requests.retry_request(record, a.reason, a.external_id)
    if route == "pipeline":
        origin = record["origin"]
        response = ctx.client.promote_pipeline(origin["pipeline"], body, a.idempotency_key)
        what = f"pipeline {origin['pipeline']} {ctx.style.arrow} {origin['environment']} again"
    else:
        response = ctx.client.start(body, a.idempotency_key)
        what = f"{record['function']}:{record['alias']} {ctx.style.arrow} version {body['version']} again"
    return watching.started(ctx, response, ctx.style.esc(what))


def undo_promotion(ctx: Context) -> int:
    a = ctx.args
    record = ctx.client.get(a.id)
    body = requests.undo_body(record, a)  # refuses anything but SUCCEEDED
    if not a.force:
        later = _later_promotion(ctx, record)
        if later is not None:
            raise Conflict(
                f"{later.get('id')} ({later.get('status')}) ran on {record['function']}:{record['alias']} after "
                f"{record['id']}: undo that one, or pass --force to move the alias to version "
                f"{record['stable_version']} anyway"
            )
    what = (
        f"{record['function']}:{record['alias']} {ctx.style.arrow} version {body['version']} (undo of {record['id']})"
    )
    return watching.started(ctx, ctx.client.start(body, a.idempotency_key), ctx.style.esc(what))


def _later_promotion(ctx: Context, record: dict[str, Any]) -> dict[str, Any] | None:
    """The newest promotion on the record's alias, when it is not the record itself."""
    token = None
    for _ in range(LATER_PAGES):  # a page may be empty with a token: follow a few
        page = ctx.client.list(function=record["function"], alias=record["alias"], next_token=token)
        items, token = _items_and_token(page)
        if items:
            return None if items[0].get("id") == record["id"] else items[0]
        if not token:
            return None
    return None


def show_inventory(ctx: Context) -> int:
    body = ctx.client.inventory(ctx.args.function)
    ctx.emit(lambda: render.inventory_table(body, ctx.style), body)
    return EXIT_OK


def _items_and_token(page: Any) -> tuple[list[dict[str, Any]], str | None]:
    if isinstance(page, list):
        return page, None
    if not isinstance(page, dict):
        return [], None
    items = page.get("items", page.get("promotions", []))
    return list(items or []), page.get("next_token") or page.get("nextToken")
