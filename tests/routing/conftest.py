"""Fixtures for the routing tests: clean per-process caches, a second city with districts."""

from __future__ import annotations

import pytest

from routing import classifier, deadlines, decisions
from routing.models import Region
from tests import factories


@pytest.fixture(autouse=True)
def _fresh_routing_caches():
    """Holiday overrides and the loaded classifier are cached per process; a test's rollback does
    not send the signals that clear them, so every test starts and ends clean."""
    deadlines.clear_override_cache()
    decisions.clear_routing_table()
    classifier.reset_cache()
    yield
    deadlines.clear_override_cache()
    decisions.clear_routing_table()
    classifier.reset_cache()


@pytest.fixture
def district(city) -> Region:
    return factories.RegionFactory(
        code="foshan-shunde", name="顺德区", name_en="Shunde", level=Region.Level.DISTRICT, parent=city
    )


@pytest.fixture
def tax(city):
    return factories.BureauFactory(region=city, bureau_type=factories.bureau_type("tax"))


@pytest.fixture
def utilities_bureau(city):
    return factories.BureauFactory(region=city, bureau_type=factories.bureau_type("development"))
