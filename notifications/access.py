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
  group's permissions edited), lazily before forwarding an event once the snapshot is older than
  ``LIVE_ACCESS_RECHECK_SECONDS`` (default 60 s, spread per connection so one bureau's consoles do
  not all query at once). docs/realtime.md and docs/benchmarks.md give the cost of each.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django.conf import settings
from django.db import transaction
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
    return float(getattr(settings, "LIVE_ACCESS_RECHECK_SECONDS", 60))


def _session_valid(user: Any, session_key: str) -> bool:
    """The session still exists, still names this user, and its password hash still matches."""
    from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    if store.get(SESSION_KEY) != str(user.pk):  # also None when the session was flushed or expired
        return False
    stored = store.get(HASH_SESSION_KEY) or ""
    if constant_time_compare(stored, user.get_session_auth_hash()):
        return True
    # Sessions signed with a retired SECRET_KEY stay valid while it is listed, as in django.contrib.auth.
    fallback = getattr(user, "_get_session_auth_hash", None)
    return fallback is not None and any(
        constant_time_compare(stored, fallback(secret=secret)) for secret in settings.SECRET_KEY_FALLBACKS
    )


def load_access(*, user_id: int, session_key: str | None) -> Access | None:
    """The user's current access, or None when the account or the session no longer allows any.

    ``session_key`` None skips the session check (a connection authenticated without a session,
    as in tests that put a user straight into the scope). Queries: user + profile, permissions
    (two, cached on the instance), and the session when given.
    """
    from django.contrib.auth import get_user_model

    from appeals import permissions as perms

    user = get_user_model().objects.select_related("staff_profile").filter(pk=user_id, is_active=True).first()
    if user is None:
        return None
    if session_key is not None and not _session_valid(user, session_key):
        return None
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
