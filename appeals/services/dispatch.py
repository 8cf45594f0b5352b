"""Where an appeal goes: dispatch from triage, re-route, arbitration of a return, rejection.

The decision (rules, classifier, routing table) is ``routing.decisions``; these services apply a
person's decision to the appeal and restart the dispatch clock. After every dispatch the bureau's
assignment mode applies (``appeals.services.assignment``). Re-routes and arbitrations are kept as
labelled examples the classifier learns from (``routing.learning``).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals import permissions as perms
from appeals.errors import InvalidInput, NotAllowed, StateConflict
from appeals.models import Appeal, AppealState
from appeals.services.assignment import assign_after_dispatch, auto_assign
from appeals.services.runner import commit, open_appeal, require_text, run_transition, state_label
from routing import deadlines, learning
from routing.models import Bureau, Category


def start_dispatch_clock(appeal: Appeal) -> None:
    """Set the sign-for and return deadlines, which start when the appeal reaches a bureau."""
    if appeal.dispatched_at is None:
        raise RuntimeError("the dispatch clock starts after a transition that sets dispatched_at")
    deadlines_due = deadlines.dispatch_deadlines(
        at=appeal.dispatched_at, urgent=appeal.is_urgent, category=appeal.category_id, appeal_type=appeal.appeal_type
    )
    for name, value in deadlines_due.items():
        setattr(appeal, name, value)


def _get_bureau(bureau_id: int) -> Bureau:
    bureau = Bureau.objects.filter(pk=bureau_id, is_active=True).first()
    if bureau is None:
        raise InvalidInput(_("请选择一个有效的承办单位。"), code="bureau")
    return bureau


def appeal_dispatch(
    *, appeal_id: int, user: Any, bureau_id: int, note: str = "", expected_version: int | None = None
) -> Appeal:
    """A dispatcher routes an appeal from the triage queue to a bureau; deadlines start.

    Side effects: a ``dispatched`` event (``manual``), ``appeal.dispatched``, then assignment
    inside the bureau. Raises ``InvalidInput`` (bureau), ``NotAllowed``, ``StateConflict``.
    """
    bureau = _get_bureau(bureau_id)

    def start_clock(appeal: Appeal) -> None:
        start_dispatch_clock(appeal)
        # Keep what routing said (classifier, region notes) and why it did not route: the page explains both.
        previous = dict(appeal.routing_explanation or {})
        appeal.routing_explanation = {
            **previous,
            "reason": "manual",
            "triage_reason": previous.get("reason", ""),
            "by": user.pk,
            "bureau_name": bureau.name,
        }

    appeal = run_transition(
        appeal_id=appeal_id,
        transition="dispatch",
        actor=user,
        kind="dispatched",
        action_label=_("派单"),
        kwargs={"bureau": bureau, "at": timezone.now()},
        reason=note,
        data={"bureau_id": bureau.pk, "bureau": bureau.name, "manual": True},
        after=start_clock,
        expected_version=expected_version,
    )
    return assign_after_dispatch(appeal)


def appeal_reject(*, appeal_id: int, user: Any, reason: str, expected_version: int | None = None) -> Appeal:
    """不予受理, with a reason the appellant will see."""
    reason = require_text(reason, _("请填写不予受理的理由，诉求人会看到这段话。"))
    return run_transition(
        appeal_id=appeal_id,
        transition="reject",
        actor=user,
        kind="rejected",
        action_label=_("不予受理"),
        kwargs={"reason": reason, "at": timezone.now()},
        reason=reason,
        expected_version=expected_version,
    )


def appeal_arbitrate_return(
    *, appeal_id: int, user: Any, bureau_id: int, ruling: str, expected_version: int | None = None
) -> Appeal:
    """派单异议审核: re-route a returned appeal (改派), or keep it with the bureau that returned it
    (维持原承办单位: the return is overruled) — ``bureau_id`` is that bureau. Either way with a ruling.

    The event (``redispatched``) and the notice (``appeal.dispatched``) carry ``kept`` so the
    timeline, the bureau and the appellant read "kept" or "re-routed", not one for the other.
    """
    ruling = require_text(ruling, _("请填写审核意见。"))
    bureau = _get_bureau(bureau_id)
    data: dict[str, Any] = {"bureau_id": bureau.pk, "bureau": bureau.name}
    payload: dict[str, Any] = {}

    def ruling_kind(appeal: Appeal) -> None:
        kept = appeal.bureau_id == bureau.pk
        previous = appeal.bureau
        data.update(
            kept=kept, from_bureau_id=previous.pk if previous else None, from_bureau=previous.name if previous else ""
        )
        payload.update(kept=kept, ruling=ruling)

    appeal = run_transition(
        appeal_id=appeal_id,
        transition="redispatch",
        actor=user,
        kind="redispatched",
        action_label=_("审核退单"),
        kwargs={"bureau": bureau, "at": timezone.now()},
        reason=ruling,
        data=data,
        before=ruling_kind,
        after=start_dispatch_clock,
        event_type="appeal.dispatched",
        payload=payload,
        expected_version=expected_version,
    )
    return assign_after_dispatch(appeal)


def appeal_reroute(
    *,
    appeal_id: int,
    user: Any,
    bureau_id: int,
    reason: str,
    category_id: int | None = None,
    expected_version: int | None = None,
) -> Appeal:
    """改派: a dispatcher moves a dispatched (not yet signed-for) appeal to another bureau.

    The dispatch clock restarts (sign-for and return window), the previous assignment is
    dropped and the new bureau's assignment mode applies. The appellant's category is left as
    they chose it; ``category_id`` is the category the dispatcher judges right, kept with the
    labelled example the classifier learns from (inferred from the bureau when not given).
    Appeals in triage are dispatched with ``appeal_dispatch``, returned ones arbitrated with
    ``appeal_arbitrate_return``.
    """
    reason = require_text(reason, _("请写明改派理由，承办单位和诉求人会看到处理经过。"))
    bureau = Bureau.objects.select_related("bureau_type").filter(pk=bureau_id, is_active=True).first()
    if bureau is None or bureau.is_dispatch_centre:
        raise InvalidInput(_("请选择一个有效的承办单位。"), code="bureau")
    label = None
    if category_id is not None:
        label = Category.objects.filter(pk=category_id, is_active=True).first()
        if label is None:
            raise InvalidInput(_("请选择一个有效的类别。"), code="category")
    now = timezone.now()
    with transaction.atomic():
        appeal = open_appeal(appeal_id, expected_version=expected_version)
        if not perms.is_dispatcher(user):
            raise NotAllowed(_("只有分拨员可以改派诉求。"), code="forbidden")
        if appeal.state != AppealState.DISPATCHED:
            raise StateConflict(
                _("只有已派单、尚未签收的诉求可以直接改派；这件诉求现在是“%(state)s”。")
                % {"state": state_label(appeal.state)},
                code="wrong_state",
            )
        if appeal.bureau_id == bureau.pk:
            raise InvalidInput(_("这件诉求已经在这个单位，请选择另一个承办单位。"), code="same_bureau")
        previous = appeal.bureau
        appeal.bureau = bureau
        appeal.officer = None
        appeal.dispatched_at = now
        start_dispatch_clock(appeal)
        appeal.warned_at = appeal.urged_at = appeal.supervised_at = None
        appeal.routing_rule = None
        appeal.routing_explanation = {
            **(appeal.routing_explanation or {}),
            "reason": "manual_reroute",
            "previous_reason": (appeal.routing_explanation or {}).get("reason", ""),
            "by": user.pk,
            "from_bureau_id": previous.pk if previous else None,
            "bureau_name": bureau.name,
        }
        data: dict[str, Any] = {
            "bureau_id": bureau.pk,
            "bureau": bureau.name,
            "from_bureau_id": previous.pk if previous else None,
            "from_bureau": previous.name if previous else "",
            "manual": True,
        }
        if label is not None:
            data["label_category"] = label.code
        event = commit(
            appeal,
            fields=None,
            kind="rerouted",
            actor=user,
            from_state=AppealState.DISPATCHED,
            to_state=AppealState.DISPATCHED,
            reason=reason,
            data=data,
            at=now,
            event_type="appeal.dispatched",
            payload={"from_bureau_id": data["from_bureau_id"]},
        )
        if event is not None:
            learning.example_from_event(event, appeal=appeal)
        auto_assign(appeal, at=now)
    return appeal
