"""The API tests share the portal's fixtures (rate-limit counters, eager Celery, the city)."""

from tests.appeals.portal.conftest import _eager_celery, _own_rate_limit_counters, portal_city  # noqa: F401
