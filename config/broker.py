"""The Redis broker transport, with a fix that keeps the worker alive through a broker outage.

Celery 5.7.0 / kombu 5.7.0 crash the worker for good when Redis goes away while the worker holds
unacknowledged messages (countdown/ETA tasks are held unacknowledged until they are due):

1. the consumer sees the connection error and, in ``on_connection_error_after_connected``, first
   calls ``connection.collect()``, which detaches the transport (``transport.client = None``);
2. it then calls ``connection.close()`` inside ``kombu.common.ignore_errors``; closing the channel
   restores the unacknowledged messages ("Restoring N unacknowledged message(s)"), which needs a
   fresh Redis connection pool, whose parameters are read from ``transport.client`` — now None;
3. the resulting ``AttributeError: 'NoneType' object has no attribute 'hostname'`` is not one of the
   connection errors ``ignore_errors`` swallows, so the worker stops with "Unrecoverable error".

The channel below raises the transport's own ``ConnectionError`` in that case instead, which is what
the caller expects from a broker that is gone: the error is ignored, the consumer reconnects when
Redis is back, and the held messages are not lost — they stay in Redis's unacked hash and kombu puts
them back on the queue after the visibility timeout (``CELERY_BROKER_TRANSPORT_OPTIONS``). Delivery
of notifications never waits for that: the outbox's periodic re-dispatch covers it within a minute.

Selected with ``CELERY_BROKER_TRANSPORT`` when the broker is Redis (config/settings/).
"""

from __future__ import annotations

from typing import Any

from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError


class Channel(kombu_redis.Channel):
    def _connparams(self, asynchronous: bool = False) -> dict[str, Any]:
        if self.connection is None or self.connection.client is None:
            # The connection was released after a broker error (see the module docstring).
            raise RedisConnectionError("the broker connection was already released; reconnecting")
        return super()._connparams(asynchronous=asynchronous)


class Transport(kombu_redis.Transport):
    Channel = Channel
