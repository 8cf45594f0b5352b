"""Deadlines on Chinese working-day time.

Working days come from ``chinesecalendar`` (statutory holidays and 调休 make-up working days).
Outside the years the package knows it raises NotImplementedError; then Monday–Friday is used
and a warning is logged once per year, so an unpublished calendar is visible in the logs.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from functools import lru_cache

import chinese_calendar

logger = logging.getLogger(__name__)


@lru_cache(maxsize=8)
def _warn_fallback(year: int) -> None:
    logger.warning("No Chinese holiday data for %s: counting Monday–Friday as working days.", year)


def is_working_day(day: date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        _warn_fallback(day.year)
        return day.weekday() < 5


def add_working_days(start: datetime, days: int) -> datetime:
    """The same wall-clock time ``days`` working days after ``start``."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if is_working_day(current.date()):
            remaining -= 1
    return current


# Defaults from DOMAIN.md; routing.policies may override them per category × urgency.
URGENT_SIGN_FOR = timedelta(hours=2)
SIGN_FOR_WORKING_DAYS = 1
RETURN_WINDOW_WORKING_DAYS = 1
FIRST_CONTACT = timedelta(hours=24)
URGENT_REPLY = timedelta(days=2)
REPLY_WORKING_DAYS = 5
REHANDLE_WORKING_DAYS = 15
MAX_EXTENSIONS = 3
MAX_EXTENSION_WORKING_DAYS = 5


def dispatch_deadlines(*, at: datetime, urgent: bool) -> dict[str, datetime]:
    """Deadlines that start when an appeal is dispatched to a bureau."""
    return {
        "sign_for_due": at + URGENT_SIGN_FOR if urgent else add_working_days(at, SIGN_FOR_WORKING_DAYS),
        "return_due": add_working_days(at, RETURN_WINDOW_WORKING_DAYS),
    }


def sign_for_deadlines(*, at: datetime, urgent: bool) -> dict[str, datetime]:
    """Deadlines that start when an officer signs for an appeal."""
    return {
        "first_contact_due": at + FIRST_CONTACT,
        "reply_due": at + URGENT_REPLY if urgent else add_working_days(at, REPLY_WORKING_DAYS),
    }


def rehandle_deadline(*, at: datetime) -> datetime:
    """The reply deadline after a bad review re-opens an appeal (重办)."""
    return add_working_days(at, REHANDLE_WORKING_DAYS)


def extended_deadline(*, due: datetime, working_days: int) -> datetime:
    return add_working_days(due, working_days)
