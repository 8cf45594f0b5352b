"""The consumer and publisher over the real channels-redis layers (PostgreSQL + Redis pass)."""

from __future__ import annotations

import os
import uuid

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from notifications import realtime
from notifications.consumers import LiveConsumer
from notifications.groups import bureau_group
from tests import factories

pytestmark = [
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (set REDIS_URL=redis://…)"),
]


@pytest.fixture(params=["channels_redis.pubsub.RedisPubSubChannelLayer", "channels_redis.core.RedisChannelLayer"])
def redis_layer(request, settings):
    # A prefix of its own, so parallel test workers (whose databases reuse ids) never share groups.
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": request.param,
            "CONFIG": {
                "hosts": [{"address": os.environ["REDIS_URL"], "socket_timeout": 15}],
                "prefix": f"test{uuid.uuid4().hex[:10]}",
            },
        }
    }
    yield request.param
    realtime._publisher = None  # the next test's layer gets a fresh publisher loop


def test_event_fan_out_over_redis_respects_bureaus(redis_layer, hrss, finance, officer):
    other = factories.staff_user("officer", finance)
    message = {"type": "event", "event": "appeal.dispatched", "event_id": 1, "appeal_id": None, "bureau_id": hrss.pk}

    async def scenario():
        ours = WebsocketCommunicator(LiveConsumer.as_asgi(), "/ws/live/")
        ours.scope["user"] = officer
        theirs = WebsocketCommunicator(LiveConsumer.as_asgi(), "/ws/live/")
        theirs.scope["user"] = other
        for comm, bureau in ((ours, hrss), (theirs, finance)):
            assert (await comm.connect())[0]
            await comm.send_json_to({"action": "subscribe", "group": bureau_group(bureau.pk)})
            assert (await comm.receive_json_from(timeout=3))["type"] == "subscribed"
        # Published from synchronous code, as a commit hook does (the long-lived publisher loop).
        assert await database_sync_to_async(realtime.publish_events)([message])
        received = await ours.receive_json_from(timeout=3)
        assert (received["event"], received["group"]) == ("appeal.dispatched", f"bureau.{hrss.pk}")
        assert await theirs.receive_nothing(timeout=0.3)
        await ours.disconnect()
        await theirs.disconnect()

    async_to_sync(scenario)()
