"""What a live connection may still receive: a snapshot of its user's access, and its invalidation.

A websocket lives for hours; the session, the account and the staff profile it was opened with can
change under it. Each connection keeps an :class:`Access` snapshot (one small set of queries) and
the consumer checks every event against it before forwarding. The snapshot is refreshed

* at once when something that changes access is committed — logout (only that session's sockets
  close), deactivation or a password change, a staff profile moved to another bureau or removed,
  a change of the user's groups: :func:`notify_access_changed` tells the user's group, and
  ``user_logged_out`` / ``post_save`` / ``post_delete`` / ``m2m_changed`` receivers (connected in
  ``NotificationsConfig.ready``) call it after commit;
* and, as a safety net for changes made around the ORM (a bulk ``UPDATE``, a session expiring, a
  group's permissions edited), every ``LIVE_ACCESS_RECHECK_SECONDS`` (default 60 s) by one
  :class:`AccessWatch` per server process, which re-reads the access of *all* its open
  connections with a handful of bulk queries (:func:`load_many`) instead of one set of queries
  per connection. Nothing of this runs on the delivery path of an event. docs/realtime.md and
  docs/benchmarks.md give the cost.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from notifications.groups import DISPATCH_GROUP, SUPERVISION_GROUP, user_group

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Access:
    """The user's standing as last read from the database (no appeal-level facts)."""

    user_id: int
    bureau_id: int | None
    view_all: bool
    dispatcher: bool
    supervisor: bool
    display_name: str

    def allows_group(self, kind: str, ident: int | None) -> bool:
        """Whether a group of this kind stays open to the user (appeal groups need the appeal too)."""
        if kind == "user":
            return ident == self.user_id
        if kind == "bureau":
            return self.view_all or (self.bureau_id is not None and self.bureau_id == ident)
        if kind == DISPATCH_GROUP:
            return self.dispatcher
        if kind == SUPERVISION_GROUP:
            return self.supervisor or self.dispatcher
        return kind == "appeal"


def recheck_seconds() -> float:
    """Seconds between the bulk re-checks (at least 0.1)."""
    return max(0.1, float(getattr(settings, "LIVE_ACCESS_RECHECK_SECONDS", 60)))


def _session_data_valid(user: Any, data: dict[str, Any] | None) -> bool:
    """The session (decoded) still names this user and its password hash still matches."""
    from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY

    if not data or data.get(SESSION_KEY) != str(user.pk):  # flushed, expired or someone else's
        return False
    stored = data.get(HASH_SESSION_KEY) or ""
    if constant_time_compare(stored, user.get_session_auth_hash()):
        return True
    # Sessions signed with a retired SECRET_KEY stay valid while it is listed, as in django.contrib.auth.
    fallback = getattr(user, "_get_session_auth_hash", None)
    return fallback is not None and any(
        constant_time_compare(stored, fallback(secret=secret)) for secret in settings.SECRET_KEY_FALLBACKS
    )


def _sessions(keys: set[str]) -> dict[str, dict[str, Any]]:
    """Decoded data of the live sessions among ``keys`` (one query with the database engines)."""
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    found: dict[str, dict[str, Any]] = {}
    if not keys:
        return found
    if hasattr(store_class, "get_model_class"):
        model = store_class.get_model_class()
        store = store_class()
        rows = model.objects.filter(session_key__in=keys, expire_date__gt=timezone.now())
        for key, data in rows.values_list("session_key", "session_data"):
            found[key] = store.decode(data)
        return found
    for key in keys:  # cache or signed-cookie engines: one lookup each
        store = store_class(key)
        data = store.load()
        if data and store.session_key == key:
            found[key] = data
    return found


def _prime_permissions(users: list[Any]) -> None:
    """Fill each user's permission cache with two queries for all of them.

    ``appeals.permissions`` asks ``user.has_perm``; ModelBackend answers from ``_perm_cache`` when
    present (the same set it would compute: the user's own permissions and their groups').
    """
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    perms: dict[int, set[str]] = {user.pk: set() for user in users}
    ids = list(perms)
    own = user_model.user_permissions.through.objects.filter(**{"user_id__in": ids}).values_list(
        "user_id", "permission__content_type__app_label", "permission__codename"
    )
    grouped = user_model.groups.through.objects.filter(
        **{"user_id__in": ids, "group__permissions__isnull": False}
    ).values_list("user_id", "group__permissions__content_type__app_label", "group__permissions__codename")
    for user_id, app_label, codename in (*own, *grouped):
        perms[user_id].add(f"{app_label}.{codename}")
    for user in users:
        user._perm_cache = perms[user.pk]


def _access_for(user: Any) -> Access:
    from appeals import permissions as perms

    profile = getattr(user, "staff_profile", None)
    name = (profile.display_name if profile is not None else "") or user.get_full_name() or user.get_username()
    return Access(
        user_id=user.pk,
        bureau_id=perms.user_bureau_id(user),
        view_all=perms.can_view_all_appeals(user),
        dispatcher=perms.is_dispatcher(user),
        supervisor=perms.is_supervisor(user),
        display_name=name,
    )


def load_many(*, pairs: Iterable[tuple[int, str | None]]) -> dict[tuple[int, str | None], Access | None]:
    """Current access for each (user id, session key); None where the account or session ended.

    A session key of None skips the session check (a connection authenticated without a session,
    as in tests that put a user straight into the scope). Four queries whatever the number of
    pairs: users with profiles, their own and their groups' permissions, the sessions.
    """
    from django.contrib.auth import get_user_model

    pairs = set(pairs)
    user_ids = {user_id for user_id, _key in pairs}
    users = list(get_user_model().objects.select_related("staff_profile").filter(pk__in=user_ids, is_active=True))
    _prime_permissions(users)
    by_id = {user.pk: user for user in users}
    sessions = _sessions({key for _user_id, key in pairs if key})
    result: dict[tuple[int, str | None], Access | None] = {}
    for user_id, key in pairs:
        user = by_id.get(user_id)
        if user is None or (key is not None and not _session_data_valid(user, sessions.get(key))):
            result[(user_id, key)] = None
        else:
            result[(user_id, key)] = _access_for(user)
    return result


def load_access(*, user_id: int, session_key: str | None) -> Access | None:
    """The user's current access, or None when the account or the session no longer allows any."""
    return load_many(pairs=[(user_id, session_key)])[(user_id, session_key)]


# Connections re-read per bulk load (four queries each).
WATCH_SLICE = 250


class AccessWatch:
    """One per event loop (server process): re-reads every open connection's access in bulk.

    Connections register on connect and leave on disconnect; every ``LIVE_ACCESS_RECHECK_SECONDS``
    the watch loads all their (user, session) pairs with :func:`load_many` in a worker thread and
    hands each connection its fresh snapshot (``apply_access``), which closes or revokes as needed.
    """

    def __init__(self) -> None:
        self.connections: set[Any] = set()
        self.task: asyncio.Task[None] | None = None

    def add(self, connection: Any) -> None:
        self.connections.add(connection)
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._run())

    def discard(self, connection: Any) -> None:
        self.connections.discard(connection)
        if not self.connections and self.task is not None:
            self.task.cancel()  # the last socket closed: nothing to watch until the next connects
            self.task = None

    async def _run(self) -> None:
        from channels.db import database_sync_to_async

        while self.connections:
            await asyncio.sleep(recheck_seconds())
            connections = [c for c in self.connections if c.access is not None]
            if not connections:
                continue
            # In slices: each load holds the GIL while it decodes sessions, and the event loop
            # forwarding events must get a turn between slices (docs/benchmarks.md).
            for start in range(0, len(connections), WATCH_SLICE):
                part = connections[start : start + WATCH_SLICE]
                try:
                    fresh = await database_sync_to_async(load_many)(
                        pairs={(c.access.user_id, c.session_key) for c in part if c.access is not None}
                    )
                except Exception:
                    logger.exception("Could not re-check access of %d live connections", len(part))
                    continue
                for connection in part:
                    if connection in self.connections and connection.access is not None:
                        key = (connection.access.user_id, connection.session_key)
                        await connection.apply_access(fresh.get(key))


_watches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AccessWatch] = weakref.WeakKeyDictionary()


def watch() -> AccessWatch:
    """This event loop's :class:`AccessWatch`."""
    loop = asyncio.get_running_loop()
    found = _watches.get(loop)
    if found is None:
        found = _watches[loop] = AccessWatch()
    return found


def notify_access_changed(*, user_id: int | None, ended_session: str | None = None) -> None:
    """After commit, tell ``user_id``'s open connections to re-read their access (never raises).

    ``ended_session``: that session logged out; its sockets close without a query.
    """
    if not user_id:
        return
    from notifications.realtime import send_to_groups

    message: dict[str, Any] = {"type": "realtime.access"}
    if ended_session:
        message["ended_session"] = ended_session

    def send() -> None:
        send_to_groups([(user_group(user_id), message)])

    transaction.on_commit(send)


# --- Signal receivers (connected in NotificationsConfig.ready) ---------------------------------------


def on_logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    session = getattr(request, "session", None)
    notify_access_changed(user_id=getattr(user, "pk", None), ended_session=getattr(session, "session_key", None))


def on_user_saved(sender: Any, instance: Any, created: bool, update_fields: Any = None, **kwargs: Any) -> None:
    # A new user has no sockets; a login only stamps last_login.
    if created or (update_fields is not None and set(update_fields) <= {"last_login"}):
        return
    notify_access_changed(user_id=instance.pk)


def on_profile_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    notify_access_changed(user_id=instance.user_id)


def on_groups_changed(sender: Any, instance: Any, action: str, reverse: bool, pk_set: Any, **kwargs: Any) -> None:
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:
        notify_access_changed(user_id=instance.pk)
    else:  # group.user_set.add(...): instance is the group, pk_set the users
        for user_id in pk_set or ():
            notify_access_changed(user_id=user_id)


def connect_signals() -> None:
    """Wire the receivers above (idempotent: dispatch_uid)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.signals import user_logged_out
    from django.db.models.signals import m2m_changed, post_delete, post_save

    from routing.models import StaffProfile

    user_model = get_user_model()
    user_logged_out.connect(on_logged_out, dispatch_uid="huying-live-logout")
    post_save.connect(on_user_saved, sender=user_model, dispatch_uid="huying-live-user")
    post_save.connect(on_profile_changed, sender=StaffProfile, dispatch_uid="huying-live-profile")
    post_delete.connect(on_profile_changed, sender=StaffProfile, dispatch_uid="huying-live-profile-delete")
    m2m_changed.connect(on_groups_changed, sender=user_model.groups.through, dispatch_uid="huying-live-groups")
