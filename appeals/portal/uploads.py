"""Checking uploaded attachments by their content, not their name.

The type is sniffed from the file's first bytes with the ``filetype`` library. DOCX and XLSX are
ZIP archives, so a ZIP is opened and accepted only when its ``[Content_Types].xml`` declares the
OOXML main part of a Word document or an Excel workbook. Everything else (an executable renamed
``.pdf``, a legacy .doc, an arbitrary ZIP) is refused with a message that says what to do.
Used by the portal form and by the API.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# What the sniffed type becomes, and the extension the stored name gets.
ALLOWED = {PDF: ".pdf", JPEG: ".jpg", PNG: ".png", DOCX: ".docx", XLSX: ".xlsx"}
_OOXML_MAIN_PARTS = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": DOCX,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": XLSX,
}
# Zip bombs: [Content_Types].xml is a few KB in every real Office file.
_MAX_CONTENT_TYPES_BYTES = 1024 * 1024


@dataclass(frozen=True)
class CheckedFile:
    upload: UploadedFile
    content_type: str


def safe_name(name: str | None) -> str:
    """The file's base name without any path, control characters or surrounding whitespace."""
    base = os.path.basename((name or "").replace("\\", "/"))
    cleaned = "".join(ch for ch in base if ch.isprintable()).strip()
    return cleaned[:200] or "file"


def _ooxml_type(upload: UploadedFile) -> str | None:
    try:
        upload.seek(0)
        with zipfile.ZipFile(upload) as archive:
            info = archive.getinfo("[Content_Types].xml")
            if info.file_size > _MAX_CONTENT_TYPES_BYTES:
                return None
            content_types = archive.read(info).decode("utf-8", errors="replace")
    except (KeyError, zipfile.BadZipFile, OSError, ValueError, RuntimeError, NotImplementedError):
        return None
    finally:
        upload.seek(0)
    for part, mime in _OOXML_MAIN_PARTS.items():
        if part in content_types:
            return mime
    return None


def sniff(upload: UploadedFile) -> str | None:
    """The allowed MIME type of the upload's content, or None when it is not an allowed type."""
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    kind = filetype.guess(head)
    if kind is None:
        return None
    if kind.mime in (PDF, JPEG, PNG):
        return kind.mime
    if kind.mime in ("application/zip", DOCX, XLSX):
        return _ooxml_type(upload)
    return None


def check_upload(upload: UploadedFile) -> CheckedFile:
    """Validate one upload's size and content type; the upload's name and type are made safe."""
    name = safe_name(upload.name)
    max_bytes = settings.ATTACHMENT_MAX_BYTES
    if not upload.size:
        raise ValidationError(_("文件“%(name)s”是空的，请重新选择。") % {"name": name}, code="empty")
    if upload.size > max_bytes:
        raise ValidationError(
            _("文件“%(name)s”有%(size)s，超过了%(max)s的上限。请压缩或拆分后再上传。")
            % {"name": name, "size": filesizeformat(upload.size), "max": filesizeformat(max_bytes)},
            code="too_large",
        )
    mime = sniff(upload)
    if mime is None:
        raise ValidationError(
            _(
                "文件“%(name)s”的内容不是PDF、JPG、PNG、Word（.docx）或Excel（.xlsx）文件，不能上传。"
                "如果是照片或扫描件，请另存为JPG或PDF后再选择。"
            )
            % {"name": name},
            code="file_type",
        )
    # The stored name keeps what the user called it, but its extension follows the real content.
    stem, _ext = os.path.splitext(name)
    upload.name = f"{stem or 'file'}{ALLOWED[mime]}"
    upload.content_type = mime
    return CheckedFile(upload=upload, content_type=mime)


def check_uploads(uploads: Sequence[UploadedFile]) -> list[UploadedFile]:
    """Validate a list of uploads: the count, then each file; all problems are reported together."""
    max_files = settings.ATTACHMENT_MAX_FILES
    uploads = [u for u in uploads if u is not None]
    if len(uploads) > max_files:
        raise ValidationError(
            _("最多上传%(max)d个文件，您选择了%(count)d个。请合并或删减后重新选择。")
            % {"max": max_files, "count": len(uploads)},
            code="too_many",
        )
    errors: list[ValidationError] = []
    checked: list[UploadedFile] = []
    for upload in uploads:
        try:
            checked.append(check_upload(upload).upload)
        except ValidationError as exc:
            errors.append(exc)
    if errors:
        raise ValidationError(errors)
    return checked
