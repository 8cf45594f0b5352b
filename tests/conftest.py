"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.utils import translation

from appeals.api.authentication import clear_client_cache
from routing import deadlines, decisions
from routing.models import Region
from tests import factories

# Parallel workers share one Redis: give each its own cache keys (and the processes it starts, through
# the environment). Otherwise the routing-table invalidation every test does makes another worker's
# pages reload the table in the middle of a query-count measurement.
if worker := os.environ.get("PYTEST_XDIST_WORKER"):
    _prefix = f"{settings.CACHES['default'].get('KEY_PREFIX', '')}-{worker}"
    settings.CACHES["default"]["KEY_PREFIX"] = os.environ["CACHE_PREFIX"] = _prefix


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Start every test from the taxonomy without the province's regions and bureaus.

    Migration 0007 loads all of Guangdong (143 regions, 231 bureaus) so a new deployment routes
    everywhere; the tests build the cities and bureaus they need themselves (and
    tests/routing/test_regions.py loads the province data explicitly).
    """
    from routing.models import Bureau

    with django_db_blocker.unblock():
        Bureau.objects.all().delete()
        Region.objects.filter(level=Region.Level.DISTRICT).delete()
        Region.objects.all().delete()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """PBKDF2 at production strength would dominate the suite's run time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _two_factor_optional(settings):
    """Administrators must enrol in two-step login in production; tests that log in as an admin would
    otherwise all land on the enrolment page. tests/appeals/console/test_two_factor.py turns it on."""
    settings.TWO_FACTOR_REQUIRED_FOR_ADMINS = False


@pytest.fixture(autouse=True)
def _no_delivery_kicks(settings):
    """Commit hooks must not queue real Celery tasks into the developer's broker; tests that
    exercise delivery call the tasks directly or turn this back on."""
    settings.NOTIFY_KICK_DELIVERY = False


@pytest.fixture(autouse=True)
def _fresh_routing_caches():
    """The routing table (rules, bureaus, regions, deadline policies), holiday overrides and API
    clients are cached per process; a test's rollback does not send the signals that clear them, so every
    test starts and ends clean. (The routing tests also reset the loaded classifier.) So is the
    fail-soft cache's "Redis is down, back off" state: a test that took Redis away must not leave the
    next test's rate limits switched off."""
    from config import cache as fail_soft_cache

    deadlines.clear_override_cache()
    decisions.clear_routing_table()
    clear_client_cache()
    fail_soft_cache.reset()
    yield
    deadlines.clear_override_cache()
    decisions.clear_routing_table()
    clear_client_cache()
    fail_soft_cache.reset()


@pytest.fixture(autouse=True)
def _isolated_media(settings, tmp_path):
    """Attachments go to a per-test folder, never the developer's var/."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts and ends in the default language (zh-hans).

    A request with Accept-Language: en (or translation.activate) leaves English active in the thread;
    with the English catalogue in locale/ that would turn later tests' labels into English.
    """
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture
def city(db) -> Region:
    return factories.RegionFactory(code="foshan", name="佛山市", name_en="Foshan")


@pytest.fixture
def hrss(city):
    return factories.BureauFactory(region=city, bureau_type=factories.bureau_type("hrss"))


@pytest.fixture
def finance(city):
    return factories.BureauFactory(region=city, bureau_type=factories.bureau_type("finance"))


@pytest.fixture
def dispatch_centre(city):
    return factories.BureauFactory(region=city, bureau_type=factories.bureau_type("dispatch"))


@pytest.fixture
def officer(hrss):
    return factories.staff_user("officer", hrss)


@pytest.fixture
def lead(hrss):
    return factories.staff_user("lead", hrss)


@pytest.fixture
def dispatcher(dispatch_centre):
    return factories.staff_user("dispatcher", dispatch_centre)
