"""The catalogue in the admin: export buttons, upload → preview → apply.

The uploaded file is kept in the default storage under a random name (the session remembers the
name and the file's SHA-256), so "apply" re-reads and re-checks exactly the content that was
previewed, and nothing of it lives in the session itself. Importing needs the change permission on
every catalogue model (or a superuser); exporting needs the view permission.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from routing.catalogue.apply import CatalogueRejected, catalogue_apply
from routing.catalogue.checks import CheckedCatalogue, check_catalogue, group_errors
from routing.catalogue.export import export_csv_zip, export_xlsx
from routing.catalogue.reader import UploadError, check_size, max_upload_bytes, read_catalogue
from routing.catalogue.specs import SHEETS

_SESSION_KEY = "routing_catalogue_upload"
_UPLOAD_DIR = "catalogue-uploads"


def can_import(user: Any) -> bool:
    return (
        user.is_active
        and user.is_staff
        and (user.is_superuser or user.has_perms([f"routing.change_{spec.model._meta.model_name}" for spec in SHEETS]))
    )


def can_export(user: Any) -> bool:
    return (
        user.is_active
        and user.is_staff
        and (user.is_superuser or user.has_perms([f"routing.view_{spec.model._meta.model_name}" for spec in SHEETS]))
    )


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("派单目录文件"),
        help_text=gettext_lazy("Excel 工作簿（.xlsx）、导出的 CSV 压缩包（.zip）或单个 CSV 文件。"),
    )


def export_view(request: HttpRequest) -> HttpResponse:
    if not can_export(request.user):
        raise PermissionDenied
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    if request.GET.get("format") == "csv":
        response = HttpResponse(export_csv_zip(), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="catalogue-{stamp}.zip"'
    else:
        response = HttpResponse(
            export_xlsx(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        response["Content-Disposition"] = f'attachment; filename="catalogue-{stamp}.xlsx"'
    return response


def _forget_upload(request: HttpRequest) -> None:
    stored = request.session.pop(_SESSION_KEY, None)
    if stored and default_storage.exists(stored["name"]):
        default_storage.delete(stored["name"])


def _stored_upload(request: HttpRequest) -> tuple[bytes, str] | None:
    stored = request.session.get(_SESSION_KEY)
    if not stored or not default_storage.exists(stored["name"]):
        return None
    with default_storage.open(stored["name"], "rb") as handle:
        data = handle.read()
    if hashlib.sha256(data).hexdigest() != stored["sha256"]:
        return None
    return data, stored["filename"]


def _context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    return {
        **admin.site.each_context(request),
        "title": _("派单目录导入导出"),
        "max_upload": max_upload_bytes(),
        "sheets": SHEETS,
        **extra,
    }


def _preview_context(checked: CheckedCatalogue, filename: str) -> dict[str, Any]:
    return {
        "checked": checked,
        "filename": filename,
        "error_groups": group_errors(checked.errors),
        "counts": checked.preview.counts(),
    }


def catalogue_view(request: HttpRequest) -> HttpResponse:
    """GET: the upload form and export links. POST: read and check the upload, show the preview."""
    if not can_import(request.user):
        raise PermissionDenied
    form = UploadForm()
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                check_size(upload.size)
                data = upload.read()
                raw = read_catalogue(data)
            except UploadError as exc:
                form.add_error("file", str(exc))
            else:
                _forget_upload(request)
                checked = check_catalogue(raw)
                name = default_storage.save(f"{_UPLOAD_DIR}/{secrets.token_hex(16)}.upload", ContentFile(data))
                request.session[_SESSION_KEY] = {
                    "name": name,
                    "filename": upload.name[:200],
                    "sha256": hashlib.sha256(data).hexdigest(),
                }
                return TemplateResponse(
                    request,
                    "admin/routing/catalogue.html",
                    _context(request, form=UploadForm(), **_preview_context(checked, upload.name)),
                )
    return TemplateResponse(request, "admin/routing/catalogue.html", _context(request, form=form))


def catalogue_apply_view(request: HttpRequest) -> HttpResponse:
    """POST: apply the previewed upload (checked again, all or nothing)."""
    if not can_import(request.user):
        raise PermissionDenied
    if request.method != "POST":
        return redirect("admin:routing_catalogue")
    stored = _stored_upload(request)
    if stored is None:
        messages.error(request, _("找不到要导入的文件（可能已导入或已过期），请重新上传。"))
        return redirect("admin:routing_catalogue")
    data, filename = stored
    try:
        result = catalogue_apply(raw=read_catalogue(data), user=request.user, filename=filename)
    except (UploadError, CatalogueRejected) as exc:
        if isinstance(exc, UploadError):
            messages.error(request, str(exc))
            return redirect("admin:routing_catalogue")
        messages.error(request, _("导入有错误，未做任何修改。"))
        return TemplateResponse(
            request,
            "admin/routing/catalogue.html",
            _context(request, form=UploadForm(), **_preview_context(exc.checked, filename)),
        )
    _forget_upload(request)
    messages.success(
        request,
        _("派单目录已导入：新增 %(added)d 行，修改 %(changed)d 行，停用 %(removed)d 行。")
        % {"added": result.added, "changed": result.changed, "removed": result.removed},
    )
    return redirect("admin:routing_catalogue")
