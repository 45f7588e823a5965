"""Argument types and the option groups that several commands share."""

from __future__ import annotations

import argparse
import os
from typing import Any

OUTPUTS = ("table", "json", "yaml")


def fraction(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def seconds(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of seconds: {text!r}") from None


def positive_float(text: str) -> float:
    value = fraction(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0: {text!r}")
    return value


def whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def steps(text: str) -> list[dict[str, Any]]:
    """``0.05:60,0.5:60,1`` -> [{weight, bake_seconds}, ...] (bake defaults to 0)."""
    parsed = []
    for part in text.split(","):
        weight, _, bake = part.strip().partition(":")
        try:
            parsed.append({"weight": float(weight), "bake_seconds": int(bake) if bake else 0})
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"bad step {part.strip()!r}: use WEIGHT[:BAKE_SECONDS], e.g. 0.1:60,0.5:60,1"
            ) from None
    return parsed


def global_options(parser: argparse.ArgumentParser, suppress: bool) -> None:
    """The same options on the main parser and on every command, so they go before or after it."""

    def default(value: Any) -> Any:
        return argparse.SUPPRESS if suppress else value

    group = parser.add_argument_group("connection and output (as in the AWS CLI)")
    group.add_argument("--api", metavar="URL", default=default(None), help="API base URL (default: $PROMOTER_API)")
    group.add_argument(
        "--stack",
        metavar="NAME",
        default=default(None),
        help="read the API URL from this deployed stack's ApiUrl output (default: $PROMOTER_STACK)",
    )
    group.add_argument(
        "--region", default=default(None), help="AWS region for signing and the stack lookup (default: the profile's)"
    )
    group.add_argument(
        "--profile", default=default(None), help="AWS profile whose credentials sign the calls (default: $AWS_PROFILE)"
    )
    group.add_argument(
        "--output",
        choices=OUTPUTS,
        default=default(None),
        help="table (for people; the default), json or yaml (default: $PROMOTER_OUTPUT, else table)",
    )
    group.add_argument(
        "--query",
        metavar="JMESPATH",
        default=default(None),
        help="a JMESPath expression applied to the JSON answer before it is printed, e.g. 'items[].id'",
    )
    group.add_argument("--json", action="store_true", default=default(False), help="the same as --output json")
    group.add_argument("--no-color", action="store_true", default=default(False), help="no colours")
    group.add_argument(
        "--http-timeout",
        type=positive_float,
        metavar="SECONDS",
        default=default(30.0),
        help="give up on one HTTP call after this long (default: 30)",
    )
    group.add_argument(
        "--max-attempts",
        type=positive_int,
        metavar="N",
        default=default(None),
        help="tries per call when throttled (429) or on a 5xx, with backoff (default: $AWS_MAX_ATTEMPTS, else 5)",
    )


def output_format(args: argparse.Namespace) -> str:
    if args.json:
        return "json"
    return args.output or os.environ.get("PROMOTER_OUTPUT") or "table"


def target_options(sub: argparse.ArgumentParser) -> None:
    """What to promote: shared by `start` and `schedule create`."""
    sub.add_argument("function", metavar="FUNCTION", help="function name or ARN (tagged promoter:managed=true)")
    sub.add_argument("alias", metavar="ALIAS", help="the alias whose traffic moves, e.g. live")
    which = sub.add_mutually_exclusive_group(required=True)
    which.add_argument("--version", metavar="N", help="the published version to promote (digits, not $LATEST)")
    which.add_argument("--publish", action="store_true", help="publish the function's current code and promote it")
    sub.add_argument("--code-sha256", metavar="SHA", help="with --publish: only if $LATEST has this CodeSha256")
    sub.add_argument("--role-arn", metavar="ARN", help="the function is in another account: reach it through this role")
    sub.add_argument("--external-id", metavar="ID", help="with --role-arn: the role's external id")


# Each named strategy and its options (argparse dest: flag), in the order --strategy lists them (the
# default first); options alone imply the first strategy they belong to. custom is not named: --steps
# gives it. The layer's StrategySpec is the registry; the CLI installs without the layer, so it
# repeats the names (a contract test compares).
STRATEGY_FLAGS: dict[str, dict[str, str]] = {
    "canary": {"weight": "--weight", "bake_seconds": "--bake-seconds"},
    "linear": {"step": "--step", "interval_seconds": "--interval-seconds"},
    "all-at-once": {},
}


def shape_options(sub: argparse.ArgumentParser, default_note: str = "canary 10% then 100%, bake 300 s") -> None:
    """How to promote: strategy and gates (start, schedule create, undo)."""
    shape = sub.add_argument_group(f"strategy (default: {default_note})")
    shape.add_argument(
        "--strategy",
        choices=list(STRATEGY_FLAGS),
        help="canary: one step then 100%%; linear: equal steps; all-at-once: straight to 100%%",
    )
    shape.add_argument("--weight", type=fraction, metavar="W", help="canary: share of traffic in (0, 1)")
    shape.add_argument("--bake-seconds", type=seconds, metavar="S", help="canary: hold time at --weight")
    shape.add_argument("--step", type=fraction, metavar="W", help="linear: share added per step, in (0, 1)")
    shape.add_argument("--interval-seconds", type=seconds, metavar="S", help="linear: hold time per step")
    shape.add_argument(
        "--steps",
        type=steps,
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
    gates.add_argument("--approval", action="store_true", help="wait for 'promoter approve ID' before traffic moves")
    gates.add_argument(
        "--insufficient-data",
        choices=["fail", "pass"],
        help="how an alarm in INSUFFICIENT_DATA counts at a gate (API default: fail)",
    )
    gates.add_argument(
        "--fast-gate",
        action="store_true",
        help="roll back within seconds on the candidate's error lines in its logs (defaults: more than 5 in 60 s)",
    )
    gates.add_argument(
        "--fast-gate-max-errors",
        type=whole,
        metavar="N",
        help="fast gate: errors allowed in the window, one more rolls back (implies --fast-gate)",
    )
    gates.add_argument(
        "--fast-gate-window-seconds", type=seconds, metavar="S", help="fast gate: the sliding window, 10 to 3600"
    )
    gates.add_argument(
        "--fast-gate-pattern", metavar="TERM", help="fast gate: one more literal term that counts as an error"
    )


def watch_options(sub: argparse.ArgumentParser, prefix: str = "with --watch: ") -> None:
    sub.add_argument(
        "--interval",
        type=positive_float,
        default=1.0,
        metavar="SECONDS",
        help=f"{prefix}seconds between polls (default: 1)",
    )
    sub.add_argument(
        "--timeout",
        type=positive_float,
        metavar="SECONDS",
        help=f"{prefix}stop watching after this long" + ("" if prefix else " (exit 13)"),
    )


def start_like_options(sub: argparse.ArgumentParser) -> None:
    """--reason, --idempotency-key and --watch: every command that starts a promotion."""
    sub.add_argument("--reason", metavar="TEXT", help="why: recorded with the promotion")
    sub.add_argument(
        "--idempotency-key",
        metavar="KEY",
        help="the same key again returns the same promotion instead of starting another "
        "(default: a new key per command, kept across its retries)",
    )
    sub.add_argument("--watch", action="store_true", help="then watch it; the exit code is watch's")
    watch_options(sub)
