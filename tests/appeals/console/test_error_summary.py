"""A failed console action says which field to fix, links it, reopens its section (issue 15), and
every aria-describedby on the staff pages points at an element that exists."""

from __future__ import annotations

import pytest
from lxml import html as lxml_html

pytestmark = pytest.mark.django_db


def _dangling_references(content: str) -> list[str]:
    tree = lxml_html.fromstring(content)
    ids = set(tree.xpath("//@id"))
    missing = []
    for element in tree.xpath("//*[@aria-describedby or @aria-labelledby]"):
        for attribute in ("aria-describedby", "aria-labelledby"):
            missing += [f"{attribute}={ref}" for ref in (element.get(attribute) or "").split() if ref not in ids]
    for link in tree.xpath("//*[@data-error-summary]//a[starts-with(@href, '#')]"):
        if link.get("href")[1:] not in ids:
            missing.append(f"error link {link.get('href')}")
    return missing


def test_a_failed_action_names_and_links_the_field_and_reopens_its_section(login, officer, dispatched):
    response = login(officer).post(
        f"/staff/appeals/{dispatched.pk}/return/", {"return-expected_version": dispatched.version, "return-reason": ""}
    )
    assert response.status_code == 400
    content = response.content.decode()
    tree = lxml_html.fromstring(content)
    summary = tree.get_element_by_id("action-error")
    assert summary.get("data-error-summary") is not None and summary.get("tabindex") == "-1"
    text = summary.text_content()
    assert "请按提示修改后再提交" not in text
    assert "请修改以下内容后再提交：理由" in text, text  # the field is named in the message and in the link
    links = summary.xpath(".//a[starts-with(@href, '#')]")
    assert [link.get("href") for link in links] == ["#id_return-reason"]
    field = tree.get_element_by_id("id_return-reason")
    assert field.get("aria-invalid") == "true"
    # Its collapsed section comes back open; the others stay closed.
    section = field.xpath("ancestor::details")[0]
    assert section.get("open") is not None
    assert not [d for d in tree.xpath("//details[@open]") if d is not section and "派单" not in d.text_content()[:10]]
    assert _dangling_references(content) == []


def test_english_message_names_the_field_too(login, officer, handling):
    client = login(officer)
    client.cookies["django_language"] = "en"
    response = client.post(
        f"/staff/appeals/{handling.pk}/return/", {"return-expected_version": handling.version, "return-reason": ""}
    )
    summary = lxml_html.fromstring(response.content.decode()).get_element_by_id("action-error").text_content()
    assert "Please correct the following" in summary


def test_appeal_page_dashboard_reports_and_login_reference_only_existing_ids(login, officer, lead, handling, client):
    assert _dangling_references(login(officer).get(f"/staff/appeals/{handling.pk}/").content.decode()) == []
    bad_filters = login(lead).get("/analytics/", {"start": "2026-13-45", "end": "x"})
    assert b"data-error-summary" in bad_filters.content
    assert _dangling_references(bad_filters.content.decode()) == []
    bad_login = client.post("/staff/login/", {"username": "", "password": ""})
    assert b"data-error-summary" in bad_login.content
    assert _dangling_references(bad_login.content.decode()) == []
