"""Pure: validation of EventBridge Scheduler expressions (``cron(...)``) and time zones."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

# AWS cron has six fields: minutes hours day-of-month month day-of-week year.
_MONTHS = "JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC"
_DAYS = "SUN|MON|TUE|WED|THU|FRI|SAT"


def _field(value: str, extra: str = "") -> str:
    item = rf"(?:{value}|\*)(?:-(?:{value}))?(?:/\d+)?"
    return rf"^(?:{extra}{item}(?:,{item})*)$"


_FIELDS = [
    ("minutes", _field(r"[0-5]?\d")),
    ("hours", _field(r"[01]?\d|2[0-3]")),
    ("day-of-month", _field(r"0?[1-9]|[12]\d|3[01]", extra=r"\?$|^L$|^LW$|^(?:0?[1-9]|[12]\d|3[01])W$|^")),
    ("month", _field(rf"0?[1-9]|1[0-2]|{_MONTHS}")),
    ("day-of-week", _field(rf"[1-7]|{_DAYS}", extra=rf"\?$|^(?:[1-7]|{_DAYS})L$|^(?:[1-7]|{_DAYS})#[1-5]$|^")),
    ("year", _field(r"19[7-9]\d|2[01]\d\d")),
]


def cron_error(expression: str) -> str | None:
    """Why ``expression`` is not a valid ``cron(...)`` expression, or None when it is."""
    match = re.fullmatch(r"cron\((.*)\)", expression.strip())
    if not match:
        return "must look like cron(minutes hours day-of-month month day-of-week year)"
    fields = match.group(1).split()
    if len(fields) != 6:
        return f"needs 6 fields (minutes hours day-of-month month day-of-week year), got {len(fields)}"
    for (name, pattern), value in zip(_FIELDS, fields, strict=True):
        if not re.match(pattern, value.upper()):
            return f"field {name} {value!r} is not valid"
    day_of_month, day_of_week = fields[2], fields[4]
    if (day_of_month == "?") == (day_of_week == "?"):
        return "exactly one of day-of-month and day-of-week must be '?'"
    return None


def timezone_error(name: str) -> str | None:
    if name not in available_timezones():
        return f"unknown time zone {name!r} (use an IANA name such as Europe/Berlin)"
    try:
        ZoneInfo(name)
    except ZoneInfoNotFoundError:
        return f"unknown time zone {name!r}"
    return None
