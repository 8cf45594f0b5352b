"""The live websocket keeps checking access after the handshake (issue 12, items 10 and 11).

Subscriptions are re-checked on every event: an appeal moved to another bureau stops reaching the
officer who watched it; logout, deactivation and a move to another bureau close or narrow open
sockets at once. The handshake's Origin must match exactly, port included. Malformed frames get an
error message, and nothing is ever sent after the socket closed.
"""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory

from appeals import services
from notifications import realtime
from notifications.consumers import LiveConsumer
from notifications.groups import appeal_group, bureau_group
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def run(coro_fn):
    async_to_sync(coro_fn)()


def login_session(user) -> SessionStore:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session


async def connect(user, session=None) -> WebsocketCommunicator:
    comm = WebsocketCommunicator(LiveConsumer.as_asgi(), "/ws/live/")
    comm.scope["user"] = user
    if session is not None:
        comm.scope["session"] = session
    connected, _ = await comm.connect()
    assert connected
    return comm


async def subscribe(comm, group) -> dict:
    await comm.send_json_to({"action": "subscribe", "group": group})
    return await comm.receive_json_from(timeout=2)


def publish(message: dict) -> None:
    assert realtime.publish_events([message])


def event(appeal, *, event_type="appeal.replied", outbox_id=1) -> dict:
    return realtime.snapshot(outbox_id=outbox_id, event_type=event_type, appeal=appeal)


def test_appeal_moved_to_another_bureau_stops_reaching_the_officer(
    hrss, finance, officer, dispatcher, django_capture_on_commit_callbacks
):
    appeal = factories.submit(region=hrss.region).appeal
    finance_officer = factories.staff_user("officer", finance)

    def return_and_redispatch():
        with django_capture_on_commit_callbacks(execute=True):
            services.appeal_return(appeal_id=appeal.pk, user=officer, reason="不属于本单位职责")
            services.appeal_arbitrate_return(
                appeal_id=appeal.pk, user=dispatcher, bureau_id=finance.pk, ruling="应由金融局办理"
            )

    async def scenario():
        watcher = await connect(officer)
        assert (await subscribe(watcher, appeal_group(appeal.pk)))["type"] == "subscribed"
        await watcher.send_json_to({"action": "presence", "appeal_id": appeal.pk, "status": "viewing"})
        assert (await watcher.receive_json_from(timeout=2))["type"] == "presence"

        await database_sync_to_async(return_and_redispatch)()
        seen = []
        while not await watcher.receive_nothing(timeout=0.3):
            seen.append(await watcher.receive_json_from(timeout=2))
        # The return (still hrss's appeal) arrives; the re-dispatch to finance does not.
        events = [m["event"] for m in seen if m["type"] == "event"]
        assert events == ["appeal.returned"], seen
        revoked = [m for m in seen if m["type"] == "revoked"]
        assert [m["group"] for m in revoked] == [appeal_group(appeal.pk)]
        assert revoked[0]["message"]

        # Unsubscribed for good: later events and other people's presence no longer arrive.
        fresh = await database_sync_to_async(type(appeal).objects.get)(pk=appeal.pk)
        await database_sync_to_async(publish)(event(fresh, outbox_id=99))
        newcomer = await connect(finance_officer)
        await newcomer.send_json_to({"action": "presence", "appeal_id": appeal.pk, "status": "typing"})
        presence = await newcomer.receive_json_from(timeout=2)
        assert [u["id"] for u in presence["users"]] == [finance_officer.pk]  # the officer's entry was removed
        assert await watcher.receive_nothing(timeout=0.3)
        await watcher.disconnect()
        await newcomer.disconnect()

    run(scenario)


def test_cohandling_bureau_keeps_receiving_the_appeal(hrss, finance, officer, dispatcher):
    from appeals.models import CoHandling

    appeal = factories.submit(region=finance.region).appeal
    CoHandling.objects.create(appeal=appeal, bureau=hrss, invited_by=dispatcher)
    finance_bureau_appeal = type(appeal).objects.get(pk=appeal.pk)
    if finance_bureau_appeal.bureau_id != finance.pk:
        type(appeal).objects.filter(pk=appeal.pk).update(bureau=finance)
        finance_bureau_appeal.refresh_from_db()

    async def scenario():
        comm = await connect(officer)
        assert (await subscribe(comm, appeal_group(appeal.pk)))["type"] == "subscribed"
        await database_sync_to_async(publish)(event(finance_bureau_appeal))
        message = await comm.receive_json_from(timeout=2)
        assert (message["type"], message["group"]) == ("event", appeal_group(appeal.pk))
        await comm.disconnect()

    run(scenario)


def test_logout_closes_only_that_sessions_sockets(hrss, officer):
    ended, other = login_session(officer), login_session(officer)

    def log_out():
        from django.contrib.auth import logout

        request = RequestFactory().post("/staff/logout/")
        request.session = SessionStore(ended.session_key)
        request.user = officer
        logout(request)

    async def scenario():
        first = await connect(officer, ended)
        second = await connect(officer, other)
        for comm in (first, second):
            await subscribe(comm, bureau_group(hrss.pk))
        await database_sync_to_async(log_out)()
        assert await first.receive_output(timeout=2) == {"type": "websocket.close", "code": 4401}
        assert await second.receive_nothing(timeout=0.3)
        await database_sync_to_async(publish)({"type": "event", "event": "appeal.triage", "bureau_id": hrss.pk})
        assert (await second.receive_json_from(timeout=2))["event"] == "appeal.triage"
        await second.disconnect()

    run(scenario)


def test_deactivation_closes_the_socket(hrss, officer):
    session = login_session(officer)

    def deactivate():
        officer.is_active = False
        officer.save()

    async def scenario():
        comm = await connect(officer, session)
        await subscribe(comm, bureau_group(hrss.pk))
        await database_sync_to_async(deactivate)()
        assert await comm.receive_output(timeout=2) == {"type": "websocket.close", "code": 4401}

    run(scenario)


def test_move_to_another_bureau_revokes_the_old_bureau(hrss, finance, officer):
    def move():
        profile = officer.staff_profile
        profile.bureau = finance
        profile.save()

    async def scenario():
        comm = await connect(officer)
        await subscribe(comm, bureau_group(hrss.pk))
        await database_sync_to_async(move)()
        revoked = await comm.receive_json_from(timeout=2)
        assert (revoked["type"], revoked["group"]) == ("revoked", bureau_group(hrss.pk))
        await database_sync_to_async(publish)({"type": "event", "event": "appeal.triage", "bureau_id": hrss.pk})
        assert await comm.receive_nothing(timeout=0.3)
        assert (await subscribe(comm, bureau_group(finance.pk)))["type"] == "subscribed"
        await comm.disconnect()

    run(scenario)


def test_changes_around_the_orm_are_caught_by_the_periodic_recheck(hrss, finance, officer, lead, settings):
    """A bulk UPDATE sends no signal; the per-process bulk re-check (every 0.2 s here) still acts."""
    settings.LIVE_ACCESS_RECHECK_SECONDS = 0.2
    session = login_session(officer)

    def change_around_the_orm():
        from routing.models import StaffProfile

        type(officer).objects.filter(pk=officer.pk).update(is_active=False)
        StaffProfile.objects.filter(user=lead).update(bureau=finance)

    async def scenario():
        comm = await connect(officer, session)
        await subscribe(comm, bureau_group(hrss.pk))
        moved = await connect(lead)
        await subscribe(moved, bureau_group(hrss.pk))
        await database_sync_to_async(change_around_the_orm)()
        assert await comm.receive_output(timeout=3) == {"type": "websocket.close", "code": 4401}
        revoked = await moved.receive_json_from(timeout=3)
        assert (revoked["type"], revoked["group"]) == ("revoked", bureau_group(hrss.pk))
        await moved.disconnect()

    run(scenario)


def test_bulk_recheck_costs_the_same_queries_for_one_or_many_connections(hrss, finance, officer, lead):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from notifications.access import load_many

    users = [factories.staff_user("officer", hrss if i % 2 else finance) for i in range(30)] + [officer, lead]
    pairs = [(user.pk, login_session(user).session_key) for user in users]
    expected_bureau = users[0].staff_profile.bureau_id
    with CaptureQueriesContext(connection) as one:
        assert load_many(pairs=pairs[:1])[pairs[0]].bureau_id == expected_bureau
    with CaptureQueriesContext(connection) as many:
        fresh = load_many(pairs=pairs)
    assert len(many.captured_queries) == len(one.captured_queries) == 4
    assert all(access is not None for access in fresh.values())
    assert fresh[pairs[-2]].bureau_id == hrss.pk and not fresh[pairs[-2]].dispatcher


def test_expired_or_foreign_session_is_refused_at_connect(officer, lead):
    session = login_session(lead)  # a session of somebody else

    async def scenario():
        comm = WebsocketCommunicator(LiveConsumer.as_asgi(), "/ws/live/")
        comm.scope["user"] = officer
        comm.scope["session"] = session
        await comm.connect()
        assert await comm.receive_output(timeout=2) == {"type": "websocket.close", "code": 4401}

    run(scenario)


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        ({"text_data": "not json"}, "bad_request"),
        ({"text_data": '{"action": '}, "bad_request"),
        ({"bytes_data": b"\x00\x01"}, "bad_request"),
        ({"text_data": json.dumps({"action": "hello", "pad": "x" * 5000})}, "bad_request"),
        ({"text_data": "[1, 2]"}, "bad_request"),
    ],
)
def test_malformed_frames_get_an_error_message_not_an_exception(officer, frame, expected):
    async def scenario():
        comm = await connect(officer)
        await comm.send_to(**frame)
        reply = await comm.receive_json_from(timeout=2)
        assert (reply["type"], reply["code"]) == ("error", expected)
        assert reply["message"]
        await comm.send_json_to({"action": "hello"})  # still alive
        assert (await comm.receive_json_from(timeout=2))["type"] == "hello"
        await comm.disconnect()

    run(scenario)


def test_nothing_is_sent_after_the_socket_closed(hrss):
    from django.contrib.auth.models import AnonymousUser

    async def scenario():
        comm = WebsocketCommunicator(LiveConsumer.as_asgi(), "/ws/live/")
        comm.scope["user"] = AnonymousUser()
        await comm.connect()
        assert (await comm.receive_output(timeout=2))["type"] == "websocket.close"
        await comm.send_json_to({"action": "hello"})  # a frame the browser sent before it saw the close
        await comm.send_to(text_data="garbage")
        assert await comm.receive_nothing(timeout=0.3)

    run(scenario)


def test_a_browser_gone_mid_send_is_not_an_error(hrss, officer, caplog):
    """uvicorn raises when the app sends after the browser closed; the consumer drops the message."""

    async def scenario():
        consumer = LiveConsumer()
        consumer.closed = False

        async def gone(message):
            raise RuntimeError("Unexpected ASGI message 'websocket.send', after sending 'websocket.close'.")

        consumer.base_send = gone
        await consumer.send_json({"type": "hello"})
        assert consumer.closed
        await consumer.send_json({"type": "hello"})  # and later sends are not even tried

    run(scenario)
    assert "Traceback" not in caplog.text and "ERROR" not in caplog.text


@pytest.mark.parametrize(
    ("host", "origin", "allowed"),
    [
        ("testserver", "http://testserver", True),
        ("testserver:8000", "http://testserver:8000", True),
        ("testserver:8000", "http://testserver:8001", False),  # same host, another port
        ("testserver", "http://testserver:8080", False),
        ("testserver", "https://testserver", False),  # another scheme
        ("testserver", "http://evil.example", False),
        ("evil.example", "http://evil.example", False),  # not in ALLOWED_HOSTS
        ("testserver", "null", False),
        ("testserver", None, False),
        ("testserver", "http://console.example.gov.cn:8443", False),
        ("testserver", "https://console.example.gov.cn:8443", True),  # CSRF_TRUSTED_ORIGINS, exact
        ("testserver", "https://console.example.gov.cn", False),
        ("testserver", "https://a.wild.example.gov.cn", True),  # CSRF_TRUSTED_ORIGINS wildcard
    ],
)
def test_origin_must_match_exactly_including_the_port(settings, host, origin, allowed):
    from config.asgi import application

    settings.ALLOWED_HOSTS = ["testserver"]
    settings.CSRF_TRUSTED_ORIGINS = ["https://console.example.gov.cn:8443", "https://*.wild.example.gov.cn"]
    headers = [(b"host", host.encode())]
    if origin is not None:
        headers.append((b"origin", origin.encode()))

    async def scenario():
        comm = WebsocketCommunicator(application, "/ws/live/", headers=headers)
        connected, _code = await comm.connect()
        assert connected is allowed
        if connected:
            await comm.disconnect()

    run(scenario)


def test_origin_behind_a_tls_proxy(settings):
    from notifications.origins import origin_allowed

    settings.ALLOWED_HOSTS = ["huying.example.gov.cn"]
    scope = {
        "type": "websocket",
        "scheme": "ws",
        "headers": [(b"host", b"huying.example.gov.cn"), (b"origin", b"https://huying.example.gov.cn")],
    }
    assert not origin_allowed(scope)  # plain ws: an https page is another origin
    scope["headers"].append((b"x-forwarded-proto", b"https"))
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")  # as in production settings
    assert origin_allowed(scope)
