"""Property-based tests: whatever is thrown at the form, never a server error, never a partial record."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from appeals.models import Appeal, AppealEvent, Attachment, Enterprise
from notifications.models import OutboxEvent
from tests.appeals.portal.conftest import form_data

pytestmark = pytest.mark.django_db

# Any Unicode except surrogates (which cannot be encoded into an HTTP request at all).
any_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)
control_heavy = st.text(alphabet=st.characters(max_codepoint=0x9F), max_size=80)
emoji_and_scripts = st.text(alphabet=st.sampled_from("企业诉求😀🙏🏽👨‍👩‍👧ÅßЖעبहि\u200b\u202e\ufeff"), max_size=80)
huge = st.builds(lambda s, n: s * n, st.sampled_from(["长", "a", "😀", "\u0000", "<"]), st.integers(100, 20000))
field_value = st.one_of(any_text, control_heavy, emoji_and_scripts, huge)
malformed_code = st.one_of(st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZｱ９ー -", max_size=30), field_value)
TEXT_FIELDS = [
    "enterprise_name",
    "contact_name",
    "contact_phone",
    "contact_email",
    "urgency_reason",
    "title",
    "description",
    "region",
    "industry",
    "enterprise_size",
    "category",
    "urgency",
    "idempotency_token",
]


def _counts():
    return (
        Appeal.objects.count(),
        Enterprise.objects.count(),
        Attachment.objects.count(),
        AppealEvent.objects.count(),
        OutboxEvent.objects.filter(appeal__isnull=False).count(),
    )


@hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    overrides=st.dictionaries(st.sampled_from(TEXT_FIELDS), field_value, min_size=1, max_size=5),
    credit_code=malformed_code,
)
def test_arbitrary_input_never_errors_and_never_saves_partially(client, portal_city, settings, overrides, credit_code):
    settings.RATELIMIT_ENABLE = False
    data = form_data(portal_city, credit_code=credit_code, **overrides)
    data["idempotency_token"] = data.get("idempotency_token") or str(uuid.uuid4())
    before = _counts()
    response = client.post("/", data)
    assert response.status_code in (302, 400), response.status_code
    after = _counts()
    if response.status_code == 400:
        assert after == before
    else:
        appeal = Appeal.objects.order_by("-id").first()
        assert after[0] == before[0] + 1
        assert appeal.events.filter(kind="submitted").exists()
        assert "\x00" not in appeal.title + appeal.description + appeal.enterprise.name


@hypothesis_settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(number=field_value, code=malformed_code)
def test_arbitrary_lookups_never_error(client, portal_city, settings, number, code):
    settings.RATELIMIT_ENABLE = False
    response = client.post("/track/", {"tracking_number": number, "access_code": code})
    assert response.status_code == 400
