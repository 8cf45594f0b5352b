"""The live websocket, driven by Channels' WebsocketCommunicator through the real ASGI stack."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser
from django.db import transaction

from appeals import services
from notifications.consumers import LiveConsumer
from notifications.groups import appeal_group, bureau_group, user_group
from tests import factories

# Committed data: database_sync_to_async closes the connection it finds inside a test transaction
# (autocommit differs from the settings), which PostgreSQL then refuses to reopen mid-transaction.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def communicator(user) -> WebsocketCommunicator:
    comm = WebsocketCommunicator(LiveConsumer.as_asgi(), "/ws/live/")
    comm.scope["user"] = user
    return comm


async def connect(user) -> WebsocketCommunicator:
    comm = communicator(user)
    connected, _ = await comm.connect()
    assert connected
    return comm


async def subscribe(comm, group) -> dict:
    await comm.send_json_to({"action": "subscribe", "group": group})
    return await comm.receive_json_from(timeout=2)


def run(coro_fn):
    async_to_sync(coro_fn)()


def test_anonymous_connection_is_closed_with_4401():
    async def scenario():
        comm = communicator(AnonymousUser())
        connected, _ = await comm.connect()
        assert connected  # accepted so that the close code reaches the browser
        closed = await comm.receive_output(timeout=2)
        assert closed == {"type": "websocket.close", "code": 4401}

    run(scenario)


def test_asgi_application_refuses_websocket_without_session(settings):
    from config.asgi import application

    async def scenario():
        # Browsers send Host and Origin on every handshake; the origin must match it exactly.
        comm = WebsocketCommunicator(
            application, "/ws/live/", headers=[(b"host", b"testserver"), (b"origin", b"http://testserver")]
        )
        connected, _code = await comm.connect()
        assert connected
        assert (await comm.receive_output(timeout=2))["code"] == 4401

    run(scenario)


def test_subscriptions_are_authorised_per_group(hrss, finance, officer, dispatcher):
    other_officer = factories.staff_user("officer", finance)
    supervisor = factories.staff_user("supervisor", None)
    own = factories.submit(region=hrss.region).appeal
    theirs_bureau = finance

    async def scenario():
        comm = await connect(officer)
        assert await subscribe(comm, bureau_group(hrss.pk)) == {"type": "subscribed", "group": f"bureau.{hrss.pk}"}
        assert await subscribe(comm, appeal_group(own.pk)) == {"type": "subscribed", "group": f"appeal.{own.pk}"}
        for refused in (
            bureau_group(theirs_bureau.pk),
            "dispatch",
            "supervision",
            user_group(other_officer.pk),
        ):
            reply = await subscribe(comm, refused)
            assert reply["type"] == "error"
            assert reply["code"] == "forbidden"
            assert reply["group"] == refused
            assert reply["message"]
        reply = await subscribe(comm, "bureau.5; DROP")
        assert (reply["type"], reply["code"]) == ("error", "bad_request")
        await comm.disconnect()

        comm = await connect(other_officer)
        reply = await subscribe(comm, appeal_group(own.pk))  # another bureau's appeal
        assert reply["code"] == "forbidden"
        await comm.disconnect()

        comm = await connect(dispatcher)
        assert (await subscribe(comm, "dispatch"))["type"] == "subscribed"
        assert (await subscribe(comm, bureau_group(finance.pk)))["type"] == "subscribed"
        await comm.disconnect()

        comm = await connect(supervisor)
        assert (await subscribe(comm, "supervision"))["type"] == "subscribed"
        assert (await subscribe(comm, "dispatch"))["code"] == "forbidden"
        await comm.disconnect()

    run(scenario)


def test_event_reaches_subscribed_bureau_after_commit_and_no_other_bureau(
    hrss, finance, officer, django_capture_on_commit_callbacks
):
    other_officer = factories.staff_user("officer", finance)

    def submit():
        with django_capture_on_commit_callbacks(execute=True):
            return factories.submit(region=hrss.region).appeal

    async def scenario():
        ours = await connect(officer)
        await subscribe(ours, bureau_group(hrss.pk))
        theirs = await connect(other_officer)
        await subscribe(theirs, bureau_group(finance.pk))

        appeal = await database_sync_to_async(submit)()

        message = await ours.receive_json_from(timeout=2)
        assert message["event"] == "appeal.dispatched"
        assert await ours.receive_nothing(
            timeout=0.1
        )  # no second message: "appeal.submitted" of a routed appeal is not broadcast
        assert message["type"] == "event"
        assert message["group"] == f"bureau.{hrss.pk}"
        assert message["appeal_id"] == appeal.pk
        assert message["state"] == "dispatched"
        assert message["bureau_id"] == hrss.pk
        assert message["version"] == appeal.version
        assert message["updated_at"]
        assert isinstance(message["event_id"], int)
        # Small payloads only: nothing about the appellant travels over the socket.
        assert "title" not in message and "contact_phone" not in message
        assert await theirs.receive_nothing(timeout=0.2)
        await ours.disconnect()
        await theirs.disconnect()

    run(scenario)


def test_nothing_is_published_when_the_transaction_rolls_back(hrss, officer, django_capture_on_commit_callbacks):
    appeal = factories.submit(region=hrss.region).appeal

    def sign_for_then_fail():
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            try:
                with transaction.atomic():
                    services.appeal_sign_for(appeal_id=appeal.pk, user=officer)
                    raise RuntimeError("boom")
            except RuntimeError:
                pass
        return callbacks

    async def scenario():
        comm = await connect(officer)
        await subscribe(comm, bureau_group(hrss.pk))
        callbacks = await database_sync_to_async(sign_for_then_fail)()
        assert callbacks == []
        assert await comm.receive_nothing(timeout=0.2)
        await comm.disconnect()

    run(scenario)


def test_colleague_sign_for_reaches_appeal_page_subscribers(hrss, officer, lead, django_capture_on_commit_callbacks):
    appeal = factories.submit(region=hrss.region).appeal

    def sign_for():
        with django_capture_on_commit_callbacks(execute=True):
            services.appeal_sign_for(appeal_id=appeal.pk, user=officer)

    async def scenario():
        watcher = await connect(lead)
        await subscribe(watcher, appeal_group(appeal.pk))
        await database_sync_to_async(sign_for)()
        message = await watcher.receive_json_from(timeout=2)
        assert (message["event"], message["state"], message["group"]) == (
            "appeal.signed_for",
            "handling",
            f"appeal.{appeal.pk}",
        )
        assert message["version"] == appeal.version + 1
        await watcher.disconnect()

    run(scenario)


def test_presence_is_shared_and_cleaned_up_on_disconnect(hrss, officer, lead, finance):
    appeal = factories.submit(region=hrss.region).appeal
    outsider = factories.staff_user("officer", finance)
    names = {officer.pk: officer.username, lead.pk: lead.username}

    async def scenario():
        first = await connect(officer)
        await first.send_json_to({"action": "presence", "appeal_id": appeal.pk, "status": "viewing"})
        message = await first.receive_json_from(timeout=2)
        assert message == {
            "type": "presence",
            "appeal_id": appeal.pk,
            "users": [{"id": officer.pk, "name": names[officer.pk], "status": "viewing"}],
        }
        second = await connect(lead)
        await second.send_json_to({"action": "presence", "appeal_id": appeal.pk, "status": "typing"})
        for comm in (first, second):
            message = await comm.receive_json_from(timeout=2)
            statuses = {u["id"]: u["status"] for u in message["users"]}
            assert statuses == {officer.pk: "viewing", lead.pk: "typing"}

        # An officer of another bureau can neither announce nor watch presence here.
        spy = await connect(outsider)
        await spy.send_json_to({"action": "presence", "appeal_id": appeal.pk, "status": "viewing"})
        assert (await spy.receive_json_from(timeout=2))["code"] == "forbidden"
        assert await first.receive_nothing(timeout=0.1)
        await spy.disconnect()

        await second.disconnect()
        message = await first.receive_json_from(timeout=2)
        assert [u["id"] for u in message["users"]] == [officer.pk]
        await first.disconnect()

    run(scenario)


def test_presence_rejects_malformed_messages(officer):
    async def scenario():
        comm = await connect(officer)
        for bad in (
            {"action": "presence", "appeal_id": "12", "status": "viewing"},
            {"action": "presence", "appeal_id": 12, "status": "dancing"},
            {"action": "fly"},
            ["not", "an", "object"],
        ):
            await comm.send_json_to(bad)
            reply = await comm.receive_json_from(timeout=2)
            assert (reply["type"], reply["code"]) == ("error", "bad_request")
        await comm.disconnect()

    run(scenario)


def test_hello_tells_the_client_to_resync(officer):
    async def scenario():
        comm = await connect(officer)
        await comm.send_json_to({"action": "hello"})
        reply = await comm.receive_json_from(timeout=2)
        assert reply["type"] == "hello"
        assert reply["server_time"][:4].isdigit()
        await comm.disconnect()

    run(scenario)


def test_reconnect_then_hello_sees_changes_made_while_offline(hrss, officer, django_capture_on_commit_callbacks):
    """Events are not replayed: a reconnecting console gets "hello" and refetches current state."""
    appeal = factories.submit(region=hrss.region).appeal

    def sign_for():
        with django_capture_on_commit_callbacks(execute=True):
            services.appeal_sign_for(appeal_id=appeal.pk, user=officer)

    async def scenario():
        comm = await connect(officer)
        await subscribe(comm, bureau_group(hrss.pk))
        await comm.disconnect()
        await database_sync_to_async(sign_for)()  # happens while the console is offline
        comm = await connect(officer)
        await subscribe(comm, bureau_group(hrss.pk))
        await comm.send_json_to({"action": "hello"})
        assert (await comm.receive_json_from(timeout=2))["type"] == "hello"
        assert await comm.receive_nothing(timeout=0.1)  # the missed event is not replayed …
        state = await database_sync_to_async(lambda: type(appeal).objects.get(pk=appeal.pk).state)()
        assert state == "handling"  # … the refetch shows it
        await comm.disconnect()

    run(scenario)


def test_inbox_count_is_pushed_to_the_users_own_group(officer):
    from notifications import realtime
    from notifications.models import InboxItem

    async def scenario():
        comm = await connect(officer)  # joined user.<id> automatically
        await database_sync_to_async(
            lambda: InboxItem.objects.create(user=officer, event_type="appeal.dispatched", title="t")
        )()
        await database_sync_to_async(realtime.push_unread)(officer.pk)
        assert await comm.receive_json_from(timeout=2) == {"type": "inbox", "unread": 1}
        await comm.disconnect()

    run(scenario)


def test_unsubscribe_stops_events(hrss, officer):
    from notifications import realtime

    async def scenario():
        comm = await connect(officer)
        await subscribe(comm, bureau_group(hrss.pk))
        await comm.send_json_to({"action": "unsubscribe", "group": bureau_group(hrss.pk)})
        assert await comm.receive_json_from(timeout=2) == {"type": "unsubscribed", "group": f"bureau.{hrss.pk}"}
        message = {
            "type": "event",
            "event": "appeal.dispatched",
            "event_id": 1,
            "appeal_id": None,
            "bureau_id": hrss.pk,
        }
        await database_sync_to_async(realtime.publish_events)([message])
        assert await comm.receive_nothing(timeout=0.2)
        await comm.disconnect()

    run(scenario)


def test_publishing_errors_are_logged_not_raised(monkeypatch, caplog):
    from notifications import realtime

    class Broken:
        async def group_send(self, *args):
            raise ConnectionError("redis down")

    monkeypatch.setattr(realtime, "get_channel_layer", lambda: Broken())
    ok = realtime.publish_events([{"type": "event", "event": "appeal.triage", "appeal_id": None, "bureau_id": 3}])
    assert ok is False
    assert "Could not publish" in caplog.text


def test_redispatch_also_reaches_the_bureau_the_appeal_left(hrss, finance):
    from notifications import realtime

    message = realtime.snapshot(outbox_id=5, event_type="appeal.dispatched", payload={"from_bureau_id": finance.pk})
    message.update(appeal_id=9, bureau_id=hrss.pk)
    assert realtime.groups_for(message) == [f"bureau.{hrss.pk}", f"bureau.{finance.pk}", "appeal.9", "dispatch"]
    submitted = dict(message, event="appeal.submitted", from_bureau_id=None)
    assert f"bureau.{hrss.pk}" not in realtime.groups_for(submitted)


def test_one_batch_publishes_every_group_in_order_with_one_cohandling_query(
    hrss, finance, dispatcher, monkeypatch, django_assert_num_queries
):
    from appeals.models import CoHandling
    from notifications import realtime

    shared = factories.submit(region=hrss.region).appeal
    CoHandling.objects.create(appeal=shared, bureau=finance, invited_by=dispatcher)
    fresh = factories.submit(region=hrss.region).appeal
    sent: list[tuple[str, str]] = []

    class Recorder:
        async def group_send(self, group, message):
            sent.append((group, message["payload"]["event"]))

    monkeypatch.setattr(realtime, "get_channel_layer", lambda: Recorder())
    messages = [
        realtime.snapshot(outbox_id=1, event_type="appeal.assigned", appeal=shared),
        realtime.snapshot(outbox_id=2, event_type="appeal.dispatched", appeal=fresh),
        realtime.snapshot(outbox_id=3, event_type="appeal.replied", appeal=shared),
    ]
    with django_assert_num_queries(1):  # co-handlers of `shared`; `fresh` was created with the events
        assert realtime.publish_events(messages, new_appeal_ids=frozenset({fresh.pk}))
    assert [event for group, event in sent if group == f"bureau.{finance.pk}"] == ["appeal.assigned", "appeal.replied"]
    assert [event for group, event in sent if group == f"bureau.{hrss.pk}"] == [
        "appeal.assigned",
        "appeal.dispatched",
        "appeal.replied",
    ]
    assert ("dispatch", "appeal.dispatched") in sent
    assert f"appeal.{shared.pk}" in {group for group, _event in sent}
    assert f"appeal.{fresh.pk}" not in {group for group, _event in sent}  # nobody can be subscribed yet
    with django_assert_num_queries(0):
        assert realtime.publish_events(messages[1:2], new_appeal_ids=frozenset({fresh.pk}))
