"""Fixtures for the service tests: a fresh classifier, a district, more bureaus."""

from __future__ import annotations

import pytest

from appeals import services
from routing import classifier
from routing.models import Region
from tests import factories


@pytest.fixture(autouse=True)
def _fresh_classifier():
    """The loaded classifier is cached per process (see tests/conftest.py for the other caches)."""
    classifier.reset_cache()
    yield
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


@pytest.fixture
def handling(city, hrss, officer):
    appeal = factories.submit(region=city).appeal
    return services.appeal_sign_for(appeal_id=appeal.pk, user=officer)
