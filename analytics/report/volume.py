"""Volume sheets: the category ranking (with its bar chart), rising categories, region × category."""

from __future__ import annotations

from xlsxwriter.utility import xl_col_to_name

from analytics import selectors
from analytics.report.workbook import BOLD, HEADER, PERCENT, Writer, pct
from analytics.selectors import Filters
from routing.appeal_types import AppealType

RANKING_WIDTHS = [8, 26, 12, 10, 14, 10, 10]
# An A4 landscape page, less margins, header and footer, holds about 17 cm of height: the chart is
# kept below that (bars get thinner past 25 categories) so it always prints whole on its own page.
CHART_MAX_HEIGHT_CM = 15.0
PIXELS_PER_CM = 96 / 2.54


def ranking_sheet(w: Writer, filters: Filters) -> None:
    rows = selectors.category_ranking(filters)
    ws = w.sheet("ranking", RANKING_WIDTHS, freeze="A2")
    w.header(ws, ["rank", "category", "count", "share", "previous_count", "change", "change_pct"])
    formats = {3: w.format(num_format=PERCENT), 6: w.format(num_format="+0.0%;-0.0%;0.0%")}
    for row in rows:
        ws.append(
            [row.rank, row.category, row.count, pct(row.share), row.previous, row.change, pct(row.change_pct)],
            formats,
        )
    if rows:
        last = len(rows) + 1
        sheet = "'" + ws.name.replace("'", "''") + "'"  # always quoted: Excel accepts it for any name
        chart = w.book.add_chart({"type": "bar"})  # horizontal bars read best with long Chinese names
        chart.add_series(
            {
                "name": f"={sheet}!$C$1",
                "categories": f"={sheet}!$B$2:$B${last}",
                "values": f"={sheet}!$C$2:$C${last}",
                "fill": {"color": "#B3261E"},
            }
        )
        chart.set_title({"name": w.t("chart_title")})
        chart.set_x_axis({"name": w.t("count")})  # a bar chart's value axis is the horizontal one
        # Rank 1 at the top; the value axis then crosses at the last category, i.e. at the bottom.
        # Every category labelled (readers would otherwise skip every other name when crowded).
        chart.set_y_axis({"reverse": True, "crossing": "max", "interval_unit": 1})
        chart.set_legend({"none": True})
        height = min(max(7.5, 0.75 * len(rows)), CHART_MAX_HEIGHT_CM)
        # No wider than the table, so fit-to-width does not shrink the table for it.
        chart.set_size({"width": round(16 * PIXELS_PER_CM), "height": round(height * PIXELS_PER_CM)})
        # Below the table, starting a printed page of its own, so it is never cut in two.
        ws.ws.set_h_pagebreaks([last])
        ws.ws.insert_chart(f"A{last + 2}", chart)


def types_sheet(w: Writer, filters: Filters) -> None:
    """Appeals per appeal type (咨询 求助 建议 投诉 举报), with the previous period."""
    rows = selectors.type_breakdown(filters)
    ws = w.sheet("types", [22, 12, 10, 14, 10], freeze="A2")
    w.header(ws, ["appeal_type", "count", "share", "previous_count", "change"])
    formats = {2: w.format(num_format=PERCENT)}
    for row in rows:
        label = _type_label(row.code, w)
        ws.append([label, row.count, pct(row.share), row.previous, row.count - row.previous], formats)


def _type_label(code: str, w: Writer) -> str:
    """The type's name in the workbook's language (the workbook is written under that language)."""
    return str(AppealType(code).label) if code else w.t("untyped")


def rising_sheet(w: Writer, filters: Filters) -> None:
    rows = selectors.rising(filters)
    ws = w.sheet("rising", [24, 16, 10, 12, 10, 12, 10], freeze="A2")
    w.header(ws, ["category", "region", "count", "baseline", "ratio", "p_value", "model"])
    formats = {4: w.format(num_format="0.00"), 5: w.format(num_format="0.00E+00")}
    for row in rows:
        ws.append(
            [
                row.category,
                row.region or "—",
                row.count,
                row.baseline_mean,
                None if row.ratio is None else round(row.ratio, 2),
                row.p_value,
                row.model,
            ],
            formats,
        )
    if not rows:
        ws.append([w.t("no_rising")])


def matrix_sheet(w: Writer, filters: Filters) -> None:
    categories, regions, cells = selectors.heatmap(filters)
    ws = w.sheet("matrix", [26, *([12] * (len(regions) + 1))], freeze="B2")
    header = [w.t("category"), *[name for _id, name in regions], w.t("total")]
    ws.append(header, dict.fromkeys(range(len(header)), w.format(**HEADER)))
    column_totals = [0] * len(regions)
    for cid, name in categories:
        values = [cells.get((cid, rid), 0) for rid, _name in regions]
        for i, value in enumerate(values):
            column_totals[i] += value
        ws.append([name, *values, sum(values)])
    totals = [w.t("total"), *column_totals, sum(column_totals)]
    ws.append(totals, dict.fromkeys(range(len(totals)), w.format(**BOLD)))
    if categories and regions:
        end = f"{xl_col_to_name(len(regions))}{len(categories) + 1}"
        ws.ws.conditional_format(f"B2:{end}", {"type": "2_color_scale", "min_color": "#FFFFFF", "max_color": "#F8696B"})
