"""回访率, follow-up outcomes and problem tickets in the scorecard, league tables, KPIs, dashboard,
CSV exports and the weekly workbook."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from analytics import report, selectors, tables
from analytics.metrics import Scorecard
from analytics.selectors import Filters
from followup import selection, services
from followup.models import FollowUp
from problems import detection
from tests import factories
from tests.followup.flows import closed


def test_followup_rate_arithmetic():
    card = Scorecard()
    assert card.followup_rate is None
    card.followups_due, card.followups_completed = 4, 3
    assert card.followup_rate == 0.75


@pytest.fixture
def world(hrss, finance, officer, dispatcher, settings):
    """hrss: 3 follow-ups due (resolved, not resolved, unreachable), 1 not due yet; finance: none."""
    settings.FOLLOW_UP = {**settings.FOLLOW_UP, "SAMPLE_PERCENT": 0, "MAX_ATTEMPTS": 1}
    appeals = [closed(hrss, officer, default=True) for _ in range(4)]
    selection.followup_select()
    followups = list(FollowUp.objects.order_by("appeal_id"))
    FollowUp.objects.filter(pk=followups[3].pk).update(due_at=timezone.now() + timedelta(days=3))
    FollowUp.objects.filter(pk__in=[f.pk for f in followups[:3]]).update(due_at=timezone.now() - timedelta(hours=1))
    services.followup_record_outcome(user=dispatcher, followup_id=followups[0].pk, outcome="resolved")
    services.followup_record_outcome(
        user=dispatcher, followup_id=followups[1].pk, outcome="not_resolved", note="未解决"
    )
    services.followup_record_outcome(user=dispatcher, followup_id=followups[2].pk, outcome="not_reached")
    return appeals


def _filters(**kwargs) -> Filters:
    today = timezone.localdate()
    return Filters(start=today - timedelta(days=6), end=today, **kwargs)


def test_scorecard_and_league_carry_followups(world, hrss, finance):
    card = selectors.scorecards(_filters())[hrss.pk]
    assert (card.followups_due, card.followups_completed) == (3, 3)
    assert (card.followups_resolved, card.followups_not_resolved, card.followups_unreachable) == (1, 1, 1)
    assert card.followup_rate == 1.0
    # A bureau lead's scope only counts its own bureau.
    assert selectors.scorecards(_filters(bureau_id=finance.pk)).get(hrss.pk) is None
    league = tables.league_table(_filters(), by="bureau")
    assert league.headers[-1] == "回访率（%）"
    row = next(r for r in league.rows if r[1] == hrss.display_name)
    assert row[-1] == "100.0"
    scorecard = tables.scorecard_table(_filters())
    assert scorecard.headers[-5:] == ["回访率（%）", "回访：已解决", "回访：未解决", "回访：有异议", "回访：联系不上"]
    row = next(r for r in scorecard.rows if r[0] == hrss.display_name)
    assert row[-5:] == ["100.0", 1, 1, 0, 1]


def test_kpis_and_problem_panel(world, client, hrss, officer):
    kpis = tables.kpi_table(_filters())
    assert kpis.rows[-1][:2] == ["回访率（%）", "100.0"]
    # The re-opened appeal is flagged once the threshold is 1.
    from django.conf import settings

    settings.PROBLEM_TICKETS = {**settings.PROBLEM_TICKETS, "REOPEN_THRESHOLD": 1}
    detection.problems_sweep()
    problems = tables.problems_table(_filters())
    assert problems.rows[0][1] == 1 and problems.rows[1][1] == 1
    client.force_login(factories.staff_user("manager", None))
    body = client.get("/analytics/").content.decode()
    assert 'id="problems-panel"' in body
    csv = client.get("/analytics/csv/problems/").content.decode("utf-8")
    assert "本期标记" in csv


def test_weekly_workbook_has_followup_columns_and_problem_sheet(world, tmp_path, settings):
    settings.PROBLEM_TICKETS = {**settings.PROBLEM_TICKETS, "REOPEN_THRESHOLD": 1}
    detection.problems_sweep()
    for language, sheet, header in (("zh-hans", "单位考核", "回访率"), ("en", "Bureau scorecard", "Follow-up rate")):
        path = tmp_path / f"{language}.xlsx"
        report.build_workbook(filters=_filters(), language=language, out=str(path))
        book = load_workbook(path)
        headers = [c.value for c in book[sheet][1]]
        assert header in headers
        column = headers.index(header)
        values = [row[column].value for row in book[sheet].iter_rows(min_row=2)]
        assert 1.0 in values
    book = load_workbook(tmp_path / "en.xlsx")
    problems = book["Problem tickets"]
    assert problems.cell(row=1, column=2).value == 1  # flagged this period
    assert problems.cell(row=7, column=4).value == "Re-opened repeatedly"
