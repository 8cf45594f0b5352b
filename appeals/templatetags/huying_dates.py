"""``{% load huying_dates %}{{ moment|local_datetime }}``: dates for people, the same everywhere.

Pages and e-mails render a date through this filter, SMS and other texts through
``routing.deadlines.format_local`` which it wraps: ``YYYY-MM-DD HH:MM`` in the working-day
calendar's zone (Asia/Shanghai), whatever the active time zone.
"""

from __future__ import annotations

from datetime import datetime

from django import template

from routing.deadlines import format_local

register = template.Library()


@register.filter
def local_datetime(value: datetime | None) -> str:
    return format_local(value) if isinstance(value, datetime) else ""
