"""Open311 GeoReport v2: every response checked against the specification's rules, in JSON and XML."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import urlencode

import pytest
import time_machine
from django.utils import timezone

from appeals.models import Appeal, AppealEvent, Enterprise
from integrations.models import Open311Policy, Open311Request
from integrations.open311 import tokens
from notifications.models import OutboxEvent
from tests import factories
from tests.integrations import open311_schemas as schemas
from tests.integrations.conftest import open311_form

pytestmark = pytest.mark.django_db

V2 = "/open311/v2"


def _post(client, form, fmt="json"):
    """As the specification says: application/x-www-form-urlencoded."""
    body = urlencode(form)
    return client.post(f"{V2}/requests.{fmt}", data=body, content_type="application/x-www-form-urlencoded")


@pytest.fixture
def filed(client, api_key, nanhai, hrss):
    response = _post(client, open311_form(api_key))
    assert response.status_code == 200, response.content
    return Appeal.objects.get(tracking_number=response.json()[0]["service_request_id"])


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_discovery(client, fmt):
    response = client.get(f"/open311/discovery.{fmt}")
    assert response.status_code == 200
    if fmt == "json":
        assert response["Content-Type"].startswith("application/json")
        data = response.json()
        schemas.check(data, schemas.DISCOVERY)
    else:
        assert response["Content-Type"].startswith("text/xml")
        data = schemas.check_xml(response.content, schemas.DISCOVERY, root="discovery")
    assert data["endpoints"][0]["url"].endswith("/open311/v2")
    assert set(data["endpoints"][0]["formats"]) == {"text/xml", "application/json"}


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_services_and_definitions(client, city, fmt):
    response = client.get(f"{V2}/services.{fmt}")
    assert response.status_code == 200
    if fmt == "json":
        services = response.json()
        schemas.check(services, schemas.SERVICES)
    else:
        services = schemas.check_xml(response.content, schemas.SERVICES, root="services", item="service")
    codes = {s["service_code"] for s in services}
    assert {"employment", "financing", "tax"} <= codes
    assert all(s["metadata"] in (True, "true") for s in services)

    response = client.get(f"{V2}/services/employment.{fmt}")
    assert response.status_code == 200
    if fmt == "json":
        definition = response.json()
        schemas.check(definition, schemas.SERVICE_DEFINITION)
    else:
        definition = schemas.check_xml(response.content, schemas.SERVICE_DEFINITION, root="service_definition")
    attributes = {a["code"]: a for a in definition["attributes"]}
    assert {"credit_code", "enterprise_name", "industry", "enterprise_size", "urgency", "region"} <= set(attributes)
    assert attributes["credit_code"]["required"] in (True, "true")
    assert attributes["urgency"]["required"] in (False, "false")
    assert {v["key"] for v in attributes["industry"]["values"]} >= {"A", "C", "T"}


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_service_definition_is_a_404_in_the_error_format(client, fmt):
    response = client.get(f"{V2}/services/no-such-thing.{fmt}")
    assert response.status_code == 404
    errors = response.json() if fmt == "json" else None
    if fmt == "json":
        schemas.check(errors, schemas.ERRORS)
    else:
        errors = schemas.check_xml(response.content, schemas.ERRORS, root="errors", item="error")
    assert str(errors[0]["code"]) == "404"
    assert "no-such-thing" in errors[0]["description"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_files_an_appeal_through_the_ordinary_submission_path(client, api_key, nanhai, hrss, fmt):
    form = open311_form(api_key, lat="23.0291", long="113.1430", device_id="dev-1", account_id="acct-9")
    response = _post(client, form, fmt)
    assert response.status_code == 200, response.content
    if fmt == "json":
        data = response.json()
        schemas.check(data, schemas.POST_RESPONSE)
    else:
        data = schemas.check_xml(response.content, schemas.POST_RESPONSE, root="service_requests", item="request")
    number = data[0]["service_request_id"]
    assert "token" not in data[0]
    assert data[0]["account_id"] == "acct-9"
    appeal = Appeal.objects.select_related("bureau", "region", "enterprise").get(tracking_number=number)
    # The same path as every channel: routed (auto-dispatched to the district's city bureau), audited, outboxed.
    assert appeal.region == nanhai
    assert appeal.bureau == hrss
    assert appeal.state == "dispatched"
    assert appeal.contact_name == "李四"
    assert appeal.contact_phone == "+8613800138000"
    assert appeal.channel == "api"
    assert list(AppealEvent.objects.filter(appeal=appeal).values_list("kind", flat=True))[:2] == [
        "submitted",
        "dispatched",
    ]
    assert OutboxEvent.objects.filter(appeal=appeal, event_type="appeal.dispatched").exists()
    row = Open311Request.objects.get(appeal=appeal)
    assert (str(row.lat), str(row.long), row.device_id) == ("23.029100", "113.143000", "dev-1")
    assert row.public_description is False
    # The access code is told to the filer once (service_notice), as the portal and API do.
    assert number in data[0]["service_notice"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_get_one_request_withholds_personal_data(client, filed, fmt):
    response = client.get(f"{V2}/requests/{filed.tracking_number}.{fmt}")
    assert response.status_code == 200
    if fmt == "json":
        data = response.json()
        schemas.check(data, schemas.SERVICE_REQUESTS)
    else:
        data = schemas.check_xml(response.content, schemas.SERVICE_REQUESTS, root="service_requests", item="request")
    [request] = data
    assert request["status"] == "open"
    assert request["service_code"] == "employment"
    assert request["agency_responsible"] == filed.bureau.name
    assert request["address"] == "南海区"
    assert request["description"] == ""  # no consent given
    body = response.content.decode()
    enterprise = Enterprise.objects.get(pk=filed.enterprise_id)
    for secret in (enterprise.name, enterprise.credit_code, "李四", "13800138000", "桂城街道", "返岗率"):
        assert secret not in body


def test_description_is_public_only_with_consent(client, api_key, nanhai, hrss):
    response = _post(client, open311_form(api_key, **{"attribute[public_consent]": "yes"}))
    number = response.json()[0]["service_request_id"]
    [request] = client.get(f"{V2}/requests/{number}.json").json()
    assert "返岗率" in request["description"]


def test_status_maps_to_open_and_closed(client, filed, hrss):
    appeal = Appeal.objects.get(pk=filed.pk)
    Appeal.objects.filter(pk=appeal.pk).update(state="closed", closed_at=timezone.now())
    [request] = client.get(f"{V2}/requests/{appeal.tracking_number}.json").json()
    assert request["status"] == "closed"
    assert request["status_notes"]
    assert request["expected_datetime"] is None


def test_list_filters(client, api_key, nanhai, hrss, city):
    numbers = [_post(client, open311_form(api_key)).json()[0]["service_request_id"] for _ in range(2)]
    tax = _post(client, open311_form(api_key, service_code="tax")).json()[0]["service_request_id"]
    web = factories.submit(region=city).appeal.tracking_number  # another channel: listed too, same fields

    def listed(**params):
        response = client.get(f"{V2}/requests.json", params)
        assert response.status_code == 200, response.content
        schemas.check(response.json(), schemas.SERVICE_REQUESTS)
        return {r["service_request_id"] for r in response.json()}

    assert listed() == {*numbers, tax, web}
    assert listed(service_code="tax") == {tax}
    assert listed(service_code="tax,employment") == {*numbers, tax, web}
    assert listed(service_request_id=f"{numbers[0]},{tax}", service_code="finance") == {numbers[0], tax}
    assert listed(status="closed") == set()
    assert listed(status="open,closed") == {*numbers, tax, web}
    assert listed(jurisdiction_id="nanhai") == {*numbers, tax}
    now = timezone.now()
    assert listed(start_date=(now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")) == set()
    assert listed(start_date=(now - timedelta(days=1)).isoformat(), end_date=(now + timedelta(days=1)).isoformat()) == {
        *numbers,
        tax,
        web,
    }
    xml = client.get(f"{V2}/requests.xml", {"service_code": "tax"})
    data = schemas.check_xml(xml.content, schemas.SERVICE_REQUESTS, root="service_requests", item="request")
    assert [r["service_request_id"] for r in data] == [tax]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"status": "pending"}, 400),
        ({"start_date": "yesterday"}, 400),
        ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"}, 400),
        ({"start_date": "2026-02-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"}, 400),
        ({"service_code": "nope"}, 404),
        ({"jurisdiction_id": "atlantis"}, 404),
    ],
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_list_bad_parameters(client, city, params, status, fmt):
    response = client.get(f"{V2}/requests.{fmt}", params)
    assert response.status_code == status
    if fmt == "json":
        schemas.check(response.json(), schemas.ERRORS)
    else:
        schemas.check_xml(response.content, schemas.ERRORS, root="errors", item="error")


def test_key_policy_restricts_listing(client, partner, nanhai, hrss, city):
    client_row, key = partner
    mine = _post(client, open311_form(key)).json()[0]["service_request_id"]
    other = factories.submit(region=city).appeal.tracking_number
    policy = Open311Policy.objects.create(client=client_row, listing=Open311Policy.Listing.OWN)
    assert {r["service_request_id"] for r in client.get(f"{V2}/requests.json", {"api_key": key}).json()} == {mine}
    assert {r["service_request_id"] for r in client.get(f"{V2}/requests.json").json()} == {mine, other}
    policy.listing = Open311Policy.Listing.NONE
    policy.save()
    response = client.get(f"{V2}/requests.json", {"api_key": key})
    assert response.status_code == 403
    schemas.check(response.json(), schemas.ERRORS)


def test_listing_may_require_a_key(client, city, settings):
    settings.OPEN311_PUBLIC_LISTING = False
    response = client.get(f"{V2}/requests.json")
    assert response.status_code == 403
    schemas.check(response.json(), schemas.ERRORS)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_tokens(client, partner, nanhai, hrss, fmt):
    client_row, key = partner
    Open311Policy.objects.create(client=client_row, returns_token=True)
    data = _post(client, open311_form(key)).json()
    schemas.check(data, schemas.POST_RESPONSE)
    token = data[0]["token"]
    assert "service_request_id" not in data[0]
    response = client.get(f"{V2}/tokens/{token}.{fmt}")
    assert response.status_code == 200
    if fmt == "json":
        resolved = response.json()
        schemas.check(resolved, schemas.TOKEN_RESPONSE)
    else:
        resolved = schemas.check_xml(response.content, schemas.TOKEN_RESPONSE, root="service_requests", item="request")
    assert Appeal.objects.filter(tracking_number=resolved[0]["service_request_id"]).exists()
    assert resolved[0]["token"] == token


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_forged_and_expired_tokens(client, filed, fmt):
    forged = tokens.issue(filed.tracking_number)[:-3] + "abc"
    other_number = tokens.issue("20990101000001")  # well signed, but no such request
    with time_machine.travel(timezone.now() - timedelta(days=31)):
        expired = tokens.issue(filed.tracking_number)
    for token, word in ((forged, "无效"), (other_number, "无效"), (expired, "过期")):
        response = client.get(f"{V2}/tokens/{token}.{fmt}")
        assert response.status_code == 404
        if fmt == "json":
            errors = response.json()
            schemas.check(errors, schemas.ERRORS)
        else:
            errors = schemas.check_xml(response.content, schemas.ERRORS, root="errors", item="error")
        assert word in errors[0]["description"]


def _attr(name: str) -> str:
    return f"attribute[{name}]"


BAD_FORMS = {
    "unknown service_code": ({"service_code": "space-travel"}, 404, "space-travel"),
    "missing service_code": ({"service_code": ""}, 400, "service_code"),
    "missing credit code": ({_attr("credit_code"): ""}, 400, "attribute[credit_code]"),
    "missing enterprise name": ({_attr("enterprise_name"): ""}, 400, "attribute[enterprise_name]"),
    "bad credit code": ({_attr("credit_code"): "91350203M0001QAY9B"}, 400, "attribute[credit_code]"),
    "bad industry": ({_attr("industry"): "Z"}, 400, "attribute[industry]"),
    "bad phone": ({"phone": "12"}, 400, "phone"),
    "missing description": ({"description": ""}, 400, "description"),
    "no location": ({"address_string": ""}, 400, "lat"),
    "half a location": ({"address_string": "", "lat": "23.1"}, 400, "long"),
    "latitude out of range": ({"lat": "123", "long": "113"}, 400, "lat"),
    "region not found": ({"address_string": "火星某地"}, 400, "attribute[region]"),
    "unknown region code": ({_attr("region"): "atlantis"}, 400, "attribute[region]"),
    "unknown jurisdiction": ({"jurisdiction_id": "atlantis"}, 404, "atlantis"),
    "missing api_key": ({"api_key": ""}, 403, "api_key"),
    "forged api_key": ({"api_key": "hy_deadbeef_forged"}, 403, "api_key"),
    "urgent without reason": ({_attr("urgency"): "urgent"}, 400, "urgency_reason"),
    "description too long": ({"description": "长" * 4001}, 400, "description"),
}


@pytest.mark.parametrize("case", list(BAD_FORMS))
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_bad_input_creates_nothing(client, api_key, nanhai, hrss, case, fmt):
    overrides, status, mentions = BAD_FORMS[case]
    before = (Appeal.objects.count(), Open311Request.objects.count(), Enterprise.objects.count())
    response = _post(client, open311_form(api_key, **overrides), fmt)
    assert response.status_code == status, response.content
    if fmt == "json":
        errors = response.json()
        schemas.check(errors, schemas.ERRORS)
    else:
        errors = schemas.check_xml(response.content, schemas.ERRORS, root="errors", item="error")
    assert any(mentions in e["description"] for e in errors), errors
    assert (Appeal.objects.count(), Open311Request.objects.count(), Enterprise.objects.count()) == before


def test_missing_attributes_are_each_named(client, api_key, nanhai):
    form = open311_form(api_key, **{_attr("credit_code"): "", _attr("industry"): ""})
    errors = _post(client, form).json()
    text = " ".join(e["description"] for e in errors)
    assert "attribute[credit_code]" in text and "attribute[industry]" in text


@pytest.mark.parametrize(
    ("content_type", "body", "mentions"),
    [
        ("application/json", b'{"service_code": "employment", ', "JSON"),
        ("application/json", b'["not", "an", "object"]', "JSON"),
        ("text/xml", b"<service_request><service_code>employment</service_code>", "XML"),
        (
            "text/xml",
            b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
            b"<r><description>&b;</description></r>",
            "XML",
        ),
        ("application/pdf", b"%PDF-1.4", "application/x-www-form-urlencoded"),
        ("application/x-www-form-urlencoded", "description=\u957f".encode("gbk"), "UTF-8"),
    ],
)
def test_malformed_bodies(client, api_key, city, content_type, body, mentions):
    response = client.post(f"{V2}/requests.json", data=body, content_type=content_type)
    assert response.status_code == 400, response.content
    errors = response.json()
    schemas.check(errors, schemas.ERRORS)
    assert mentions in errors[0]["description"]
    assert Appeal.objects.count() == 0


def test_oversized_body(client, api_key, city, settings):
    settings.OPEN311_MAX_BODY_BYTES = 2048
    response = _post(client, open311_form(api_key, description="长" * 1000))
    assert response.status_code == 413
    schemas.check(response.json(), schemas.ERRORS)
    assert Appeal.objects.count() == 0


def test_json_and_xml_bodies_are_accepted(client, api_key, nanhai, hrss):
    form = open311_form(api_key)
    attributes = {k[len("attribute[") : -1]: v for k, v in form.items() if k.startswith("attribute[")}
    plain = {k: v for k, v in form.items() if not k.startswith("attribute[")}
    response = client.post(
        f"{V2}/requests.json", data=json.dumps({**plain, "attribute": attributes}), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    xml_fields = "".join(f"<{k}>{v}</{k}>" for k, v in plain.items())
    attributes["credit_code"] = factories.credit_code()
    xml_attrs = "".join(f"<{k}>{v}</{k}>" for k, v in attributes.items())
    body = f"<service_request>{xml_fields}<attribute>{xml_attrs}</attribute></service_request>".encode()
    response = client.post(f"{V2}/requests.xml", data=body, content_type="text/xml")
    assert response.status_code == 200, response.content
    assert Open311Request.objects.count() == 2


def test_accept_header_never_causes_406(client, city):
    response = client.get(f"{V2}/services.xml", HTTP_ACCEPT="text/xml")
    assert response.status_code == 200


def test_multipart_forms_are_read_like_urlencoded_ones(client, api_key, nanhai, hrss):
    response = client.post(f"{V2}/requests.json", data=open311_form(api_key))
    assert response.status_code == 200, response.content


def test_public_reads_are_rate_limited_in_the_error_format(client, city, settings):
    settings.PORTAL_RATE_LIMITS = {**settings.PORTAL_RATE_LIMITS, "open311_read_ip": "2/m"}
    statuses = [client.get(f"{V2}/services.xml").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    response = client.get(f"{V2}/services.json")
    schemas.check(response.json(), schemas.ERRORS)
    assert response.json()[0]["code"] == 429


def test_errors_speak_the_clients_language(client, city):
    response = client.get(f"{V2}/services/nope.json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.json()[0]["description"] == "service_code “nope” does not exist."
    services = client.get(f"{V2}/services.json", HTTP_ACCEPT_LANGUAGE="en").json()
    assert any(s["service_name"] == "Employment" or s["service_name"].isascii() for s in services)


def test_listing_runs_a_fixed_number_of_queries(client, city, django_assert_max_num_queries):
    for _ in range(3):
        factories.submit(region=city)
    client.get(f"{V2}/requests.json")  # warm the per-process routing and deadline tables
    with django_assert_max_num_queries(6) as few:
        assert len(client.get(f"{V2}/requests.json").json()) == 3
    for _ in range(12):
        factories.submit(region=city)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get(f"{V2}/requests.json").json()) == 15


def test_an_unexpected_failure_is_the_general_service_error(client, api_key, nanhai, hrss, monkeypatch):
    from appeals import services

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "appeal_submit", broken)
    response = _post(client, open311_form(api_key), "xml")
    assert response.status_code == 400
    errors = schemas.check_xml(response.content, schemas.ERRORS, root="errors", item="error")
    assert "稍后再试" in errors[0]["description"]
    assert Open311Request.objects.count() == 0
