"""Duplicate suggestions (并单): the same enterprise, similar text, within the window, visible to the user."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from appeals import selectors
from tests import factories

SH = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


@pytest.mark.django_db
def test_duplicate_suggestions_same_enterprise_similar_text_within_the_window(city, hrss, dispatcher, officer):
    first = factories.submit(region=city, credit_code="91350200776049653A").appeal
    same = factories.submit(
        region=city, credit_code="91350200776049653A", title="还是招工困难", description=first.description
    ).appeal
    factories.submit(region=city, credit_code="91350200776049653A", title="房租", description="房东要涨房租三成")
    factories.submit(region=city, title=first.title, description=first.description)  # another enterprise
    found = selectors.duplicate_candidates(user=dispatcher, appeal=same)
    assert [c.appeal for c in found] == [first]
    assert 0.35 <= found[0].similarity <= 1
    with time_machine.travel(first.submitted_at + timedelta(days=40), tick=False):
        late = factories.submit(region=city, credit_code="91350200776049653A", description=first.description).appeal
    assert selectors.duplicate_candidates(user=dispatcher, appeal=late) == []
    # Staff of another bureau see no candidates they could not open.
    stranger = factories.staff_user(
        "officer", factories.BureauFactory(region=city, bureau_type=factories.bureau_type("tax"))
    )
    assert selectors.duplicate_candidates(user=stranger, appeal=same) == []


@pytest.mark.django_db
def test_the_board_also_finds_other_enterprises_with_similar_titles_newest_first(city, hrss, dispatcher, settings):
    from appeals.selectors import find_duplicates

    older = factories.submit(region=city, title="园区道路长期积水").appeal
    with time_machine.travel(older.submitted_at + timedelta(days=1), tick=False):
        newer = factories.submit(region=city, title="园区道路长期积水").appeal
    with time_machine.travel(older.submitted_at + timedelta(days=2), tick=False):
        page = factories.submit(region=city, title="园区道路积水严重").appeal
    factories.submit(region=city, title="出口退税太慢")
    found = find_duplicates(user=dispatcher, appeals=[page])[page.pk]
    assert [c.appeal for c in found] == [newer, older], "equally similar: newest first"
    assert all(c.similarity >= 0.6 for c in found)
    # The per-appeal merge candidates stay within the enterprise.
    assert selectors.duplicate_candidates(user=dispatcher, appeal=page) == []
    # Thresholds and the window come from ROUTING.
    settings.ROUTING = {**settings.ROUTING, "DUPLICATE_TITLE_SIMILARITY": 0.9}
    assert find_duplicates(user=dispatcher, appeals=[page])[page.pk] == []
    settings.ROUTING = {**settings.ROUTING, "DUPLICATE_TITLE_SIMILARITY": 0.6, "DUPLICATE_WINDOW_DAYS": 1}
    assert [c.appeal for c in find_duplicates(user=dispatcher, appeals=[page])[page.pk]] == [newer]
