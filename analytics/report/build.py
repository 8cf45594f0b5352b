"""Building the whole workbook: the sheets in order, progress as they are written, the save."""

from __future__ import annotations

from typing import IO

from django.utils import translation

from analytics import selectors
from analytics.report.listings import overdue_sheet, raw_sheet
from analytics.report.policy import policy_sheet
from analytics.report.problems import problems_sheet
from analytics.report.scorecard import scorecard_sheet
from analytics.report.summary import summary_sheet
from analytics.report.volume import matrix_sheet, ranking_sheet, rising_sheet, types_sheet
from analytics.report.workbook import Progress, Writer
from analytics.selectors import Filters


def build_workbook(*, filters: Filters, language: str, out: str | IO[bytes], progress: Progress | None = None) -> int:
    """Write the report for ``filters`` to ``out`` (path or binary file). Returns the raw sheet's row count.

    ``progress(percent, step)`` is called as sheets are written (percent 0–100).
    """
    report_progress: Progress = progress or (lambda _p, _s: None)
    with translation.override(language), selectors.shared_labels():
        w = Writer(language, out)
        labels = {
            "category": selectors.category_labels(),
            "region": selectors.region_labels(),
            "bureau": selectors.bureau_labels(),
        }
        report_progress(2, "summary")
        summary_sheet(w, filters)
        report_progress(8, "ranking")
        ranking_sheet(w, filters)
        report_progress(11, "types")
        types_sheet(w, filters)
        report_progress(14, "rising")
        rising_sheet(w, filters)
        report_progress(20, "scorecard")
        scorecard_sheet(w, filters)
        report_progress(26, "matrix")
        matrix_sheet(w, filters)
        report_progress(30, "overdue")
        overdue_sheet(w, filters, labels)
        report_progress(33, "problems")
        problems_sheet(w, filters, labels)
        total = selectors.report_raw_rows(filters).count()
        report_progress(35, "raw")
        count = raw_sheet(w, filters, labels, report_progress, total)
        if filters.bureau_id is None:  # a bureau's own report is about its tickets, not the province's
            report_progress(96, "policy")
            policy_sheet(w, filters)
        report_progress(97, "save")
        w.close()
    report_progress(100, "done")
    return count
