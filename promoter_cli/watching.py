"""Following a promotion until it ends: the loop behind `watch` and every `--watch`."""

from __future__ import annotations

import time
from typing import Any

from .client import ConnectionFailed
from .context import Context
from .errors import EXIT_INTERRUPTED, EXIT_OK, EXIT_WATCH_TIMEOUT, FINAL_EXIT
from .render import WatchDisplay


def watch(ctx: Context, promotion_id: str, interval: float, timeout: float | None) -> int:
    """Poll the record; draw it (or print each changed snapshot as data); exit by its final status."""
    deadline = time.monotonic() + timeout if timeout else None
    output = ctx.output
    display = None if output.wants_data else WatchDisplay(ctx.out, style=ctx.style, console=_console(ctx))
    last_line = None
    failures = 0
    try:
        while True:
            try:
                promotion = ctx.client.get(promotion_id)
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
                line = output.data_line(promotion)
                if line != last_line:
                    print(line, file=ctx.out, flush=True)
                    last_line = line
            if status in FINAL_EXIT:
                if display:
                    display.finish(promotion)
                return FINAL_EXIT[status]
            if deadline is not None and time.monotonic() >= deadline:
                if display:
                    display.stop()
                print(
                    f"promoter: {promotion_id} is still {status} after {timeout:g}s; it goes on "
                    f"(promoter status {promotion_id})",
                    file=ctx.err,
                )
                return EXIT_WATCH_TIMEOUT
            time.sleep(interval)
    except KeyboardInterrupt:
        if display:
            display.stop()
        print(f"\nstopped watching; {promotion_id} goes on (promoter status {promotion_id})", file=ctx.err)
        return EXIT_INTERRUPTED
    finally:
        if display:
            display.stop()


def started(ctx: Context, response: Any, what: str) -> int:
    """After a 202: watch the new promotion (--watch), or say how to follow it."""
    a = ctx.args
    body = response.body if isinstance(response.body, dict) else {}
    promotion_id = str(body.get("id", "?"))
    if a.watch:
        if not ctx.output.wants_data:
            print(f"Started {promotion_id} ({body.get('status', '?')}); watching...", file=ctx.out)
        return watch(ctx, promotion_id, a.interval, a.timeout)
    location = ctx.location(response)
    # 202 from a pipeline promotion into another function: the workflow carries the artifact first
    carrying = (
        "\nThe workflow carries the artifact to the target and publishes the candidate first; no traffic moves "
        "until it has."
        if body.get("carrying")
        else ""
    )
    ctx.emit(
        lambda: (
            f"Started promotion {ctx.style.paint(promotion_id, 'bold')} ({ctx.style.esc(body.get('status', '?'))}): "
            f"{what}{carrying}\nFollow it:  promoter watch {promotion_id}"
        ),
        body | ({"location": location} if location else {}),
    )
    return EXIT_OK


def _console(ctx: Context) -> Any:
    return ctx.output.console if ctx.output.rich else None
