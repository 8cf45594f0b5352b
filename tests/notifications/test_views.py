"""Inbox and preferences pages, and the admin's dead-letter retry action."""

from __future__ import annotations

import pytest
from django.urls import reverse

from notifications import tasks
from notifications.models import Delivery, InboxItem, NotificationPreference, NotificationSettings, OutboxEvent
from tests import factories

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


def item_for(user, title="新诉求派至本单位", url="/staff/appeals/1/", read=False):
    from django.utils import timezone

    return InboxItem.objects.create(
        user=user,
        event_type="appeal.dispatched",
        title=title,
        body="正文",
        url=url,
        read_at=timezone.now() if read else None,
    )


def test_inbox_requires_login(client):
    response = client.get(reverse("notifications:inbox"))
    assert response.status_code == 302


def test_inbox_lists_only_own_items_and_counts_unread(client, officer, lead, django_assert_max_num_queries):
    item_for(officer, title="我的消息一")
    item_for(officer, title="我的消息二", read=True)
    item_for(lead, title="别人的消息")
    login(client, officer)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("notifications:inbox"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "我的消息一" in body and "我的消息二" in body
    assert "别人的消息" not in body
    assert "1 条未读" in body
    assert "js/live.js" in body
    response = client.get(reverse("notifications:inbox") + "?show=unread")
    assert "我的消息二" not in response.content.decode()


def test_opening_an_item_marks_it_read_and_follows_its_link(client, officer):
    item = item_for(officer, url="/staff/appeals/7/")
    login(client, officer)
    response = client.post(reverse("notifications:open", args=[item.pk]))
    assert response.status_code == 302 and response["Location"] == "/staff/appeals/7/"
    item.refresh_from_db()
    assert item.read_at is not None
    assert client.get(reverse("notifications:unread")).json() == {"unread": 0}


def test_cannot_open_someone_elses_item(client, officer, lead):
    item = item_for(lead)
    login(client, officer)
    response = client.post(reverse("notifications:open", args=[item.pk]))
    assert response["Location"] == reverse("notifications:inbox")
    item.refresh_from_db()
    assert item.read_at is None


def test_external_links_are_not_followed(client, officer):
    item = item_for(officer, url="https://evil.example/")
    login(client, officer)
    response = client.post(reverse("notifications:open", args=[item.pk]))
    assert response["Location"] == reverse("notifications:inbox")


def test_mark_all_read(client, officer, lead):
    item_for(officer)
    item_for(officer)
    other = item_for(lead)
    login(client, officer)
    client.post(reverse("notifications:read_all"))
    assert not InboxItem.objects.filter(user=officer, read_at__isnull=True).exists()
    other.refresh_from_db()
    assert other.read_at is None


def test_preferences_page_shows_defaults_and_saves_choices(client, officer):
    login(client, officer)
    body = client.get(reverse("notifications:preferences")).content.decode()
    assert 'value="appeal.dispatched:inbox" id=' in body
    assert 'value="appeal.dispatched:inbox" id="pref-1-1" checked' in body.replace("\n", "")
    assert "没有电子邮箱" in body  # the officer has no e-mail address yet: say so

    response = client.post(
        reverse("notifications:preferences"),
        {"enabled": ["appeal.dispatched:email", "deadline.urged:sms"], "language": "en"},
    )
    assert response.status_code == 302
    prefs = {(p.event_type, p.channel): p.enabled for p in NotificationPreference.objects.filter(user=officer)}
    assert prefs[("appeal.dispatched", "email")] is True
    assert prefs[("appeal.dispatched", "inbox")] is False
    assert prefs[("deadline.urged", "sms")] is True
    assert NotificationSettings.objects.get(user=officer).language == "en"
    # Dispatcher-only events are neither shown to an officer nor stored for them.
    assert "延期申请等待审批" not in body
    assert not NotificationPreference.objects.filter(user=officer, event_type="extension.requested").exists()


def test_dispatcher_sees_dispatch_events_in_preferences(client, dispatcher):
    login(client, dispatcher)
    body = client.get(reverse("notifications:preferences")).content.decode()
    assert "延期申请等待审批" in body and "有诉求等待人工分拨" in body
    assert "答复等待审核" not in body


def test_saved_preferences_change_who_gets_what(client, hrss, officer):
    login(client, officer)
    client.post(reverse("notifications:preferences"), {"enabled": [], "language": "zh-hans"})
    appeal = factories.submit(region=hrss.region).appeal
    tasks.process_event(OutboxEvent.objects.get(appeal=appeal, event_type="appeal.dispatched").pk)
    assert not InboxItem.objects.filter(user=officer).exists()


def test_admin_retry_action_requeues_dead_letters(client, hrss, officer, monkeypatch):
    admin_user = factories.staff_user("admin", None)
    appeal = factories.submit(region=hrss.region).appeal
    event = OutboxEvent.objects.get(appeal=appeal, event_type="appeal.dispatched")
    dead = Delivery.objects.create(
        event=event, channel="inbox", recipient_key=f"user:{officer.pk}", user=officer, status="dead", attempts=5
    )
    sent = Delivery.objects.create(event=event, channel="email", recipient_key="appellant", status="sent", attempts=1)
    queued = []
    monkeypatch.setattr(tasks.retry_delivery, "apply_async", lambda args, kwargs, **kw: queued.append((args, kwargs)))
    login(client, admin_user)
    response = client.post(
        reverse("admin:notifications_delivery_changelist"),
        {"action": "retry_now", "_selected_action": [dead.pk, sent.pk]},
        follow=True,
    )
    assert response.status_code == 200
    dead.refresh_from_db()
    sent.refresh_from_db()
    assert (dead.status, dead.attempts) == ("pending", 0)
    assert sent.status == "sent"
    assert queued == [([dead.pk], {"force": True})]
    # What the queued task does: deliver it.
    tasks.retry_delivery(dead.pk, force=True)
    dead.refresh_from_db()
    assert dead.status == "sent"
    assert InboxItem.objects.filter(delivery=dead).count() == 1
    # The admin lists dead letters by status.
    listing = client.get(reverse("admin:notifications_delivery_changelist") + "?status__exact=sent").content.decode()
    assert "appellant" in listing
