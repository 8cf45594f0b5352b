"""The OpenAPI schema lists every integration endpoint; the admin issues secrets once and validates targets."""

from __future__ import annotations

import pytest
from django.urls import get_resolver
from drf_spectacular.generators import SchemaGenerator

from integrations.models import BureauCredential, WebhookEndpoint

pytestmark = pytest.mark.django_db


def test_schema_lists_every_integration_endpoint_with_examples():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = schema["paths"]
    expected = {
        "/open311/discovery.{fmt}": ["get"],
        "/open311/v2/services.{fmt}": ["get"],
        "/open311/v2/services/{service_code}.{fmt}": ["get"],
        "/open311/v2/requests.{fmt}": ["get", "post"],
        "/open311/v2/requests/{service_request_id}.{fmt}": ["get"],
        "/open311/v2/tokens/{token}.{fmt}": ["get"],
        "/api/bureau/v1/appeals/": ["get"],
        "/api/bureau/v1/events/": ["get"],
        "/api/bureau/v1/appeals/{appeal_id}/": ["get"],
        **{
            f"/api/bureau/v1/appeals/{{appeal_id}}/{action}/": ["post"]
            for action in ("sign-for", "return", "contact", "information-request", "reply", "extension")
        },
    }
    for path, methods in expected.items():
        assert path in paths, path
        for method in methods:
            operation = paths[path][method]
            assert operation.get("summary"), (path, method)
    assert "BureauCredential" in schema["components"]["securitySchemes"]
    conflict = paths["/api/bureau/v1/appeals/{appeal_id}/sign-for/"]["post"]["responses"]["409"]
    assert conflict["content"]["application/json"]["examples"]
    # Every URL of the app is in the schema: nothing undocumented.
    integration_patterns = [
        str(p.pattern) for p in get_resolver().url_patterns if "open311" in str(p.pattern) or "bureau" in str(p.pattern)
    ]
    assert len(integration_patterns) == 2


def test_admin_issues_a_bureau_key_once_and_stores_only_its_hash(admin_client, hrss, officer, finance):
    response = admin_client.post(
        "/admin/integrations/bureaucredential/add/",
        {"name": "人社局业务系统", "bureau": hrss.pk, "user": officer.pk, "is_active": "on"},
    )
    assert response.status_code == 200
    credential = BureauCredential.objects.get()
    key = response.context["secret"]
    assert key.startswith(f"hyb_{credential.key_prefix}_")
    assert key in response.content.decode()
    assert credential.check_key(key) and key not in credential.key_hash
    page = admin_client.get(f"/admin/integrations/bureaucredential/{credential.pk}/change/").content.decode()
    assert key not in page

    # The acting user must belong to the bureau and be able to handle appeals.
    response = admin_client.post(
        "/admin/integrations/bureaucredential/add/",
        {"name": "错配", "bureau": finance.pk, "user": officer.pk, "is_active": "on"},
    )
    assert response.status_code == 200 and BureauCredential.objects.count() == 1
    assert "不属于所选的承办单位" in response.content.decode()

    admin_client.post(
        "/admin/integrations/bureaucredential/",
        {"action": "revoke", "_selected_action": [credential.pk]},
    )
    credential.refresh_from_db()
    assert credential.is_active is False and credential.revoked_at is not None


def test_admin_webhook_endpoint_validates_the_target(admin_client, hrss, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    response = admin_client.post(
        "/admin/integrations/webhookendpoint/add/",
        {"bureau": hrss.pk, "url": "http://127.0.0.1:9000/hook", "is_active": "on"},
    )
    assert response.status_code == 200 and not WebhookEndpoint.objects.exists()
    assert "回环或内网" in response.content.decode()
    response = admin_client.post(
        "/admin/integrations/webhookendpoint/add/",
        {"bureau": hrss.pk, "url": "https://8.8.8.8/hook", "is_active": "on", "events": ["appeal.dispatched"]},
    )
    assert response.status_code == 200, response.content
    endpoint = WebhookEndpoint.objects.get()
    assert response.context["secret"] == endpoint.secret and endpoint.secret.startswith("whsec_")
    assert endpoint.events == ["appeal.dispatched"]
    # Explicitly allowed internal target.
    response = admin_client.post(
        "/admin/integrations/webhookendpoint/add/",
        {"bureau": hrss.pk, "url": "http://10.0.0.5/hook", "is_active": "on", "allow_private_network": "on"},
    )
    assert WebhookEndpoint.objects.count() == 2


def test_admin_pages_render(admin_client, hrss, officer):
    from tests.integrations.conftest import make_credential

    make_credential(hrss, officer)
    for name in (
        "bureaucredential",
        "credentialuse",
        "webhookendpoint",
        "webhookdelivery",
        "open311policy",
        "open311request",
    ):
        assert admin_client.get(f"/admin/integrations/{name}/").status_code == 200
