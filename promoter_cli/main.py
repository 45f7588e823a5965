"""``promoter``: start, follow and steer lambda-promoter promotions from a terminal or CI.

Every call is SigV4-signed with your normal AWS credentials. The endpoint comes from ``--api``,
else ``$PROMOTER_API``, else the ``ApiUrl`` output of the stack named by ``--stack`` (or
``$PROMOTER_STACK``). ``--api http://127.0.0.1:8080`` drives the local sandbox.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import textwrap
import time
import urllib.parse
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from . import pipelines, render
from .client import ApiClient, ApiError, ConnectionFailed, is_loopback, region_of

# --- exit codes (documented in --help and docs/cli.md) -----------------------------------------------
EXIT_OK = 0  # done; for watch: the promotion SUCCEEDED
EXIT_ERROR = 1  # the API failed (5xx) or something unexpected happened
EXIT_USAGE = 2  # bad input: rejected by the CLI (usage) or by the API (400, 404, 422)
EXIT_CONFLICT = 3  # 409: the target is busy, or the promotion's status does not allow the move
EXIT_AUTH = 4  # no credentials, or the API refused them (401, 403)
EXIT_UNREACHABLE = 5  # no endpoint configured, stack lookup failed, or nothing answered
EXIT_ROLLED_BACK = 10  # watch: a gate failed and the alias went back to stable
EXIT_ABORTED = 11  # watch: someone aborted the promotion
EXIT_FAILED = 12  # watch: an error or drift ended the promotion
EXIT_WATCH_TIMEOUT = 13  # watch: --timeout passed while the promotion was still live
EXIT_INTERRUPTED = 130  # Ctrl-C

FINAL_EXIT = {
    "SUCCEEDED": EXIT_OK,
    "ROLLED_BACK": EXIT_ROLLED_BACK,
    "ABORTED": EXIT_ABORTED,
    "FAILED": EXIT_FAILED,
}

EXIT_CODES_HELP = """\
exit codes:
  0    success; for watch (and start --watch): the promotion SUCCEEDED
  1    the API failed (5xx) or an unexpected error
  2    bad input, refused by the CLI or by the API (400, 404, 422)
  3    conflict (409): the target is busy, or the status does not allow the move
  4    no AWS credentials, or the API refused them (401, 403)
  5    no endpoint configured, the stack lookup failed, or the API did not answer
  10   watch: ROLLED_BACK (a gate failed; the alias is back on the stable version)
  11   watch: ABORTED
  12   watch: FAILED (an error, or the alias was changed out of band)
  13   watch: --timeout passed while the promotion was still live
  130  interrupted (Ctrl-C); a watched promotion goes on
"""

ENDPOINT_HELP = """\
endpoint:
  --api URL, else $PROMOTER_API, else the ApiUrl output of --stack NAME (or $PROMOTER_STACK),
  read with CloudFormation DescribeStacks. Use --api http://127.0.0.1:8080 for the sandbox
  (make sandbox).
"""

SIGNAL_COMMANDS = {
    "abort": ("abort", "Stop the promotion and roll the alias back to the stable version."),
    "pause": ("pause", "Hold the current weight after this step's bake until resume, promote-now or abort."),
    "resume": ("resume", "Continue a PAUSED promotion."),
    "approve": ("approve", "Approve a promotion that is AWAITING_APPROVAL, so traffic starts to move."),
    "promote-now": (
        "promote-now",
        "Skip the remaining steps and bakes: move all traffic to the candidate now.",
    ),
}


class UsageError(Exception):
    """Bad input found by the CLI itself (exit 2)."""


class Unreachable(Exception):
    """No endpoint, or the endpoint could not be found (exit 5)."""


class AuthError(Exception):
    """No credentials for a remote endpoint (exit 4)."""


# --- argument parsing -----------------------------------------------------------------------------
def _fraction(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def _seconds(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of seconds: {text!r}") from None


def _positive_float(text: str) -> float:
    value = _fraction(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0: {text!r}")
    return value


def _steps(text: str) -> list[dict[str, Any]]:
    """``0.05:60,0.5:60,1`` -> [{weight, bake_seconds}, ...] (bake defaults to 0)."""
    steps = []
    for part in text.split(","):
        weight, _, bake = part.strip().partition(":")
        try:
            steps.append({"weight": float(weight), "bake_seconds": int(bake) if bake else 0})
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"bad step {part.strip()!r}: use WEIGHT[:BAKE_SECONDS], e.g. 0.1:60,0.5:60,1"
            ) from None
    return steps


def _global_options(parser: argparse.ArgumentParser, suppress: bool) -> None:
    """The same options on the main parser and on every command, so they go before or after it."""

    def default(value: Any) -> Any:
        return argparse.SUPPRESS if suppress else value

    group = parser.add_argument_group("connection and output")
    group.add_argument(
        "--api", metavar="URL", default=default(None), help="API base URL (default: $PROMOTER_API)"
    )
    group.add_argument(
        "--stack",
        metavar="NAME",
        default=default(None),
        help="read the API URL from this deployed stack's ApiUrl output (default: $PROMOTER_STACK)",
    )
    group.add_argument("--region", default=default(None), help="AWS region for signing and the stack lookup")
    group.add_argument(
        "--profile", default=default(None), help="AWS profile whose credentials sign the calls"
    )
    group.add_argument(
        "--json", action="store_true", default=default(False), help="print JSON instead of tables"
    )
    group.add_argument("--no-color", action="store_true", default=default(False), help="no ANSI colours")
    group.add_argument(
        "--http-timeout",
        type=_positive_float,
        metavar="SECONDS",
        default=default(30.0),
        help="give up on one HTTP call after this long (default: 30)",
    )


def _promotion_options(sub: argparse.ArgumentParser) -> None:
    """What to promote and how: shared by `start` and `schedule create`."""
    sub.add_argument(
        "function", metavar="FUNCTION", help="function name or ARN (tagged promoter:managed=true)"
    )
    sub.add_argument("alias", metavar="ALIAS", help="the alias whose traffic moves, e.g. live")
    which = sub.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--version", metavar="N", help="the published version to promote (digits, not $LATEST)"
    )
    which.add_argument(
        "--publish", action="store_true", help="publish the function's current code and promote it"
    )
    sub.add_argument(
        "--code-sha256", metavar="SHA", help="with --publish: only if $LATEST has this CodeSha256"
    )
    sub.add_argument(
        "--role-arn", metavar="ARN", help="the function is in another account: reach it through this role"
    )
    sub.add_argument("--external-id", metavar="ID", help="with --role-arn: the role's external id")
    shape = sub.add_argument_group("strategy (default: canary 10% then 100%, bake 300 s)")
    shape.add_argument(
        "--strategy",
        choices=["canary", "linear", "all-at-once"],
        help="canary: one step then 100%%; linear: equal steps; all-at-once: straight to 100%%",
    )
    shape.add_argument("--weight", type=_fraction, metavar="W", help="canary: share of traffic in (0, 1)")
    shape.add_argument("--bake-seconds", type=_seconds, metavar="S", help="canary: hold time at --weight")
    shape.add_argument("--step", type=_fraction, metavar="W", help="linear: share added per step, in (0, 1)")
    shape.add_argument("--interval-seconds", type=_seconds, metavar="S", help="linear: hold time per step")
    shape.add_argument(
        "--steps",
        type=_steps,
        metavar="W[:S],...",
        help="custom steps with rising weights in (0, 1], e.g. 0.05:60,0.5:120,1",
    )
    gates = sub.add_argument_group("gates")
    gates.add_argument(
        "--alarm",
        action="append",
        default=[],
        metavar="NAME",
        help="CloudWatch alarm that must stay out of ALARM (repeat for several)",
    )
    gates.add_argument("--pre-traffic", metavar="FUNCTION", help="hook function run before any traffic moves")
    gates.add_argument("--post-traffic", metavar="FUNCTION", help="hook function run at 100%%")
    gates.add_argument(
        "--approval", action="store_true", help="wait for 'promoter approve ID' before traffic moves"
    )
    gates.add_argument(
        "--insufficient-data",
        choices=["fail", "pass"],
        help="how an alarm in INSUFFICIENT_DATA counts at a gate (API default: fail)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="promoter",
        description="Move a published Lambda version onto an alias in traffic steps, with gates,\n"
        "through the lambda-promoter API.",
        epilog=ENDPOINT_HELP + "\n" + EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _global_options(parser, suppress=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, help_text: str, description: str | None = None) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name,
            help=help_text,
            description=textwrap.fill(description or help_text, 88),
            epilog=EXIT_CODES_HELP,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        _global_options(sub, suppress=True)
        return sub

    # start
    start = command(
        "start",
        "Start a promotion of a version onto an alias.",
        "Start a promotion: move VERSION onto FUNCTION's ALIAS in traffic steps. The API answers at "
        "once (202); follow it with 'promoter watch ID' or pass --watch.",
    )
    _promotion_options(start)
    start.add_argument("--reason", metavar="TEXT", help="why: recorded with the promotion")
    start.add_argument(
        "--idempotency-key",
        metavar="KEY",
        help="the same key again returns the same promotion instead of starting another",
    )
    start.add_argument("--watch", action="store_true", help="then watch it; the exit code is watch's")
    start.add_argument(
        "--interval",
        type=_positive_float,
        default=1.0,
        metavar="SECONDS",
        help="with --watch: seconds between polls (default: 1)",
    )
    start.add_argument(
        "--timeout",
        type=_positive_float,
        metavar="SECONDS",
        help="with --watch: stop watching after this long",
    )

    # status
    status = command("status", "Show one promotion: status, traffic, steps and events.")
    status.add_argument("id", metavar="ID", help="promotion id, e.g. p-20261123T101500-1a2b3c4d")

    # list
    listing = command("list", "List promotions, newest first.")
    listing.add_argument("--function", metavar="NAME", help="only this function")
    listing.add_argument("--alias", metavar="NAME", help="only this alias (with --function)")
    listing.add_argument(
        "--status",
        metavar="STATUS",
        type=str.upper,
        help="only this status: PENDING, AWAITING_APPROVAL, RUNNING, PAUSED, "
        "SUCCEEDED, ROLLED_BACK, ABORTED or FAILED",
    )
    listing.add_argument("--limit", type=int, metavar="N", help="at most N per page")
    listing.add_argument("--next-token", metavar="TOKEN", help="continue from a previous page")
    listing.add_argument("--all", action="store_true", help="follow next tokens and print every page")

    # watch
    watch = command(
        "watch",
        "Follow a promotion live until it ends; exit 0 only if it SUCCEEDED.",
        "Follow a promotion live: a bar for the traffic weight, the steps with their times, and events as "
        "they happen. Exits when the promotion ends: 0 on SUCCEEDED, 10 ROLLED_BACK, 11 ABORTED, 12 FAILED.",
    )
    watch.add_argument("id", metavar="ID", help="promotion id")
    watch.add_argument(
        "--interval",
        type=_positive_float,
        default=1.0,
        metavar="SECONDS",
        help="seconds between polls (default: 1)",
    )
    watch.add_argument(
        "--timeout", type=_positive_float, metavar="SECONDS", help="stop watching after this long (exit 13)"
    )

    # signals
    for name, (_, help_text) in SIGNAL_COMMANDS.items():
        sub = command(name, help_text)
        sub.add_argument("id", metavar="ID", help="promotion id")
        sub.add_argument("--reason", metavar="TEXT", help="recorded with the event")

    # inventory
    inventory = command(
        "inventory",
        "Which version is on which alias of a function, and its promotions.",
        "Each alias of FUNCTION with its version, routing weights, the active promotion and the last one.",
    )
    inventory.add_argument("function", metavar="FUNCTION", help="function name or ARN")

    # schedule
    schedule = command(
        "schedule",
        "Scheduled promotions: at a set time, or a recurring release train.",
        "Scheduled promotions run through EventBridge Scheduler. A run whose target is busy or frozen is "
        "recorded as skipped, with the reason; 'promoter schedule show ID' lists the runs.",
    )
    actions = schedule.add_subparsers(dest="schedule_command", metavar="ACTION", required=True)
    create = actions.add_parser(
        "create",
        help="schedule a promotion (the same options as 'start')",
        description="Schedule a promotion of FUNCTION's ALIAS, once (--at) or recurring (--cron).",
    )
    _global_options(create, suppress=True)
    when = create.add_mutually_exclusive_group(required=True)
    when.add_argument("--at", metavar="TIME", help="once, at this time with a UTC offset: 2026-12-01T02:00:00Z")
    when.add_argument("--cron", metavar="EXPR", help="recurring: cron(minutes hours day-of-month month "
                      "day-of-week year), e.g. 'cron(0 2 ? * TUE *)'")  # fmt: skip
    create.add_argument("--timezone", metavar="TZ", help="IANA time zone of --cron (default: UTC)")
    create.add_argument("--description", metavar="TEXT", help="what this schedule is for")
    _promotion_options(create)
    create.add_argument("--reason", metavar="TEXT", help="why: recorded with each promotion it starts")
    for name, help_text in (("list", "the active schedules"), ("show", "one schedule and its runs"),
                            ("delete", "delete a schedule (its history is kept)")):  # fmt: skip
        action = actions.add_parser(name, help=help_text, description=help_text[0].upper() + help_text[1:] + ".")
        _global_options(action, suppress=True)
        if name != "list":
            action.add_argument("id", metavar="ID", help="schedule id, e.g. s-20261123T101500-1a2b3c4d")
    pipelines.add_commands(command, _global_options, _positive_float)  # pipeline ..., promote
    return parser


# --- running commands -----------------------------------------------------------------------------
class Cli:
    def __init__(self, args: argparse.Namespace, out: Any = None, err: Any = None) -> None:
        self.args = args
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        color = not args.no_color and not os.environ.get("NO_COLOR") and self.out.isatty()
        self.style = render.Style(self.out, color=color)
        self._client: ApiClient | None = None

    # --- plumbing ---------------------------------------------------------------------------------
    def endpoint(self) -> str:
        if self.args.api:
            return self.args.api
        if os.environ.get("PROMOTER_API"):
            return os.environ["PROMOTER_API"]
        stack = self.args.stack or os.environ.get("PROMOTER_STACK")
        if stack:
            from .aws import AwsLookupError, stack_api_url

            try:
                return stack_api_url(stack, profile=self.args.profile, region=self.args.region)
            except AwsLookupError as error:
                raise Unreachable(str(error)) from error
        raise UsageError(
            "no API endpoint: pass --api URL, set PROMOTER_API, or name the deployed stack with --stack NAME "
            "(for the sandbox: --api http://127.0.0.1:8080)"
        )

    @property
    def client(self) -> ApiClient:
        if self._client is None:
            from .aws import AwsLookupError, credentials, default_region

            url = self.endpoint()
            if not url.startswith(("http://", "https://")):
                raise UsageError(f"the API URL must start with http:// or https://, not {url!r}")
            try:
                creds = credentials(self.args.profile)
                region = region_of(url, self.args.region or default_region(self.args.profile))
            except AwsLookupError as error:
                raise AuthError(str(error)) from error
            if creds is None and not is_loopback(url):
                raise AuthError(
                    "no AWS credentials found to sign the request (configure them as for the AWS CLI: "
                    "environment, --profile, SSO or an instance role)"
                )
            self._client = ApiClient(url, credentials=creds, region=region, timeout=self.args.http_timeout)
        return self._client

    def emit(self, human: str | Callable[[], str], data: Any) -> None:
        if self.args.json:
            print(json.dumps(data, indent=2, sort_keys=False, default=str), file=self.out)
        else:
            print(human() if callable(human) else human, file=self.out)

    # --- commands ---------------------------------------------------------------------------------
    def start(self) -> int:
        a = self.args
        body = self._promotion_body()
        response = self.client.start(body, a.idempotency_key)
        return self._started(response)

    def _promotion_body(self) -> dict[str, Any]:
        a = self.args
        body: dict[str, Any] = {"function": a.function, "alias": a.alias}
        if a.publish:
            body["publish"] = True
        else:
            body["version"] = a.version
        if a.code_sha256:
            if not a.publish:
                raise UsageError("--code-sha256 only goes with --publish")
            body["code_sha256"] = a.code_sha256
        strategy = self._strategy()
        if strategy is not None:
            body["strategy"] = strategy
        if a.alarm:
            body["alarms"] = a.alarm
        hooks = {k: v for k, v in (("pre_traffic", a.pre_traffic), ("post_traffic", a.post_traffic)) if v}
        if hooks:
            body["hooks"] = hooks
        if a.approval:
            body["approval"] = True
        if a.insufficient_data:
            body["insufficient_data"] = a.insufficient_data
        if a.reason:
            body["reason"] = a.reason
        if a.role_arn:
            body["role_arn"] = a.role_arn
        if a.external_id:
            body["external_id"] = a.external_id
        return body

    def _started(self, response: Any) -> int:
        a = self.args
        started = response.body if isinstance(response.body, dict) else {}
        promotion_id = str(started.get("id", "?"))
        if a.watch:
            if not a.json:
                print(f"Started {promotion_id} ({started.get('status', '?')}); watching...", file=self.out)
            return self._watch(promotion_id, a.interval, a.timeout)
        location = response.headers.get("Location") or response.headers.get("location")
        if location:  # the API sends a path (with the stage behind API Gateway): make it a URL
            location = urllib.parse.urljoin(self.client.base_url + "/", location)
        self.emit(
            lambda: (
                f"Started promotion {self.style.paint(promotion_id, 'bold')} ({started.get('status', '?')}): "
                f"{a.function}:{a.alias} {self.style.arrow} "
                f"{'newly published version' if a.publish else 'version ' + str(a.version)}\n"
                f"Follow it:  promoter watch {promotion_id}"
            ),
            started | ({"location": location} if location else {}),
        )
        return EXIT_OK

    def _strategy(self) -> dict[str, Any] | None:
        a = self.args
        linear_only = {"--step": a.step, "--interval-seconds": a.interval_seconds}
        canary_only = {"--weight": a.weight, "--bake-seconds": a.bake_seconds}
        if a.steps is not None:
            given = [k for k, v in (linear_only | canary_only).items() if v is not None]
            if a.strategy or given:
                raise UsageError("--steps replaces --strategy and its options; give one or the other")
            return {"steps": a.steps}
        kind = a.strategy or ("linear" if any(v is not None for v in linear_only.values()) else None)
        kind = kind or ("canary" if any(v is not None for v in canary_only.values()) else None)
        if kind is None:
            return None
        wrong = {"canary": linear_only, "linear": canary_only, "all-at-once": linear_only | canary_only}[kind]
        stray = [name for name, value in wrong.items() if value is not None]
        if stray:
            implied = "" if a.strategy else " (implied by the options given)"
            raise UsageError(f"{', '.join(stray)} does not apply to the {kind} strategy{implied}")
        strategy: dict[str, Any] = {"type": kind}
        options = {
            "weight": a.weight,
            "bake_seconds": a.bake_seconds,
            "step": a.step,
            "interval_seconds": a.interval_seconds,
        }
        strategy.update({k: v for k, v in options.items() if v is not None})
        return strategy

    def status(self) -> int:
        promotion = self.client.get(self.args.id)
        self.emit(lambda: render.promotion_detail(promotion, self.style), promotion)
        return EXIT_OK

    def list(self) -> int:
        a = self.args
        if a.alias and not a.function:
            raise UsageError("--alias needs --function")
        query = {"function": a.function, "alias": a.alias, "status": a.status, "limit": a.limit}
        token, items, pages = a.next_token, [], []
        while True:
            page = self.client.list(**query, next_token=token)
            pages.append(page)
            found, token = _items_and_token(page)
            items += found
            if not (a.all and token):
                break
        if a.json:
            data = pages[0] if len(pages) == 1 else {"items": items, "next_token": token}
            self.emit("", data)
            return EXIT_OK
        text = render.promotions_table(items, self.style) if items else "No promotions."
        if token:
            text += f"\nMore: promoter list --next-token {token}"
        print(text, file=self.out)
        return EXIT_OK

    def watch(self) -> int:
        return self._watch(self.args.id, self.args.interval, self.args.timeout)

    def _watch(self, promotion_id: str, interval: float, timeout: float | None) -> int:
        deadline = time.monotonic() + timeout if timeout else None
        display = (
            None
            if self.args.json
            else render.WatchDisplay(self.out, style=self.style if self.style.color else None)
        )
        last_json = None
        failures = 0
        try:
            while True:
                try:
                    promotion = self.client.get(promotion_id)
                    failures = 0
                except ConnectionFailed:
                    failures += 1  # ride out a blip; give up after a few in a row
                    if failures >= 5:
                        raise
                    time.sleep(interval)
                    continue
                status = str(promotion.get("status"))
                if display:
                    display.update(promotion)
                else:
                    line = json.dumps(promotion, default=str)
                    if line != last_json:
                        print(line, file=self.out, flush=True)
                        last_json = line
                if status in FINAL_EXIT:
                    if display:
                        display.finish(promotion)
                    return FINAL_EXIT[status]
                if deadline is not None and time.monotonic() >= deadline:
                    print(
                        f"promoter: {promotion_id} is still {status} after {timeout:g}s; it goes on "
                        f"(promoter status {promotion_id})",
                        file=self.err,
                    )
                    return EXIT_WATCH_TIMEOUT
                time.sleep(interval)
        except KeyboardInterrupt:
            print(
                f"\nstopped watching; {promotion_id} goes on (promoter status {promotion_id})", file=self.err
            )
            return EXIT_INTERRUPTED

    def signal(self) -> int:
        action, _ = SIGNAL_COMMANDS[self.args.command]
        answer = self.client.signal(self.args.id, action, self.args.reason)
        data = answer if isinstance(answer, dict) else {"id": self.args.id, "result": answer}
        self.emit(
            lambda: f"{self.args.command}: accepted for {data.get('id', self.args.id)} "
            f"(status {self.style.status(str(data.get('status', '?')))})",
            data,
        )
        return EXIT_OK

    def inventory(self) -> int:
        body = self.client.inventory(self.args.function)
        self.emit(lambda: render.inventory_table(body, self.style), body)
        return EXIT_OK

    def schedule(self) -> int:
        a = self.args
        if a.schedule_command == "create":
            body: dict[str, Any] = {"promotion": self._promotion_body()}
            body |= {"at": a.at} if a.at else {"cron": a.cron}
            if a.timezone:
                if not a.cron:
                    raise UsageError("--timezone goes with --cron (give --at with a UTC offset)")
                body["timezone"] = a.timezone
            if a.description:
                body["description"] = a.description
            created = self.client.create_schedule(body)
            self.emit(lambda: render.schedule_detail(created, self.style), created)
        elif a.schedule_command == "list":
            page = self.client.list_schedules()
            self.emit(lambda: render.schedule_table(page.get("items", []), self.style), page)
        elif a.schedule_command == "show":
            shown = self.client.get_schedule(a.id)
            self.emit(lambda: render.schedule_detail(shown, self.style), shown)
        else:
            deleted = self.client.delete_schedule(a.id)
            self.emit(f"Deleted schedule {a.id}; its {len(deleted.get('runs', []))} run(s) stay on record", deleted)
        return EXIT_OK

    def run(self) -> int:
        command = self.args.command
        if command in pipelines.COMMANDS:
            return pipelines.run(self)
        if command in SIGNAL_COMMANDS:
            return self.signal()
        return getattr(self, command.replace("-", "_"))()


def _items_and_token(page: Any) -> tuple[list[dict[str, Any]], str | None]:
    if isinstance(page, list):
        return page, None
    if not isinstance(page, dict):
        return [], None
    items = page.get("items", page.get("promotions", []))
    return list(items or []), page.get("next_token") or page.get("nextToken")


def _report_problems(problems: list[Any], field: str | None, err: Any) -> None:
    """Every field problem of a 422, unless it is the one already shown."""
    if len(problems) == 1 and isinstance(problems[0], dict) and problems[0].get("field") == field:
        return
    print("  problems:", file=err)
    for problem in problems:
        if isinstance(problem, dict):
            rule = f" ({problem['rule']})" if problem.get("rule") else ""
            print(f"    {problem.get('field') or '-'}: {problem.get('message', '')}{rule}", file=err)
        else:
            print(f"    {problem}", file=err)


def _report_api_error(error: ApiError, err: Any) -> int:
    print(f"promoter: error: {error.message}", file=err)
    if error.field_name:
        print(f"  field: {error.field_name}", file=err)
    for key, value in error.details().items():
        if key == "errors" and isinstance(value, list):
            _report_problems(value, error.field_name, err)
            continue
        if value is None:
            continue
        shown = json.dumps(value) if isinstance(value, dict | list) else value
        print(f"  {key}: {shown}", file=err)
    print(f"  (HTTP {error.status} from {error.method} {error.url})", file=err)
    if error.status == 409:
        return EXIT_CONFLICT
    if error.status in (401, 403):
        print("  check the credentials and that your identity may call this API (AWS_IAM)", file=err)
        return EXIT_AUTH
    if 400 <= error.status < 500:
        return EXIT_USAGE
    return EXIT_ERROR


def main(argv: Sequence[str] | None = None) -> NoReturn:
    sys.exit(run(argv))


def run(argv: Sequence[str] | None = None, out: Any = None, err: Any = None) -> int:
    """Parse ``argv``, run the command, return the exit code (what ``main`` exits with)."""
    out, err = out or sys.stdout, err or sys.stderr
    parser = build_parser()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse: --help is 0, bad usage is 2
        return int(exit_.code or 0)
    try:
        return Cli(args, out=out, err=err).run()
    except UsageError as error:
        print(f"promoter {args.command}: error: {error}", file=err)
        return EXIT_USAGE
    except ApiError as error:
        return _report_api_error(error, err)
    except ConnectionFailed as error:
        print(f"promoter: error: {error}", file=err)
        if is_loopback(error.url):
            print("  for the local sandbox, start it with: make sandbox", file=err)
        return EXIT_UNREACHABLE
    except Unreachable as error:
        print(f"promoter: error: {error}", file=err)
        return EXIT_UNREACHABLE
    except AuthError as error:
        print(f"promoter: error: {error}", file=err)
        return EXIT_AUTH
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. piped into head
        return EXIT_OK
