"""The live websocket (``ws/live/``): push-only, every subscription authorised.

Protocol (JSON, documented in docs/realtime.md):

client → server
    {"action": "subscribe" | "unsubscribe", "group": "bureau.5"}
    {"action": "presence", "appeal_id": 12, "status": "viewing" | "typing" | "idle" | "left"}
    {"action": "hello"}
server → client
    {"type": "event", "event": "appeal.dispatched", "group": …, "event_id": …, "appeal_id": …,
     "state": …, "version": …, "bureau_id": …, "updated_at": …}
    {"type": "presence", "appeal_id": 12, "users": [{"id": …, "name": …, "status": …}]}
    {"type": "inbox", "unread": 3}
    {"type": "subscribed" | "unsubscribed", "group": …}
    {"type": "hello", "server_time": …}
    {"type": "error", "code": "forbidden" | "bad_request", "group"?: …, "message": …}

Anonymous connections are accepted and closed at once with code 4401 so the browser can tell
"log in again" from a network failure. Clients never write through the socket: actions go
through the normal views and services.
"""

from __future__ import annotations

import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications import presence
from notifications.groups import DISPATCH_GROUP, SUPERVISION_GROUP, appeal_group, parse_group, user_group

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
MAX_GROUPS = 50


def may_subscribe(user: Any, group: str) -> bool:
    """Whether ``user`` may receive ``group``'s events. Uses the appeals selectors and permissions."""
    from appeals import permissions as perms
    from appeals import selectors

    parsed = parse_group(group)
    if parsed is None or user is None or not user.is_authenticated or not user.is_active:
        return False
    kind, ident = parsed
    if kind == "user":
        return ident == user.pk
    if kind == "bureau":
        return perms.user_bureau_id(user) == ident or perms.can_view_all_appeals(user)
    if kind == "appeal":
        return ident is not None and selectors.appeal_get_for_user(user=user, appeal_id=ident) is not None
    if kind == DISPATCH_GROUP:
        return perms.is_dispatcher(user)
    if kind == SUPERVISION_GROUP:
        return perms.is_supervisor(user) or perms.is_dispatcher(user)
    return False


def _display_name(user: Any) -> str:
    profile = getattr(user, "staff_profile", None)
    return (profile.display_name if profile is not None else "") or user.get_full_name() or user.get_username()


class LiveConsumer(AsyncJsonWebsocketConsumer):
    """One browser tab's live connection."""

    async def connect(self) -> None:
        self.user = self.scope.get("user")
        self.groups_joined: set[str] = set()
        self.presence_appeals: set[int] = set()
        await self.accept()
        if self.user is None or not self.user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.display_name = await database_sync_to_async(_display_name)(self.user)
        await self._join(user_group(self.user.pk))

    async def disconnect(self, code: int) -> None:
        for appeal_id in list(getattr(self, "presence_appeals", ())):
            await self._presence(appeal_id, "left")
        for group in list(getattr(self, "groups_joined", ())):
            await self.channel_layer.group_discard(group, self.channel_name)
        self.groups_joined = set()

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict):
            await self._error("bad_request", _("消息格式不正确：应为 JSON 对象。"))
            return
        action = content.get("action")
        if action == "hello":
            await self.send_json({"type": "hello", "server_time": timezone.now().isoformat()})
        elif action in ("subscribe", "unsubscribe"):
            group = content.get("group")
            if not isinstance(group, str) or parse_group(group) is None:
                await self._error("bad_request", _("无法识别的订阅频道，请刷新页面后重试。"), group=group)
            elif action == "subscribe":
                await self._subscribe(group)
            else:
                await self._unsubscribe(group)
        elif action == "presence":
            await self._presence_action(content)
        else:
            await self._error("bad_request", _("无法识别的操作，请刷新页面后重试。"))

    async def _subscribe(self, group: str) -> None:
        if group in self.groups_joined:
            await self.send_json({"type": "subscribed", "group": group})
            return
        if len(self.groups_joined) >= MAX_GROUPS:
            await self._error("bad_request", _("同时订阅的频道太多，请关闭部分页面后重试。"), group=group)
            return
        if not await database_sync_to_async(may_subscribe)(self.user, group):
            await self._error("forbidden", _("您没有权限查看这个频道的动态。"), group=group)
            return
        await self._join(group)
        await self.send_json({"type": "subscribed", "group": group})

    async def _unsubscribe(self, group: str) -> None:
        if group == user_group(self.user.pk):
            return  # the personal group lives as long as the connection
        if group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)
            self.groups_joined.discard(group)
        await self.send_json({"type": "unsubscribed", "group": group})

    async def _join(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined.add(group)

    async def _presence_action(self, content: dict[str, Any]) -> None:
        appeal_id, status = content.get("appeal_id"), content.get("status")
        if not isinstance(appeal_id, int) or isinstance(appeal_id, bool) or status not in presence.STATUSES:
            await self._error("bad_request", _("在线状态消息不完整：需要 appeal_id 和 status。"))
            return
        group = appeal_group(appeal_id)
        if group not in self.groups_joined:
            if not await database_sync_to_async(may_subscribe)(self.user, group):
                await self._error("forbidden", _("您没有权限查看这个频道的动态。"), group=group)
                return
            await self._join(group)
        await self._presence(appeal_id, status)

    async def _presence(self, appeal_id: int, status: str) -> None:
        users = await database_sync_to_async(presence.update)(
            appeal_id=appeal_id,
            channel_name=self.channel_name,
            user_id=self.user.pk,
            name=self.display_name,
            status=status,
        )
        if status == "left":
            self.presence_appeals.discard(appeal_id)
        else:
            self.presence_appeals.add(appeal_id)
        try:
            await self.channel_layer.group_send(
                appeal_group(appeal_id),
                {"type": "realtime.presence", "payload": {"type": "presence", "appeal_id": appeal_id, "users": users}},
            )
        except Exception:
            logger.exception("Could not broadcast presence for appeal %s", appeal_id)

    async def _error(self, code: str, message: str, **extra: Any) -> None:
        await self.send_json({"type": "error", "code": code, "message": message, **extra})

    # --- Messages from the channel layer ---------------------------------------------------------

    async def realtime_event(self, message: dict[str, Any]) -> None:
        await self.send_json(message["payload"])

    async def realtime_presence(self, message: dict[str, Any]) -> None:
        await self.send_json(message["payload"])

    async def realtime_inbox(self, message: dict[str, Any]) -> None:
        await self.send_json(message["payload"])
