"""Human output: tables, the traffic bar, a promotion's detail, and the live watch display.

Everything here reads the API's JSON as plain dicts and tolerates missing keys, so that an older or
newer API still renders. On a terminal (``Style.rich``) the parts are rich renderables (tables, a
progress bar, a ``Live`` watch) and lines carry rich markup, with every value from the API escaped;
elsewhere they are plain aligned text with no escape codes at all.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TextIO

FINAL = {"SUCCEEDED", "ROLLED_BACK", "ABORTED", "FAILED"}


def _unicode_ok(stream: TextIO) -> bool:
    encoding = (getattr(stream, "encoding", None) or "").lower()
    return "utf" in encoding


class Markup(str):
    """Text that is already rich markup (painted, or escaped): a table cell takes it as it is."""


class Style:
    """Colours and markup on a terminal (drawn by rich), plain text elsewhere."""

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

    def __init__(self, stream: TextIO, color: bool, rich: bool = False) -> None:
        self.color = color
        self.rich = rich
        self.unicode = rich or _unicode_ok(stream)

    def esc(self, text: Any) -> str:
        """A value from the API, safe inside a markup line."""
        if not self.rich:
            return str(text)
        from rich.markup import escape

        return Markup(escape(str(text)))

    def paint(self, text: Any, name: str) -> str:
        if not self.rich:
            return str(text)
        return Markup(f"[{name}]{self.esc(text)}[/{name}]") if name else self.esc(text)

    def status(self, status: str) -> str:
        return self.paint(status, self.STATUS_COLORS.get(status, ""))

    @property
    def arrow(self) -> str:
        return "→" if self.unicode else "->"


PLAIN = Style(sys.stdout, color=False)


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


def share(weight: Any) -> float:
    try:
        return min(1.0, max(0.0, float(weight or 0)))
    except (TypeError, ValueError):
        return 0.0


def bar(weight: Any, style: Style, width: int = 30) -> Any:
    """The candidate's share as a bar: rich's ProgressBar on a terminal, # and . in plain text."""
    if style.rich:
        from rich.progress_bar import ProgressBar

        return ProgressBar(total=1.0, completed=share(weight), width=width, complete_style="green")
    filled = round(share(weight) * width)
    full, empty = ("█", "░") if style.unicode else ("#", ".")
    return "[" + full * filled + empty * (width - filled) + "]"


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], style: Style = PLAIN) -> Any:
    """A table: rich's on a terminal; else plain, left-aligned, values str()-ed, '-' for None."""
    if style.rich:
        from rich import box
        from rich.table import Table
        from rich.text import Text

        drawn = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False)
        for header in headers:
            drawn.add_column(header)
        for row in rows:
            cells = []
            for v in row:
                if v is None or v == "":
                    cells.append(Text("-"))
                elif isinstance(v, Markup):
                    cells.append(Text.from_markup(v))
                else:
                    cells.append(Text(str(v)))
            drawn.add_row(*cells)
        return drawn
    texts = [[("-" if v is None or v == "" else str(v)) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for line in texts:
        for i, value in enumerate(line):
            widths[i] = max(widths[i], len(value))
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip() for line in texts]
    return "\n".join(lines)


def block(style: Style, *parts: Any) -> Any:
    """Lines and tables one under the other: one string in plain text, a list of parts for rich."""
    kept = [p for p in parts if p is not None]
    return kept if style.rich else "\n".join(str(p) for p in kept)


def renderable(thing: Any) -> Any:
    """What rich prints for a part: markup lines as Text, lists as a Group."""
    from rich.console import Group
    from rich.text import Text

    if isinstance(thing, list):
        return Group(*(renderable(t) for t in thing))
    if isinstance(thing, str):
        return Text.from_markup(thing)
    return thing


def indent(part: Any, style: Style = PLAIN, prefix: str = "  ") -> Any:
    if style.rich:
        from rich.padding import Padding

        return Padding(renderable(part), (0, 0, 0, len(prefix)))
    return "\n".join(prefix + line if line else line for line in str(part).splitlines())


def generic(data: Any, style: Style = PLAIN) -> Any:
    """Any JSON (a --query's result) for people: a list of objects as a table, an object as key and
    value, a list of values one per line, a value as it is."""

    def cell(value: Any) -> Any:
        return value if isinstance(value, str) else json.dumps(value, default=str)

    if isinstance(data, list) and data and all(isinstance(i, dict) for i in data):
        headers = list(dict.fromkeys(k for item in data for k in item))
        rows = [[cell(item[h]) if h in item else None for h in headers] for item in data]
        return table([h.upper() for h in headers], rows, style)
    if isinstance(data, dict):
        return table(["KEY", "VALUE"], [[k, cell(v)] for k, v in data.items()], style)
    if isinstance(data, list):
        return block(style, *(style.esc(cell(v)) for v in data))
    return style.esc(cell(data))


# --- promotions -----------------------------------------------------------------------------------
def candidate_of(p: dict[str, Any]) -> str:
    """The candidate version; none yet while the workflow carries a pipeline's artifact."""
    return str(p.get("candidate_version") or ("(being carried)" if "candidate_version" in p else "?"))


def versions_line(p: dict[str, Any], style: Style) -> str:
    return f"{style.esc(p.get('stable_version', '?'))} (stable) {style.arrow} {style.esc(candidate_of(p))} (candidate)"


def traffic_text(p: dict[str, Any], style: Style) -> str:
    weight = p.get("current_weight") or 0
    return (
        f"{percent(weight):>5} on {style.esc(candidate_of(p))}, "
        f"{percent(1 - share(weight))} on {style.esc(p.get('stable_version', '?'))}"
    )


def traffic_line(p: dict[str, Any], style: Style) -> Any:
    if style.rich:
        from rich.table import Table
        from rich.text import Text

        grid = Table.grid(padding=(0, 1))
        grid.add_row(bar(p.get("current_weight"), style), Text.from_markup(traffic_text(p, style)))
        return grid
    return f"{bar(p.get('current_weight'), style)} {traffic_text(p, style)}"


def step_rows(p: dict[str, Any], style: Style) -> list[list[Any]]:
    rows: list[list[Any]] = []
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
                style.paint(mark, "green" if mark == "done" else "yellow" if mark == "baking" else ""),
            ]
        )
    return rows


def steps_table(p: dict[str, Any], style: Style) -> Any:
    return table(["STEP", "WEIGHT", "BAKE", "STARTED", "ENDED", "TOOK", ""], step_rows(p, style), style)


def event_line(event: dict[str, Any], style: Style) -> str:
    weight = event.get("weight")
    suffix = style.esc(f"  [{percent(weight)}]") if weight is not None else ""
    return (
        f"{clock(event.get('at'))}  {style.esc(str(event.get('actor') or '-')):<10}  "
        f"{style.esc(str(event.get('type') or '-')):<12}  {style.esc(event.get('message') or '')}{suffix}"
    ).rstrip()


def _number(value: Any, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}g}"


def _effect(value: Any) -> str:
    return "-" if value is None else f"{value:+.1%}"


def analysis_parts(p: dict[str, Any], style: Style) -> list[Any]:
    """The judge's verdict per judged step, and the latest judgement's evidence per metric."""
    analysis = p.get("analysis")
    if not isinstance(analysis, dict) or not (analysis.get("steps") or analysis.get("last")):
        return []
    steps = sorted((analysis.get("steps") or {}).items(), key=lambda item: int(item[0]))
    judged = table(
        ["step", "verdict", "action", "score", "extensions", "reason"],
        (
            [
                int(i) + 1,
                j.get("verdict"),
                j.get("action"),
                _number(j.get("score"), 3),
                j.get("extensions"),
                style.esc(j.get("reason") or ""),
            ]
            for i, j in steps
        ),
        style,
    )
    parts: list[Any] = ["", "Analysis", indent(judged, style)]
    last = analysis.get("last")
    if isinstance(last, dict):
        step = last.get("step")
        summary = (
            f"latest{'' if step is None else f' (step {step + 1})'}: {last.get('verdict')}, score "
            f"{_number(last.get('score'), 3)}, {last.get('candidate_invocations')} candidate / "
            f"{last.get('stable_invocations')} stable invocations over {last.get('periods')} periods"
        )
        evidence = table(
            ["metric", "test", "stable", "candidate", "p-value", "effect", "verdict"],
            (
                [
                    m.get("name"),
                    m.get("test"),
                    _number(m.get("stable")),
                    _number(m.get("candidate")),
                    _number(m.get("p_value"), 3),
                    _effect(m.get("effect")),
                    f"{m.get('verdict')}{' (fails)' if m.get('failed') else ''}",
                ]
                for m in last.get("metrics") or []
            ),
            style,
        )
        parts += [indent(style.esc(summary), style), indent(evidence, style)]
    return parts


def fast_gate_line(p: dict[str, Any]) -> str:
    """The fast gate's threshold, its filter, and its trip, in one line ("" without one)."""
    spec = p.get("fast_gate")
    if not isinstance(spec, dict):
        return ""
    text = f"more than {spec.get('max_errors')} errors in {spec.get('window_seconds')} s roll back"
    if spec.get("pattern"):
        text += f" (also {spec['pattern']!r})"
    state = p.get("fast_gate_state")
    if isinstance(state, dict):
        text += f"; filter {'removed' if state.get('removed') else 'on ' + str(state.get('log_group'))}"
        trip = state.get("trip")
        if isinstance(trip, dict):
            text += (
                f"; tripped: {trip.get('errors')} errors from {stamp(trip.get('first_error_at'))}, "
                f"alias back at {stamp(trip.get('at'))}"
            )
    return text


def promotion_detail(p: dict[str, Any], style: Style) -> Any:
    target = style.esc(f"{p.get('function', '?')}:{p.get('alias', '?')}")
    lines: list[Any] = [
        f"Promotion {style.paint(p.get('id', '?'), 'bold')}  {style.status(str(p.get('status', '?')))}",
        f"  target     {target}",
        f"  versions   {versions_line(p, style)}",
    ]
    if style.rich:
        from rich.table import Table

        labelled = Table.grid()
        labelled.add_row("  traffic    ", traffic_line(p, style))
        lines.append(labelled)
    else:
        lines.append(f"  traffic    {traffic_line(p, style)}")
    lines.append(f"  created    {stamp(p.get('created_at'))} by {style.esc(p.get('created_by') or '-')}")
    for key, label in (("reason", "reason"), ("outcome_reason", "outcome")):
        if p.get(key):
            lines.append(f"  {label:<10} {style.esc(p[key])}")
    if p.get("alarms"):
        lines.append(f"  alarms     {style.esc(', '.join(p['alarms']))}")
    if fast_gate := fast_gate_line(p):
        lines.append(f"  fast gate  {style.esc(fast_gate)}")
    if p.get("ended_at"):
        lines.append(f"  ended      {stamp(p.get('ended_at'))}")
    origin = p.get("origin")
    if isinstance(origin, dict) and origin.get("pipeline"):
        where = f"{origin['pipeline']} {style.arrow} {origin.get('environment')}"
        lines.append(f"  pipeline   {style.esc(where)}")
    lines += ["", "Steps", indent(steps_table(p, style), style)]
    lines += analysis_parts(p, style)
    events = p.get("events") or []
    if events:
        lines += ["", "Events", indent(block(style, *(event_line(e, style) for e in events)), style)]
    return block(style, *lines)


def promotions_table(items: list[dict[str, Any]], style: Style) -> Any:
    rows = [
        [
            p.get("id"),
            p.get("function"),
            p.get("alias"),
            p.get("stable_version"),
            p.get("candidate_version") or "-",
            style.status(str(p.get("status", "?"))),
            percent(p.get("current_weight")),
            stamp(p.get("created_at")),
        ]
        for p in items
    ]
    return table(["ID", "FUNCTION", "ALIAS", "STABLE", "CANDIDATE", "STATUS", "WEIGHT", "CREATED"], rows, style)


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


def routing(weights: Any) -> str:
    if not isinstance(weights, dict):
        return "-"
    return ", ".join(f"{v}: {percent(w)}" for v, w in weights.items()) or "-"


def inventory_table(body: Any, style: Style) -> Any:
    aliases = body.get("aliases", []) if isinstance(body, dict) else (body or [])
    rows = [
        [
            a.get("alias") or a.get("name"),
            a.get("version") or a.get("function_version"),
            routing(a.get("weights") or a.get("routing") or {}),
            _promotion_ref(a.get("active_promotion")),
            _promotion_ref(a.get("last_promotion")),
        ]
        for a in aliases
    ]
    header = None
    if isinstance(body, dict) and body.get("function"):
        header = f"Function {style.paint(body['function'], 'bold')}"
    headers = ["ALIAS", "VERSION", "ROUTING", "ACTIVE PROMOTION", "LAST PROMOTION"]
    return block(style, header, table(headers, rows, style))


# --- schedules ------------------------------------------------------------------------------------
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


def schedule_table(items: list[dict[str, Any]], style: Style) -> Any:
    if not items:
        return "No schedules."
    rows = [
        [s["id"], _schedule_when(s), _schedule_target(s), len(s.get("runs", [])), s.get("created_by", "")]
        for s in items
    ]
    return table(["ID", "WHEN", "PROMOTES", "RUNS", "BY"], rows, style)


def schedule_detail(schedule: dict[str, Any], style: Style) -> Any:
    state = "deleted" if schedule.get("deleted") else "active"
    lines: list[Any] = [
        f"Schedule {style.paint(schedule['id'], 'bold')} ({state})",
        f"  when      {style.esc(_schedule_when(schedule))}  ({style.esc(schedule.get('expression', ''))})",
        f"  promotes  {style.esc(_schedule_target(schedule))}",
        f"  created   {stamp(schedule.get('created_at'))} by {style.esc(schedule.get('created_by', '?'))}",
    ]
    runs = schedule.get("runs") or []
    if runs:
        rows = [[stamp(r.get("at")), r.get("outcome"), r.get("promotion_id") or "-", r.get("reason", "")] for r in runs]
        lines += ["", table(["RAN", "OUTCOME", "PROMOTION", "REASON"], rows, style)]
    else:
        lines.append("  no runs yet")
    return block(style, *lines)


# --- pipelines ------------------------------------------------------------------------------------
def _where(env: dict[str, Any]) -> str:
    parts = str(env.get("function_arn") or "").split(":")
    if len(parts) >= 7:
        return f"{parts[6]} @{parts[4]}"
    return str(env.get("function") or "-")


def _short(sha: Any) -> str:
    return f"{str(sha)[:10]}…" if sha else "-"


def _pipeline_promotion(value: Any) -> str:
    if not isinstance(value, dict):
        return "-"
    candidate = value.get("candidate_version") or "…"
    return f"{value.get('id')} {value.get('status')} ({value.get('stable_version')}→{candidate})"


def pipeline_table(body: Any, style: Style) -> Any:
    """Which version is where: per environment, its function, alias, version, CodeSha256, promotions, drift."""
    if not isinstance(body, dict):
        return style.esc(body)
    rows, notes = [], []
    for env in body.get("state") or []:
        drift = {True: style.paint("DRIFT", "red"), False: "no", None: "-"}[env.get("drift")]
        rows.append(
            [
                env.get("name"),
                _where(env),
                env.get("alias"),
                env.get("version"),
                _short(env.get("code_sha256")),
                routing(env.get("weights") or {}),
                _pipeline_promotion(env.get("active_promotion")),
                _pipeline_promotion(env.get("last_promotion")),
                drift,
            ]
        )
        name = style.esc(env.get("name"))
        if env.get("error"):
            notes.append(f"  {name}: cannot read it: {style.esc(env['error'])}")
        if env.get("drift"):
            notes.append(f"  {name}: drift: {style.esc(env.get('drift_reason'))}")
        if env.get("frozen_until"):
            notes.append(f"  {name}: frozen until {style.esc(env['frozen_until'])}")
        if env.get("role_arn"):
            notes.append(f"  {name}: through role {style.esc(env['role_arn'])}")
        if env.get("protected"):
            notes.append(f"  {name}: protected (approval required)")
    arrow = f" {style.arrow} "
    title = (
        f"Pipeline {style.paint(body.get('name'), 'bold')}: {style.esc(arrow.join(body.get('environments') or []))}"
        f"   overrides {'allowed' if body.get('allow_override') else 'not allowed'}"
    )
    headers = ["ENV", "FUNCTION", "ALIAS", "VERSION", "CODESHA256", "ROUTING", "ACTIVE", "LAST", "DRIFT"]
    return block(style, title, table(headers, rows, style), *notes)


# --- watch ----------------------------------------------------------------------------------------
class WatchDisplay:
    """Draws a promotion as it changes.

    On a terminal (``style.rich``), new events scroll above a rich ``Live`` block (status, traffic
    bar, steps) that rich redraws in place. Elsewhere (a pipe, a CI log), each change is printed once
    as a plain line.
    """

    def __init__(self, stream: TextIO = sys.stdout, *, style: Style | None = None, console: Any = None) -> None:
        self.stream = stream
        self.style = style or Style(stream, color=False)
        self.console = console
        self._live: Any = None
        self._seen_events = 0
        self._last_key: tuple[Any, ...] | None = None

    @property
    def live(self) -> bool:
        return self.style.rich and self.console is not None

    def update(self, p: dict[str, Any]) -> None:
        events = p.get("events") or []
        new_events = events[self._seen_events :]
        self._seen_events = len(events)
        if self.live:
            self._update_live(p, new_events)
            return
        for event in new_events:
            self._write(event_line(event, self.style))
        key = (p.get("status"), p.get("current_weight"), p.get("current_step"))
        if key != self._last_key:
            self._last_key = key
            self._write(f"  {self.style.status(str(p.get('status')))}  {traffic_line(p, self.style)}")
        self.stream.flush()

    def _update_live(self, p: dict[str, Any], new_events: list[dict[str, Any]]) -> None:
        from rich.live import Live

        if self._live is None:
            self._live = Live(console=self.console, auto_refresh=False, transient=False)
            self._live.start()
        for event in new_events:  # printed above the live block, once each
            self._live.console.print(renderable(event_line(event, self.style)))
        self._live.update(renderable(self._block(p)), refresh=True)

    def finish(self, p: dict[str, Any]) -> None:
        if self.live:
            self.stop()
            self.console.print()
            self.console.print(renderable(outcome_line(p, self.style)))
            return
        self._write("")
        self._write(steps_table(p, self.style))
        for part in analysis_parts(p, self.style):
            self._write(part)
        self._write("")
        self._write(outcome_line(p, self.style))
        self.stream.flush()

    def stop(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def _block(self, p: dict[str, Any]) -> Any:
        header = (
            f"{self.style.esc(p.get('id'))}  {self.style.esc(p.get('function'))}:{self.style.esc(p.get('alias'))}  "
            f"{versions_line(p, self.style)}  {self.style.status(str(p.get('status')))}"
        )
        return ["", header, traffic_line(p, self.style), steps_table(p, self.style), *analysis_parts(p, self.style)]

    def _write(self, text: str) -> None:
        self.stream.write(text + "\n")


def outcome_line(p: dict[str, Any], style: Style) -> str:
    status = str(p.get("status"))
    target = style.esc(f"{p.get('function')}:{p.get('alias')}")
    if status == "SUCCEEDED":
        text = f"{target} now serves version {style.esc(p.get('candidate_version'))}"
    elif status in FINAL:
        text = f"{target} stays on version {style.esc(p.get('stable_version'))}"
        if p.get("outcome_reason"):
            text += f": {style.esc(p['outcome_reason'])}"
    else:
        text = f"{target} is {style.esc(status)} at {percent(p.get('current_weight'))}"
    return f"{style.status(status)}  {text}"
