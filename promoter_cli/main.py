"""``promoter``: start, follow and steer lambda-promoter promotions from a terminal or CI.

Every call is SigV4-signed with your normal AWS credentials. The endpoint comes from ``--api``,
else ``$PROMOTER_API``, else the ``ApiUrl`` output of the stack named by ``--stack`` (or
``$PROMOTER_STACK``). ``--api http://127.0.0.1:8080`` drives the local sandbox.

This module only assembles the parser from the command groups (promoter_cli/commands/) and turns
errors into messages and exit codes; it is imported by nothing else in the package.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import textwrap
from collections.abc import Sequence
from typing import Any, NoReturn

from . import __version__
from .client import ApiError, ConnectionFailed, is_loopback
from .commands import completion, dashboard, pipelines, promotions, schedules
from .context import Context
from .errors import (
    EXIT_AUTH,
    EXIT_CODES_HELP,
    EXIT_CONFLICT,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_THROTTLED,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    AuthError,
    Conflict,
    Unreachable,
    UsageError,
)
from .options import global_options

GROUPS = (promotions, schedules, pipelines, dashboard, completion)

ENDPOINT_HELP = """\
endpoint:
  --api URL, else $PROMOTER_API, else the ApiUrl output of --stack NAME (or $PROMOTER_STACK),
  read with CloudFormation DescribeStacks. Use --api http://127.0.0.1:8080 for the sandbox
  (make sandbox).
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="promoter",
        description="Move a published Lambda version onto an alias in traffic steps, with gates,\n"
        "through the lambda-promoter API.",
        epilog=ENDPOINT_HELP + "\n" + EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"promoter {__version__}")
    global_options(parser, suppress=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, help_text: str, description: str | None = None) -> argparse.ArgumentParser:
        sub = commands.add_parser(
            name,
            help=help_text,
            description=textwrap.fill(description or help_text, 88),
            epilog=EXIT_CODES_HELP,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        global_options(sub, suppress=True)
        return sub

    for group in GROUPS:
        group.register(command)
    return parser


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
    tries = f", after {error.attempts} attempts" if error.attempts > 1 else ""
    print(f"  (HTTP {error.status} from {error.method} {error.url}{tries})", file=err)
    if error.status == 429:
        print("  throttled: try again later, or allow more tries with --max-attempts", file=err)
        return EXIT_THROTTLED
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
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if words[:1] == [completion.COMPLETE]:  # the shell asks what may come next (see commands/completion.py)
        print("\n".join(completion.candidates(parser, words[1:])), file=out)
        return EXIT_OK
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            args = parser.parse_args(words)
    except SystemExit as exit_:  # argparse: --help and --version are 0, bad usage is 2
        return int(exit_.code or 0)
    try:
        return int(args.handler(Context(args, out=out, err=err)))
    except UsageError as error:
        print(f"promoter {args.command}: error: {error}", file=err)
        return EXIT_USAGE
    except Conflict as error:
        print(f"promoter {args.command}: error: {error}", file=err)
        return EXIT_CONFLICT
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
