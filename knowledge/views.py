"""Knowledge base pages: public browsing and search, form suggestions, and the staff editor."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from appeals.console.common import forbidden, page_range, staff_required
from appeals.portal import limits
from knowledge import selectors, services
from knowledge.forms import ArticleForm, PublicSearchForm, PublishForm, ReasonForm, SuggestForm
from knowledge.models import ArticleState
from knowledge.services import KnowledgeError, NotAllowed
from knowledge.text import personal_data_left
from routing.models import Region

# --- Public -----------------------------------------------------------------------------------------


@require_GET
def article_list(request: HttpRequest) -> HttpResponse:
    """Browse and search the published answers (no login)."""
    form = PublicSearchForm(request.GET or None)
    query, category_id, region = "", None, None
    if form.is_bound and form.is_valid():
        query = form.cleaned_data["q"] or ""
        category_id = form.cleaned_data["category"].pk if form.cleaned_data["category"] else None
        region = form.cleaned_data["region"]
    articles = selectors.public_articles(query=query, category_id=category_id, region=region)
    page = Paginator(articles, 20).get_page(request.GET.get("page"))
    return render(
        request,
        "knowledge/list.html",
        {
            "form": form,
            "page": page,
            "pages": page_range(page),
            "query": query,
            "language": get_language() or "",
            "query_string": _without_page(request),
            "nav": "knowledge",
        },
    )


def _without_page(request: HttpRequest) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


@require_GET
def article_detail(request: HttpRequest, article_id: int) -> HttpResponse:
    article = selectors.public_article(article_id=article_id)
    if article is None:
        raise Http404(_("没有找到这条政策问答，它可能已经失效。"))
    question, answer = article.localized(get_language() or "")
    return render(
        request,
        "knowledge/detail.html",
        {
            "article": article,
            "question": question,
            "answer": answer,
            "is_translation": question != article.question,
            "nav": "knowledge",
        },
    )


@require_POST
def suggest(request: HttpRequest) -> JsonResponse:
    """Up to three published answers for what the business is typing (called by the form's script)."""
    wait = limits.wait_seconds(request, name="knowledge_suggest")
    if wait:
        return JsonResponse({"suggestions": [], "error": limits.message(wait)}, status=429)
    form = SuggestForm(request.POST)
    if not form.is_valid():
        return JsonResponse({"suggestions": [], "error": _("请求格式不正确。")}, status=400)
    data = form.cleaned_data
    region = Region.objects.filter(pk=data["region"]).select_related("parent").first() if data["region"] else None
    text = f"{data['title']} {data['description']}"
    found = selectors.suggestions_for(text=text, category_id=data["category"], region=region)
    if found and data["token"]:
        services.suggestion_record(
            token=str(data["token"]), shown=[s.article.pk for s in found], category_id=data["category"]
        )
    language = get_language() or ""
    items = []
    for suggestion in found:
        question, answer = suggestion.article.localized(language)
        items.append(
            {
                "id": suggestion.article.pk,
                "question": question,
                "answer": answer[:400] + ("…" if len(answer) > 400 else ""),
                "url": reverse("knowledge:detail", args=[suggestion.article.pk]),
                "category": suggestion.article.category.display_name,
            }
        )
    return JsonResponse({"suggestions": items})


@require_POST
def suggestion_event(request: HttpRequest) -> HttpResponse:
    """The form's script reports that an answer was opened, or that the form was sent."""
    token = request.POST.get("token", "")
    kind = request.POST.get("kind", "")
    if kind == "opened":
        try:
            article_id = int(request.POST.get("article", ""))
        except ValueError:
            return JsonResponse({"error": _("请求格式不正确。")}, status=400)
        services.suggestion_opened(token=token, article_id=article_id)
    elif kind == "filed":
        services.suggestion_filed(token=token)
    else:
        return JsonResponse({"error": _("请求格式不正确。")}, status=400)
    return HttpResponse(status=204)


# --- Staff ------------------------------------------------------------------------------------------

WRITERS = ("appeals.handle_appeal",)


@staff_required(*WRITERS)
def staff_list(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    if state and state not in ArticleState.values:
        state = ""
    articles = selectors.staff_articles(user=request.user, state=state)
    page = Paginator(articles, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "knowledge/staff_list.html",
        {
            "page": page,
            "pages": page_range(page),
            "query_string": _without_page(request),
            "state": state,
            "states": ArticleState.choices,
            "review_count": selectors.review_queue_count(user=request.user),
            "can_review": request.user.has_perm("appeals.review_appeal") or request.user.is_superuser,
        },
    )


@staff_required(*WRITERS)
@require_http_methods(["GET", "POST"])
def staff_create(request: HttpRequest) -> HttpResponse:
    bureau_id = getattr(getattr(request.user, "staff_profile", None), "bureau_id", None)
    if bureau_id is None:
        return forbidden(request, _("您的账号没有所属单位，不能撰写政策问答。"))
    form = ArticleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            article = services.article_create(user=request.user, bureau_id=bureau_id, data=form.cleaned_data)
        except NotAllowed as exc:
            return forbidden(request, exc.message)
        messages.success(request, _("已保存为草稿。写好后请提交负责人审核。"))
        return redirect("knowledge:staff_edit", article.pk)
    return render(request, "knowledge/staff_edit.html", {"form": form, "article": None})


@staff_required(*WRITERS)
@require_http_methods(["GET", "POST"])
def staff_edit(request: HttpRequest, article_id: int) -> HttpResponse:
    article = selectors.staff_article(user=request.user, article_id=article_id)
    if article is None:
        raise Http404(_("没有找到这条政策问答。"))
    form = ArticleForm(request.POST or None, instance=article)
    # ModelForm's is_valid writes into the instance; the service works on a fresh locked row.
    if request.method == "POST" and form.is_valid():
        try:
            services.article_update(user=request.user, article_id=article.pk, data=form.cleaned_data)
        except KnowledgeError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("修改已保存。"))
        return redirect("knowledge:staff_edit", article.pk)
    can_review = services.can_review(request.user, bureau_id=article.bureau_id)
    return render(
        request,
        "knowledge/staff_edit.html",
        {
            "form": form,
            "article": article,
            "can_review": can_review,
            "publish_form": PublishForm(),
            "reason_form": ReasonForm(),
            "left": personal_data_left(" ".join([article.question, article.answer])),
        },
    )


@staff_required(*WRITERS)
@require_POST
def staff_action(request: HttpRequest, article_id: int, action: str) -> HttpResponse:
    """Submit for review, publish, send back or retire (one service each)."""
    article = selectors.staff_article(user=request.user, article_id=article_id)
    if article is None:
        raise Http404(_("没有找到这条政策问答。"))
    try:
        if action == "submit":
            services.article_submit(user=request.user, article_id=article.pk)
            messages.success(request, _("已提交负责人审核。"))
        elif action == "publish":
            form = PublishForm(request.POST)
            form.is_valid()
            services.article_publish(
                user=request.user,
                article_id=article.pk,
                confirmed=bool(form.cleaned_data.get("confirmed")),
                public_details_confirmed=bool(form.cleaned_data.get("public_details_confirmed")),
            )
            messages.success(request, _("已发布，企业在提交诉求时可以看到这条解答。"))
        elif action in ("send_back", "retire"):
            reason_form = ReasonForm(request.POST)
            reason = reason_form.cleaned_data["reason"] if reason_form.is_valid() else ""
            if action == "send_back":
                services.article_send_back(user=request.user, article_id=article.pk, reason=reason)
                messages.success(request, _("已退回撰写人修改。"))
            else:
                services.article_retire(user=request.user, article_id=article.pk, reason=reason)
                messages.success(request, _("已下线。"))
        else:
            raise Http404
    except NotAllowed as exc:
        return forbidden(request, exc.message)
    except KnowledgeError as exc:
        messages.error(request, exc.message)
    return redirect("knowledge:staff_edit", article.pk)


@staff_required(*WRITERS)
@require_POST
def staff_promote(request: HttpRequest, appeal_id: int) -> HttpResponse:
    """One click on a replied appeal: a redacted draft goes to the lead's review queue."""
    try:
        promotion = services.article_promote_from_appeal(user=request.user, appeal_id=appeal_id)
    except NotAllowed as exc:
        return forbidden(request, exc.message)
    except KnowledgeError as exc:
        messages.error(request, exc.message)
        return redirect(reverse("console:appeal", args=[appeal_id]))
    if promotion.removed:
        messages.success(
            request,
            _("已转为政策问答并提交负责人审核。已自动隐去：%(items)s。请核对全文。")
            % {"items": "、".join(promotion.removed)},
        )
    else:
        messages.success(request, _("已转为政策问答并提交负责人审核。请核对全文。"))
    return redirect("knowledge:staff_edit", promotion.article.pk)


@staff_required("analytics.view_analytics", "appeals.lead_bureau")
def staff_deflection(request: HttpRequest) -> HttpResponse:
    """How often suggested answers were opened and how often the business then did not file."""
    end = timezone.localdate()
    try:
        days = min(max(int(request.GET.get("days", "30")), 1), 366)
    except ValueError:
        days = 30
    rows = selectors.deflection_by_category(start=end - timedelta(days=days - 1), end=end)
    return render(request, "knowledge/deflection.html", {"rows": rows, "days": days})
