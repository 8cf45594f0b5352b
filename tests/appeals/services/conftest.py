"""Fixtures for the service tests: the routing tests' fresh classifier, and a handling appeal."""

from __future__ import annotations

import pytest

from appeals import services
from tests import factories
from tests.routing.conftest import _fresh_classifier  # noqa: F401  (autouse: the classifier is cached per process)


@pytest.fixture
def handling(city, hrss, officer):
    appeal = factories.submit(region=city).appeal
    return services.appeal_sign_for(appeal_id=appeal.pk, user=officer)
