"""The dispatch catalogue: export → import round trip, preview, every error kind, all-or-nothing apply."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from routing.catalogue.apply import CatalogueRejected, catalogue_apply
from routing.catalogue.checks import check_catalogue
from routing.catalogue.export import export_csv_zip, export_xlsx
from routing.catalogue.reader import UploadError, read_catalogue
from routing.models import Bureau, Category, DeadlinePolicy, Region, RoutingRule
from tests import factories
from tests.routing.catalogue_files import column_index, find_row, set_cell, sheets_of, workbook_bytes

pytestmark = pytest.mark.django_db

REGIONS, BUREAUS, RULES, POLICIES = (
    "地区 (regions)",
    "承办单位 (bureaus)",
    "分拨规则 (rules)",
    "时限规则 (deadline_policies)",
)


@pytest.fixture
def configured(city, hrss):
    """Foshan (440600) with its hrss bureau, a district, a keyword rule and a deadline policy."""
    city.division_code = "440600"
    city.save()
    shunde = factories.RegionFactory(
        code="foshan-shunde", name="顺德区", division_code="440606", level=Region.Level.DISTRICT, parent=city
    )
    RoutingRule.objects.create(
        name="顺德招工",
        priority=50,
        category=factories.category("employment"),
        region=shunde,
        keywords="招工, 用工",
        target_type=factories.bureau_type("hrss"),
    )
    DeadlinePolicy.objects.create(category=factories.category("employment"), urgency="urgent", reply_value=2)
    return shunde


def _state() -> list[tuple]:
    """Everything the catalogue writes, to assert that a rejected import changed nothing."""
    return [
        *Region.objects.values_list("code", "name", "is_active", "parent_id").order_by("code"),
        *Bureau.objects.values_list("name", "is_active").order_by("pk"),
        *Category.objects.values_list("code", "name", "is_active").order_by("code"),
        *RoutingRule.objects.values_list("name", "priority", "keywords", "is_active").order_by("pk"),
        *DeadlinePolicy.objects.values_list("reply_value", "reply_unit", "is_active").order_by("pk"),
    ]


@pytest.mark.parametrize("export", [export_xlsx, export_csv_zip])
def test_export_then_import_is_a_no_op(configured, export):
    checked = check_catalogue(read_catalogue(export()))
    assert checked.errors == []
    assert not checked.preview.has_changes
    assert {s.spec.key: s.unchanged for s in checked.preview.sheets}["rules"] == RoutingRule.objects.count()


def test_export_writes_division_codes_and_the_appeal_types_reference(configured):
    sheets = sheets_of(export_xlsx())
    assert find_row(sheets[RULES], "name", "顺德招工")[column_index(sheets[RULES], "region")] == "440606"
    assert ["complaint", "投诉", "Complaint"] in sheets["诉求类型 (appeal_types)"]
    assert "说明 (readme)" in sheets


def test_a_changed_row_shows_before_and_after_and_applies_with_history(configured, admin_user):
    sheets = sheets_of(export_xlsx())
    rule = find_row(sheets[RULES], "name", "顺德招工")
    set_cell(sheets[RULES], rule, "priority", "20")
    set_cell(sheets[RULES], rule, "keywords", "招工，缺工")
    sheets[RULES].append(["佛山融资", "60", "financing", "440600", "", "", "", "hrss", "是"])
    raw = read_catalogue(workbook_bytes(sheets))
    checked = check_catalogue(raw)
    assert checked.errors == []
    rules = next(s for s in checked.preview.sheets if s.spec.key == "rules")
    [changed] = rules.changed
    assert {(c.column.field, c.before, c.after) for c in changed.changes} == {
        ("priority", "50", "20"),
        ("keywords", "招工,用工", "招工,缺工"),
    }
    assert [a.label for a in rules.added] == ["佛山融资"]

    result = catalogue_apply(raw=raw, user=admin_user, filename="edited.xlsx")
    assert (result.added, result.changed) == (1, 1)
    rule = RoutingRule.objects.get(name="顺德招工")
    assert (rule.priority, rule.keywords) == (20, "招工,缺工")
    latest = rule.history.latest()
    assert latest.history_user == admin_user
    assert latest.history_change_reason == "catalogue import edited.xlsx"
    assert latest.prev_record.priority == 50
    assert RoutingRule.objects.get(name="佛山融资").region.code == "foshan"


def test_rows_left_out_are_deactivated_not_deleted(configured, admin_user):
    sheets = sheets_of(export_xlsx())
    sheets[RULES] = [row for row in sheets[RULES] if row[0] != "顺德招工"]
    raw = read_catalogue(workbook_bytes(sheets))
    rules = next(s for s in check_catalogue(raw).preview.sheets if s.spec.key == "rules")
    assert [r.label for r in rules.removed] == ["顺德招工"]
    catalogue_apply(raw=raw, user=admin_user, filename="x.xlsx")
    assert RoutingRule.objects.get(name="顺德招工").is_active is False


def test_a_sheet_left_out_is_unchanged(configured, admin_user):
    sheets = sheets_of(export_xlsx())
    only_rules = {RULES: sheets[RULES]}
    checked = check_catalogue(read_catalogue(workbook_bytes(only_rules)))
    assert checked.errors == []
    assert [s.spec.key for s in checked.preview.sheets if s.present] == ["rules"]
    assert not checked.preview.has_changes


def test_every_error_is_reported_with_its_row_and_nothing_changes(configured, admin_user):
    sheets = sheets_of(export_xlsx())
    header = sheets[RULES][0]
    assert len(header) == 9
    first = len(sheets[RULES]) + 1  # the spreadsheet row of the first appended rule
    rule_row = sheets[RULES].index(find_row(sheets[RULES], "name", "顺德招工")) + 1
    sheets[RULES] += [
        ["未知地区", "10", "employment", "449999", "", "", "", "hrss", "是"],  # row 3: unknown region code
        ["没有承办单位", "10", "financing", "440600", "", "", "", "finance", "是"],  # row 4: no finance bureau (Foshan)
        ["重叠规则", "30", "employment", "440606", "用工、招工", "", "", "hrss", "是"],  # row 5: overlaps row 2
        ["未知部门", "10", "", "", "", "", "", "nosuchtype", "是"],  # row 6: unknown bureau type
        ["顺德招工", "10", "", "", "", "", "", "hrss", "是"],  # row 7: duplicate name
        [None, "10", "", "", "", "", "", "hrss", "是"],  # row 8: missing name
    ]
    policy = sheets[POLICIES][1]
    set_cell(sheets[POLICIES], policy, "reply_value", "0")
    set_cell(sheets[POLICIES], policy, "sign_for_unit", "fortnights")
    set_cell(sheets[POLICIES], policy, "return_value", "-1")
    before = _state()
    raw = read_catalogue(workbook_bytes(sheets))
    checked = check_catalogue(raw)
    found = {(e.sheet, e.row, e.message.split("：")[0].split("“")[0]) for e in checked.errors}
    messages = "\n".join(str(e) for e in checked.errors)
    assert ("分拨规则", first, "未知的地区代码") in found, messages
    assert ("分拨规则", first + 1, "规则指向的承办单位不存在") in found, messages
    assert ("分拨规则", first + 2, f"与第 {rule_row} 行的规则重叠") in found, messages
    assert ("分拨规则", first + 3, "未知的部门类型") in found, messages
    assert ("分拨规则", first + 4, f"与第 {rule_row} 行重复（顺德招工）") in found, messages
    assert ("分拨规则", first + 5, "必填，不能为空。") in found, messages
    assert any(e.sheet == "时限规则" and e.row == 2 and "时限必须大于零，现为 0" in e.message for e in checked.errors)
    assert any(e.sheet == "时限规则" and "时限必须大于零，现为 -1" in e.message for e in checked.errors)
    assert any(e.sheet == "时限规则" and "未知的时限单位“fortnights”" in e.message for e in checked.errors)
    with pytest.raises(CatalogueRejected):
        catalogue_apply(raw=raw, user=admin_user, filename="bad.xlsx")
    assert _state() == before


def test_error_messages_in_english(configured, settings):
    from django.utils import translation

    sheets = sheets_of(export_xlsx())
    sheets[RULES].append(["x", "10", "", "449999", "", "", "", "hrss", "是"])
    with translation.override("en"):
        checked = check_catalogue(read_catalogue(workbook_bytes(sheets)))
        assert "Unknown region code “449999”" in str(checked.errors[0])


def test_region_and_bureau_errors(configured):
    sheets = sheets_of(export_xlsx())
    sheets[REGIONS].append(["zhuhai-x", "4404", "某区", "", "district", "nowhere", "", ""])
    sheets[BUREAUS].append(["440600", "nosuchtype", "某局", "", "", "", "", "", "", "", ""])
    sheets[BUREAUS].append(sheets[BUREAUS][1][:])
    checked = check_catalogue(read_catalogue(workbook_bytes(sheets)))
    text = "\n".join(str(e) for e in checked.errors)
    assert "行政区划代码“4404”无效" in text
    assert "未知的地区代码“nowhere”" in text
    assert "未知的部门类型“nosuchtype”" in text
    assert "重复" in text


def test_unknown_sheet_and_column_are_errors(configured):
    sheets = sheets_of(export_xlsx())
    sheets["Sheet1"] = [["a"]]
    sheets[RULES][0][1] = "优先顺序"
    text = "\n".join(str(e) for e in check_catalogue(read_catalogue(workbook_bytes(sheets))).errors)
    assert "Sheet1" in text and "无法识别的工作表" in text
    assert "无法识别的列名" in text


def test_a_lone_csv_file_is_recognised_by_its_header(configured):
    archive = zipfile.ZipFile(io.BytesIO(export_csv_zip()))
    raw = read_catalogue(archive.read("rules.csv"))
    assert list(raw.sheets) == ["rules"]
    assert check_catalogue(raw).errors == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"%PDF-1.7 binary\x00\x01", "无法读取"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, ".xls"),
        (b"PK\x03\x04garbage", "无法读取"),
        (b"a,b,c\n1,2,3\n", "无法识别这个 CSV 文件"),
    ],
)
def test_files_that_are_not_a_catalogue_get_a_clear_message(data, message):
    with pytest.raises(UploadError, match=message):
        read_catalogue(data)


def test_an_oversized_upload_is_refused(settings):
    settings.CATALOGUE_MAX_UPLOAD_BYTES = 1000
    with pytest.raises(UploadError, match="文件太大"):
        read_catalogue(b"x" * 1001)


def test_workbooks_are_parsed_with_defusedxml():
    import openpyxl.xml

    assert openpyxl.xml.DEFUSEDXML is True


def test_command_exit_codes(configured, tmp_path):
    path = tmp_path / "catalogue.xlsx"
    call_command("catalogue", "export", str(path))
    out = io.StringIO()
    call_command("catalogue", "import", str(path), "--dry-run", stdout=out)
    assert "Dry run" in out.getvalue()

    sheets = sheets_of(path.read_bytes())
    set_cell(sheets[RULES], find_row(sheets[RULES], "name", "顺德招工"), "priority", "7")
    path.write_bytes(workbook_bytes(sheets))
    out = io.StringIO()
    call_command("catalogue", "import", str(path), "--dry-run", stdout=out)
    assert "优先级: 50 → 7" in out.getvalue()
    assert RoutingRule.objects.get(name="顺德招工").priority == 50
    call_command("catalogue", "import", str(path), stdout=io.StringIO())
    assert RoutingRule.objects.get(name="顺德招工").priority == 7

    sheets[RULES].append(["坏规则", "10", "", "449999", "", "", "", "hrss", "是"])
    path.write_bytes(workbook_bytes(sheets))
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was changed"):
        call_command("catalogue", "import", str(path), stdout=io.StringIO(), stderr=err)
    assert "449999" in err.getvalue()
    assert not RoutingRule.objects.filter(name="坏规则").exists()

    csv_dir = tmp_path / "csv"
    call_command("catalogue", "export", str(tmp_path / "c.zip"), "--format", "csv")
    zipfile.ZipFile(tmp_path / "c.zip").extractall(csv_dir)
    out = io.StringIO()
    call_command("catalogue", "import", str(csv_dir), stdout=out)
    assert "Nothing to change" in out.getvalue()


def test_the_command_via_subprocess_exits_non_zero_on_errors(configured, tmp_path):
    """``manage.py catalogue import`` reports errors with exit status 1 (CommandError)."""
    path = tmp_path / "bad.csv"
    path.write_bytes("规则名称 (name),承办部门类型 (target_type),地区 (region)\nx,hrss,449999\n".encode())
    with pytest.raises(CommandError) as excinfo:
        call_command("catalogue", "import", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    assert excinfo.value.returncode == 1


def test_appeal_type_is_a_rule_condition_and_a_policy_key(configured, admin_user):
    sheets = sheets_of(export_xlsx())
    policies = sheets[POLICIES]
    assert {row[column_index(policies, "appeal_type")] for row in policies[1:]} >= {"enquiry", "complaint"}
    rule = find_row(sheets[RULES], "name", "顺德招工")
    set_cell(sheets[RULES], rule, "appeal_type", "complaint")
    raw = read_catalogue(workbook_bytes(sheets))
    checked = check_catalogue(raw)
    assert checked.errors == []
    [changed] = next(s for s in checked.preview.sheets if s.spec.key == "rules").changed
    assert {(c.column.field, c.before, c.after) for c in changed.changes} == {("appeal_type", "", "complaint")}
    catalogue_apply(raw=raw, user=admin_user, filename="types.xlsx")
    assert RoutingRule.objects.get(name="顺德招工").appeal_type == "complaint"
