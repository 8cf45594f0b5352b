"""Staff roles. Each role is a Django group holding the permissions listed here.

The appellant has no role: appellants never log in, they hold a tracking number and access code.
Bureau membership (which bureau a user acts for) lives on ``StaffProfile``; permissions say *what*
a role may do, membership says *where*.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    DISPATCHER = "dispatcher", _("分拨员")
    OFFICER = "officer", _("承办人")
    LEAD = "lead", _("承办单位负责人")
    SUPERVISOR = "supervisor", _("督办员")
    MANAGER = "manager", _("管理者")
    ADMIN = "admin", _("系统管理员")


# "app_label.codename" of every permission a role's group holds.
ROLE_PERMISSIONS: dict[Role, list[str]] = {
    Role.DISPATCHER: ["appeals.dispatch_appeal", "appeals.view_all_appeals"],
    Role.OFFICER: ["appeals.handle_appeal"],
    Role.LEAD: ["appeals.handle_appeal", "appeals.review_appeal", "appeals.lead_bureau"],
    Role.SUPERVISOR: ["appeals.supervise_appeal", "appeals.view_all_appeals"],
    Role.MANAGER: ["appeals.view_all_appeals", "analytics.view_analytics"],
    Role.ADMIN: [
        "appeals.dispatch_appeal",
        "appeals.view_all_appeals",
        "appeals.supervise_appeal",
        "analytics.view_analytics",
    ],
}


def ensure_role_groups(**kwargs: Any) -> None:
    """Create one group per role and give it exactly the permissions in ``ROLE_PERMISSIONS``.

    Runs after every ``migrate`` (post_migrate). Permissions that do not exist yet (an app not
    migrated) are skipped and picked up on the next run.
    """
    from django.contrib.auth.models import Group, Permission

    for role, names in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role.value)
        permissions: list[Permission] = []
        for name in names:
            app_label, codename = name.split(".", 1)
            permissions.extend(Permission.objects.filter(content_type__app_label=app_label, codename=codename))
        group.permissions.set(permissions)


def staff_display_name(user: Any) -> str:
    """How staff are named on pages and in events: the profile's display name, else the username."""
    profile = getattr(user, "staff_profile", None)
    return (profile.display_name if profile is not None and profile.display_name else "") or user.get_username()
