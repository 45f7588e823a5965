"""Human output: tables, the traffic bar, a promotion's detail, and the live watch display.

Everything here reads the API's JSON as plain dicts and tolerates missing keys, so that an
older or newer API still renders.
"""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TextIO

FINAL = {"SUCCEEDED", "ROLLED_BACK", "ABORTED", "FAILED"}


def _unicode_ok(stream: TextIO) -> bool:
    encoding = (getattr(stream, "encoding", None) or "").lower()
    return "utf" in encoding


class Style:
    """ANSI colours on a terminal, plain text elsewhere (pipes, CI logs, --no-color, NO_COLOR)."""

    COLORS = {"green": "32", "red": "31", "yellow": "33", "blue": "34", "dim": "2", "bold": "1"}
    STATUS_COLORS = {
        "SUCCEEDED": "green",
        "ROLLED_BACK": "red",
        "FAILED": "red",
        "ABORTED": "yellow",
        "PAUSED": "yellow",
        "AWAITING_APPROVAL": "yellow",
        "RUNNING": "blue",
        "PENDING": "dim",
    }

    def __init__(self, stream: TextIO, color: bool) -> None:
        self.color = color
        self.unicode = _unicode_ok(stream)

    def paint(self, text: str, name: str) -> str:
        if not self.color or name not in self.COLORS:
            return text
        return f"\x1b[{self.COLORS[name]}m{text}\x1b[0m"

    def status(self, status: str) -> str:
        return self.paint(status, self.STATUS_COLORS.get(status, ""))

    @property
    def arrow(self) -> str:
        return "→" if self.unicode else "->"


# --- small formatters -----------------------------------------------------------------------------
def parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def clock(value: Any) -> str:
    """HH:MM:SS in local time, '-' when unknown."""
    moment = parse_time(value)
    return moment.astimezone().strftime("%H:%M:%S") if moment else "-"


def stamp(value: Any) -> str:
    moment = parse_time(value)
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


def duration(start: Any, end: Any) -> str:
    a, b = parse_time(start), parse_time(end)
    if not (a and b):
        return "-"
    seconds = (b - a).total_seconds()
    return f"{seconds:.1f}s" if seconds < 60 else f"{seconds / 60:.1f}m"


def percent(weight: Any) -> str:
    try:
        value = round(float(weight) * 100, 1)  # 1 - 0.7 is 0.30000000000000004
    except (TypeError, ValueError):
        return "-"
    return f"{value:.0f}%" if value == int(value) else f"{value:.1f}%"


def bar(weight: Any, style: Style, width: int = 30) -> str:
    try:
        share = min(1.0, max(0.0, float(weight or 0)))
    except (TypeError, ValueError):
        share = 0.0
    filled = round(share * width)
    full, empty = ("█", "░") if style.unicode else ("#", ".")
    return "[" + style.paint(full * filled, "green") + empty * (width - filled) + "]"


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A plain, left-aligned table; values are str()-ed and '-' stands for None."""
    cells = [[("-" if v is None or v == "" else str(v)) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, value in enumerate(row):
            widths[i] = max(widths[i], len(value))
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join(lines)


# --- promotions -----------------------------------------------------------------------------------
def versions_line(p: dict[str, Any], style: Style) -> str:
    return (
        f"{p.get('stable_version', '?')} (stable) {style.arrow} {p.get('candidate_version', '?')} (candidate)"
    )


def traffic_line(p: dict[str, Any], style: Style) -> str:
    weight = p.get("current_weight") or 0
    stable_share = 1 - float(weight or 0)
    return (
        f"{bar(weight, style)} {percent(weight):>5} on {p.get('candidate_version', '?')}, "
        f"{percent(stable_share)} on {p.get('stable_version', '?')}"
    )


def step_rows(p: dict[str, Any], style: Style) -> list[list[Any]]:
    rows = []
    current = p.get("current_step")
    for step in p.get("steps") or []:
        index = step.get("index", len(rows))
        if step.get("ended_at"):
            mark = "done"
        elif step.get("started_at"):
            mark = "baking" if p.get("status") not in FINAL else "stopped"
        else:
            mark = "" if p.get("status") not in FINAL else "skipped"
        if index == current and mark == "baking" and p.get("status") == "PAUSED":
            mark = "paused"
        rows.append(
            [
                index + 1,
                percent(step.get("weight")),
                f"{step.get('bake_seconds', 0)}s",
                clock(step.get("started_at")),
                clock(step.get("ended_at")),
                duration(step.get("started_at"), step.get("ended_at")),
                mark,
            ]
        )
    return rows


def steps_table(p: dict[str, Any], style: Style) -> str:
    return table(["STEP", "WEIGHT", "BAKE", "STARTED", "ENDED", "TOOK", ""], step_rows(p, style))


def event_line(event: dict[str, Any], style: Style) -> str:
    weight = event.get("weight")
    suffix = f"  [{percent(weight)}]" if weight is not None else ""
    return (
        f"{clock(event.get('at'))}  {str(event.get('actor') or '-'):<10}  "
        f"{str(event.get('type') or '-'):<12}  {event.get('message') or ''}{suffix}"
    ).rstrip()


def promotion_detail(p: dict[str, Any], style: Style) -> str:
    target = f"{p.get('function', '?')}:{p.get('alias', '?')}"
    lines = [
        f"Promotion {style.paint(str(p.get('id', '?')), 'bold')}  {style.status(str(p.get('status', '?')))}",
        f"  target     {target}",
        f"  versions   {versions_line(p, style)}",
        f"  traffic    {traffic_line(p, style)}",
        f"  created    {stamp(p.get('created_at'))} by {p.get('created_by') or '-'}",
    ]
    if p.get("reason"):
        lines.append(f"  reason     {p['reason']}")
    if p.get("alarms"):
        lines.append(f"  alarms     {', '.join(p['alarms'])}")
    if p.get("ended_at"):
        lines.append(f"  ended      {stamp(p.get('ended_at'))}")
    if p.get("outcome_reason"):
        lines.append(f"  outcome    {p['outcome_reason']}")
    lines += ["", "Steps", indent(steps_table(p, style))]
    events = p.get("events") or []
    if events:
        lines += ["", "Events", indent("\n".join(event_line(e, style) for e in events))]
    return "\n".join(lines)


def indent(text: str, prefix: str = "  ") -> str:
    return "\n".join(prefix + line if line else line for line in text.splitlines())


def promotions_table(items: list[dict[str, Any]], style: Style) -> str:
    rows = [
        [
            p.get("id"),
            p.get("function"),
            p.get("alias"),
            p.get("stable_version"),
            p.get("candidate_version"),
            style.status(str(p.get("status", "?"))),
            percent(p.get("current_weight")),
            stamp(p.get("created_at")),
        ]
        for p in items
    ]
    return table(["ID", "FUNCTION", "ALIAS", "STABLE", "CANDIDATE", "STATUS", "WEIGHT", "CREATED"], rows)


def _promotion_ref(value: Any) -> str:
    if not value:
        return "-"
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        ident = value.get("id") or value.get("promotion_id") or "?"
        status = value.get("status")
        return f"{ident} ({status})" if status else str(ident)
    return str(value)


def inventory_table(body: Any, style: Style) -> str:
    aliases = body.get("aliases", []) if isinstance(body, dict) else (body or [])
    rows = []
    for a in aliases:
        weights = a.get("weights") or a.get("routing") or {}
        routing = (
            ", ".join(f"{v}: {percent(w)}" for v, w in weights.items()) if isinstance(weights, dict) else ""
        )
        rows.append(
            [
                a.get("alias") or a.get("name"),
                a.get("version") or a.get("function_version"),
                routing or "-",
                _promotion_ref(a.get("active_promotion")),
                _promotion_ref(a.get("last_promotion")),
            ]
        )
    header = ""
    if isinstance(body, dict) and body.get("function"):
        header = f"Function {style.paint(str(body['function']), 'bold')}\n"
    return header + table(["ALIAS", "VERSION", "ROUTING", "ACTIVE PROMOTION", "LAST PROMOTION"], rows)


# --- watch ----------------------------------------------------------------------------------------
def _schedule_target(schedule: dict[str, Any]) -> str:
    request = schedule.get("request") or {}
    if promotion := request.get("promotion"):
        version = "publish" if promotion.get("publish") else f"v{promotion.get('version')}"
        return f"{promotion.get('function')}:{promotion.get('alias')} {version}"
    pipeline = request.get("pipeline") or {}
    return f"pipeline {pipeline.get('pipeline')} -> {pipeline.get('to')}"


def _schedule_when(schedule: dict[str, Any]) -> str:
    request = schedule.get("request") or {}
    return request.get("at") or f"{request.get('cron')} {request.get('timezone', 'UTC')}"


def schedule_table(items: list[dict[str, Any]], style: Style) -> str:
    if not items:
        return "No schedules."
    rows = [
        [s["id"], _schedule_when(s), _schedule_target(s), len(s.get("runs", [])), s.get("created_by", "")]
        for s in items
    ]
    return table(["ID", "WHEN", "PROMOTES", "RUNS", "BY"], rows)


def schedule_detail(schedule: dict[str, Any], style: Style) -> str:
    state = "deleted" if schedule.get("deleted") else "active"
    lines = [
        f"Schedule {style.paint(schedule['id'], 'bold')} ({state})",
        f"  when      {_schedule_when(schedule)}  ({schedule.get('expression', '')})",
        f"  promotes  {_schedule_target(schedule)}",
        f"  created   {stamp(schedule.get('created_at'))} by {schedule.get('created_by', '?')}",
    ]
    runs = schedule.get("runs") or []
    if runs:
        rows = [[stamp(r.get("at")), r.get("outcome"), r.get("promotion_id") or "-", r.get("reason", "")] for r in runs]
        lines += ["", table(["RAN", "OUTCOME", "PROMOTION", "REASON"], rows)]
    else:
        lines.append("  no runs yet")
    return "\n".join(lines)


class WatchDisplay:
    """Draws a promotion as it changes.

    On a terminal, new events scroll above a live block (status, traffic bar, steps) that is
    redrawn in place. Elsewhere (a pipe, a CI log), each change is printed once as a line.
    """

    def __init__(
        self, stream: TextIO = sys.stdout, *, live: bool | None = None, style: Style | None = None
    ) -> None:
        self.stream = stream
        self.live = stream.isatty() if live is None else live
        self.style = style or Style(stream, color=self.live)
        self._seen_events = 0
        self._block_lines = 0
        self._last_key: tuple[Any, ...] | None = None

    def update(self, p: dict[str, Any]) -> None:
        events = p.get("events") or []
        new_events = events[self._seen_events :]
        self._seen_events = len(events)
        if self.live:
            self._erase_block()
            for event in new_events:
                self._write(event_line(event, self.style))
            block = self._block(p)
            self._write(block)
            self._block_lines = block.count("\n") + 1
        else:
            for event in new_events:
                self._write(event_line(event, self.style))
            key = (p.get("status"), p.get("current_weight"), p.get("current_step"))
            if key != self._last_key:
                self._last_key = key
                self._write(f"  {self.style.status(str(p.get('status')))}  {traffic_line(p, self.style)}")
        self.stream.flush()

    def finish(self, p: dict[str, Any]) -> None:
        if not self.live:
            self._write("")
            self._write(steps_table(p, self.style))
        self._write("")
        self._write(outcome_line(p, self.style))
        self.stream.flush()

    def _block(self, p: dict[str, Any]) -> str:
        header = (
            f"{p.get('id')}  {p.get('function')}:{p.get('alias')}  {versions_line(p, self.style)}  "
            f"{self.style.status(str(p.get('status')))}"
        )
        lines = ["", header, traffic_line(p, self.style), *steps_table(p, self.style).splitlines()]
        # A wrapped line would throw off the redraw: keep each within the terminal's width.
        width = shutil.get_terminal_size().columns - 1
        return "\n".join(_clip(line, width) for line in lines)

    def _erase_block(self) -> None:
        if self._block_lines:
            self.stream.write(f"\x1b[{self._block_lines}F\x1b[J")
            self._block_lines = 0

    def _write(self, text: str) -> None:
        self.stream.write(text + "\n")


def _clip(line: str, width: int) -> str:
    """Cut a line to ``width`` visible characters (ANSI colour codes do not count)."""
    visible = re.sub(r"\x1b\[[0-9;]*m", "", line)
    if len(visible) <= width:
        return line
    return visible[: max(0, width - 1)] + "…"


def outcome_line(p: dict[str, Any], style: Style) -> str:
    status = str(p.get("status"))
    target = f"{p.get('function')}:{p.get('alias')}"
    if status == "SUCCEEDED":
        text = f"{target} now serves version {p.get('candidate_version')}"
    elif status in FINAL:
        text = f"{target} stays on version {p.get('stable_version')}"
        if p.get("outcome_reason"):
            text += f": {p['outcome_reason']}"
    else:
        text = f"{target} is {status} at {percent(p.get('current_weight'))}"
    return f"{style.status(status)}  {text}"
