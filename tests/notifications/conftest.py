"""Fixtures for the notification tests: isolated channel layer, SMS and mail, no broker kicks."""

from __future__ import annotations

import pytest

from notifications.backends.sms import LocmemSMSBackend


@pytest.fixture(autouse=True)
def _notify_isolation(settings, tmp_path):
    # Each test gets its own in-memory channel layer (a Redis layer would be shared between xdist
    # workers whose databases hand out the same ids) and never queues real Celery tasks unless it
    # asks to; SMS and e-mail stay in memory.
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": str(tmp_path)}
    }
    settings.NOTIFY_KICK_DELIVERY = False
    settings.SMS_BACKEND = "notifications.backends.sms.LocmemSMSBackend"
    settings.SMS_FILE_PATH = tmp_path / "sms"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.NOTIFY_RETRY_BASE_SECONDS = 30
    settings.NOTIFY_MAX_ATTEMPTS = 3
    LocmemSMSBackend.outbox = []
    from notifications import outbox

    outbox._broker_down_until = 0.0  # the broker circuit breaker is per process
    yield
    LocmemSMSBackend.outbox = []


@pytest.fixture(autouse=True)
def _plain_routing(monkeypatch):
    """Route by category × region only (the bureau of the category's default type in that region).

    The notification tests are about what happens *after* routing; pinning the decision keeps them
    independent of the classifier and rule engine (tested in tests/routing) and fast.
    """
    from appeals.services import submission
    from routing.decisions import RoutingDecision
    from routing.models import Bureau

    def decide(*, category, region, **kwargs):
        bureau = Bureau.objects.filter(region=region, bureau_type=category.default_bureau_type, is_active=True).first()
        return RoutingDecision(bureau=bureau, explanation={"reason": "test"}, routed_category=category)

    monkeypatch.setattr(submission, "decide", decide)
