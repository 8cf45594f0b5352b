"""The dispatch catalogue's admin pages in a real browser: upload → preview (changes, errors) → apply."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from routing.catalogue.export import export_xlsx
from routing.models import RoutingRule
from tests import factories
from tests.e2e.conftest import screenshot
from tests.routing.catalogue_files import find_row, set_cell, sheets_of, workbook_bytes

pytestmark = pytest.mark.django_db(transaction=True)

RULES = "分拨规则 (rules)"


def _login(context, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])


def test_upload_preview_and_apply_in_the_browser(page, live_server, hrss, tmp_path):
    admin = get_user_model().objects.create_superuser("operator", "operator@example.invalid", "correct-horse-battery")
    RoutingRule.objects.create(
        name="佛山招工",
        priority=50,
        category=factories.category("employment"),
        region=hrss.region,
        keywords="招工",
        target_type=hrss.bureau_type,
    )
    _login(page.context, live_server, admin)
    sheets = sheets_of(export_xlsx())
    set_cell(sheets[RULES], find_row(sheets[RULES], "name", "佛山招工"), "priority", "5")
    new_rule = ["佛山社保 → 人社局", "60", "social_insurance", hrss.region.code, "社保", "", "", "hrss", "是"]
    sheets[RULES].append(new_rule)
    sheets[RULES] = [row for row in sheets[RULES] if row[0] != "融资贷款 → 地方金融管理局（金融工作局）"]
    bad = [row[:] for row in sheets[RULES]] + [["坏规则", "10", "", "449999", "", "", "", "hrss", "是"]]

    page.goto(f"{live_server.url}/admin/routing/")
    page.get_by_role("link", name="派单目录导入").first.click()
    (tmp_path / "bad.xlsx").write_bytes(workbook_bytes({**sheets, RULES: bad}))
    page.set_input_files("input[type=file]", str(tmp_path / "bad.xlsx"))
    page.get_by_role("button", name="上传并预览").click()
    page.wait_for_selector("#catalogue-errors")
    assert "未知的地区代码“449999”" in page.inner_text("#catalogue-errors")
    assert page.get_by_role("button", name="应用这些修改").count() == 0
    screenshot(page, "catalogue-preview-errors")

    (tmp_path / "good.xlsx").write_bytes(workbook_bytes(sheets))
    page.set_input_files("input[type=file]", str(tmp_path / "good.xlsx"))
    page.get_by_role("button", name="上传并预览").click()
    page.wait_for_selector("#sheet-rules .catalogue-changed")
    rules = page.inner_text("#sheet-rules")
    assert "50 → 5" in rules and "佛山社保 → 人社局" in rules and "融资贷款 → 地方金融管理局（金融工作局）" in rules
    screenshot(page, "catalogue-preview")
    page.get_by_role("button", name="应用这些修改").click()
    page.wait_for_selector(".messagelist .success")
    assert "新增 1 行，修改 1 行，停用 1 行" in page.inner_text(".messagelist")
    assert RoutingRule.objects.get(name="佛山招工").priority == 5
    assert RoutingRule.objects.get(name="融资贷款 → 地方金融管理局（金融工作局）").is_active is False
