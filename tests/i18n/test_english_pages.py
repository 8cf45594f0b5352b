"""Every user-facing page is complete in English (issue 15).

Each role logs in, switches to English the way a visitor does (the language cookie set by /i18n/setlang/),
and renders the main pages. Text that is the user's own or a name from the data (enterprise names,
appeal texts, people, bureaus and regions without an English name) is marked ``lang="zh-Hans"`` in the
templates, and is removed before the check, as are the names the demo data holds; what is left must have
no Chinese character. The failure message lists every offending text with its page.

To cover a new page, add it to PAGES (role, a name for it, and how to build its URL from ``Seeded``).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from lxml import html as lxml_html

from analytics.models import Report
from appeals.models import Appeal, AppealEvent, AppealMessage, AppealState, Enterprise
from knowledge.models import Article
from routing.models import Bureau, Region, RoutingRule, StaffProfile
from tests.appeals.portal.conftest import form_data

CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]+")
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
# Attributes a person reads (or hears) as well as the text.
READ_ATTRIBUTES = ("aria-label", "title", "placeholder", "alt", "aria-description", "data-confirm")


@dataclass
class Seeded:
    appeal: Appeal  # one in handling, with messages and events
    tracking_number: str
    access_code: str
    confirmation_url: str
    article: Article | None
    report: Report | None


def _admin_changelist(model: str) -> Callable[[Seeded], str]:
    return lambda seeded: f"/admin/{model}/"


# (role that logs in or "public", page name, URL builder)
PAGES: list[tuple[str, str, Callable[[Seeded], str]]] = [
    ("public", "public form", lambda s: "/"),
    ("public", "category examples", lambda s: "/categories/"),
    ("public", "tracking lookup", lambda s: "/track/"),
    ("public", "confirmation", lambda s: s.confirmation_url),
    ("public", "tracking page", lambda s: f"/track/{s.tracking_number}/"),
    ("public", "knowledge base", lambda s: "/kb/"),
    ("public", "knowledge article", lambda s: f"/kb/{s.article.pk}/" if s.article else "/kb/"),
    ("public", "staff login", lambda s: "/staff/login/"),
    ("public", "404 page", lambda s: "/no-such-page/"),
    ("officer", "bureau console", lambda s: "/staff/"),
    ("officer", "appeal detail (officer)", lambda s: f"/staff/appeals/{s.appeal.pk}/"),
    ("lead", "bureau console (lead)", lambda s: "/staff/"),
    ("dispatcher", "dispatch board", lambda s: "/staff/dispatch/"),
    ("dispatcher", "appeal detail (dispatcher)", lambda s: f"/staff/appeals/{s.appeal.pk}/"),
    ("supervisor", "overdue board", lambda s: "/staff/overdue/"),
    ("supervisor", "early-warning board", lambda s: "/staff/alerts/"),
    ("manager", "analytics dashboard", lambda s: "/analytics/"),
    ("manager", "reports list", lambda s: "/analytics/reports/"),
    ("manager", "report detail", lambda s: f"/analytics/reports/{s.report.pk}/" if s.report else "/analytics/reports/"),
    ("officer", "403 page", lambda s: "/analytics/"),
    ("admin", "admin index", lambda s: "/admin/"),
    ("admin", "admin appeals", _admin_changelist("appeals/appeal")),
    ("admin", "admin bureaus", _admin_changelist("routing/bureau")),
    ("admin", "admin categories", _admin_changelist("routing/category")),
    ("admin", "admin appeal", lambda s: f"/admin/appeals/appeal/{s.appeal.pk}/change/"),
    ("admin", "admin staff", _admin_changelist("routing/staffprofile")),
    ("admin", "admin events", _admin_changelist("appeals/appealevent")),
    ("admin", "admin deadline policies", _admin_changelist("routing/deadlinepolicy")),
    ("admin", "admin outbox", _admin_changelist("notifications/outboxevent")),
    ("lead", "knowledge editor list", lambda s: "/staff/knowledge/"),
    ("public", "self-service start", lambda s: "/my/"),
    ("public", "self-service code entry", lambda s: "/my/verify/"),
    ("public", "signed link (invalid)", lambda s: "/t/not-a-valid-token/"),
    ("officer", "staff search (officer)", lambda s: "/staff/appeals/?state=closed"),
    ("dispatcher", "staff search (dispatcher)", lambda s: f"/staff/appeals/?q={s.tracking_number}"),
    ("dispatcher", "follow-up worklist", lambda s: "/staff/follow-up/"),
    ("supervisor", "problem-ticket board", lambda s: "/staff/problems/"),
    ("admin", "admin routing rules", _admin_changelist("routing/routingrule")),
    ("admin", "admin dispatch catalogue", lambda s: "/admin/routing/routingrule/catalogue/"),
]

EXPECTED_STATUS = {"404 page": 404, "403 page": 403, "signed link (invalid)": 400}
USERNAMES = {"officer": "officer_foshan_hrss", "lead": "lead_foshan_hrss"}


def data_names() -> set[str]:
    """Names and texts that come from the data (the demo seed's people, enterprises and appeals)."""
    names: set[str] = set()
    names.update(StaffProfile.objects.values_list("display_name", flat=True))
    names.update(Bureau.objects.values_list("name", flat=True))
    names.update(Region.objects.values_list("name", flat=True))
    names.update(Enterprise.objects.values_list("name", flat=True))
    names.update(Enterprise.objects.values_list("contact_name", flat=True))
    for row in Appeal.objects.values_list("title", "description", "enterprise_name", "reply"):
        names.update(row)
    names.update(AppealMessage.objects.values_list("body", flat=True))
    names.update(Article.objects.values_list("question", flat=True))
    names.update(Article.objects.values_list("answer", flat=True))
    # Rule names are the operators' data; the routing explanation quotes words of the appeal.
    names.update(RoutingRule.objects.values_list("name", flat=True))
    for explanation in Appeal.objects.values_list("routing_explanation", flat=True):
        names.update(CJK_RUN.findall(json.dumps(explanation, ensure_ascii=False)))
    # Reasons and notes staff typed into actions (a merge note, a return reason) are user content.
    for reason, data in AppealEvent.objects.values_list("reason", "data"):
        names.add(reason)
        names.update(CJK_RUN.findall(json.dumps(data, ensure_ascii=False)))
    return {name for name in names if name and CJK.search(name)}


def admin_data_names() -> set[str]:
    """The admin lists the Chinese name of a category or bureau type beside its English one: data."""
    from routing.models import BureauType, Category

    names = set(Category.objects.values_list("name", flat=True))
    names.update(BureauType.objects.values_list("name", flat=True))
    return names


def chinese_left(content: str, names: set[str]) -> list[str]:
    """The texts of ``content`` (HTML) still holding Chinese once user content and names are removed."""
    tree = lxml_html.fromstring(content)
    for element in tree.xpath(
        "//script | //style | //template | //*[@lang][starts-with(translate(@lang, 'ZH', 'zh'), 'zh')]"
        " | //*[@data-user-content]"
    ):
        element.drop_tree()
    texts = [" ".join(text.split()) for text in tree.itertext()]
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        texts.extend(element.get(attribute, "") for attribute in READ_ATTRIBUTES)
        if element.tag == "input" and element.get("type") in ("submit", "button"):
            texts.append(element.get("value", ""))
    if (title := tree.find(".//title")) is not None:
        texts.append(title.text_content())
    ordered = sorted(names, key=len, reverse=True)
    left = []
    for text in texts:
        for name in ordered:
            if name in text:
                text = text.replace(name, "")
        if CJK.search(text):
            left.append(text.strip())
    return sorted(set(left))


def english_client(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def seeded(db, settings) -> Seeded:
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from analytics.selectors import Filters
    from analytics.services import report_request
    from knowledge import services as knowledge_services
    from routing.models import Category

    settings.RATELIMIT_CACHE_PREFIX = "rl-english-pages:"
    call_command("seed_demo", "--appeals", "16", "--seed", "7", stdout=io.StringIO(), stderr=io.StringIO())
    users = get_user_model().objects
    foshan = Region.objects.get(code="foshan")
    client = english_client()
    response = client.post("/", form_data(foshan))
    assert response.status_code == 302, response.content.decode()[:2000]
    confirmation_url = response["Location"]
    confirmation = client.get(confirmation_url).content.decode()
    access_code = lxml_html.fromstring(confirmation).get_element_by_id("access-code").text_content().strip()
    hrss = Bureau.objects.get(region=foshan, bureau_type__code="hrss")
    # One the officer, the dispatcher and the supervisor can all open, with the most history.
    appeal = (
        Appeal.objects.filter(bureau=hrss).exclude(state=AppealState.SUBMITTED).order_by("-reopen_count", "pk").first()
    )
    newest = Appeal.objects.order_by("-pk").first()
    assert appeal is not None and newest is not None
    officer, lead = users.get(username=USERNAMES["officer"]), users.get(username=USERNAMES["lead"])
    # The appellant's own appeal gets a reply: the tracking page then shows it, the timeline and the rating form.
    from appeals import services as appeal_services

    if newest.bureau_id:
        handler = users.get(username=f"officer_foshan_{newest.bureau.bureau_type.code}")
        appeal_services.appeal_sign_for(appeal_id=newest.pk, user=handler)
        appeal_services.appeal_submit_reply(appeal_id=newest.pk, user=handler, reply="已联系技工院校。")
    article = knowledge_services.article_create(
        user=officer,
        bureau_id=hrss.pk,
        data={
            "question": "招工补贴怎么申请？",
            "answer": "携带营业执照到人社局窗口申请。",
            "category": Category.objects.get(code="employment"),
        },
    )
    knowledge_services.article_submit(user=officer, article_id=article.pk)
    article = knowledge_services.article_publish(user=lead, article_id=article.pk, confirmed=True)
    today = timezone.localdate()
    # Requested in Chinese: the English archive still shows it in English.
    report = report_request(
        user=users.get(username="manager"),
        filters=Filters(start=today - timedelta(days=6), end=today),
        language="zh-hans",
    )
    return Seeded(
        appeal=appeal,
        tracking_number=newest.tracking_number,
        access_code=access_code,
        confirmation_url=confirmation_url,
        article=article,
        report=report,
    )


@pytest.mark.slow
def test_every_main_page_is_english(seeded):
    from django.contrib.auth import get_user_model

    names = data_names()
    admin_names = names | admin_data_names()
    users = get_user_model().objects
    public = english_client()
    # The appellant's session knows the access code after the submit (the confirmation page keeps it).
    public.post("/track/", {"tracking_number": seeded.tracking_number, "access_code": seeded.access_code})
    clients = {"public": public}
    problems = []
    for role, name, url_for in PAGES:
        if role not in clients:
            clients[role] = english_client(users.get(username=USERNAMES.get(role, role)))
        client = clients[role]
        url = url_for(seeded)
        response = client.get(url, follow=True)
        expected = EXPECTED_STATUS.get(name, 200)
        assert response.status_code == expected, f"{name} ({url}): HTTP {response.status_code}, expected {expected}"
        content = response.content.decode()
        assert '<html lang="en"' in content, f"{name} ({url}) is not served in English"
        for text in chinese_left(content, admin_names if url.startswith("/admin/") else names):
            problems.append(f"{name} ({url}): {text[:200]}")
    assert not problems, "Chinese text left in the English pages:\n" + "\n".join(problems)


@pytest.mark.parametrize("template", ["400.html", "403.html", "403_csrf.html", "404.html", "500.html"])
def test_error_pages_are_english(rf, template):
    from django.template.loader import render_to_string
    from django.utils import translation

    request = rf.get("/")
    with translation.override("en"):
        content = render_to_string(template, {"request_path": "/x/", "reason": ""}, request=request)
    assert chinese_left(content, set()) == []
