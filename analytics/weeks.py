"""ISO weeks (Monday to Sunday), as the weekly report and its command name them: ``2026-W47``."""

from __future__ import annotations

from datetime import date, timedelta


def iso_week(value: str) -> tuple[date, date]:
    """'2026-W47' → (Monday, Sunday) of that ISO week. Raises ValueError for anything else."""
    try:
        year, week = value.upper().split("-W")
        monday = date.fromisocalendar(int(year), int(week), 1)
    except (ValueError, TypeError):
        raise ValueError(value) from None
    return monday, monday + timedelta(days=6)


def previous_iso_week(today: date) -> tuple[date, date]:
    """Monday and Sunday of the ISO week before the one containing ``today``."""
    monday = today - timedelta(days=today.weekday()) - timedelta(days=7)
    return monday, monday + timedelta(days=6)
