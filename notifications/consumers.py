"""The live websocket (``ws/live/``): push-only, every subscription authorised, every event re-checked.

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
    {"type": "revoked", "group": …, "message": …}
    {"type": "hello", "server_time": …}
    {"type": "error", "code": "forbidden" | "bad_request", "group"?: …, "message": …}

Anonymous connections are accepted and closed at once with code 4401 so the browser can tell
"log in again" from a network failure; so is a connection whose session logged out or whose
account was deactivated (notifications.access). A group the user lost access to (an appeal moved
to another bureau, the officer moved) is left and answered with ``revoked``. Clients never write
through the socket: actions go through the normal views and services.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications import presence
from notifications.access import Access, load_access, watch
from notifications.groups import appeal_group, parse_group, user_group

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
MAX_GROUPS = 50
# Client frames are a few dozen bytes; anything far larger is not ours.
MAX_FRAME_CHARS = 4096

_load_access = database_sync_to_async(load_access)


def may_see_appeal(user_id: int, appeal_id: int) -> bool:
    """The appeal is still visible to the user (own bureau or co-handled), through the selector."""
    from django.contrib.auth import get_user_model

    from appeals import selectors

    user = get_user_model().objects.select_related("staff_profile").filter(pk=user_id, is_active=True).first()
    return user is not None and selectors.appeal_get_for_user(user=user, appeal_id=appeal_id) is not None


class LiveConsumer(AsyncWebsocketConsumer):
    """One browser tab's live connection."""

    closed = False  # by us or by the browser; nothing is sent after that
    access: Access | None = None

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels closes stale database connections (a thread hop) before *every* message. Channel
        # layer messages touch no database unless a re-check runs, and that goes through
        # database_sync_to_async, which cleans up itself; skipping the hop takes one thread round
        # trip per console off each event's fan-out.
        if message["type"].startswith("realtime."):
            handler = getattr(self, message["type"].replace(".", "_"), None)
            if handler is not None:
                await handler(message)
                return
        await super().dispatch(message)

    # --- Connection lifecycle ---------------------------------------------------------------------

    async def connect(self) -> None:
        self.user = self.scope.get("user")
        self.groups_joined: set[str] = set()
        self.presence_appeals: set[int] = set()
        session = self.scope.get("session")
        self.session_key: str | None = getattr(session, "session_key", None) if session is not None else None
        await self.accept()
        if self.user is None or not self.user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.access = await _load_access(user_id=self.user.pk, session_key=self.session_key)
        if self.access is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.display_name = self.access.display_name
        watch().add(self)
        await self._join(user_group(self.user.pk))

    async def close(self, code: int | bool | None = None, reason: str | None = None) -> None:
        if self.closed:
            return
        self.closed = True
        await super().close(code=code, reason=reason)

    async def send(self, text_data: str | None = None, bytes_data: bytes | None = None, close: bool = False) -> None:
        """Send unless the socket is already closed (by us or by the browser): never a traceback."""
        if self.closed:
            return
        try:
            await super().send(text_data=text_data, bytes_data=bytes_data, close=close)
        except (RuntimeError, OSError) as exc:
            # The browser went away between the message being queued and sent (uvicorn raises
            # RuntimeError "... after sending 'websocket.close'" or ClientDisconnected, an OSError).
            self.closed = True
            logger.debug("Dropped a message for a closed websocket: %s", exc)

    async def send_json(self, content: Any) -> None:
        await self.send(text_data=json.dumps(content))

    async def disconnect(self, code: int) -> None:
        self.closed = True
        watch().discard(self)
        for appeal_id in list(getattr(self, "presence_appeals", ())):
            await self._presence(appeal_id, "left")
        for group in list(getattr(self, "groups_joined", ())):
            await self.channel_layer.group_discard(group, self.channel_name)
        self.groups_joined = set()

    # --- Frames from the browser ------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.closed:
            return
        if text_data is None:
            await self._error("bad_request", _("消息格式不正确：只接受 JSON 文本。"))
            return
        if len(text_data) > MAX_FRAME_CHARS:
            await self._error("bad_request", _("消息太长，已忽略。"))
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self._error("bad_request", _("消息格式不正确：应为 JSON 对象。"))
            return
        await self.receive_json(content)

    async def receive_json(self, content: Any) -> None:
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
        if not await self._may_join(group):
            await self._error("forbidden", _("您没有权限查看这个频道的动态。"), group=group)
            return
        await self._join(group)
        await self.send_json({"type": "subscribed", "group": group})

    async def _may_join(self, group: str) -> bool:
        """The subscription check, against current access (not the user object of the handshake)."""
        access = await self._current_access()
        parsed = parse_group(group)
        if access is None or parsed is None or not access.allows_group(*parsed):
            return False
        kind, ident = parsed
        if kind == "appeal" and not access.view_all:
            return ident is not None and await _may_see_appeal(access.user_id, ident)
        return True

    async def _unsubscribe(self, group: str) -> None:
        if group == user_group(self.user.pk):
            return  # the personal group lives as long as the connection
        if group in self.groups_joined:
            await self._leave(group)
        await self.send_json({"type": "unsubscribed", "group": group})

    async def _join(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined.add(group)

    async def _leave(self, group: str) -> None:
        self.groups_joined.discard(group)
        await self.channel_layer.group_discard(group, self.channel_name)
        parsed = parse_group(group)
        if parsed is not None and parsed[0] == "appeal" and parsed[1] in self.presence_appeals:
            await self._presence(parsed[1], "left")

    async def _presence_action(self, content: dict[str, Any]) -> None:
        appeal_id, status = content.get("appeal_id"), content.get("status")
        if not isinstance(appeal_id, int) or isinstance(appeal_id, bool) or status not in presence.STATUSES:
            await self._error("bad_request", _("在线状态消息不完整：需要 appeal_id 和 status。"))
            return
        group = appeal_group(appeal_id)
        if group not in self.groups_joined:
            if status == "left":
                return  # nothing to leave (e.g. access was revoked first)
            if not await self._may_join(group):
                await self._error("forbidden", _("您没有权限查看这个频道的动态。"), group=group)
                return
            await self._join(group)
        await self._presence(appeal_id, status)

    async def _presence(self, appeal_id: int, status: str) -> None:
        try:
            users = await database_sync_to_async(presence.update)(
                appeal_id=appeal_id,
                channel_name=self.channel_name,
                user_id=self.user.pk,
                name=self.display_name,
                status=status,
            )
        except Exception:
            logger.exception("Could not record presence for appeal %s", appeal_id)
            return
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

    # --- Re-checking access -----------------------------------------------------------------------

    async def apply_access(self, access: Access | None) -> None:
        """A fresh snapshot (from AccessWatch or a change notice): close, or leave lost groups."""
        if self.closed:
            return
        if access is None:
            await self._end("access lost")
            return
        if access == self.access:
            return
        self.access = access
        for group in sorted(self.groups_joined):
            parsed = parse_group(group)
            if parsed is not None and not access.allows_group(*parsed):
                await self._revoke(group)

    async def _current_access(self) -> Access | None:
        # Kept fresh off the delivery path (AccessWatch, change notices): no query here.
        return None if self.closed else self.access

    async def _still_allowed(self, group: str, payload: dict[str, Any]) -> bool:
        """Whether this event of ``group`` may be forwarded now (leaves the group when not)."""
        if group not in self.groups_joined:
            return False  # left, or revoked, while the message was on its way
        access = await self._current_access()
        if access is None:
            return False
        parsed = parse_group(group)
        if parsed is None:
            return False
        kind, ident = parsed
        if not access.allows_group(kind, ident):
            await self._revoke(group)
            return False
        if kind == "appeal" and not access.view_all:
            # Where the appeal is now: its own bureau is the common case and needs no query; any
            # other bureau may still be a co-handler, which only the selector can say.
            bureau_id = payload.get("bureau_id")
            if bureau_id is None or bureau_id != access.bureau_id:
                assert ident is not None
                if not await _may_see_appeal(access.user_id, ident):
                    await self._revoke(group)
                    return False
        return True

    async def _revoke(self, group: str) -> None:
        await self._leave(group)
        await self.send_json(
            {
                "type": "revoked",
                "group": group,
                "message": _("您已不再有权限查看这里的动态（可能已改派或权限有变化），页面不再自动更新。"),
            }
        )

    async def _end(self, why: str) -> None:
        watch().discard(self)
        logger.info("Closing websocket of user %s: %s", getattr(self.user, "pk", None), why)
        for group in list(self.groups_joined):
            await self._leave(group)
        await self.close(code=CLOSE_UNAUTHENTICATED)

    # --- Messages from the channel layer ----------------------------------------------------------

    async def realtime_event(self, message: dict[str, Any]) -> None:
        payload = message["payload"]
        if not await self._still_allowed(payload.get("group") or "", payload):
            return
        # Publishers serialise once per event ("text"); older publishers send the payload only.
        await self.send(text_data=message.get("text") or json.dumps(payload))

    async def realtime_presence(self, message: dict[str, Any]) -> None:
        payload = message["payload"]
        group = appeal_group(payload["appeal_id"])
        if group in self.groups_joined and await self._current_access() is not None:
            await self.send_json(payload)

    async def realtime_inbox(self, message: dict[str, Any]) -> None:
        if await self._current_access() is not None:
            await self.send_json(message["payload"])

    async def realtime_access(self, message: dict[str, Any]) -> None:
        """Something about this user's access changed (notifications.access): re-read it now."""
        if self.closed or self.access is None:
            return
        ended = message.get("ended_session")
        if ended and self.session_key and ended == self.session_key:
            await self._end("logged out")
            return
        await self.apply_access(await _load_access(user_id=self.user.pk, session_key=self.session_key))


async def _may_see_appeal(user_id: int, appeal_id: int) -> bool:
    return await database_sync_to_async(may_see_appeal)(user_id, appeal_id)
