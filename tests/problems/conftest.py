"""Fixtures of the follow-up tests."""

from __future__ import annotations

import pytest

from tests import factories


@pytest.fixture
def supervisor(dispatch_centre):
    return factories.staff_user("supervisor", dispatch_centre, display_name="督办员老陈")


@pytest.fixture
def no_sample(settings):
    settings.FOLLOW_UP = {**settings.FOLLOW_UP, "SAMPLE_PERCENT": 0}
