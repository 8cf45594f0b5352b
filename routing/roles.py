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


# What each role means, shown next to the role choice in the admin.
ROLE_DESCRIPTIONS: dict[Role, Any] = {
    Role.DISPATCHER: _("分拨中心人员：分拨诉求、审核退单、审批延期、并单，可查看所有单位的诉求。"),
    Role.OFFICER: _("承办单位工作人员：签收、办理、答复本单位的诉求。"),
    Role.LEAD: _("承办单位负责人：承办人的全部权限，另可审核答复、改派承办人、查看本单位考核。"),
    Role.SUPERVISOR: _("督办员：对临期和超期诉求催办、督办，可查看所有单位的诉求。"),
    Role.MANAGER: _("管理者：查看所有诉求和统计分析，不办理诉求。"),
    Role.ADMIN: _("系统管理员：维护账号、单位、规则和系统设置（后台）。"),
}


def role_help_text() -> str:
    """One line per role: "承办人：…" (for the admin's role field)."""
    return "；".join(f"{role.label}：{ROLE_DESCRIPTIONS[role]}" for role in Role)


def sync_role_groups(user: Any, role: str) -> None:
    """Put ``user`` in exactly the group of ``role`` among the role groups (other groups are kept).

    Called whenever a StaffProfile is saved, so choosing a role is enough for the user to log in.
    """
    from django.contrib.auth.models import Group

    role_groups = Group.objects.filter(name__in=Role.values)
    keep = [group for group in role_groups if group.name == role]
    if role in Role.values and not keep:
        group, _created = Group.objects.get_or_create(name=role)
        keep = [group]
    user.groups.remove(*[group for group in role_groups if group.name != role])
    if keep:
        user.groups.add(*keep)


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
