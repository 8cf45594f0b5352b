"""The catalogue in the admin: export, upload → preview → apply, bad uploads, permissions, history pages."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile

from routing.catalogue.export import export_xlsx
from routing.models import RoutingRule
from tests import factories
from tests.routing.catalogue_files import find_row, set_cell, sheets_of, workbook_bytes

pytestmark = pytest.mark.django_db

RULES = "分拨规则 (rules)"
URL = "/admin/routing/routingrule/catalogue/"


@pytest.fixture
def rule(city, hrss):
    return RoutingRule.objects.create(
        name="佛山招工",
        priority=50,
        category=factories.category("employment"),
        region=city,
        keywords="招工",
        target_type=factories.bureau_type("hrss"),
    )


def _upload(client, data: bytes, name: str = "catalogue.xlsx"):
    return client.post(URL, {"file": SimpleUploadedFile(name, data)})


def test_upload_preview_apply(admin_client, admin_user, rule):
    assert admin_client.get("/admin/routing/routingrule/").content.decode().count("catalogue/") >= 1
    sheets = sheets_of(admin_client.get(URL + "export/").content)
    set_cell(sheets[RULES], find_row(sheets[RULES], "name", "佛山招工"), "priority", "5")
    response = _upload(admin_client, workbook_bytes(sheets))
    body = response.content.decode()
    assert response.status_code == 200
    assert "<del>50</del> → <ins>5</ins>" in body
    assert "应用这些修改" in body
    assert RoutingRule.objects.get(pk=rule.pk).priority == 50  # the preview changes nothing

    response = admin_client.post(URL + "apply/", follow=True)
    assert "派单目录已导入：新增 0 行，修改 1 行，停用 0 行。" in response.content.decode()
    rule.refresh_from_db()
    assert rule.priority == 5
    record = rule.history.latest()
    assert record.history_user == admin_user
    assert record.history_change_reason == "catalogue import catalogue.xlsx"
    # The history page shows who changed it.
    page = admin_client.get(f"/admin/routing/routingrule/{rule.pk}/history/").content.decode()
    assert admin_user.username in page
    # Applying twice is refused: the upload is gone.
    response = admin_client.post(URL + "apply/", follow=True)
    assert "找不到要导入的文件" in response.content.decode()


def test_errors_are_listed_and_there_is_no_apply_button(admin_client, rule):
    sheets = sheets_of(export_xlsx())
    sheets[RULES].append(["坏规则", "10", "", "449999", "", "", "", "hrss", "是"])
    body = _upload(admin_client, workbook_bytes(sheets)).content.decode()
    assert "未知的地区代码“449999”" in body
    assert "导入不会做任何修改" in body
    assert "应用这些修改" not in body
    response = admin_client.post(URL + "apply/", follow=True)
    assert "导入有错误，未做任何修改。" in response.content.decode()
    assert not RoutingRule.objects.filter(name="坏规则").exists()


def test_non_workbook_and_oversized_uploads(admin_client, settings, rule):
    body = _upload(admin_client, b"%PDF-1.4\x00binary", "report.pdf").content.decode()
    assert "无法读取：请上传 Excel 工作簿" in body
    settings.CATALOGUE_MAX_UPLOAD_BYTES = 100
    body = _upload(admin_client, b"x" * 200, "big.csv").content.decode()
    assert "文件太大" in body


def test_the_preview_in_english(admin_client, rule):
    sheets = sheets_of(export_xlsx())
    sheets[RULES].append(["bad", "10", "", "449999", "", "", "", "hrss", "是"])
    response = admin_client.post(
        URL, {"file": SimpleUploadedFile("c.xlsx", workbook_bytes(sheets))}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "Unknown region code “449999”" in response.content.decode()


def test_staff_without_change_permissions_cannot_import(client, django_user_model, rule):
    user = django_user_model.objects.create_user("clerk", password="correct-horse-battery", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__startswith="view_", content_type__app_label="routing")
    )
    client.force_login(user)
    assert client.get(URL).status_code == 403
    assert client.post(URL + "apply/").status_code == 403
    assert client.get(URL + "export/").status_code == 200  # viewing is enough to export
    for model in ("region", "bureautype", "category", "bureau", "routingrule", "deadlinepolicy"):
        user.user_permissions.add(Permission.objects.get(codename=f"change_{model}"))
    user = django_user_model.objects.get(pk=user.pk)
    client.force_login(user)
    assert client.get(URL).status_code == 200


def test_staff_without_view_permissions_cannot_export(client, django_user_model, rule):
    client.force_login(django_user_model.objects.create_user("nobody", password="x-y-z-w-v", is_staff=True))
    assert client.get(URL + "export/").status_code == 403


def test_export_csv_zip(admin_client, rule):
    response = admin_client.get(URL + "export/?format=csv")
    assert response["Content-Type"] == "application/zip"
    assert response.content.startswith(b"PK")


def test_routing_app_index_links_the_catalogue(admin_client):
    assert "派单目录导入" in admin_client.get("/admin/routing/").content.decode()


def test_history_tables_are_not_listed_in_the_admin(admin_client):
    body = admin_client.get("/admin/routing/").content.decode()
    assert "historical" not in body.lower()
