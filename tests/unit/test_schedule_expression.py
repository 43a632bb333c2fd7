"""EventBridge Scheduler's expressions as the Scheduler user guide ("Schedule types") defines them: which
minutes a cron expression names (with L, W, # and names), when rate and at schedules fire, in the schedule's
time zone, and the one-line problems a config check reports."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from tscloud_py.config.schedule_expression import At, Cron, ExpressionError, Rate, fire_times, parse

UTC = timezone.utc


def days(expression: str, month: str) -> list[int]:
    """The days of ``month`` (yyyy-mm) on which the cron expression fires at 12:00."""
    cron = parse(expression)
    assert isinstance(cron, Cron)
    year, number = map(int, month.split("-"))
    first = date(year, number, 1)
    found = []
    day = first
    while day.month == number:
        if cron.matches(datetime(day.year, day.month, day.day, 12, 0)):
            found.append(day.day)
        day += timedelta(days=1)
    return found


def test_cron_minutes_hours_and_steps() -> None:
    cron = parse("cron(0/15 8-9 * * ? *)")
    assert isinstance(cron, Cron)
    hits = [(h, m) for h in range(24) for m in range(60) if cron.matches(datetime(2026, 12, 7, h, m))]
    assert hits == [(8, 0), (8, 15), (8, 30), (8, 45), (9, 0), (9, 15), (9, 30), (9, 45)]
    stepped, listed = parse("cron(*/20 3 * * ? *)"), parse("cron(0,20,40 3 * * ? *)")
    assert isinstance(stepped, Cron) and isinstance(listed, Cron)
    assert stepped.minutes == listed.minutes == {0, 20, 40}


def test_cron_days_of_the_week_and_month() -> None:
    assert days("cron(0 12 ? * MON-FRI *)", "2026-12")[:5] == [1, 2, 3, 4, 7]  # Dec 5-6 2026: a weekend
    assert days("cron(0 12 ? * 1,7 *)", "2026-12") == [5, 6, 12, 13, 19, 20, 26, 27]  # 1 = Sunday, 7 = Saturday
    assert days("cron(0 12 L * ? *)", "2026-02") == [28] and days("cron(0 12 L * ? *)", "2028-02") == [29]
    assert days("cron(0 12 L-2 * ? *)", "2026-12") == [29]
    assert days("cron(0 12 15W * ? *)", "2026-08") == [14]  # the 15th is a Saturday: the Friday before
    assert days("cron(0 12 15W * ? *)", "2026-11") == [16]  # a Sunday: the Monday after
    assert days("cron(0 12 1W * ? *)", "2026-08") == [3]  # never in the month before
    assert days("cron(0 12 LW * ? *)", "2027-01") == [29]  # the 31st is a Sunday
    assert days("cron(0 12 ? * 6L *)", "2026-12") == [25]  # the last Friday
    assert days("cron(0 12 ? * TUE#2 *)", "2026-12") == [8]
    assert days("cron(0 12 1,15 JAN,JUL ? 2027)", "2027-07") == [1, 15]
    assert days("cron(0 12 1,15 JAN,JUL ? 2027)", "2026-07") == []


@pytest.mark.parametrize(("expression", "problem"), [
    ("cron(0 3 * * * *)", "exactly one of day-of-month and day-of-week must be '?'"),
    ("cron(0 3 ? * ? *)", "exactly one of day-of-month and day-of-week must be '?'"),
    ("cron(0 3 * * ?)", "six fields"),
    ("cron(60 3 * * ? *)", "the cron minutes field is not valid"),
    ("cron(0 3 * 13 ? *)", "the cron month field is not valid"),
    ("cron(0 3 ? * 8 *)", "the cron day-of-week field is not valid"),
    ("cron(0 3 ? * MON#6 *)", "the cron day-of-week field is not valid"),
    ("cron(0 3 32W * ? *)", "the cron day-of-month field is not valid"),
    ("cron(0/0 3 * * ? *)", "the cron minutes field is not valid"),
    ("cron(0 5-3 * * ? *)", "the cron hours field is not valid"),
    ("rate(0 minutes)", "expected rate(N unit)"),
    ("rate(1 hours)", "singular unit"),
    ("rate(5 weeks)", "expected rate(N unit)"),
    ("at(2026-02-30T00:00:00)", "not a real date"),
    ("every day", "expected cron(...), rate(...) or at(...)"),
])
def test_problems_are_named(expression: str, problem: str) -> None:
    with pytest.raises(ExpressionError, match=problem.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")):
        parse(expression)


def zone(name: str) -> dict[str, object]:
    tz = ZoneInfo(name)
    return {"local": lambda t: t.astimezone(tz).replace(tzinfo=None), "utc": lambda t: t.replace(tzinfo=tz).astimezone(UTC)}


def test_fire_times_of_each_kind() -> None:
    t0 = datetime(2026, 12, 7, 15, 0, 30, tzinfo=UTC)
    rate = parse("rate(5 minutes)")
    assert rate == Rate(timedelta(minutes=5))
    assert fire_times(rate, after=t0, until=t0 + timedelta(minutes=16), anchor=t0, **zone("UTC")) == [
        t0 + timedelta(minutes=m) for m in (5, 10, 15)]
    assert fire_times(rate, after=t0 + timedelta(minutes=5), until=t0 + timedelta(minutes=9), anchor=t0,
                      **zone("UTC")) == []  # the 5th minute's was before ``after``
    at = parse("at(2026-12-07T17:00:00)")
    assert at == At(datetime(2026, 12, 7, 17, 0))
    berlin = zone("Europe/Berlin")
    assert fire_times(at, after=t0, until=t0 + timedelta(hours=1), anchor=t0, **berlin) == [
        datetime(2026, 12, 7, 16, 0, tzinfo=UTC)]  # 17:00 in Berlin, in winter
    nightly = parse("cron(0 3 * * ? *)")
    night = datetime(2026, 12, 8, 1, 30, tzinfo=UTC)
    assert fire_times(nightly, after=night, until=night + timedelta(hours=1), anchor=t0, **berlin) == [
        datetime(2026, 12, 8, 2, 0, tzinfo=UTC)]  # 03:00 in Berlin
    assert fire_times(nightly, after=night, until=night + timedelta(hours=1), anchor=t0, **zone("UTC")) == []
