"""Reading an uploaded catalogue: an .xlsx workbook, a zip of CSV files, or one CSV file.

The format is recognised from the content, not the file name. Workbooks are read with openpyxl in
read-only mode; openpyxl parses their XML through defusedxml (installed with the runtime
dependencies), so entity-expansion and external-entity tricks are refused. A zip's members are
sized before anything is unpacked, so a small upload cannot expand into gigabytes.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass, field

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from routing.catalogue.specs import REFERENCE_SHEETS, SHEETS, SheetSpec, name_variants, normalise_name

# Unpacked size allowed per uploaded byte limit: XML compresses about tenfold.
_EXPANSION = 20


class UploadError(ValueError):
    """The upload cannot be read at all (not a workbook or CSV, too large, damaged)."""


@dataclass
class RawSheet:
    """A sheet as read: its header cells and its non-empty rows with their row numbers (header = 1)."""

    spec: SheetSpec
    title: str
    header: list[str]
    rows: list[tuple[int, list[object]]] = field(default_factory=list)


@dataclass
class RawCatalogue:
    sheets: dict[str, RawSheet]
    unknown_sheets: list[str]


def max_upload_bytes() -> int:
    return int(getattr(settings, "CATALOGUE_MAX_UPLOAD_BYTES", 5 * 1024 * 1024))


def check_size(size: int) -> None:
    limit = max_upload_bytes()
    if size > limit:
        raise UploadError(
            _("文件太大（%(size)s），派单目录最大 %(limit)s。")
            % {"size": filesizeformat(size), "limit": filesizeformat(limit)}
        )


def _not_a_catalogue() -> UploadError:
    return UploadError(_("无法读取：请上传 Excel 工作簿（.xlsx）、CSV 文件，或由导出得到的 CSV 压缩包（.zip）。"))


def spec_for_title(title: str) -> SheetSpec | None:
    wanted = normalise_name(title)
    return next((spec for spec in SHEETS if wanted in name_variants(spec.zh, spec.key)), None)


def _is_reference(title: str) -> bool:
    wanted = normalise_name(title)
    return any(wanted in name_variants(zh, key) for key, zh in REFERENCE_SHEETS)


def _spec_for_header(header: list[str]) -> SheetSpec | None:
    """A lone CSV file's sheet: the one whose key columns all appear in its header."""
    names = {normalise_name(str(cell or "")) for cell in header}
    best = None
    for spec in SHEETS:
        found = sum(1 for c in spec.columns if names & name_variants(c.zh, c.field))
        required = all(names & name_variants(c.zh, c.field) for c in spec.columns if c.required)
        if required and (best is None or found > best[0]):
            best = (found, spec)
    return best[1] if best else None


def read_catalogue(data: bytes) -> RawCatalogue:
    """Read an upload into sheets; raises ``UploadError`` with a message for the operator."""
    check_size(len(data))
    if data.startswith(b"PK\x03\x04"):
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
            members = archive.infolist()
        except zipfile.BadZipFile:
            raise _not_a_catalogue() from None
        if sum(m.file_size for m in members) > max_upload_bytes() * _EXPANSION:
            raise UploadError(_("压缩包解压后过大，无法读取。"))
        names = [m.filename for m in members]
        if "xl/workbook.xml" in names:
            return _read_workbook(data)
        csvs = [m for m in members if m.filename.lower().endswith(".csv") and not m.is_dir()]
        if not csvs:
            raise _not_a_catalogue()
        sheets: dict[str, RawSheet] = {}
        unknown: list[str] = []
        for member in csvs:
            title = member.filename.rsplit("/", 1)[-1][:-4]
            _add(sheets, unknown, title, _csv_rows(archive.read(member)))
        return RawCatalogue(sheets, unknown)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise UploadError(_("这是旧版 Excel（.xls）文件：请在 Excel 中另存为 .xlsx 后再上传。"))
    rows = _csv_rows(data)
    spec = _spec_for_header([str(c) for c in rows[0]]) if rows else None
    if spec is None:
        raise UploadError(_("无法识别这个 CSV 文件属于哪张表：请保留导出时的表头（第一行），或上传整个工作簿。"))
    sheets = {}
    _add(sheets, [], spec.key, rows)
    return RawCatalogue(sheets, [])


def _add(sheets: dict[str, RawSheet], unknown: list[str], title: str, rows: list[list[object]]) -> None:
    spec = spec_for_title(title)
    if spec is None:
        if not _is_reference(title):
            unknown.append(title)
        return
    header = [str(c).strip() if c is not None else "" for c in (rows[0] if rows else [])]
    body = [
        (number, list(row))
        for number, row in enumerate(rows[1:], start=2)
        if any(c is not None and str(c).strip() for c in row)
    ]
    sheets[spec.key] = RawSheet(spec, title, header, body)


def _csv_rows(data: bytes) -> list[list[object]]:
    if b"\x00" in data[:4096]:
        raise _not_a_catalogue()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            content = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise _not_a_catalogue()
    try:
        return [list(row) for row in csv.reader(io.StringIO(content, newline=""))]
    except csv.Error:
        raise _not_a_catalogue() from None


def _read_workbook(data: bytes) -> RawCatalogue:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds for damaged files; all mean "cannot read"
        raise UploadError(_("无法读取这个 Excel 工作簿：文件已损坏或不是 .xlsx 格式。")) from None
    sheets: dict[str, RawSheet] = {}
    unknown: list[str] = []
    try:
        for worksheet in workbook.worksheets:
            rows = [list(row) for row in worksheet.iter_rows(values_only=True)]
            _add(sheets, unknown, worksheet.title, rows)
    finally:
        workbook.close()
    return RawCatalogue(sheets, unknown)
