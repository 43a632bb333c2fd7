"""EventBridge Scheduler's schedule expressions, read once for both of their uses: the config check (a bad
expression fails as one line before the first write) and the emulator, which fires a schedule when AWS would.

From the Scheduler user guide, "Schedule types": ``at(yyyy-mm-ddThh:mm:ss)`` once, in the schedule's time
zone; ``rate(N minute|minutes|hour|hours|day|days)`` every N units; ``cron(minutes hours day-of-month month
day-of-week year)``, in the schedule's time zone, with ``, - * /`` everywhere, ``?`` in exactly one of the day
fields, ``L`` and ``W`` (``L``, ``L-n``, ``nW``, ``LW``) in day-of-month, ``L`` and ``#`` (``nL``, ``n#k``) in
day-of-week, names JAN-DEC and SUN-SAT, and days of the week numbered 1 (Sunday) to 7 (Saturday).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypeVar

MONTHS = {name: i for i, name in enumerate(["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT",
                                            "NOV", "DEC"], start=1)}
DAYS = {name: i for i, name in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], start=1)}
_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_AT = re.compile(r"at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)")
_UNIT = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}
# How far back the emulator looks for cron times it has not seen yet: a day of minutes at most.
MAX_MINUTES = 24 * 60


class ExpressionError(ValueError):
    """What is wrong with an expression, worded to follow "expected ..." in a config error."""


@dataclass(frozen=True)
class At:
    when: datetime  # naive, in the schedule's time zone


@dataclass(frozen=True)
class Rate:
    every: timedelta


DayTest = Callable[[date], bool]


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    day_of_month: DayTest | None  # None: '?'
    months: frozenset[int]
    day_of_week: DayTest | None
    years: frozenset[int]

    def matches(self, local: datetime) -> bool:
        """Whether the minute ``local`` (naive, in the schedule's time zone) is one of the schedule's."""
        day = local.date()
        return (local.minute in self.minutes and local.hour in self.hours and local.month in self.months
                and local.year in self.years and (self.day_of_month is None or self.day_of_month(day))
                and (self.day_of_week is None or self.day_of_week(day)))


Expression = At | Rate | Cron


def parse(expression: str) -> Expression:
    if expression.startswith("rate("):
        m = _RATE.fullmatch(expression)
        if not m or int(m.group(1)) <= 0:
            raise ExpressionError("expected rate(N unit) with a whole N > 0 and unit minute(s), hour(s) or day(s)")
        if (int(m.group(1)) == 1) != (not m.group(2).endswith("s")):
            raise ExpressionError("rate(1 ...) takes a singular unit and rate(N ...) a plural one")
        return Rate(int(m.group(1)) * _UNIT[m.group(2).removesuffix("s")])
    if expression.startswith("at("):
        m = _AT.fullmatch(expression)
        if not m:
            raise ExpressionError("expected at(yyyy-mm-ddThh:mm:ss)")
        try:
            return At(datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S"))
        except ValueError:
            raise ExpressionError("at(...) is not a real date and time") from None
    m = re.fullmatch(r"cron\((.*)\)", expression)
    if not m:
        raise ExpressionError("expected cron(...), rate(...) or at(...)")
    return _cron(m.group(1).split())


def _cron(fields: list[str]) -> Cron:
    if len(fields) != 6:
        raise ExpressionError("expected cron(minutes hours day-of-month month day-of-week year), six fields")
    minute, hour, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise ExpressionError("exactly one of day-of-month and day-of-week must be '?'")
    return Cron(_field("minutes", lambda: _values(minute, 0, 59)), _field("hours", lambda: _values(hour, 0, 23)),
                _field("day-of-month", lambda: _day_of_month(dom)),
                _field("month", lambda: _values(month, 1, 12, MONTHS)),
                _field("day-of-week", lambda: _day_of_week(dow)), _field("year", lambda: _values(year, 1970, 2199)))


T = TypeVar("T")


def _field(name: str, read: Callable[[], T]) -> T:
    try:
        return read()
    except ValueError:
        raise ExpressionError(f"the cron {name} field is not valid") from None


def _number(raw: str, lo: int, hi: int, names: dict[str, int] | None = None) -> int:
    value = (names or {}).get(raw.upper())
    if value is None:
        if not raw.isdigit():
            raise ValueError(raw)
        value = int(raw)
    if not lo <= value <= hi:
        raise ValueError(raw)
    return value


def _values(text: str, lo: int, hi: int, names: dict[str, int] | None = None) -> frozenset[int]:
    """``*``, ``a``, ``a-b``, each with an optional ``/step``, comma-separated."""
    out: set[int] = set()
    for part in text.split(","):
        span, _, step_text = part.partition("/")
        step = int(step_text) if step_text.isdigit() else (1 if not step_text else 0)
        if step == 0 or (step_text and not span):
            raise ValueError(part)
        if span == "*":
            first, last = lo, hi
        elif "-" in span:
            a, _, b = span.partition("-")
            first, last = _number(a, lo, hi, names), _number(b, lo, hi, names)
        else:
            first = _number(span, lo, hi, names)
            last = hi if step_text else first
        if first > last:
            raise ValueError(part)
        out.update(range(first, last + 1, step))
    return frozenset(out)


def _last_day(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def _weekday(day: date) -> int:
    """1 (Sunday) to 7 (Saturday), as cron numbers them."""
    return (day.weekday() + 1) % 7 + 1


def _nearest_weekday(day: date, wanted: int) -> int:
    """The weekday nearest day ``wanted`` of ``day``'s month, never in another month."""
    last = _last_day(day)
    target = date(day.year, day.month, min(wanted, last))
    weekday = _weekday(target)
    if weekday == 7:  # Saturday: the Friday before, or the Monday after the 1st
        return target.day - 1 if target.day > 1 else target.day + 2
    if weekday == 1:  # Sunday: the Monday after, or the Friday before the month's last day
        return target.day + 1 if target.day < last else target.day - 2
    return target.day


def _day_of_month(text: str) -> DayTest | None:
    if text == "?":
        return None
    if text == "L":
        return lambda d: d.day == _last_day(d)
    if text == "LW":
        return lambda d: d.day == _nearest_weekday(d, _last_day(d))
    if m := re.fullmatch(r"L-(\d{1,2})", text):
        back = _number(m.group(1), 0, 30)
        return lambda d: d.day == _last_day(d) - back
    if m := re.fullmatch(r"(\d{1,2})W", text):
        wanted = _number(m.group(1), 1, 31)
        return lambda d: d.day == _nearest_weekday(d, wanted)
    days = _values(text, 1, 31)
    return lambda d: d.day in days


def _day_of_week(text: str) -> DayTest | None:
    if text == "?":
        return None
    if text == "L":
        return lambda d: _weekday(d) == 7
    if m := re.fullmatch(r"(\w+)L", text):
        weekday = _number(m.group(1), 1, 7, DAYS)
        return lambda d: _weekday(d) == weekday and d.day + 7 > _last_day(d)
    if m := re.fullmatch(r"(\w+)#([1-5])", text):
        weekday, nth = _number(m.group(1), 1, 7, DAYS), int(m.group(2))
        return lambda d: _weekday(d) == weekday and (d.day - 1) // 7 + 1 == nth
    days = _values(text, 1, 7, DAYS)
    return lambda d: _weekday(d) in days


def fire_times(expression: Expression, *, after: datetime, until: datetime, anchor: datetime,
               local: Callable[[datetime], datetime], utc: Callable[[datetime], datetime]) -> list[datetime]:
    """The times in (``after``, ``until``] (aware, UTC) at which the schedule fires. ``anchor`` is when a rate
    schedule took effect (it fires one period later, and every period after); ``local`` and ``utc`` convert
    between UTC and the schedule's time zone (naive local times)."""
    if isinstance(expression, At):
        when = utc(expression.when)
        return [when] if after < when <= until else []
    if isinstance(expression, Rate):
        every = expression.every
        k = max(1, (after - anchor) // every + 1)  # the first period end past ``after``
        times = []
        while (when := anchor + k * every) <= until:
            times.append(when)
            k += 1
        return times
    start = max(after, until - timedelta(minutes=MAX_MINUTES))
    minute = start.replace(second=0, microsecond=0) + timedelta(minutes=1)
    times = []
    while minute <= until:
        if expression.matches(local(minute)):
            times.append(minute)
        minute += timedelta(minutes=1)
    return times
