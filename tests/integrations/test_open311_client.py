"""An independent Open311 client from PyPI (``georeport``) against a running Huying server.

``georeport`` reads (services, definitions, requests) but has no method to file a request, and the
other Open311 clients on PyPI (``three``, ``open311``) are Python 2 only; so the request is filed with
``requests`` exactly as the specification describes (form-urlencoded POST with ``api_key``), built
from the attributes the client read from the service definition, and read back with ``georeport``.
"""

from __future__ import annotations

import pytest
import requests
from georeport import GeoReport
from pytest_django.live_server_helper import LiveServer

from appeals.models import Appeal
from tests import factories
from tests.integrations.conftest import free_port

# A real server thread needs committed data; serialized_rollback restores the migrated rows (taxonomy,
# groups) afterwards, as the suite's other transactional tests expect.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def server(db):
    for attempt in range(5):
        try:
            live = LiveServer(f"127.0.0.1:{free_port(skip=attempt)}")
            break
        except OSError:  # another worker took the port between the check and the bind
            continue
    else:
        pytest.fail("no free port for the live server")
    live._live_server_modified_settings.enable()
    yield live
    live._live_server_modified_settings.disable()
    live.stop()


def test_independent_client_files_and_reads_back(server, api_key, nanhai, hrss):
    base = f"{server.url}/open311/v2"
    client = GeoReport(base, jurisdiction="huying", api_key=api_key)

    services = client.get_service_list()
    employment = next(s for s in services if s["service_code"] == "employment")
    assert employment["metadata"] is True
    definition = client.get_service_definition("employment")
    required = {a["code"] for a in definition["attributes"] if a["required"]}
    assert required == {"credit_code", "enterprise_name", "industry", "enterprise_size"}

    values = {
        "credit_code": factories.credit_code(),
        "enterprise_name": "佛山市南海区示例五金有限公司",
        "industry": "C",
        "enterprise_size": "micro",
    }
    form = {
        "api_key": api_key,
        "jurisdiction_id": "huying",
        "service_code": "employment",
        "address_string": "南海区桂城街道",
        "first_name": "小明",
        "last_name": "王",
        "phone": "13900139000",
        "description": "技术工人招不到，想请人社部门帮忙对接职业院校。",
        **{f"attribute[{code}]": values[code] for code in required},
    }
    created = requests.post(f"{base}/requests.json", data=form, timeout=30)
    assert created.status_code == 200, created.text
    assert created.headers["Content-Type"].startswith("application/json")
    number = created.json()[0]["service_request_id"]

    request = client.get_service_request(number)
    assert request["service_request_id"] == number
    assert request["status"] == "open"
    assert request["service_code"] == "employment"
    assert request["agency_responsible"] == hrss.name
    assert "王" not in str(request) and "13900139000" not in str(request)

    xml_client = GeoReport(base, jurisdiction="huying", output_format="xml")
    as_xml = xml_client.get_service_request(number)
    assert as_xml["service_request_id"] == number
    assert as_xml["status"] == "open"
    listed = client.get_service_requests(service_request_id=number)
    assert [r["service_request_id"] for r in listed] == [number]
    xml_services = xml_client.get_service_list()
    assert any(s["service_code"] == "employment" for s in xml_services)

    appeal = Appeal.objects.get(tracking_number=number)
    assert appeal.enterprise.name == "佛山市南海区示例五金有限公司"
    assert appeal.region == nanhai


def test_independent_client_sees_the_error_format(server, api_key, city):
    base = f"{server.url}/open311/v2"
    response = requests.post(f"{base}/requests.xml", data={"api_key": "hy_00000000_wrong"}, timeout=30)
    assert response.status_code == 403
    assert response.headers["Content-Type"].startswith("text/xml")
    assert b"<errors><error><code>403</code>" in response.content
    client = GeoReport(base)
    with pytest.raises(requests.HTTPError):
        client.get_service_definition("no-such-service")
