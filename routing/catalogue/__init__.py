"""The dispatch catalogue (派单目录): the whole routing configuration as a workbook operators edit.

* ``specs``  — every sheet and column, declared once (headers, parsers, natural keys);
* ``export`` — the catalogue as .xlsx or a zip of CSV files;
* ``reader`` — an upload (.xlsx, CSV zip, one CSV) read into raw sheets, with size and format checks;
* ``checks`` — cells parsed, references and overlaps checked, every error collected, the preview
  (added / changed / deactivated rows) computed against the database;
* ``apply``  — all-or-nothing write with history (who, when, why).

docs/catalogue.md documents the template for operators.
"""
