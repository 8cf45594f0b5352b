"""The Excel report (weekly, or for any range and filter), written with XlsxWriter in constant-memory mode.

- ``workbook``: texts in both languages, formats, page setup, safe text cells;
- ``summary``, ``volume`` (ranking + chart, rising, region × category), ``scorecard``,
  ``listings`` (overdue and re-opened, the raw sheet): one module per sheet family;
- ``build``: ``build_workbook``, the sheets in order.

Summary sheets read the rollup tables; only the two listing sheets read individual appeals
(``analytics.selectors.report_*_rows``). Headers come in Chinese or English by the requester's
language; names of categories, regions and bureaus follow the language through ``display_name``.
"""

from analytics.report.build import build_workbook
from analytics.report.summary import describe_filters
from analytics.report.workbook import Texts, is_english

__all__ = ["Texts", "build_workbook", "describe_filters", "is_english"]
