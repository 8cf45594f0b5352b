"""Looking an appeal up, its status page, and the appellant's actions on it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from appeals import services
from appeals.models import AppealEvent, AppealMessage, AppealState, Attachment, Rating, RatingLevel
from tests import factories
from tests.appeals.portal.conftest import ELF_BYTES, PDF_BYTES, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def filed(portal_city, hrss):
    return factories.submit(region=portal_city, title="电费补贴申请没有回音", contact_email="a@example.com")


def _open(client, filed):
    response = client.post(
        reverse("portal:lookup"),
        {"tracking_number": filed.appeal.tracking_number, "access_code": filed.access_code.lower()},
    )
    assert response.status_code == 302
    return response["Location"]


def _reply(appeal, officer, text="已协调供电部门，补贴本月到账。", files=()):
    services.appeal_sign_for(appeal_id=appeal.pk, user=officer)
    return services.appeal_submit_reply(appeal_id=appeal.pk, user=officer, reply=text, attachments=list(files))


def test_lookup_opens_the_status_page(client, filed):
    location = _open(client, filed)
    assert location == reverse("portal:status", kwargs={"tracking_number": filed.appeal.tracking_number})
    html = client.get(location).content.decode()
    assert "电费补贴申请没有回音" in html
    assert "佛山市" in html  # dispatched to <bureau>
    assert "答复时限" in html or "预计最迟答复时间" in html


@pytest.mark.parametrize("mode", ["wrong_code", "wrong_number", "both_wrong"])
def test_wrong_pairs_get_one_generic_message(client, filed, mode):
    number = filed.appeal.tracking_number
    code = filed.access_code
    if mode in ("wrong_code", "both_wrong"):
        code = "ZZZZ9999"
    if mode in ("wrong_number", "both_wrong"):
        number = "20990101000001"
    response = client.post(reverse("portal:lookup"), {"tracking_number": number, "access_code": code})
    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == [
        "受理编号或查询码不正确。请对照提交成功页面或邮件逐位核对；查询码不区分大小写，不含数字0和1、字母O和I。"
    ]


def test_lookups_are_rate_limited(client, filed, settings):
    settings.PORTAL_RATE_LIMITS = {**settings.PORTAL_RATE_LIMITS, "lookup_ip": "3/10m"}
    for _ in range(3):
        client.post(reverse("portal:lookup"), {"tracking_number": "1", "access_code": "x"})
    response = client.post(
        reverse("portal:lookup"),
        {"tracking_number": filed.appeal.tracking_number, "access_code": filed.access_code},
    )
    assert response.status_code == 429
    assert "分钟后" in response.content.decode()


def test_status_page_needs_the_code_in_this_session(client, filed):
    url = reverse("portal:status", kwargs={"tracking_number": filed.appeal.tracking_number})
    response = client.get(url)
    assert response.status_code == 302 and response["Location"] == reverse("portal:lookup")


def test_timeline_is_plain_language_and_hides_internal_matters(client, filed, officer, lead):
    appeal = filed.appeal
    services.appeal_sign_for(appeal_id=appeal.pk, user=officer)
    services.appeal_add_message(appeal_id=appeal.pk, kind="internal_note", body="内部：此企业上次投诉过", actor=officer)
    services.appeal_add_message(appeal_id=appeal.pk, kind="co_handling", body="协办意见：财政局已拨款", actor=officer)
    services.appeal_add_message(appeal_id=appeal.pk, kind="info_request", body="请补充电费缴纳凭证", actor=officer)
    location = _open(client, filed)
    html = client.get(location).content.decode()
    assert "您提交了诉求" in html
    assert "承办单位已签收" in html
    assert "请补充电费缴纳凭证" in html
    assert "内部：此企业上次投诉过" not in html
    assert "协办意见：财政局已拨款" not in html
    assert officer.username not in html


def test_supplement_with_a_file_while_handling(client, filed):
    location = _open(client, filed)
    url = reverse("portal:supplement", kwargs={"tracking_number": filed.appeal.tracking_number})
    response = client.post(url, {"body": "补充：附上电费单", "attachments": [upload("电费单.pdf", PDF_BYTES)]})
    assert response.status_code == 302
    message = AppealMessage.objects.get(kind="appellant")
    assert message.body == "补充：附上电费单"
    assert message.attachments.get().source == Attachment.Source.SUPPLEMENT
    html = client.get(location).content.decode()
    assert "您补充了说明或材料" in html and "电费单.pdf" in html


def test_supplement_refuses_a_spoofed_file(client, filed):
    _open(client, filed)
    url = reverse("portal:supplement", kwargs={"tracking_number": filed.appeal.tracking_number})
    response = client.post(url, {"body": "见附件", "attachments": [upload("x.pdf", ELF_BYTES)]})
    assert response.status_code == 400
    assert AppealMessage.objects.count() == 0
    assert "x.pdf" in response.content.decode()


def test_withdraw_needs_confirmation(client, filed):
    _open(client, filed)
    url = reverse("portal:withdraw", kwargs={"tracking_number": filed.appeal.tracking_number})
    assert "确认撤回" in client.get(url).content.decode()
    response = client.post(url, {"reason": "已自行解决"})
    assert response.status_code == 400
    filed.appeal.refresh_from_db()
    assert filed.appeal.state == AppealState.DISPATCHED
    response = client.post(url, {"reason": "已自行解决", "confirm": "on"})
    assert response.status_code == 302
    filed.appeal.refresh_from_db()
    assert filed.appeal.state == AppealState.WITHDRAWN
    html = client.get(response["Location"]).content.decode()
    assert "您撤回了诉求" in html
    assert "撤回诉求</a>" not in html


def test_withdraw_after_reply_is_refused(client, filed, officer):
    _reply(filed.appeal, officer)
    _open(client, filed)
    url = reverse("portal:withdraw", kwargs={"tracking_number": filed.appeal.tracking_number})
    response = client.post(url, {"confirm": "on"}, follow=True)
    assert "不能撤回" in response.content.decode()
    filed.appeal.refresh_from_db()
    assert filed.appeal.state == AppealState.REPLIED


def test_reply_and_reply_files_are_shown_and_downloadable(client, filed, officer):
    _reply(filed.appeal, officer, files=[upload("答复函.pdf", PDF_BYTES)])
    location = _open(client, filed)
    html = client.get(location).content.decode()
    assert "已协调供电部门" in html and "答复函.pdf" in html
    attachment = Attachment.objects.get(source=Attachment.Source.REPLY)
    url = reverse(
        "portal:appellant_file",
        kwargs={"tracking_number": filed.appeal.tracking_number, "attachment_id": attachment.pk},
    )
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF_BYTES
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_internal_attachment_and_other_appeals_files_are_not_downloadable(client, filed, officer, portal_city):
    note = services.appeal_add_message(
        appeal_id=filed.appeal.pk,
        kind="internal_note",
        body="内部材料",
        actor=officer,
        attachments=[upload("内部.pdf", PDF_BYTES)],
    )
    other = factories.submit(region=portal_city)
    other_file = services.appeal_add_message(
        appeal_id=other.appeal.pk,
        kind="appellant",
        body="别人的",
        actor=services.APPELLANT,
        attachments=[upload("别人.pdf", PDF_BYTES)],
    )
    _open(client, filed)
    for attachment in (note.attachments.get(), other_file.attachments.get()):
        url = reverse(
            "portal:appellant_file",
            kwargs={"tracking_number": filed.appeal.tracking_number, "attachment_id": attachment.pk},
        )
        assert client.get(url).status_code == 404


def test_good_rating_closes_and_offers_one_follow_up(client, filed, officer):
    _reply(filed.appeal, officer)
    location = _open(client, filed)
    assert "评价答复" in client.get(location).content.decode()
    rate = reverse("portal:rate", kwargs={"tracking_number": filed.appeal.tracking_number})
    response = client.post(rate, {"level": "4", "resolved": "yes", "comment": "很及时"}, follow=True)
    filed.appeal.refresh_from_db()
    assert filed.appeal.state == AppealState.CLOSED
    html = response.content.decode()
    assert "诉求已办结" in html and "追加评价" in html
    follow_up = reverse("portal:follow_up", kwargs={"tracking_number": filed.appeal.tracking_number})
    data = {"followup-level": "5", "followup-resolved": "yes", "followup-comment": "后来也没再出问题"}
    response = client.post(follow_up, data, follow=True)
    rating = Rating.objects.get(is_followup=True)
    assert rating.level == 5 and rating.comment == "后来也没再出问题"
    assert AppealEvent.objects.filter(appeal=filed.appeal, kind="followup_rated").exists()
    assert "追加评价（追评）" not in response.content.decode()
    # A second follow-up is refused.
    response = client.post(follow_up, data, follow=True)
    assert Rating.objects.filter(is_followup=True).count() == 1
    assert "追评过了" in response.content.decode() or "追加评价" not in response.content.decode()


def test_bad_rating_reopens_and_the_page_says_so(client, filed, officer):
    _reply(filed.appeal, officer)
    location = _open(client, filed)
    rate = reverse("portal:rate", kwargs={"tracking_number": filed.appeal.tracking_number})
    response = client.post(rate, {"level": "1", "resolved": "no", "comment": "没有解决"}, follow=True)
    filed.appeal.refresh_from_db()
    assert filed.appeal.state == AppealState.HANDLING
    assert filed.appeal.reopen_count == 1
    html = response.content.decode()
    assert "重办" in html
    assert 'id="reopened-notice"' in client.get(location).content.decode()


def test_rating_needs_level_and_resolved(client, filed, officer):
    _reply(filed.appeal, officer)
    _open(client, filed)
    rate = reverse("portal:rate", kwargs={"tracking_number": filed.appeal.tracking_number})
    response = client.post(rate, {"comment": "?"})
    assert response.status_code == 400
    errors = response.context["rating_form"].errors
    assert "level" in errors and "resolved" in errors
    filed.appeal.refresh_from_db()
    assert filed.appeal.state == AppealState.REPLIED


def test_forget_removes_access_from_this_browser(client, filed):
    location = _open(client, filed)
    client.post(reverse("portal:forget", kwargs={"tracking_number": filed.appeal.tracking_number}))
    assert client.get(location).status_code == 302


def test_english_status_page(client, filed):
    location = _open(client, filed)
    client.cookies["django_language"] = "en"
    response = client.get(location, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200


def test_rating_levels_match_the_five_official_labels():
    assert [str(label) for _v, label in RatingLevel.choices] == ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]


def test_the_appellants_own_supplements_are_echoed_back(client, filed, officer):
    """补充材料/留言 the appellant added are shown on their tracking page, each with its files; what the
    bureau wrote internally is not."""
    location = _open(client, filed)
    url = reverse("portal:supplement", kwargs={"tracking_number": filed.appeal.tracking_number})
    client.post(url, {"body": "第一次补充：电费单已上传", "attachments": [upload("电费单.pdf", PDF_BYTES)]})
    client.post(url, {"body": "第二次补充：联系人换成王经理"})
    services.appeal_add_message(
        appeal_id=filed.appeal.pk, kind="internal_note", body="内部：该企业去年也反映过", actor=officer
    )
    from lxml import html as lxml_html

    tree = lxml_html.fromstring(client.get(location).content.decode())
    items = tree.xpath("//ol[contains(@class, 'supplement-list')]/li")
    assert [item.xpath(".//div[contains(@class, 'supplement__text')]")[0].text_content().strip() for item in items] == [
        "第一次补充：电费单已上传",
        "第二次补充：联系人换成王经理",
    ]
    assert items[0].xpath(".//a")[0].text_content() == "电费单.pdf"
    assert items[0].xpath(".//div[contains(@class, 'supplement__text')]")[0].get("lang") == "zh-Hans"
    assert "内部：该企业去年也反映过" not in tree.text_content()


def test_rating_errors_have_a_summary_that_links_an_existing_field(client, filed, officer):
    from lxml import html as lxml_html

    location = _open(client, filed)
    _reply(filed.appeal, officer)
    response = client.post(reverse("portal:rate", kwargs={"tracking_number": filed.appeal.tracking_number}), {})
    assert response.status_code == 400
    tree = lxml_html.fromstring(response.content.decode())
    summary = tree.xpath("//*[@data-error-summary]")
    assert summary, "the rating form has an error summary"
    hrefs = [a.get("href") for a in summary[0].xpath(".//a")]
    assert hrefs and all(tree.xpath(f"//*[@id='{href[1:]}']") for href in hrefs), hrefs
    assert location
