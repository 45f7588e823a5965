"""dashboard: the web UI on 127.0.0.1 (promoter_cli/dashboard), signed with the user's credentials."""

from __future__ import annotations

import argparse
from typing import Any

from ..context import Context
from ..dashboard import DEFAULT_PORT
from ..errors import EXIT_OK, UsageError


def port_number(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"not a port number (0 to 65535): {text!r}")
    return int(text)


def register(command: Any) -> None:
    sub = command(
        "dashboard",
        "a web UI on 127.0.0.1: promotions, one promotion's steps and history, pipelines",
        "Serve the dashboard on http://127.0.0.1:PORT/ until Ctrl-C. The page's calls to the API go through "
        "this process, signed with your AWS credentials as every command is (--api, --stack, --profile, "
        "--region); the browser never holds a key. It listens on the loopback address only.",
    )
    sub.add_argument(
        "--port",
        type=port_number,
        default=DEFAULT_PORT,
        metavar="N",
        help=f"port on 127.0.0.1 (default: {DEFAULT_PORT}; 0: any free port)",
    )
    sub.add_argument("--no-open", action="store_true", help="do not open a browser on the page")
    sub.set_defaults(handler=dashboard)


def dashboard(ctx: Context) -> int:
    import webbrowser  # here: every other command starts without http.server and webbrowser

    from ..dashboard.server import DashboardServer

    client = ctx.client  # the endpoint and credentials are checked now, before anything listens
    try:
        server = DashboardServer(client, port=ctx.args.port)
    except OSError as error:
        raise UsageError(
            f"cannot listen on 127.0.0.1:{ctx.args.port} ({error.strerror or error}); choose another with --port"
        ) from None
    with server:
        print(f"dashboard on {server.url} for the API at {client.base_url} (Ctrl-C stops it)", file=ctx.out, flush=True)
        if not ctx.args.no_open:
            webbrowser.open(server.url)
        try:
            server.serve_forever(poll_interval=0.5)
        except KeyboardInterrupt:  # Ctrl-C is how a dashboard ends: not an error
            print("dashboard stopped", file=ctx.out, flush=True)
    return EXIT_OK
