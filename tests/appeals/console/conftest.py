"""Fixtures for the staff console tests: logged-in clients per role and appeals in each queue."""

from __future__ import annotations

import pytest
from django.test import Client

from appeals import services
from tests import factories


@pytest.fixture(autouse=True)
def _rules_only_routing(monkeypatch):
    """Console tests need predictable routing: rules and category defaults, no classifier guesses."""
    from routing import decisions

    monkeypatch.setattr(decisions, "_safe_classify", lambda title, description: None, raising=False)


@pytest.fixture
def login():
    """``login(user)`` returns a Django test client with ``user`` logged in."""

    def make(user) -> Client:
        client = Client()
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return make


@pytest.fixture
def supervisor(dispatch_centre):
    return factories.staff_user("supervisor", dispatch_centre, display_name="督办员甲")


@pytest.fixture
def finance_officer(finance):
    return factories.staff_user("officer", finance, display_name="金融局李四")


@pytest.fixture
def dispatched(hrss):
    """An appeal dispatched to hrss (employment category in hrss's city)."""
    return factories.submit(region=hrss.region).appeal


@pytest.fixture
def handling(hrss, officer):
    appeal = factories.submit(region=hrss.region, title="社保补贴申请进度").appeal
    return services.appeal_sign_for(appeal_id=appeal.pk, user=officer)


@pytest.fixture
def triaged(city, dispatch_centre):
    """An appeal in the triage queue (category 其他 always goes to a dispatcher)."""
    return factories.submit(region=city, category=factories.category("other"), title="不知道该找哪个部门").appeal
