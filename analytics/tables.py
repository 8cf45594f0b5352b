"""Every table on the dashboard, built once and shown as HTML (behind each chart) or downloaded as CSV.

A table is headers plus rows of display values: percentages as numbers of percent with one decimal
(the header says "%"), hours with one decimal, "—" where a rate has no denominator.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from analytics import metrics, selectors
from analytics.selectors import Filters
from analytics.spreadsheet_text import SafeCsvWriter

DASH = "—"


@dataclass
class Table:
    name: str
    title: str
    headers: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    note: str = ""


def pct(value: float | None) -> str:
    return DASH if value is None else f"{100 * value:.1f}"


def num(value: float | None, digits: int = 1) -> str:
    return DASH if value is None else f"{value:.{digits}f}"


def signed(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return DASH
    return f"{value:+.{digits}f}" if digits else f"{value:+d}"


def month_filters(day: date) -> Filters:
    """The calendar month of ``day`` (the league tables' period)."""
    last = calendar.monthrange(day.year, day.month)[1]
    return Filters(start=day.replace(day=1), end=day.replace(day=last))


def _period_label(filters: Filters) -> str:
    return f"{filters.start:%m-%d}–{filters.end:%m-%d}"


def kpi_table(filters: Filters, data: selectors.Kpis | None = None) -> Table:
    data = data or selectors.kpis(filters)
    a, b = data.card, data.previous_card
    rows = [
        (_("受理诉求数"), data.appeals, data.previous_appeals, "int"),
        (_("派单数"), a.dispatched, b.dispatched, "int"),
        (_("响应率（%）"), a.response_rate, b.response_rate, "pct"),
        (_("解决率（%）"), a.resolution_rate, b.resolution_rate, "pct"),
        (_("满意率（%）"), a.satisfaction_rate, b.satisfaction_rate, "pct"),
        (_("综合得分"), a.composite, b.composite, "num"),
        (_("超期件数"), a.overdue, b.overdue, "int"),
        (_("退单数"), a.returns, b.returns, "int"),
        (_("重办数"), a.rehandles, b.rehandles, "int"),
        (_("签收用时中位数（小时）"), a.sign_median_hours, b.sign_median_hours, "num"),
        (_("签收用时P90（小时）"), a.sign_p90_hours, b.sign_p90_hours, "num"),
        (_("答复用时中位数（小时）"), a.reply_median_hours, b.reply_median_hours, "num"),
        (_("答复用时P90（小时）"), a.reply_p90_hours, b.reply_p90_hours, "num"),
        # Last, so the dashboard's headline tiles (picked by position) stay the same.
        (_("回访率（%）"), a.followup_rate, b.followup_rate, "pct"),
    ]
    table = Table("kpis", _("关键指标"), [_("指标"), _("本期"), _("上期"), _("变化")])
    for label, this, last, kind in rows:
        change = None if this is None or last is None else this - last
        if kind == "pct":
            table.rows.append([label, pct(this), pct(last), signed(None if change is None else 100 * change, 1)])
        elif kind == "num":
            table.rows.append([label, num(this), num(last), signed(change, 1)])
        else:  # counts: never None
            table.rows.append([label, this, last, signed(change)])
    return table


def ranking_table(filters: Filters, ranking: list[selectors.RankingRow] | None = None) -> Table:
    ranking = ranking if ranking is not None else selectors.category_ranking(filters)
    table = Table(
        "ranking",
        _("类别排行"),
        [_("排名"), _("类别"), _("件数"), _("占比（%）"), _("上期件数"), _("变化"), _("环比（%）")],
    )
    for row in ranking:
        table.rows.append(
            [row.rank, row.category, row.count, pct(row.share), row.previous, signed(row.change), pct(row.change_pct)]
        )
    return table


def types_table(filters: Filters, rows: list[selectors.TypeRow] | None = None) -> Table:
    rows = rows if rows is not None else selectors.type_breakdown(filters)
    table = Table(
        "types",
        _("按诉求类型"),
        [_("诉求类型"), _("件数"), _("占比（%）"), _("上期件数"), _("变化")],
        note=_("咨询、求助、建议、投诉、举报；“—”为类型启用前无法归类的旧诉求。"),
    )
    for row in rows:
        table.rows.append([row.label, row.count, pct(row.share), row.previous, signed(row.count - row.previous)])
    return table


def trend_table(filters: Filters, ranking: list[selectors.RankingRow] | None = None) -> Table:
    ranking = ranking if ranking is not None else selectors.category_ranking(filters)
    starts = selectors.period_starts(filters)
    headers = [_("类别")]
    for start in starts:
        period = Filters(start=start, end=start + (filters.end - filters.start))
        headers.append(_period_label(period))
    table = Table("trend", _("近8期趋势"), headers, note=_("每期天数与所选期间相同，最后一列为本期。"))
    for row in ranking:
        table.rows.append([row.category, *row.trend])
    return table


def heatmap_table(filters: Filters, heatmap: selectors.Heatmap | None = None) -> Table:
    categories, regions, cells = heatmap if heatmap is not None else selectors.heatmap(filters)
    table = Table("heatmap", _("地区×类别"), [_("类别"), *[name for _id, name in regions], _("合计")])
    for cid, name in categories:
        values = [cells.get((cid, rid), 0) for rid, _name in regions]
        table.rows.append([name, *values, sum(values)])
    if categories:
        totals = [sum(cells.get((cid, rid), 0) for cid, _n in categories) for rid, _name in regions]
        table.rows.append([_("合计"), *totals, sum(totals)])
    return table


def rising_table(filters: Filters) -> Table:
    table = Table(
        "rising",
        _("上升类别预警"),
        [_("类别"), _("地区"), _("本期件数"), _("前8期均值"), _("倍数"), _("P值"), _("检验")],
        note=_("本期件数显著高于自身前8期水平（负二项或泊松上尾检验，Bonferroni 校正，至少10件且至少1.5倍）。"),
    )
    for row in selectors.rising(filters):
        table.rows.append(
            [
                row.category,
                row.region or _("全部地区"),
                row.count,
                num(row.baseline_mean),
                num(row.ratio, 2),
                f"{row.p_value:.1e}",
                _("负二项") if row.model == "negbin" else _("泊松"),
            ]
        )
    return table


# Marked for the catalogue here, translated when the table is built (the request's language).
SCORE_HEADERS = [
    gettext_noop("派单数"),
    gettext_noop("按时签收"),
    gettext_noop("响应率（%）"),
    gettext_noop("解决率（%）"),
    gettext_noop("满意率（%）"),
    gettext_noop("综合得分"),
    gettext_noop("签收中位（时）"),
    gettext_noop("签收P90（时）"),
    gettext_noop("答复中位（时）"),
    gettext_noop("答复P90（时）"),
    gettext_noop("超期"),
    gettext_noop("退单"),
    gettext_noop("重办"),
    gettext_noop("回访率（%）"),
    gettext_noop("回访：已解决"),
    gettext_noop("回访：未解决"),
    gettext_noop("回访：有异议"),
    gettext_noop("回访：联系不上"),
]


def score_cells(card: metrics.Scorecard) -> list[Any]:
    return [
        card.dispatched,
        card.signed_on_time,
        pct(card.response_rate),
        pct(card.resolution_rate),
        pct(card.satisfaction_rate),
        num(card.composite),
        num(card.sign_median_hours),
        num(card.sign_p90_hours),
        num(card.reply_median_hours),
        num(card.reply_p90_hours),
        card.overdue,
        card.returns,
        card.rehandles,
        pct(card.followup_rate),
        card.followups_resolved,
        card.followups_not_resolved,
        card.followups_contested,
        card.followups_unreachable,
    ]


def scorecard_table(filters: Filters) -> Table:
    table = Table(
        "scorecard",
        _("承办单位考核"),
        [_("承办单位"), *[_(h) for h in SCORE_HEADERS]],
        note=_("按派单日期统计；退单按退单日期计入退单单位；回访按办结日期统计。"),
    )
    for row in selectors.scorecard_rows(filters):
        table.rows.append([row.name, *score_cells(row.card)])
    return table


def league_table(filters: Filters, *, by: str) -> Table:
    bureau = by == "bureau"
    table = Table(
        "league-bureaus" if bureau else "league-regions",
        _("承办单位月度排名") if bureau else _("地区月度排名"),
        [
            _("名次"),
            _("承办单位") if bureau else _("地区"),
            _("综合得分"),
            _("响应率（%）"),
            _("解决率（%）"),
            _("满意率（%）"),
            _("派单数"),
            _("超期"),
            _("回访率（%）"),
        ],
    )
    for row in selectors.league(filters, by=by):
        card = row.card
        table.rows.append(
            [
                row.rank,
                row.name,
                num(card.composite),
                pct(card.response_rate),
                pct(card.resolution_rate),
                pct(card.satisfaction_rate),
                card.dispatched,
                card.overdue,
                pct(card.followup_rate),
            ]
        )
    return table


def problems_table(filters: Filters, counts: selectors.ProblemCounts | None = None) -> Table:
    """问题工单: flagged and resolved in the period, open now and how many of those have an owner."""
    counts = counts or selectors.problem_counts(filters)
    table = Table("problems", _("问题工单"), [_("指标"), _("件数")])
    table.rows += [
        [_("本期标记"), counts.flagged],
        [_("其中：多次重办"), counts.reopened],
        [_("其中：多次退单改派"), counts.bureaus],
        [_("其中：督办后仍超期"), counts.supervised],
        [_("本期解除"), counts.resolved],
        [_("目前待协调"), counts.open],
        [_("其中已指派协调负责人"), counts.with_owner],
    ]
    return table


def hot_topics_table(filters: Filters, topics: list[selectors.HotTopics] | None = None) -> Table:
    topics = topics if topics is not None else selectors.hot_topics(filters)
    table = Table(
        "hot-topics",
        _("热点词"),
        [_("类别"), _("词语"), _("显著度（z）"), _("本期含该词诉求数"), _("前4期含该词诉求数")],
        note=_("对数几率比（信息先验）对比本期与前4期，数值越大越是本期特有。"),
    )
    for topic in topics:
        for term, z, current, baseline in topic.terms:
            table.rows.append([topic.category, term, num(z, 2), current, baseline])
    return table


TABLES: dict[str, Callable[..., Table]] = {
    "kpis": kpi_table,
    "ranking": ranking_table,
    "types": types_table,
    "trend": trend_table,
    "heatmap": heatmap_table,
    "rising": rising_table,
    "scorecard": scorecard_table,
    "problems": problems_table,
    "hot-topics": hot_topics_table,
}
LEAGUES = {"league-bureaus": "bureau", "league-regions": "region"}


def csv_response(table: Table, filename: str) -> HttpResponse:
    """UTF-8 with a byte-order mark so Excel opens the Chinese text correctly; no field can start a formula."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")
    writer = SafeCsvWriter(response)
    writer.writerow(table.headers)
    writer.writerows(table.rows)
    return response
