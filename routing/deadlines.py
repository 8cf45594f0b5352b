"""Deadlines on Chinese working-day time.

Whether a day is a working day is decided, in this order, by:

1. ``HolidayOverride`` rows (admin-editable: next year's holidays before the package knows them,
   local holidays, corrections);
2. ``chinesecalendar`` (statutory holidays and 调休 make-up working days);
3. outside the years the package knows (it raises NotImplementedError): Monday–Friday, with a
   warning logged once per year so an unpublished calendar is visible in the logs.

Limits come in four units (``routing.models.TimeUnit``): working days (same wall-clock time N
working days later), natural days, natural hours, and working hours (counted only inside the
working hours of working days, default 09:00–18:00 Asia/Shanghai). Which limit applies to an
appeal is decided by ``policy_for`` (``DeadlinePolicy`` rows per category × appeal type × urgency,
most specific first in that field order, else the defaults from DOMAIN.md).

A deadline clock that starts on a non-working day starts at the beginning of the next working
day's working hours (an appeal dispatched on Saturday gets its working days from Monday 09:00).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dtime
from functools import lru_cache
from typing import TypedDict
from zoneinfo import ZoneInfo

import chinese_calendar

from routing.conf import routing_setting

logger = logging.getLogger(__name__)


def local_zone() -> ZoneInfo:
    return ZoneInfo(routing_setting("CALENDAR_TIME_ZONE", "Asia/Shanghai"))


def working_hours() -> tuple[dtime, dtime]:
    start, end = routing_setting("WORKING_HOURS", ("09:00", "18:00"))
    return dtime.fromisoformat(start), dtime.fromisoformat(end)


# --- The calendar -------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _warn_fallback(year: int) -> None:
    logger.warning(
        "No Chinese holiday data for %s: counting Monday–Friday as working days. "
        "Add the published holidays as HolidayOverride rows or upgrade chinesecalendar.",
        year,
    )


# Overrides are cached per process. Editing one (admin) clears this process's copy at once and
# bumps a version in Django's cache so other processes reload within a second when the cache is
# shared (Redis); with a per-process cache they reload from the database every 10 minutes.
# Either way a page view does not query the table except right after a change.
_OVERRIDE_VERSION_KEY = "routing:holiday-overrides:version"
_VERSION_CHECK_SECONDS = 1.0
_OVERRIDE_MAX_AGE = 600.0


class _OverrideCache(TypedDict):
    loaded_at: float  # time.monotonic() of the last load
    checked_at: float  # time.monotonic() of the last version check
    version: object  # the shared cache's version at the last load (None when unset)
    days: dict[date, bool]


_override_cache: _OverrideCache = {"loaded_at": -1e9, "checked_at": -1e9, "version": None, "days": {}}


def _overrides() -> dict[date, bool]:
    """All HolidayOverride rows as {date: is_working_day}."""
    from django.core.cache import cache

    now = time.monotonic()
    stale = now - _override_cache["loaded_at"] > _OVERRIDE_MAX_AGE
    if not stale and now - _override_cache["checked_at"] > _VERSION_CHECK_SECONDS:
        _override_cache["checked_at"] = now
        stale = cache.get(_OVERRIDE_VERSION_KEY) != _override_cache["version"]
    if stale:
        from routing.models import HolidayOverride

        _override_cache["version"] = cache.get(_OVERRIDE_VERSION_KEY)
        _override_cache["days"] = dict(HolidayOverride.objects.values_list("date", "is_working_day"))
        _override_cache["loaded_at"] = _override_cache["checked_at"] = now
    return _override_cache["days"]


def clear_override_cache(**kwargs) -> None:
    """Signal handler for HolidayOverride saves and deletes (and tests): reload everywhere."""
    import uuid

    from django.core.cache import cache

    cache.set(_OVERRIDE_VERSION_KEY, uuid.uuid4().hex, None)
    _override_cache["loaded_at"] = -1e9


def is_working_day(day: date) -> bool:
    """Whether ``day`` is a working day (override table, then chinesecalendar, then Mon–Fri)."""
    override = _overrides().get(day)
    if override is not None:
        return override
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        _warn_fallback(day.year)
        return day.weekday() < 5


def next_working_day(day: date) -> date:
    day += timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def _to_local(moment: datetime) -> datetime:
    zone = local_zone()
    if moment.tzinfo is None:
        return moment.replace(tzinfo=zone)
    return moment.astimezone(zone)


def _clock_start(moment: datetime) -> datetime:
    """Where a working-day clock starts: ``moment`` itself on a working day, else the next working
    day at the start of working hours."""
    local = _to_local(moment)
    if is_working_day(local.date()):
        return local
    opening, _closing = working_hours()
    return datetime.combine(next_working_day(local.date()), opening, tzinfo=local.tzinfo)


# --- Adding time in each unit ---------------------------------------------------------------------


def add_working_days(start: datetime, days: int) -> datetime:
    """The same wall-clock time ``days`` working days after ``start`` (see the module docstring)."""
    current = _clock_start(start)
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if is_working_day(current.date()):
            remaining -= 1
    return current


def add_working_hours(start: datetime, hours: float) -> datetime:
    """``hours`` counted only inside working hours of working days (09:00–18:00 by default)."""
    opening, closing = working_hours()
    current = _to_local(start)
    remaining = timedelta(hours=hours)
    while True:
        day = current.date()
        day_open = datetime.combine(day, opening, tzinfo=current.tzinfo)
        day_close = datetime.combine(day, closing, tzinfo=current.tzinfo)
        if not is_working_day(day) or current >= day_close:
            current = datetime.combine(next_working_day(day), opening, tzinfo=current.tzinfo)
            continue
        current = max(current, day_open)
        available = day_close - current
        if remaining <= available:
            return current + remaining
        remaining -= available
        current = day_close


def add_duration(start: datetime, value: float, unit: str) -> datetime:
    """``start`` plus a limit in one of the ``TimeUnit`` units."""
    if unit == "working_days":
        return add_working_days(start, int(value))
    if unit == "working_hours":
        return add_working_hours(start, value)
    if unit == "natural_days":
        return start + timedelta(days=value)
    if unit == "natural_hours":
        return start + timedelta(hours=value)
    raise ValueError(f"Unknown time unit: {unit}")


def working_time_between(start: datetime, end: datetime) -> timedelta:
    """How much of [start, end) fell on working days (whole calendar days of working days count).

    Used for the paused clock: time waiting on the appellant on working days is given back;
    weekends and holidays in the pause were not counted against the bureau anyway.
    """
    if end <= start:
        return timedelta(0)
    current = _to_local(start)
    end = _to_local(end)
    total = timedelta(0)
    while current < end:
        midnight = datetime.combine(current.date() + timedelta(days=1), dtime(0), tzinfo=current.tzinfo)
        segment_end = min(midnight, end)
        if is_working_day(current.date()):
            total += segment_end - current
        current = segment_end
    return total


def add_working_time(start: datetime, amount: timedelta) -> datetime:
    """Move ``start`` forward by ``amount`` of working-day time, skipping non-working days."""
    current = _to_local(start)
    remaining = amount
    while remaining > timedelta(0):
        midnight = datetime.combine(current.date() + timedelta(days=1), dtime(0), tzinfo=current.tzinfo)
        if is_working_day(current.date()):
            available = midnight - current
            if remaining <= available:
                return current + remaining
            remaining -= available
        current = midnight
    return current


# --- Policies ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    """The time limits that apply to one appeal (a ``DeadlinePolicy`` or the defaults)."""

    sign_for: tuple[float, str]
    return_window: tuple[float, str]
    first_contact: tuple[float, str]
    reply: tuple[float, str]
    rehandle: tuple[float, str]
    max_extensions: int
    max_extension_working_days: int
    source: str = "default"


# Defaults from DOMAIN.md (sign for: urgent 2 working hours, else 1 working day; return window
# 1 working day; first contact 24 h; reply: urgent 2 days, ordinary 5 working days; extension at
# most 3 × 5 working days; bad-review re-handling 15 working days).
MAX_EXTENSIONS = 3
MAX_EXTENSION_WORKING_DAYS = 5
DEFAULT_LIMITS = Limits(
    sign_for=(1, "working_days"),
    return_window=(1, "working_days"),
    first_contact=(24, "natural_hours"),
    reply=(5, "working_days"),
    rehandle=(15, "working_days"),
    max_extensions=MAX_EXTENSIONS,
    max_extension_working_days=MAX_EXTENSION_WORKING_DAYS,
)
DEFAULT_URGENT_LIMITS = Limits(
    sign_for=(2, "working_hours"),
    return_window=(1, "working_days"),
    first_contact=(24, "natural_hours"),
    reply=(2, "natural_days"),
    rehandle=(15, "working_days"),
    max_extensions=MAX_EXTENSIONS,
    max_extension_working_days=MAX_EXTENSION_WORKING_DAYS,
)


def _category_id(category) -> int | None:
    if category is None:
        return None
    return category if isinstance(category, int) else category.pk


def policy_specificity(policy) -> tuple[int, int, int]:
    """How specific a policy is: category first, then appeal type, then urgency (see DeadlinePolicy)."""
    return (1 if policy.category_id else 0, 1 if policy.appeal_type else 0, 1 if policy.urgency else 0)


def policy_for(*, category=None, urgent: bool = False, appeal_type: str = "") -> Limits:
    """The limits for a category (object or id) × appeal type × urgency: the most specific active
    policy wins (``policy_specificity``). An unknown or blank type matches only type-less policies.

    Policies come from the per-process routing table (``routing.table.routing_table``), so a
    submission or sign-for runs no query for them; saving or deleting a policy reloads the table.
    """
    from routing.table import routing_table

    urgency = "urgent" if urgent else "normal"
    category_id = _category_id(category)
    candidates = [
        policy
        for policy in routing_table().policies
        if policy.category_id in (None, category_id)
        and policy.urgency in ("", urgency)
        and policy.appeal_type in ("", appeal_type or "")
    ]
    specificity = policy_specificity

    best = max(candidates, key=specificity, default=None)
    if best is None:
        return DEFAULT_URGENT_LIMITS if urgent else DEFAULT_LIMITS
    return Limits(
        sign_for=(best.sign_for_value, best.sign_for_unit),
        return_window=(best.return_value, best.return_unit),
        first_contact=(best.first_contact_value, best.first_contact_unit),
        reply=(best.reply_value, best.reply_unit),
        rehandle=(best.rehandle_value, best.rehandle_unit),
        max_extensions=best.max_extensions,
        max_extension_working_days=best.max_extension_working_days,
        source=f"policy:{best.pk}",
    )


# --- Deadlines per step (called by appeals.services) -----------------------------------------------


def dispatch_deadlines(*, at: datetime, urgent: bool, category=None, appeal_type: str = "") -> dict[str, datetime]:
    """Deadlines that start when an appeal is dispatched to a bureau: sign for, return window."""
    limits = policy_for(category=category, urgent=urgent, appeal_type=appeal_type)
    return {
        "sign_for_due": add_duration(at, *limits.sign_for),
        "return_due": add_duration(at, *limits.return_window),
    }


def sign_for_deadlines(*, at: datetime, urgent: bool, category=None, appeal_type: str = "") -> dict[str, datetime]:
    """Deadlines that start when an officer signs for an appeal: first contact, reply."""
    limits = policy_for(category=category, urgent=urgent, appeal_type=appeal_type)
    return {
        "first_contact_due": add_duration(at, *limits.first_contact),
        "reply_due": add_duration(at, *limits.reply),
    }


def promised_reply_deadline(*, at: datetime, urgent: bool, category=None, appeal_type: str = "") -> datetime:
    """The reply date promised to the business when it files (答复承诺), computed once and stored.

    It allows the sign-for limit from filing and then the reply limit, on the same working-day
    calendar as every other deadline. The officer's reply deadline set at sign-for is never later
    than this (``officer_reply_deadline``), so the bureau is always held to what was promised.
    """
    limits = policy_for(category=category, urgent=urgent, appeal_type=appeal_type)
    return add_duration(add_duration(at, *limits.sign_for), *limits.reply)


def officer_reply_deadline(
    *, signed_at: datetime, promised: datetime | None, urgent: bool, category=None, appeal_type: str = ""
) -> datetime:
    """The officer's reply deadline at sign-for: the reply limit from signing, capped at the promise."""
    computed = sign_for_deadlines(at=signed_at, urgent=urgent, category=category, appeal_type=appeal_type)["reply_due"]
    return min(computed, promised) if promised is not None else computed


def format_local(moment: datetime | None) -> str:
    """One way to write a date and time for people: ``YYYY-MM-DD HH:MM`` in the calendar's zone (Asia/Shanghai).

    Pages (the ``local_datetime`` template filter), e-mails, SMS and the console all use it, so a
    promised date reads the same everywhere whatever the server's or the browser's time zone.
    """
    if moment is None:
        return ""
    return _to_local(moment).strftime("%Y-%m-%d %H:%M")


def rehandle_deadline(*, at: datetime, category=None, urgent: bool = False, appeal_type: str = "") -> datetime:
    """The reply deadline after a bad review re-opens an appeal (重办)."""
    return add_duration(at, *policy_for(category=category, urgent=urgent, appeal_type=appeal_type).rehandle)


def extended_deadline(*, due: datetime, working_days: int) -> datetime:
    """The reply deadline after an approved extension of ``working_days``."""
    return add_working_days(due, working_days)


def extension_limits(*, category=None, urgent: bool = False, appeal_type: str = "") -> tuple[int, int]:
    """(maximum number of extensions, maximum working days per extension) for an appeal."""
    limits = policy_for(category=category, urgent=urgent, appeal_type=appeal_type)
    return limits.max_extensions, limits.max_extension_working_days
