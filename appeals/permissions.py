"""Who may do what to an appeal: pure predicates used on the FSM transitions and by selectors.

Roles (groups and permissions, see ``routing.roles``) say what a user may do; bureau membership
(``StaffProfile.bureau``) says for which appeals. Both are checked server-side, here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from appeals.models import Appeal


def user_bureau_id(user: Any) -> int | None:
    """The bureau the user works in, or None (anonymous users, users without a profile)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    profile = getattr(user, "staff_profile", None)
    return profile.bureau_id if profile is not None else None


def is_dispatcher(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.has_perm("appeals.dispatch_appeal"))


def is_supervisor(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.has_perm("appeals.supervise_appeal"))


def can_view_all_appeals(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.has_perm("appeals.view_all_appeals"))


def is_bureau_handler(appeal: Appeal, user: Any) -> bool:
    """An officer or lead of the bureau the appeal is assigned to."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.has_perm("appeals.handle_appeal")
        and appeal.bureau_id is not None
        and user_bureau_id(user) == appeal.bureau_id
    )


def is_bureau_lead(appeal: Appeal, user: Any) -> bool:
    """The lead (负责人) of the bureau the appeal is assigned to."""
    return is_bureau_handler(appeal, user) and user.has_perm("appeals.review_appeal")


def is_assigned_officer_or_lead(appeal: Appeal, user: Any) -> bool:
    """The officer who signed for the appeal, or a lead of its bureau (who may act for any officer)."""
    if not is_bureau_handler(appeal, user):
        return False
    return appeal.officer_id in (None, user.pk) or user.has_perm("appeals.review_appeal")


def can_dispatch(appeal: Appeal, user: Any) -> bool:
    return is_dispatcher(user)


def anyone(appeal: Appeal, user: Any) -> bool:
    """Transitions started by the appellant (checked by access code) or by the system."""
    return True
