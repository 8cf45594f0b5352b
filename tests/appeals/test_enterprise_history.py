"""Appeals keep the enterprise details they were filed with; the enterprise record keeps its history."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from appeals.models import Appeal, Enterprise, EnterpriseRevision
from tests import factories

CODE = factories.credit_code()


@pytest.fixture
def two_filings(hrss):
    first = factories.submit(region=hrss.region, credit_code=CODE, enterprise_name="佛山市顺德区甲有限公司").appeal
    second = factories.submit(
        region=hrss.region,
        credit_code=CODE,
        enterprise_name="佛山市顺德区乙科技有限公司",
        contact_phone="+8613900139000",
    ).appeal
    return Appeal.objects.get(pk=first.pk), Appeal.objects.get(pk=second.pk)


def test_filing_again_under_another_name_does_not_rewrite_earlier_appeals(two_filings):
    first, second = two_filings
    assert first.enterprise_id == second.enterprise_id
    assert Enterprise.objects.get(credit_code=CODE).name == "佛山市顺德区乙科技有限公司"
    assert (first.enterprise_name, first.enterprise_credit_code) == ("佛山市顺德区甲有限公司", CODE)
    assert first.filed_enterprise_name == "佛山市顺德区甲有限公司"
    assert first.enterprise_changed_since_filing
    assert second.filed_enterprise_name == "佛山市顺德区乙科技有限公司"
    assert not second.enterprise_changed_since_filing


def test_the_enterprise_keeps_its_history(two_filings):
    first, second = two_filings
    revisions = list(EnterpriseRevision.objects.filter(enterprise=first.enterprise).order_by("recorded_at", "id"))
    assert [(r.name, r.phone, r.tracking_number, r.source) for r in revisions] == [
        ("佛山市顺德区甲有限公司", "+8613800138000", first.tracking_number, "filing"),
        ("佛山市顺德区乙科技有限公司", "+8613900139000", second.tracking_number, "filing"),
    ]


def test_filing_again_unchanged_adds_no_history(hrss):
    factories.submit(region=hrss.region, credit_code=CODE, enterprise_name="甲公司")
    factories.submit(region=hrss.region, credit_code=CODE, enterprise_name="甲公司")
    assert EnterpriseRevision.objects.filter(enterprise__credit_code=CODE).count() == 1


def test_the_snapshot_is_covered_by_the_audit_trail(two_filings):
    call_command("verify_audit", stdout=io.StringIO())  # the new enterprise rows verify


def test_console_shows_filed_with_and_current_details(two_filings, officer):
    first, second = two_filings
    client = Client()
    client.force_login(officer, backend="django.contrib.auth.backends.ModelBackend")
    page = client.get(reverse("console:appeal", args=[first.pk])).content.decode()
    assert "佛山市顺德区甲有限公司" in page
    assert "以上为提交时的企业信息；企业资料现为：佛山市顺德区乙科技有限公司" in page
    page = client.get(reverse("console:appeal", args=[second.pk])).content.decode()
    assert "佛山市顺德区乙科技有限公司" in page and "企业资料现为" not in page


def test_admin_shows_both_and_records_admin_edits(two_filings):
    first, _second = two_filings
    root = factories.staff_user("admin", None, username="root")
    client = Client()
    client.force_login(root, backend="django.contrib.auth.backends.ModelBackend")
    page = client.get(reverse("admin:appeals_appeal_change", args=[first.pk])).content.decode()
    assert "佛山市顺德区甲有限公司" in page and "已变更为：佛山市顺德区乙科技有限公司" in page

    enterprise = first.enterprise
    url = reverse("admin:appeals_enterprise_change", args=[enterprise.pk])
    form = {
        "name": "佛山市顺德区丙有限公司",
        "credit_code": CODE,
        "region": enterprise.region_id,
        "industry": enterprise.industry,
        "size": enterprise.size,
        "contact_name": enterprise.contact_name,
        "phone": "13900139000",
        "email": "",
        "revisions-TOTAL_FORMS": "0",
        "revisions-INITIAL_FORMS": "0",
    }
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    latest = EnterpriseRevision.objects.filter(enterprise=enterprise).latest("recorded_at", "id")
    assert (latest.name, latest.source, latest.changed_by_id) == ("佛山市顺德区丙有限公司", "admin", root.pk)
    page = client.get(url).content.decode()
    assert "佛山市顺德区甲有限公司" in page  # the history is shown on the enterprise's page
    first.refresh_from_db()
    assert first.enterprise_name == "佛山市顺德区甲有限公司"
