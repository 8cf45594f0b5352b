"""Filing an appeal through the public form: validation, all-or-nothing, idempotency, abuse defences."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from appeals.models import Appeal, AppealEvent, AppealState, Attachment, Enterprise
from notifications import outbox
from notifications.models import OutboxEvent
from routing.models import Category
from tests import factories
from tests.appeals.portal.conftest import (
    ELF_BYTES,
    JPEG_BYTES,
    PDF_BYTES,
    PNG_BYTES,
    form_data,
    ooxml_bytes,
    plain_zip_bytes,
    upload,
)

pytestmark = pytest.mark.django_db

SUBMIT = "/"


def _counts() -> tuple[int, ...]:
    return (
        Appeal.objects.count(),
        Enterprise.objects.count(),
        Attachment.objects.count(),
        AppealEvent.objects.count(),
        OutboxEvent.objects.count(),
    )


def _stored_files(settings) -> list[Path]:
    root = Path(settings.STORAGES["default"]["OPTIONS"]["location"])
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_form_renders_every_field_with_help_and_category_examples(client, portal_city):
    response = client.get(SUBMIT)
    assert response.status_code == 200
    html = response.content.decode()
    for name in (
        "enterprise_name",
        "credit_code",
        "region",
        "industry",
        "enterprise_size",
        "contact_name",
        "contact_phone",
        "contact_email",
        "category",
        "urgency",
        "urgency_reason",
        "title",
        "description",
        "attachments",
    ):
        assert f'name="{name}"' in html, name
    assert 'id="credit_code-help"' in html
    assert "例如：" in html  # category examples
    assert "佛山市" in html  # active regions
    assert 'class="hp-field"' in html
    assert "csrfmiddlewaretoken" in html
    assert response["Cache-Control"].startswith("max-age=0")


def _without_tokens(html: str) -> str:
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    return re.sub(r'name="idempotency_token" value="[^"]+"', "", html)


def test_empty_form_fields_are_rendered_once_and_reused_until_the_lists_change(client, portal_city):
    first = client.get(SUBMIT).content.decode()
    with CaptureQueriesContext(connection) as queries:
        second = client.get(SUBMIT).content.decode()
    assert not [q["sql"] for q in queries if "routing_category" in q["sql"] or "routing_region" in q["sql"]]
    assert _without_tokens(second) == _without_tokens(first)
    # The per-visitor parts are never cached: each page load gets its own idempotency token.
    tokens = re.findall(r'name="idempotency_token" value="([^"]+)"', first + second)
    assert len(tokens) == 2 and tokens[0] != tokens[1]

    # Another language is cached separately.
    english = client.get(SUBMIT, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Company name" in english and "企业名称" not in english

    # A new category (any save of a routing model) shows on the next page load.
    hrss = factories.bureau_type("hrss")
    Category.objects.create(
        code="water",
        name="用水用电",
        example="厂区停水三天",
        sort_order=99,
        default_bureau_type=hrss,
    )
    third = client.get(SUBMIT).content.decode()
    assert "用水用电" in third and "厂区停水三天" in third
    assert "用水用电" not in first


def test_valid_submission_saves_everything_and_shows_the_codes(
    client, portal_city, hrss, django_capture_on_commit_callbacks, settings
):
    settings.NOTIFY_KICK_DELIVERY = True  # the outbox delivers the confirmation e-mail (eager Celery)
    data = form_data(portal_city, contact_email="boss@example.com", credit_code="91350200776049653a")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(SUBMIT, data)
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:confirmation", kwargs={"token": data["idempotency_token"]})
    appeal = Appeal.objects.get()
    assert appeal.enterprise.credit_code == "91350200776049653A"
    assert appeal.contact_phone == "+8613800138000"
    assert appeal.channel == "web"
    assert appeal.state == AppealState.DISPATCHED
    assert appeal.bureau == hrss
    page = client.get(response["Location"])
    html = page.content.decode()
    assert appeal.tracking_number in html
    code = client.session["portal_access"][appeal.tracking_number]
    assert code in html
    assert f'data-copy="{code}"' in html
    assert "boss@example.com" in html
    # The confirmation e-mail carries the code; the database never does.
    with_code = [m for m in mail.outbox if code in m.body]
    assert len(with_code) == 1
    assert with_code[0].to == ["boss@example.com"]
    assert appeal.tracking_number in with_code[0].subject
    assert code in with_code[0].alternatives[0][0]
    assert not OutboxEvent.objects.filter(payload__icontains=code).exists()


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("credit_code", "91350203M0001QAY9B", "校验码"),
        ("credit_code", "12345", "18位"),
        ("credit_code", "91350200776O49653A", "不能出现"),
        ("credit_code", "", "营业执照"),
        ("contact_phone", "12345", "电话"),
        ("contact_phone", "+1 202 555 0100", "中国大陆"),
        ("contact_email", "not-an-email", "name@example.com"),
        ("title", "", "标题"),
        ("title", "长" * 101, "最多100个字"),
        ("description", "   ", "诉求内容"),
        ("enterprise_name", "", "企业名称"),
        ("industry", "Z", "行业"),
        ("enterprise_size", "giant", "规模"),
        ("region", "999999", "地区"),
        ("category", "", "类别"),
    ],
)
def test_invalid_values_are_explained_next_to_the_field_and_nothing_is_saved(
    client, portal_city, field, value, fragment
):
    data = form_data(portal_city, **{field: value})
    before = _counts()
    response = client.post(SUBMIT, data)
    assert response.status_code == 400
    form = response.context["form"]
    assert field in form.errors
    assert fragment in " ".join(form.errors[field])
    html = response.content.decode()
    assert f'id="{field}-error"' in html
    assert "error-summary" in html
    assert _counts() == before
    # Everything else typed is kept.
    kept = "佛山市禅城区测试五金制品有限公司" if field != "enterprise_name" else "招不到熟练焊工"
    assert kept in html


@pytest.mark.parametrize("field", ["region", "category"])
def test_a_region_or_category_switched_off_is_no_longer_accepted(client, portal_city, field):
    data = form_data(portal_city)
    target = portal_city if field == "region" else factories.category("employment")
    target.is_active = False
    target.save()  # the routing table, which validates the choice, reloads on save
    for malformed in ("１２abc", "1.5", "\x00", "9" * 30):
        response = client.post(SUBMIT, {**data, field: malformed})
        assert response.status_code == 400 and field in response.context["form"].errors
    before = _counts()
    response = client.post(SUBMIT, data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert _counts() == before


def test_urgent_needs_a_reason(client, portal_city):
    response = client.post(SUBMIT, form_data(portal_city, urgency="urgent", urgency_reason=""))
    assert response.status_code == 400
    assert "紧急原因" in " ".join(response.context["form"].errors["urgency_reason"])
    response = client.post(SUBMIT, form_data(portal_city, urgency="urgent", urgency_reason="明天发不出工资"))
    assert response.status_code == 302
    appeal = Appeal.objects.get()
    assert appeal.is_urgent and appeal.urgency_reason == "明天发不出工资"


def test_reason_is_dropped_when_not_urgent(client, portal_city):
    client.post(SUBMIT, form_data(portal_city, urgency="normal", urgency_reason="无关"))
    assert Appeal.objects.get().urgency_reason == ""


def test_full_width_and_lower_case_credit_code_is_normalised(client, portal_city):
    response = client.post(SUBMIT, form_data(portal_city, credit_code="９１４４０１０１ｍａ５ｃｊｑ４ｎ５９"))
    assert response.status_code == 302
    assert Enterprise.objects.get().credit_code == "91440101MA5CJQ4N59"


@pytest.mark.parametrize(
    ("name", "content", "mime"),
    [
        ("scan.pdf", PDF_BYTES, "application/pdf"),
        ("photo.JPG", JPEG_BYTES, "image/jpeg"),
        ("screen", PNG_BYTES, "image/png"),  # no extension at all: content decides
        ("letter.docx", ooxml_bytes("docx"), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("sheet.xlsx", ooxml_bytes("xlsx"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("misnamed.pdf", PNG_BYTES, "image/png"),
    ],
)
def test_allowed_files_are_accepted_by_content(client, portal_city, name, content, mime, settings):
    data = form_data(portal_city, attachments=[upload(name, content)])
    response = client.post(SUBMIT, data)
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert attachment.content_type == mime
    assert attachment.size == len(content)
    stored = _stored_files(settings)
    assert len(stored) == 1
    # Stored under a random name, outside any web root: never the user's file name.
    assert name not in str(stored[0])


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("invoice.pdf", ELF_BYTES, "不是PDF"),
        ("notes.txt", b"just text", "不是PDF"),
        ("archive.docx", plain_zip_bytes(), "不是PDF"),
        ("page.html", b"<html><script>alert(1)</script></html>", "不是PDF"),
        ("empty.pdf", b"", "空的"),
    ],
)
def test_spoofed_or_unsupported_files_are_refused_with_a_clear_message(
    client, portal_city, name, content, fragment, settings
):
    before = _counts()
    response = client.post(SUBMIT, form_data(portal_city, attachments=[upload(name, content, "application/pdf")]))
    assert response.status_code == 400
    errors = " ".join(response.context["form"].errors["attachments"])
    assert fragment in errors and name in errors
    assert _counts() == before
    assert _stored_files(settings) == []
    html = response.content.decode()
    assert "请重新选择附件" in html and name in html


def test_oversized_file_is_refused(client, portal_city, settings):
    settings.ATTACHMENT_MAX_BYTES = 1024
    big = PDF_BYTES + b"0" * 2048
    response = client.post(SUBMIT, form_data(portal_city, attachments=[upload("big.pdf", big)]))
    assert response.status_code == 400
    errors = " ".join(response.context["form"].errors["attachments"])
    assert "超过了" in errors and "big.pdf" in errors
    assert Appeal.objects.count() == 0


def test_too_many_files_are_refused(client, portal_city, settings):
    settings.ATTACHMENT_MAX_FILES = 2
    files = [upload(f"p{i}.pdf", PDF_BYTES) for i in range(3)]
    response = client.post(SUBMIT, form_data(portal_city, attachments=files))
    assert response.status_code == 400
    assert "最多上传2个文件" in " ".join(response.context["form"].errors["attachments"])


def test_error_elsewhere_asks_to_reselect_the_valid_files(client, portal_city):
    data = form_data(portal_city, title="", attachments=[upload("合同.pdf", PDF_BYTES)])
    response = client.post(SUBMIT, data)
    assert response.status_code == 400
    assert response.context["reselect"] == ["合同.pdf"]
    assert "请重新选择附件" in response.content.decode()


def test_failure_after_files_are_stored_saves_nothing_and_leaves_no_file(client, portal_city, settings, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("outbox down")

    # Routing, audit and the attachment have been written when the outbox fails.
    monkeypatch.setattr(outbox, "emit_many", explode)
    before = _counts()
    client.raise_request_exception = False
    response = client.post(SUBMIT, form_data(portal_city, attachments=[upload("a.pdf", PDF_BYTES)]))
    assert response.status_code == 500
    assert _counts() == before
    assert _stored_files(settings) == []


def test_double_submit_creates_one_appeal_and_lands_on_the_same_confirmation(client, portal_city):
    data = form_data(portal_city)
    first = client.post(SUBMIT, data)
    second = client.post(SUBMIT, data)
    assert Appeal.objects.count() == 1
    assert first["Location"] == second["Location"]
    page = client.get(second["Location"])
    assert page.status_code == 200
    assert Appeal.objects.get().tracking_number in page.content.decode()


def test_reused_token_from_another_browser_does_not_reveal_the_code(client, portal_city, django_user_model):
    from django.test import Client

    data = form_data(portal_city)
    client.post(SUBMIT, data)
    code = next(iter(client.session["portal_access"].values()))
    other = Client()
    response = other.post(SUBMIT, data)
    assert "正在确认" in other.get(response["Location"]).content.decode()  # asks the browser to check again
    page = other.get(response["Location"] + "?recheck=5")
    html = page.content.decode()
    assert Appeal.objects.count() == 1
    assert Appeal.objects.get().tracking_number in html
    assert code not in html


def test_unknown_confirmation_token_is_404(client, portal_city):
    assert client.get(reverse("portal:confirmation", kwargs={"token": uuid.uuid4()})).status_code == 404


def test_honeypot_drops_the_submission(client, portal_city):
    response = client.post(SUBMIT, form_data(portal_city, homepage_url="http://spam.example"))
    assert response.status_code == 400
    assert Appeal.objects.count() == 0


def test_csrf_is_enforced(portal_city):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(SUBMIT, form_data(portal_city))
    assert response.status_code == 403
    assert Appeal.objects.count() == 0


def test_rate_limit_per_client_address_says_when_to_retry(client, portal_city, settings):
    settings.PORTAL_RATE_LIMITS = {**settings.PORTAL_RATE_LIMITS, "submit_ip": "2/h"}
    for _ in range(2):
        assert client.post(SUBMIT, form_data(portal_city)).status_code == 302
    response = client.post(SUBMIT, form_data(portal_city))
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "分钟后" in response.content.decode()
    assert Appeal.objects.count() == 2
    # Another client address is not affected.
    assert client.post(SUBMIT, form_data(portal_city), REMOTE_ADDR="10.9.8.7").status_code == 302


def test_rate_limit_per_credit_code(client, portal_city, settings):
    settings.PORTAL_RATE_LIMITS = {**settings.PORTAL_RATE_LIMITS, "submit_credit_code": "1/d"}
    code = "91350200776049653A"
    assert client.post(SUBMIT, form_data(portal_city, credit_code=code)).status_code == 302
    response = client.post(SUBMIT, form_data(portal_city, credit_code=code.lower()), REMOTE_ADDR="10.1.1.1")
    assert response.status_code == 429
    assert Appeal.objects.count() == 1
    assert client.post(SUBMIT, form_data(portal_city)).status_code == 302


def test_rate_limits_can_be_switched_off(client, portal_city, settings):
    settings.RATELIMIT_ENABLE = False
    settings.PORTAL_RATE_LIMITS = {**settings.PORTAL_RATE_LIMITS, "submit_ip": "1/h"}
    for _ in range(3):
        assert client.post(SUBMIT, form_data(portal_city)).status_code == 302


def test_appeal_without_a_bureau_waits_for_the_dispatcher_and_confirmation_says_so(client, db):
    from tests import factories

    lonely = factories.RegionFactory(code="nowhere", name="无部门县")
    response = client.post(SUBMIT, form_data(lonely))
    appeal = Appeal.objects.get()
    assert appeal.state == AppealState.TRIAGE and appeal.bureau is None
    assert "分拨中心" in client.get(response["Location"]).content.decode()


def test_english_interface(client, portal_city):
    client.cookies["django_language"] = "en"
    response = client.get(SUBMIT, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert 'lang="en"' in response.content.decode()


def test_strangers_cannot_use_up_a_companys_daily_quota(client, portal_city, settings):
    """The credit code is public: the limit counts per code and contact phone."""
    settings.PORTAL_RATE_LIMITS = {**settings.PORTAL_RATE_LIMITS, "submit_credit_code": "1/d"}
    code = "91350200776049653A"
    stranger = {"credit_code": code, "contact_phone": "13911112222"}
    assert client.post(SUBMIT, form_data(portal_city, **stranger), REMOTE_ADDR="10.2.2.2").status_code == 302
    assert client.post(SUBMIT, form_data(portal_city, **stranger), REMOTE_ADDR="10.3.3.3").status_code == 429
    # The company itself, with its own phone, still files.
    response = client.post(SUBMIT, form_data(portal_city, credit_code=code, contact_phone="13800138000"))
    assert response.status_code == 302
    assert Appeal.objects.filter(enterprise__credit_code=code).count() == 2


def test_every_error_summary_link_points_at_an_element_that_exists(client, portal_city):
    """An empty form: each link in the summary (radio groups such as 企业规模 and 诉求类别 included)
    leads to a real element, and every aria-describedby names one."""
    from lxml import html as lxml_html

    response = client.post(SUBMIT, {"idempotency_token": "x"})
    assert response.status_code == 400
    tree = lxml_html.fromstring(response.content.decode())
    ids = set(tree.xpath("//@id"))
    hrefs = [a.get("href") for a in tree.xpath("//*[@data-error-summary]//a")]
    assert len(hrefs) >= 5
    assert [href for href in hrefs if href[1:] not in ids] == []
    assert {"#id_enterprise_size_0", "#id_category_0"} <= set(hrefs) or not {
        "#id_enterprise_size",
        "#id_category",
    } & set(hrefs)
    described = [ref for el in tree.xpath("//*[@aria-describedby]") for ref in el.get("aria-describedby").split()]
    assert [ref for ref in described if ref not in ids] == []
