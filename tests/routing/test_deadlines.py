"""Deadlines on Chinese working-day time, under frozen time (time-machine)."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from routing import deadlines
from routing.decisions import clear_routing_table
from routing.models import DeadlinePolicy, HolidayOverride
from tests import factories

SH = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


# --- The calendar ---------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("day", "working"),
    [
        ("2026-02-14", True),  # Saturday, 调休 make-up working day before Spring Festival
        ("2026-02-16", False),  # Monday inside the Spring Festival holiday
        ("2026-02-23", False),  # last day of the holiday (a Monday)
        ("2026-02-24", True),
        ("2026-02-28", True),  # Saturday make-up working day after the holiday
        ("2026-09-20", True),  # Sunday make-up working day for National Day
        ("2026-10-05", False),  # Monday inside National Day
        ("2026-10-10", True),  # Saturday make-up working day
        ("2026-10-11", False),  # an ordinary Sunday
    ],
)
def test_statutory_holidays_and_make_up_days(day, working):
    assert deadlines.is_working_day(date.fromisoformat(day)) is working


@pytest.mark.django_db
def test_years_beyond_the_package_fall_back_to_monday_to_friday_with_a_logged_warning(caplog):
    deadlines._warn_fallback.cache_clear()
    with caplog.at_level(logging.WARNING, logger="routing.deadlines"):
        assert deadlines.is_working_day(date(2027, 1, 4)) is True  # Monday
        assert deadlines.is_working_day(date(2027, 1, 2)) is False  # Saturday
        # 2027-01-01 is New Year's Day in reality, but unpublished: Friday counts as working.
        assert deadlines.is_working_day(date(2027, 1, 1)) is True
    warnings = [r for r in caplog.records if "2027" in r.getMessage()]
    assert len(warnings) == 1, "warn once per year, not once per day"
    assert "HolidayOverride" in warnings[0].getMessage()


@pytest.mark.django_db
def test_overrides_win_over_the_package_and_the_fallback():
    HolidayOverride.objects.create(date=date(2027, 1, 1), is_working_day=False, note="元旦")
    HolidayOverride.objects.create(date=date(2026, 10, 11), is_working_day=True, note="本地补班")
    assert deadlines.is_working_day(date(2027, 1, 1)) is False
    assert deadlines.is_working_day(date(2026, 10, 11)) is True
    HolidayOverride.objects.filter(date=date(2026, 10, 11)).delete()  # bulk delete sends no signal
    deadlines.clear_override_cache()
    assert deadlines.is_working_day(date(2026, 10, 11)) is False


# --- Adding time ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_working_days_skip_spring_festival_and_count_the_make_up_saturday():
    # Friday 13 Feb 10:00 + 1 working day = Saturday 14 Feb (make-up day), + 2 = Tuesday 24 Feb.
    assert deadlines.add_working_days(at("2026-02-13T10:00"), 1) == at("2026-02-14T10:00")
    assert deadlines.add_working_days(at("2026-02-13T10:00"), 2) == at("2026-02-24T10:00")
    # 5 working days from 24 Feb: 25, 26, 27, 28 (Saturday, make-up), 2 March.
    assert deadlines.add_working_days(at("2026-02-24T15:30"), 5) == at("2026-03-02T15:30")


@pytest.mark.django_db
def test_working_days_across_national_day_with_its_make_up_days():
    # 30 Sep + 1 = 8 Oct; + 3 = 10 Oct (Saturday, make-up); + 4 = 12 Oct.
    assert deadlines.add_working_days(at("2026-09-30T09:30"), 1) == at("2026-10-08T09:30")
    assert deadlines.add_working_days(at("2026-09-30T09:30"), 3) == at("2026-10-10T09:30")
    assert deadlines.add_working_days(at("2026-09-30T09:30"), 4) == at("2026-10-12T09:30")
    # A clock started on a holiday starts on the next working day at 09:00.
    assert deadlines.add_working_days(at("2026-10-03T20:00"), 1) == at("2026-10-09T09:00")


@pytest.mark.django_db
def test_working_days_across_the_year_boundary_beyond_the_data():
    # Thu 31 Dec 2026 + 1 = Fri 1 Jan 2027 (fallback: no holiday known); + 2 = Mon 4 Jan.
    assert deadlines.add_working_days(at("2026-12-31T11:00"), 1) == at("2027-01-01T11:00")
    assert deadlines.add_working_days(at("2026-12-31T11:00"), 2) == at("2027-01-04T11:00")
    # Once the holiday is entered as an override, the deadline moves.
    HolidayOverride.objects.create(date=date(2027, 1, 1), is_working_day=False, note="元旦")
    assert deadlines.add_working_days(at("2026-12-31T11:00"), 1) == at("2027-01-04T11:00")


@pytest.mark.django_db
def test_working_hours_run_only_inside_09_to_18_on_working_days():
    assert deadlines.add_working_hours(at("2026-03-03T10:00"), 2) == at("2026-03-03T12:00")
    # 17:00 + 2 working hours = next working day 10:00.
    assert deadlines.add_working_hours(at("2026-03-03T17:00"), 2) == at("2026-03-04T10:00")
    # Filed at 22:00 on the eve of Spring Festival: the clock runs from 24 Feb 09:00.
    assert deadlines.add_working_hours(at("2026-02-14T22:00"), 2) == at("2026-02-24T11:00")
    # Before opening time the clock starts at 09:00.
    assert deadlines.add_working_hours(at("2026-03-03T06:00"), 2) == at("2026-03-03T11:00")
    # UTC input is handled in Asia/Shanghai: 01:00 UTC = 09:00 Shanghai.
    utc = datetime(2026, 3, 3, 1, 0, tzinfo=ZoneInfo("UTC"))
    assert deadlines.add_working_hours(utc, 1) == at("2026-03-03T10:00")


@pytest.mark.django_db
def test_natural_units_ignore_the_calendar():
    assert deadlines.add_duration(at("2026-02-14T10:00"), 2, "natural_days") == at("2026-02-16T10:00")
    assert deadlines.add_duration(at("2026-02-14T10:00"), 24, "natural_hours") == at("2026-02-15T10:00")
    with pytest.raises(ValueError):
        deadlines.add_duration(at("2026-02-14T10:00"), 1, "fortnights")


@pytest.mark.django_db
def test_working_time_between_and_add_working_time_are_inverse_over_holidays():
    start, end = at("2026-02-13T15:00"), at("2026-02-24T09:00")
    # Fri 13 Feb 15:00–24:00 (9 h) + Sat 14 Feb (24 h, make-up day) + 24 Feb 00:00–09:00 (9 h).
    assert deadlines.working_time_between(start, end) == timedelta(hours=42)
    assert deadlines.add_working_time(start, timedelta(hours=42)) == end
    assert deadlines.working_time_between(end, start) == timedelta(0)


# --- Policies ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_default_policies_from_the_domain():
    ordinary = deadlines.dispatch_deadlines(at=at("2026-03-03T10:00"), urgent=False)
    assert ordinary == {"sign_for_due": at("2026-03-04T10:00"), "return_due": at("2026-03-04T10:00")}
    urgent = deadlines.dispatch_deadlines(at=at("2026-03-03T17:00"), urgent=True)
    assert urgent["sign_for_due"] == at("2026-03-04T10:00")  # 2 working hours
    reply = deadlines.sign_for_deadlines(at=at("2026-03-03T10:00"), urgent=False)
    assert reply == {"first_contact_due": at("2026-03-04T10:00"), "reply_due": at("2026-03-10T10:00")}
    assert deadlines.sign_for_deadlines(at=at("2026-03-03T10:00"), urgent=True)["reply_due"] == at("2026-03-05T10:00")
    assert deadlines.rehandle_deadline(at=at("2026-03-02T10:00")) == at("2026-03-23T10:00")
    assert deadlines.extension_limits() == (3, 5)


@pytest.mark.django_db
def test_the_most_specific_policy_wins():
    tax = factories.category("tax")
    DeadlinePolicy.objects.create(category=tax, urgency="", reply_value=10, reply_unit="working_days")
    DeadlinePolicy.objects.create(
        category=tax, urgency="urgent", reply_value=8, reply_unit="working_hours", max_extensions=1
    )
    start = at("2026-03-03T10:00")
    assert deadlines.sign_for_deadlines(at=start, urgent=False, category=tax)["reply_due"] == at("2026-03-17T10:00")
    assert deadlines.sign_for_deadlines(at=start, urgent=True, category=tax.pk)["reply_due"] == at("2026-03-03T18:00")
    assert deadlines.extension_limits(category=tax, urgent=True) == (1, 5)
    # Another category keeps the catch-all default.
    other = factories.category("rent")
    assert deadlines.sign_for_deadlines(at=start, urgent=False, category=other)["reply_due"] == at("2026-03-10T10:00")
    # An inactive policy is ignored.
    DeadlinePolicy.objects.filter(category=tax).update(is_active=False)
    clear_routing_table()  # a bulk update sends no signal (see routing.decisions)
    assert deadlines.sign_for_deadlines(at=start, urgent=False, category=tax)["reply_due"] == at("2026-03-10T10:00")


@pytest.mark.django_db
def test_services_use_the_policy_when_an_appeal_is_filed_and_signed_for(city, hrss, officer):
    from appeals import services

    DeadlinePolicy.objects.create(
        category=factories.category("employment"), urgency="normal", sign_for_value=3, sign_for_unit="working_days"
    )
    with time_machine.travel(at("2026-09-30T10:00"), tick=False):
        appeal = factories.submit(region=city).appeal
        assert appeal.state == "dispatched"
        # 30 Sep + 3 working days: 8, 9, 10 (Saturday make-up) October.
        assert appeal.sign_for_due == at("2026-10-10T10:00")
        assert appeal.return_due == at("2026-10-08T10:00")
    with time_machine.travel(at("2026-10-08T09:00"), tick=False):
        appeal = services.appeal_sign_for(appeal_id=appeal.pk, user=officer)
        assert appeal.reply_due == at("2026-10-14T09:00")  # 9, 10 (make-up Saturday), 12, 13, 14 Oct
