"""schedule create|list|show|delete: promotions at a set time, or a recurring release train."""

from __future__ import annotations

from typing import Any

from .. import render, requests
from ..context import Context
from ..errors import EXIT_OK, UsageError
from ..options import global_options, shape_options, target_options


def register(command: Any) -> None:
    schedule = command(
        "schedule",
        "Scheduled promotions: at a set time, or a recurring release train.",
        "Scheduled promotions run through EventBridge Scheduler. A run whose target is busy or frozen is "
        "recorded as skipped, with the reason; 'promoter schedule show ID' lists the runs.",
    )
    actions = schedule.add_subparsers(dest="schedule_command", metavar="ACTION", required=True)

    def action(name: str, help_text: str, description: str) -> Any:
        sub = actions.add_parser(name, help=help_text, description=description)
        global_options(sub, True)
        return sub

    create = action(
        "create",
        "schedule a promotion (the same options as 'start')",
        "Schedule a promotion of FUNCTION's ALIAS, once (--at) or recurring (--cron).",
    )
    when = create.add_mutually_exclusive_group(required=True)
    when.add_argument("--at", metavar="TIME", help="once, at this time with a UTC offset: 2026-12-01T02:00:00Z")
    when.add_argument("--cron", metavar="EXPR", help="recurring: cron(minutes hours day-of-month month "
                      "day-of-week year), e.g. 'cron(0 2 ? * TUE *)'")  # fmt: skip
    create.add_argument("--timezone", metavar="TZ", help="IANA time zone of --cron (default: UTC)")
    create.add_argument("--description", metavar="TEXT", help="what this schedule is for")
    target_options(create)
    shape_options(create)
    create.add_argument("--reason", metavar="TEXT", help="why: recorded with each promotion it starts")
    create.set_defaults(handler=create_schedule)

    action("list", "the active schedules", "The active schedules.").set_defaults(handler=list_schedules)
    for name, help_text, handler in (
        ("show", "one schedule and its runs", show_schedule),
        ("delete", "delete a schedule (its history is kept)", delete_schedule),
    ):
        sub = action(name, help_text, help_text[0].upper() + help_text[1:] + ".")
        sub.add_argument("id", metavar="ID", help="schedule id, e.g. s-20261123T101500-1a2b3c4d")
        sub.set_defaults(handler=handler)


def create_schedule(ctx: Context) -> int:
    a = ctx.args
    body: dict[str, Any] = {"promotion": requests.promotion_body(a)}
    body |= {"at": a.at} if a.at else {"cron": a.cron}
    if a.timezone:
        if not a.cron:
            raise UsageError("--timezone goes with --cron (give --at with a UTC offset)")
        body["timezone"] = a.timezone
    if a.description:
        body["description"] = a.description
    created = ctx.client.create_schedule(body)
    ctx.emit(lambda: render.schedule_detail(created, ctx.style), created)
    return EXIT_OK


def list_schedules(ctx: Context) -> int:
    page = ctx.client.list_schedules()
    ctx.emit(lambda: render.schedule_table(page.get("items", []), ctx.style), page)
    return EXIT_OK


def show_schedule(ctx: Context) -> int:
    shown = ctx.client.get_schedule(ctx.args.id)
    ctx.emit(lambda: render.schedule_detail(shown, ctx.style), shown)
    return EXIT_OK


def delete_schedule(ctx: Context) -> int:
    deleted = ctx.client.delete_schedule(ctx.args.id)
    ctx.emit(
        f"Deleted schedule {ctx.style.esc(ctx.args.id)}; its {len(deleted.get('runs', []))} run(s) stay on record",
        deleted,
    )
    return EXIT_OK
