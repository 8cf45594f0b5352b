"""The analytics dashboard in a real browser: charts render from the vendored ECharts, tables sit
behind them, the page passes axe, and the screenshot is saved for people to look at."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client

from analytics import rollups
from routing.models import Category
from tests import factories
from tests.analytics.conftest import SHANGHAI, build_world, simulate
from tests.e2e.conftest import ARTIFACTS, axe_violations, format_violations, screenshot

ECHARTS = Path(__file__).resolve().parents[2] / "static" / "vendor" / "echarts.min.js"


@pytest.fixture
def dashboard_data(city, dispatch_centre):
    world = build_world(city, dispatch_centre)
    simulate(world, seed=3, count=60, start=datetime(2026, 9, 14, 9, tzinfo=SHANGHAI), days=70)
    # A burst of financing appeals in the last fortnight: the rising-category alert should fire.
    simulate(
        world, seed=4, count=25, start=datetime(2026, 11, 9, 9, tzinfo=SHANGHAI), days=14, categories=["financing"]
    )
    with time_machine.travel(datetime(2026, 11, 23, 9, tzinfo=SHANGHAI), tick=False):
        rollups.update_rollups()
    return world


def _login(page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    cookie = client.cookies["sessionid"]
    page.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])


@pytest.mark.skipif(not ECHARTS.exists(), reason="ECharts not vendored: run `make assets`.")
def test_dashboard_renders_charts_and_tables(page, live_server, dashboard_data):
    manager = factories.staff_user("manager", None, display_name="王经理")
    _login(page, live_server, manager)
    page.goto(f"{live_server.url}/analytics/?start=2026-11-09&end=2026-11-22")
    assert page.locator("h1").inner_text() == "统计分析"
    # ECharts drew SVG into each chart container.
    for chart in ("chart-ranking", "chart-trend", "chart-heatmap"):
        page.wait_for_selector(f"#{chart} svg")
    alerts = page.locator(".alert-list li")
    assert alerts.count() >= 1 and "融资" in alerts.first.inner_text()
    assert page.locator("#table-scorecard tbody tr").count() == 4
    path = screenshot(page, "analytics-dashboard")
    page.locator("#rising-heading").scroll_into_view_if_needed()
    page.screenshot(path=str(path.with_name("analytics-dashboard-charts.png")))
    assert path.stat().st_size > 10_000
    violations = axe_violations(page)
    assert not violations, format_violations(violations)


SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


def _check_whole_pages(pdf: Path, pages: int) -> None:
    """Every sheet prints on whole pages: its name heads each of its pages, all its columns fit the
    page width, and the ranking chart is on one page with every category."""
    texts = [
        subprocess.run(
            ["pdftotext", "-f", str(n), "-l", str(n), "-layout", str(pdf), "-"],
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
        for n in range(1, pages + 1)
    ]
    sheets = [text.strip().splitlines()[0].strip() for text in texts]  # the page header: sheet name
    assert list(dict.fromkeys(sheets)) == [
        "摘要",
        "类别排行",
        "按诉求类型",
        "上升类别",
        "单位考核",
        "地区×类别",
        "超期与重办",
        "问题工单",
        "诉求明细",
        "政策层面待解决的问题",
    ]
    # Fit to width: the first and the last column's headers are on every page of the wide sheets.
    for sheet, first, last in (("单位考核", "承办单位", "回访：联系不上"), ("诉求明细", "受理编号", "标题")):
        for text in (t for s, t in zip(sheets, texts, strict=True) if s == sheet):
            assert first in text and last in text, sheet
    chart_pages = [n for n, text in enumerate(texts) if "各类别诉求件数" in text]
    assert len(chart_pages) == 1 and sheets[chart_pages[0]] == "类别排行"
    chart_page = texts[chart_pages[0]]
    ranking_page = texts[sheets.index("类别排行")]
    categories = [line.split()[1] for line in ranking_page.splitlines() if re.match(r"\s*\d+\s+\S+\s+\d+", line)]
    assert categories and all(name in chart_page for name in categories), "the chart is whole on its page"
    assert all("第" in text and "页，共" in text for text in texts), "every page is numbered"


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (Debian package libreoffice-calc) is not installed.")
def test_weekly_report_converts_with_libreoffice(city, dispatch_centre, tmp_path):
    """LibreOffice opens the streamed workbook and prints every sheet to PDF (a second, independent
    reader of the file besides openpyxl). The PDF and a PNG of the first sheet go to tests/artifacts/."""
    world = build_world(city, dispatch_centre)
    simulate(world, seed=5, count=30, start=datetime(2026, 10, 26, 9, tzinfo=SHANGHAI), days=14)
    # One appeal in every category of the taxonomy: a ranking (and chart) of realistic length.
    for day, category in enumerate(Category.objects.filter(is_active=True).order_by("sort_order")):
        with time_machine.travel(datetime(2026, 11, 2 + day % 7, 10, tzinfo=SHANGHAI), tick=False):
            factories.submit(region=city, category=category, title="经营困难", description="请协助解决。")
    with time_machine.travel(datetime(2026, 11, 10, 9, tzinfo=SHANGHAI), tick=False):
        rollups.update_rollups()
    xlsx = tmp_path / "weekly.xlsx"
    call_command("weekly_report", "--week", "2026-W45", "--out", str(xlsx), "--no-update")
    profile = f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}"
    subprocess.run(
        [SOFFICE, profile, "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(xlsx)],
        check=True,
        timeout=180,
        capture_output=True,
    )
    pdf = (tmp_path / "weekly.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages >= 7, f"every sheet prints (got {pages} pages)"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(tmp_path / "weekly.pdf", ARTIFACTS / "weekly-report.pdf")
    if shutil.which("pdftoppm"):  # Debian poppler-utils: page images to look at
        for old in ARTIFACTS.glob("weekly-report-*.png"):
            old.unlink()
        subprocess.run(
            ["pdftoppm", "-r", "70", "-png", "-l", "5", str(tmp_path / "weekly.pdf"), str(ARTIFACTS / "weekly-report")],
            check=True,
            timeout=60,
        )
        # pdftoppm pads the page number to the width of the last page's (-1 or -01).
        images = sorted(ARTIFACTS.glob("weekly-report-*.png"))
        assert len(images) == 5 and images[0].stat().st_size > 5_000
    if shutil.which("pdftotext"):  # Debian poppler-utils: what each printed page holds
        _check_whole_pages(tmp_path / "weekly.pdf", pages)
