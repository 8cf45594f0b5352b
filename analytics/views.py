"""Dashboard, CSV downloads and the report archive.

Who sees what: holders of ``analytics.view_analytics`` (managers, admins) see everything. Bureau
leads (``appeals.lead_bureau``) see every chart and table restricted to their own bureau, plus the
monthly league tables of all bureaus and regions; their reports are always scoped to their
bureau. Everyone else gets 403.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from analytics import dashboard as dashboard_sections
from analytics import services, tables
from analytics.forms import FilterForm, ReportRequestForm
from analytics.models import Report
from analytics.selectors import Filters


@dataclass
class Scope:
    """``bureau_id`` None: everything; otherwise a bureau lead's own bureau."""

    bureau_id: int | None
    bureau_name: str = ""

    @property
    def full(self) -> bool:
        return self.bureau_id is None


def analytics_scope(user) -> Scope:
    if user.has_perm("analytics.view_analytics"):
        return Scope(None)
    if user.has_perm("appeals.lead_bureau"):
        profile = getattr(user, "staff_profile", None)
        if profile is not None and profile.bureau_id is not None:
            return Scope(profile.bureau_id, profile.bureau.display_name)
    raise PermissionDenied(_("统计分析只对管理者和承办单位负责人开放。如需查看，请联系系统管理员开通权限。"))


def _filters(request: HttpRequest, scope: Scope) -> tuple[FilterForm, Filters | None]:
    form = FilterForm(request.GET or None)
    if not request.GET:
        form = FilterForm({})
    if not form.is_valid():
        return form, None
    return form, form.to_filters(bureau_id=scope.bureau_id)


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    scope = analytics_scope(request.user)
    form, filters = _filters(request, scope)
    query = request.GET.urlencode()
    context: dict[str, object] = {"form": form, "scope": scope, "query": query}
    if filters is None:
        return render(request, "analytics/dashboard.html", context, status=400)
    context["fresh_as_of"] = dashboard_sections.fresh_as_of()
    context["sections"] = mark_safe(dashboard_sections.sections_html(filters, scope, query))  # noqa: S308
    return render(request, "analytics/dashboard.html", context)


@login_required
@require_GET
def table_csv(request: HttpRequest, name: str) -> HttpResponse:
    scope = analytics_scope(request.user)
    form, filters = _filters(request, scope)
    if filters is None:
        message = " ".join(
            f"{form[name].label}：{error}" if name in form.fields else str(error)
            for name, errors in form.errors.items()
            for error in errors
        )
        return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
    if name in tables.LEAGUES:
        table = tables.league_table(tables.month_filters(filters.end), by=tables.LEAGUES[name])
    elif name in tables.TABLES:
        if name == "hot-topics" and not scope.full:
            raise PermissionDenied(_("热点词涵盖所有单位的诉求，只对管理者开放。"))
        table = tables.TABLES[name](filters)
    else:
        raise Http404(_("没有这个表格。"))
    return tables.csv_response(table, f"huying-{name}-{filters.start:%Y%m%d}-{filters.end:%Y%m%d}.csv")


def _reports_for(scope: Scope):
    reports = Report.objects.select_related("requested_by")
    if scope.full:
        return reports
    return reports.filter(filters__bureau_id=scope.bureau_id)


@login_required
@require_http_methods(["GET", "POST"])
def reports(request: HttpRequest) -> HttpResponse:
    scope = analytics_scope(request.user)
    if request.method == "POST":
        form = ReportRequestForm(request.POST)
        if form.is_valid():
            try:
                report = services.report_request(
                    user=request.user,
                    filters=form.to_filters(bureau_id=scope.bureau_id),
                    language=form.cleaned_data["language"],
                )
            except ValueError as exc:
                form.add_error(None, str(exc))
            else:
                return redirect("analytics:report-detail", report.pk)
        status = 400
    else:
        form = ReportRequestForm(initial={"language": "en" if (get_language() or "").startswith("en") else "zh-hans"})
        status = 200
    return render(
        request,
        "analytics/reports.html",
        {"form": form, "scope": scope, "reports": _reports_for(scope)[:100]},
        status=status,
    )


def _report_for(request: HttpRequest, pk: int) -> Report:
    scope = analytics_scope(request.user)
    # An id past the database's integer range cannot exist (and would make the query fail).
    report = _reports_for(scope).filter(pk=pk).first() if pk < 2**63 else None
    if report is None:
        raise Http404(_("找不到这份报表，或您没有权限查看。"))
    return report


# The steps ``build_workbook`` reports (``Report.progress_note``), as the page names them.
REPORT_STEPS = {
    "summary": gettext_lazy("摘要"),
    "ranking": gettext_lazy("类别排行"),
    "types": gettext_lazy("按诉求类型"),
    "rising": gettext_lazy("上升类别"),
    "scorecard": gettext_lazy("单位考核"),
    "matrix": gettext_lazy("地区×类别"),
    "overdue": gettext_lazy("超期与重办"),
    "policy": gettext_lazy("政策层面待解决的问题"),
    "raw": gettext_lazy("诉求明细"),
    "save": gettext_lazy("保存文件"),
}
# Without JavaScript the report page reloads itself this often while the report is not finished.
REFRESH_SECONDS = 10


def _status_text(report: Report) -> str:
    """One line for the status region: queue position, percentage and the sheet being written."""
    if report.status == Report.Status.PENDING:
        ahead = Report.objects.filter(
            status__in=[Report.Status.PENDING, Report.Status.RUNNING], created_at__lt=report.created_at
        ).count()
        if ahead:
            return _("排队中：前面还有 %(n)d 份报表，轮到后开始生成。") % {"n": ahead}
        return _("排队中：即将开始生成。")
    if report.status == Report.Status.RUNNING:
        step = REPORT_STEPS.get(report.progress_note)
        if step:
            return _("生成中 · %(percent)d%% · 正在写“%(step)s”") % {"percent": report.progress, "step": step}
        return _("生成中 · %(percent)d%%") % {"percent": report.progress}
    if report.status == Report.Status.DONE:
        return _("已完成 · 100%")
    return _("生成失败")


@login_required
@require_GET
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = _report_for(request, pk)
    return render(
        request,
        "analytics/report_detail.html",
        {
            "report": report,
            "filters_text": _filters_text(report),
            "progress_url": reverse("analytics:report-progress", args=[pk]),
            "status_text": _status_text(report),
            "finished": report.status in (Report.Status.DONE, Report.Status.FAILED),
            "refresh_seconds": REFRESH_SECONDS,
        },
    )


def _filters_text(report: Report) -> str:
    from analytics import report as workbook

    return workbook.describe_filters(services.report_filters(report), workbook.Texts(get_language() or "zh-hans"))


@login_required
@require_GET
def report_progress(request: HttpRequest, pk: int) -> JsonResponse:
    report = _report_for(request, pk)
    ready = report.status == Report.Status.DONE and bool(report.file)
    return JsonResponse(
        {
            "status": report.status,
            "status_label": report.get_status_display(),
            "status_text": _status_text(report),
            "progress": report.progress,
            "error": report.error if report.status == Report.Status.FAILED else "",
            "download_url": reverse("analytics:report-download", args=[pk]) if ready else "",
        }
    )


@login_required
@require_GET
def report_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    report = _report_for(request, pk)
    if report.status != Report.Status.DONE or not report.file:
        # A bookmarked or shared link to a report still being written: its progress page, not a 404.
        messages.info(request, _("报表还没有生成完成。完成后，本页会出现“下载 Excel”按钮。"))
        return redirect("analytics:report-detail", report.pk)
    return FileResponse(
        report.file.open("rb"),
        as_attachment=True,
        filename=report.filename,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
