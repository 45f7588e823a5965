"""Pure: is an environment inside one of its freeze windows, and until when.

Two kinds of window (promoter.models):

- ``FreezePeriod`` ``{start, end}``: one-off, ISO 8601 with offsets, ``end`` excluded;
- ``WeeklyFreeze`` ``{days, hours, timezone}``: on each listed day, ``hours`` ``HH:MM-HH:MM`` in
  local time; ``24:00`` is the midnight that ends the day; an end at or before the start runs into
  the next day. Local times follow the zone's daylight-saving rules.

Windows that touch or overlap chain: the freeze lasts until the first instant no window covers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .models import WEEKDAYS, FreezePeriod, FreezeWindow, WeeklyFreeze

MAX_CHAIN = 1000  # windows covering each other end to end; a bound, not a real limit


def _hhmm(text: str) -> tuple[int, int]:
    hours, minutes = text.split(":")
    return int(hours), int(minutes)


def _local(day: date, hours: int, minutes: int, zone: ZoneInfo) -> datetime:
    if hours == 24:
        return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=zone)
    return datetime.combine(day, time(hours, minutes), tzinfo=zone)


def _weekly_end(window: WeeklyFreeze, at: datetime) -> datetime | None:
    zone = ZoneInfo(window.timezone)
    start_text, end_text = window.hours.split("-")
    start, end = _hhmm(start_text), _hhmm(end_text)
    crosses_midnight = end != (24, 0) and end <= start
    today = at.astimezone(zone).date()
    for offset in (-1, 0):  # a window opened yesterday may still be on
        day = today + timedelta(days=offset)
        if WEEKDAYS[day.weekday()] not in window.days:
            continue
        opens = _local(day, *start, zone).astimezone(UTC)
        closes = _local(day + timedelta(days=1) if crosses_midnight else day, *end, zone).astimezone(UTC)
        if opens <= at < closes:
            return closes
    return None


def window_end(window: FreezeWindow, at: datetime) -> datetime | None:
    """When ``window`` ends, if it is on at ``at`` (aware); else None."""
    at = at.astimezone(UTC)
    if isinstance(window, FreezePeriod):
        start, end = window.start.astimezone(UTC), window.end.astimezone(UTC)
        return end if start <= at < end else None
    return _weekly_end(window, at)


def frozen_until(windows: Sequence[FreezeWindow], at: datetime) -> tuple[datetime, FreezeWindow] | None:
    """The first instant from ``at`` on that no window covers, and the window that ends then;
    None when no window is on at ``at``."""
    moment, last = at.astimezone(UTC), None
    for _ in range(MAX_CHAIN):
        ends = [(end, w) for w in windows if (end := window_end(w, moment)) is not None]
        if not ends:
            break
        moment, last = max(ends, key=lambda pair: pair[0])
    return (moment, last) if last is not None else None


def describe_end(until: datetime, window: FreezeWindow) -> str:
    """``2026-12-28 08:00 Europe/Berlin (2026-12-28T07:00:00Z)``: local to the window, and UTC."""
    utc = until.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(window, WeeklyFreeze):
        local = until.astimezone(ZoneInfo(window.timezone))
        return f"{local:%a %Y-%m-%d %H:%M} {window.timezone} ({utc})"
    offset = window.end.utcoffset()
    local = until.astimezone(window.end.tzinfo) if offset else until.astimezone(UTC)
    return f"{local.isoformat()} ({utc})"
