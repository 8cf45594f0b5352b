"""Volume sheets: the category ranking (with its bar chart), rising categories, region × category."""

from __future__ import annotations

from openpyxl.chart import BarChart, Reference
from openpyxl.formatting.rule import ColorScaleRule
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.pagebreak import Break

from analytics import selectors
from analytics.report.workbook import HEADER_FILL, HEADER_FONT, PERCENT, Writer, pct
from analytics.selectors import Filters

RANKING_WIDTHS = [8, 26, 12, 10, 14, 10, 10]
# An A4 landscape page, less margins, header and footer, holds about 17 cm of height: the chart is
# kept below that (bars get thinner past 25 categories) so it always prints whole on its own page.
CHART_MAX_HEIGHT_CM = 15.0


def ranking_sheet(w: Writer, filters: Filters) -> None:
    rows = selectors.category_ranking(filters)
    ws = w.sheet("ranking", RANKING_WIDTHS, freeze="A2")
    w.header(ws, ["rank", "category", "count", "share", "previous_count", "change", "change_pct"])
    for row in rows:
        w.row(
            ws,
            [
                row.rank,
                row.category,
                row.count,
                w.cell(ws, pct(row.share), number_format=PERCENT),
                row.previous,
                row.change,
                w.cell(ws, pct(row.change_pct), number_format="+0.0%;-0.0%;0.0%"),
            ],
        )
    if rows:
        chart = BarChart()
        chart.type = "bar"  # horizontal bars read best with long Chinese category names
        chart.title = w.t("chart_title")
        chart.y_axis.title = w.t("count")
        chart.legend = None
        chart.height = min(max(7.5, 0.6 * len(rows)), CHART_MAX_HEIGHT_CM)
        chart.width = 16  # no wider than the table, so fit-to-width does not shrink the table for it
        data = Reference(ws, min_col=3, min_row=1, max_row=len(rows) + 1)
        categories = Reference(ws, min_col=2, min_row=2, max_row=len(rows) + 1)
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(categories)
        chart.x_axis.scaling.orientation = "maxMin"  # rank 1 at the top
        # Below the table, starting a printed page of its own, so it is never cut in two.
        ws.row_breaks.append(Break(id=len(rows) + 1))
        ws.add_chart(chart, f"A{len(rows) + 3}")


def rising_sheet(w: Writer, filters: Filters) -> None:
    rows = selectors.rising(filters)
    ws = w.sheet("rising", [24, 16, 10, 12, 10, 12, 10], freeze="A2")
    w.header(ws, ["category", "region", "count", "baseline", "ratio", "p_value", "model"])
    for row in rows:
        w.row(
            ws,
            [
                row.category,
                row.region or "—",
                row.count,
                row.baseline_mean,
                w.cell(ws, None if row.ratio is None else round(row.ratio, 2), number_format="0.00"),
                w.cell(ws, row.p_value, number_format="0.00E+00"),
                row.model,
            ],
        )
    if not rows:
        w.row(ws, [w.t("no_rising")])


def matrix_sheet(w: Writer, filters: Filters) -> None:
    categories, regions, cells = selectors.heatmap(filters)
    ws = w.sheet("matrix", [26, *([12] * (len(regions) + 1))], freeze="B2")
    header = [w.t("category"), *[name for _id, name in regions], w.t("total")]
    ws.append([w.cell(ws, v, font=HEADER_FONT, fill=HEADER_FILL) for v in header])
    column_totals = [0] * len(regions)
    for cid, name in categories:
        values = [cells.get((cid, rid), 0) for rid, _name in regions]
        for i, value in enumerate(values):
            column_totals[i] += value
        w.row(ws, [name, *values, sum(values)])
    bold = Font(bold=True)
    ws.append(
        [
            w.cell(ws, w.t("total"), font=bold),
            *[w.cell(ws, v, font=bold) for v in column_totals],
            w.cell(ws, sum(column_totals), font=bold),
        ]
    )
    if categories and regions:
        end = f"{get_column_letter(len(regions) + 1)}{len(categories) + 1}"
        ws.conditional_formatting.add(
            f"B2:{end}", ColorScaleRule(start_type="min", start_color="FFFFFF", end_type="max", end_color="F8696B")
        )
