"""Rollup tables, the per-appeal fact table behind them, and stored reports.

Analytics never writes to appeals. ``AppealFact`` holds one derived row per appeal (the numbers a
metric needs, recomputed from the appeal, its ratings and its audit events); the daily rollups are
sums over those facts and are the only tables the dashboard and the report summaries query.
``analytics.rollups`` keeps all three up to date from the audit events (cursor on the event id).
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class RollupCursor(models.Model):
    """How far the incremental rollup has read the audit trail (one row per named stream)."""

    name = models.CharField(max_length=40, primary_key=True)
    last_event_id = models.BigIntegerField(default=0)
    # Open appeals whose reply deadline passed before this instant have had their overdue flag set.
    overdue_checked_until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("汇总进度")
        verbose_name_plural = _("汇总进度")

    def __str__(self) -> str:
        return f"{self.name}@{self.last_event_id}"


class AppealFact(models.Model):
    """Everything the metrics need to know about one appeal, derived; rebuilt whenever it changes."""

    appeal_id = models.BigIntegerField(primary_key=True)
    day = models.DateField(db_index=True)  # local (Asia/Shanghai) date of submission
    category_id = models.BigIntegerField()
    region_id = models.BigIntegerField()
    industry = models.CharField(max_length=1)
    size = models.CharField(max_length=10)
    channel = models.CharField(max_length=10)
    appeal_type = models.CharField(max_length=20, blank=True, default="")  # "" on untyped legacy rows
    state = models.CharField(max_length=20)
    # Excluded from volume (category) counts: merged duplicates and rejected (不予受理) appeals.
    counted = models.BooleanField(default=True)
    bureau_id = models.BigIntegerField(null=True)
    dispatch_day = models.DateField(null=True, db_index=True)  # local date of the latest dispatch
    signed_on_time = models.BooleanField(default=False)
    responded = models.BooleanField(default=False)
    overdue = models.BooleanField(default=False)
    sign_minutes = models.IntegerField(null=True)
    reply_minutes = models.IntegerField(null=True)
    reopen_count = models.IntegerField(default=0)
    # Counted ratings of this appeal (see docs/metrics.md): totals and weighted numerators.
    ratings = models.IntegerField(default=0)
    resolved = models.IntegerField(default=0)
    satisfied = models.IntegerField(default=0)  # 满意 + 非常满意
    basic = models.IntegerField(default=0)  # 基本满意
    # Distinct segmented terms of title + description (for hot topics).
    terms = models.JSONField(default=list)

    class Meta:
        indexes = [models.Index(fields=["bureau_id", "dispatch_day"], name="fact_bureau_day")]

    def __str__(self) -> str:
        return f"fact {self.appeal_id}"


class ReturnFact(models.Model):
    """One return (退单) of an appeal by a bureau, on the local day it happened."""

    appeal_id = models.BigIntegerField(db_index=True)
    bureau_id = models.BigIntegerField()
    region_id = models.BigIntegerField()
    day = models.DateField(db_index=True)

    def __str__(self) -> str:
        return f"return {self.appeal_id} by {self.bureau_id}"


class DailyVolume(models.Model):
    """Appeals submitted per day × category × region × industry × size × channel × appeal type × bureau."""

    day = models.DateField()
    category_id = models.BigIntegerField()
    region_id = models.BigIntegerField()
    industry = models.CharField(max_length=1)
    size = models.CharField(max_length=10)
    channel = models.CharField(max_length=10)
    appeal_type = models.CharField(max_length=20, blank=True, default="")
    bureau_id = models.BigIntegerField(default=0)  # 0: not (yet) dispatched
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "category_id", "region_id", "industry", "size", "channel", "appeal_type", "bureau_id"],
                name="volume_cell_unique_with_type",
            )
        ]
        indexes = [
            models.Index(fields=["day", "category_id"], name="volume_day_category"),
            models.Index(fields=["day", "appeal_type"], name="volume_day_type"),
        ]

    def __str__(self) -> str:
        return f"{self.day} c{self.category_id} r{self.region_id}: {self.count}"


class DailyCategoryVolume(models.Model):
    """Appeals submitted per day × category × appeal type: DailyVolume without the other dimensions.

    At a province's volume DailyVolume has nearly one row per appeal (its eight dimensions rarely
    repeat within a day); the ranking, its trend, the breakdown by type and the KPI totals of an
    unfiltered page need only these three, a few hundred rows a day. Rewritten with DailyVolume.
    """

    day = models.DateField()
    category_id = models.BigIntegerField()
    appeal_type = models.CharField(max_length=20, blank=True, default="")
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "category_id", "appeal_type"], name="category_volume_unique")
        ]

    def __str__(self) -> str:
        return f"{self.day} c{self.category_id} {self.appeal_type or '-'}: {self.count}"


class DailyCategoryRegionVolume(models.Model):
    """Appeals submitted per day × category × region: DailyVolume without industry, size, channel, type and bureau.

    What the heat map and the rising-category test read when no filter other than the period and
    the region is set (at 10 M appeals a sixth of DailyVolume's rows). Rewritten with DailyVolume.
    """

    day = models.DateField()
    category_id = models.BigIntegerField()
    region_id = models.BigIntegerField()
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "category_id", "region_id"], name="category_region_volume_unique")
        ]

    def __str__(self) -> str:
        return f"{self.day} c{self.category_id} r{self.region_id}: {self.count}"


class ScorecardCell(models.Model):
    """Scorecard components of one cell (bureau × appeal region) over a day or a month."""

    bureau_id = models.BigIntegerField()
    region_id = models.BigIntegerField()
    dispatched = models.IntegerField(default=0)
    signed_on_time = models.IntegerField(default=0)
    responded = models.IntegerField(default=0)
    overdue = models.IntegerField(default=0)
    returns = models.IntegerField(default=0)
    rehandles = models.IntegerField(default=0)
    ratings = models.IntegerField(default=0)
    resolved = models.IntegerField(default=0)
    satisfied = models.IntegerField(default=0)
    basic = models.IntegerField(default=0)
    # Duration histograms in whole minutes, stored cumulatively (analytics.histograms) so exact
    # medians and p90s over many rows need a binary search per row, not a merge of every entry.
    sign_minutes = models.BinaryField(default=bytes)
    reply_minutes = models.BinaryField(default=bytes)

    class Meta:
        abstract = True


class DailyScorecard(ScorecardCell):
    """Scorecard components per dispatch day × bureau × appeal region (returns: per return day)."""

    day = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "bureau_id", "region_id"], name="scorecard_cell_unique")]
        indexes = [models.Index(fields=["day", "bureau_id"], name="scorecard_day_bureau")]

    def __str__(self) -> str:
        return f"{self.day} b{self.bureau_id} r{self.region_id}"


class MonthlyScorecard(ScorecardCell):
    """The DailyScorecard rows of one calendar month summed per bureau × region (``month``: its 1st day).

    Maintained with the days (``analytics.rollups.recompute_scorecard_days``); long periods read
    whole months from here and only the ragged edges from the daily table.
    """

    month = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["month", "bureau_id", "region_id"], name="monthly_scorecard_cell_unique")
        ]
        indexes = [models.Index(fields=["month", "bureau_id"], name="scorecard_month_bureau")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} b{self.bureau_id} r{self.region_id}"


# ``bureau_id`` / ``region_id`` value of a scorecard total row meaning "every bureau" / "every region".
ALL = 0


class DailyScorecardTotal(ScorecardCell):
    """DailyScorecard rows of one day summed over a dimension, so unfiltered pages read few rows.

    Three kinds of row per day: per bureau over every appeal region (``region_id`` = ``ALL``), per
    appeal region over every bureau (``bureau_id`` = ``ALL``) and the day's total (both ``ALL``).
    Rewritten with the day's cells (``analytics.rollups.recompute_scorecard_days``).
    """

    day = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "bureau_id", "region_id"], name="scorecard_total_unique")]

    def __str__(self) -> str:
        return f"{self.day} total b{self.bureau_id or '*'} r{self.region_id or '*'}"


class MonthlyScorecardTotal(ScorecardCell):
    """The DailyScorecardTotal rows of one calendar month summed (``month``: its first day)."""

    month = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["month", "bureau_id", "region_id"], name="monthly_scorecard_total_unique")
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} total b{self.bureau_id or '*'} r{self.region_id or '*'}"


class DailyTerm(models.Model):
    """How many appeals of a category submitted on a day contain a term (document frequency)."""

    day = models.DateField()
    category_id = models.BigIntegerField()
    term = models.CharField(max_length=40)
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "category_id", "term"], name="term_cell_unique")]
        indexes = [models.Index(fields=["category_id", "day"], name="term_category_day")]

    def __str__(self) -> str:
        return f"{self.day} c{self.category_id} {self.term}: {self.count}"


def report_path(instance: Report, filename: str) -> str:
    return f"reports/{instance.period_start:%Y}/{filename}"


class Report(models.Model):
    """A generated Excel report: the automatic weekly one or one requested for a range and filter."""

    class Kind(models.TextChoices):
        WEEKLY = "weekly", _("每周自动")
        ON_DEMAND = "on_demand", _("按需生成")

    class Status(models.TextChoices):
        PENDING = "pending", _("排队中")
        RUNNING = "running", _("生成中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices, default=Kind.ON_DEMAND)
    title = models.CharField(_("标题"), max_length=200)
    period_start = models.DateField(_("开始日期"))
    period_end = models.DateField(_("结束日期"))  # inclusive
    filters = models.JSONField(_("筛选条件"), default=dict, blank=True)
    language = models.CharField(_("语言"), max_length=10, default="zh-hans")
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(_("进度"), default=0)
    progress_note = models.CharField(_("进度说明"), max_length=200, blank=True)
    error = models.TextField(_("错误信息"), blank=True)
    file = models.FileField(_("文件"), upload_to=report_path, blank=True)
    size_bytes = models.PositiveBigIntegerField(_("文件大小"), default=0)
    appeal_count = models.PositiveIntegerField(_("诉求数"), default=0)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("统计报表")
        verbose_name_plural = _("统计报表")
        permissions = [("view_analytics", _("查看统计分析与周报"))]
        constraints = [
            # The weekly job is idempotent: one automatic report per period and language.
            models.UniqueConstraint(
                fields=["period_start", "period_end", "language"],
                condition=models.Q(kind="weekly"),
                name="report_one_weekly_per_period",
            )
        ]

    def __str__(self) -> str:
        return self.display_title

    @property
    def display_title(self) -> str:
        """The title in the reader's language: ``title`` is stored in the language the report was made
        in (the workbook's), but the archive is read in either."""
        return report_title(self.period_start, self.period_end)

    @property
    def filename(self) -> str:
        return f"huying-report-{self.period_start:%Y%m%d}-{self.period_end:%Y%m%d}.xlsx"


def report_title(start: date, end: date) -> str:
    """The report title for a period, in the active language."""
    return gettext("呼应诉求统计报表 %(start)s 至 %(end)s") % {"start": f"{start:%Y-%m-%d}", "end": f"{end:%Y-%m-%d}"}
