"""Exit codes and the CLI's own errors (documented in --help and docs/cli.md)."""

from __future__ import annotations

EXIT_OK = 0  # done; for watch: the promotion SUCCEEDED
EXIT_ERROR = 1  # the API failed (5xx, after retries) or something unexpected happened
EXIT_USAGE = 2  # bad input: rejected by the CLI (usage) or by the API (400, 404, 422)
EXIT_CONFLICT = 3  # 409: the target is busy, or the promotion's status does not allow the move
EXIT_AUTH = 4  # no credentials, or the API refused them (401, 403)
EXIT_UNREACHABLE = 5  # no endpoint configured, stack lookup failed, or nothing answered
EXIT_THROTTLED = 6  # 429 on every attempt: try again later (not bad input)
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
  1    the API failed (5xx, still after the retries) or an unexpected error
  2    bad input, refused by the CLI or by the API (400, 404, 422)
  3    conflict (409, or retry/undo of a promotion whose status does not allow it)
  4    no AWS credentials, or the API refused them (401, 403)
  5    no endpoint configured, the stack lookup failed, or the API did not answer
  6    throttled (429) on every attempt: try again later
  10   watch: ROLLED_BACK (a gate failed; the alias is back on the stable version)
  11   watch: ABORTED
  12   watch: FAILED (an error, or the alias was changed out of band)
  13   watch: --timeout passed while the promotion was still live
  130  interrupted (Ctrl-C); a watched promotion goes on
"""


class UsageError(Exception):
    """Bad input found by the CLI itself (exit 2)."""


class Conflict(Exception):
    """The CLI refuses a move the promotion's status does not allow (exit 3), as a 409 would."""


class Unreachable(Exception):
    """No endpoint, or the endpoint could not be found (exit 5)."""


class AuthError(Exception):
    """No credentials for a remote endpoint (exit 4)."""
