"""The routing table cache: signal wiring and reloads."""

from __future__ import annotations

import pytest
from django.db.models.signals import post_delete, post_save

from routing import table
from routing.models import HolidayOverride, Region


def _receivers(signal, sender) -> list:
    return list(signal._live_receivers(sender)[0])


@pytest.mark.parametrize("model", table.TABLE_MODELS)
def test_every_table_model_clears_the_cache_on_save_and_delete(model):
    assert table.clear_routing_table in _receivers(post_save, model)
    assert table.clear_routing_table in _receivers(post_delete, model)


def test_holiday_overrides_clear_their_cache():
    from routing import deadlines

    assert deadlines.clear_override_cache in _receivers(post_save, HolidayOverride)


@pytest.mark.django_db
def test_saving_a_region_reloads_the_table():
    before = table.routing_table()
    assert table.routing_table() is before
    Region.objects.create(code="test-region", name="测试市")
    after = table.routing_table()
    assert after is not before
    assert "test-region" in after.regions
