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
from typing import Any

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest
from django.http.multipartparser import MultiPartParser
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
# Parts and content types that mean the document can run code (Word/Excel macros, ActiveX).
_MACRO_PARTS = frozenset({"vbaproject.bin", "vbadata.xml", "vbaprojectsignature.bin"})
_MACRO_CONTENT_TYPES = ("macroenabled", "vnd.ms-office.vbaproject", "vnd.ms-office.activex")
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


class MacroFound(Exception):
    """The OOXML package carries macros (VBA) or is declared macro-enabled."""


def _has_macros(names: list[str], content_types: str) -> bool:
    # By the parts themselves, whatever [Content_Types].xml says: a .docm renamed .docx and given
    # an extra override still holds vbaProject.bin (or vbaData.xml, or an ActiveX binary).
    lowered = [name.replace("\\", "/").lower() for name in names]
    if any(name.rsplit("/", 1)[-1] in _MACRO_PARTS or "/activex/" in f"/{name}" for name in lowered):
        return True
    declared = content_types.lower()
    return any(marker in declared for marker in _MACRO_CONTENT_TYPES)


def _ooxml_type(upload: UploadedFile) -> str | None:
    try:
        upload.seek(0)
        with zipfile.ZipFile(upload) as archive:
            info = archive.getinfo("[Content_Types].xml")
            if info.file_size > _MAX_CONTENT_TYPES_BYTES:
                return None
            content_types = archive.read(info).decode("utf-8", errors="replace")
            names = archive.namelist()
    except (KeyError, zipfile.BadZipFile, OSError, ValueError, RuntimeError, NotImplementedError):
        return None
    finally:
        upload.seek(0)
    if _has_macros(names, content_types):
        raise MacroFound
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
    if upload.name == BAD_NAME_PLACEHOLDER:
        raise ValidationError(
            _("有一个文件的文件名无法使用（为空、只有“.”或“..”，或只含控制字符）。请把文件改成普通的名字后重新选择。"),
            code="file_name",
        )
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
    try:
        mime = sniff(upload)
    except MacroFound:
        raise ValidationError(
            _(
                "文件“%(name)s”含有宏或控件代码，为安全起见不能上传。"
                "请在Word或Excel中另存为不含宏的.docx或.xlsx（或PDF）后再选择。"
            )
            % {"name": name},
            code="macro",
        ) from None
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


# --- File names the request parser would drop -------------------------------------------------------


class NameKeepingMultiPartParser(MultiPartParser):
    """Django's parser, but a file whose name sanitises to nothing ("..", empty, only control
    characters) is kept under a placeholder name and reported, instead of silently disappearing."""

    def sanitize_file_name(self, file_name: str) -> str | None:
        cleaned = super().sanitize_file_name(file_name)
        if cleaned is None and file_name is not None:
            return BAD_NAME_PLACEHOLDER
        return cleaned


# Stands in for an unusable name until the form reports it; contains no character a user's own file name keeps.
BAD_NAME_PLACEHOLDER = "invalid-file-name.\u2400"


def keep_bad_file_names(request: HttpRequest) -> None:
    """Parse this request's multipart body with ``NameKeepingMultiPartParser`` (call before request.POST)."""

    def parse_file_upload(META: Any, post_data: Any) -> Any:
        return NameKeepingMultiPartParser(META, post_data, request.upload_handlers, request.encoding).parse()

    request.parse_file_upload = parse_file_upload  # type: ignore[method-assign]


class BadFileNamesMiddleware:
    """Report, never drop, uploaded files with unusable names (portal forms and the API).

    Sits before CsrfViewMiddleware, which is the first to read ``request.POST``.
    """

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        if request.method == "POST" and request.content_type == "multipart/form-data":
            keep_bad_file_names(request)
        return self.get_response(request)
