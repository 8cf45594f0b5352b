"""The actions staff take on an appeal from the console, each bound to one service.

``available_actions`` decides which buttons a page shows, from the state machine
(``get_available_user_state_transitions``) and the same permission predicates the services use.
``perform`` validates the posted form and calls the service; the service remains the authority:
an action the page should not have offered still fails there with NotAllowed or StateConflict.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from django_fsm import get_available_user_FIELD_transitions

from appeals import permissions as perms
from appeals import services
from appeals.console import forms as console_forms
from appeals.models import Appeal, AppealMessage, AppealState, Extension
from routing import deadlines

S = AppealState


@dataclass
class Outcome:
    ok: bool
    message: str
    status: int = 200
    code: str = ""
    form: forms.Form | None = None
    redirect_to: str = ""


def _routing_service(name: str) -> Callable[..., Any] | None:
    """A service of the routing area (改派承办人, 协办), if ``routing.services`` provides it."""
    return getattr(services, name, None)


def _reassign_service() -> Callable[..., Any] | None:
    return _routing_service("appeal_reassign")


def open_cohandling(appeal: Appeal, user: Any):
    """The co-handling invitation the user's bureau has not answered yet on this appeal, if any."""
    bureau_id = perms.user_bureau_id(user)
    if bureau_id is None or not user.has_perm("appeals.handle_appeal"):
        return None
    for co in appeal.co_handlings.all():
        if co.bureau_id == bureau_id and co.status == co.Status.INVITED:
            return co
    return None


def available_actions(appeal: Appeal, user: Any) -> list[str]:
    """Names of the actions ``user`` may take on ``appeal`` now, in the order the page lists them."""
    state_field = appeal._meta.get_field("state")
    transitions = {t.name for t in get_available_user_FIELD_transitions(appeal, user, state_field)}
    names: list[str] = []
    if "sign_for" in transitions:
        names.append("sign_for")
    if "submit_for_review" in transitions or "send_reply" in transitions:
        names.append("reply")
    if "approve_reply" in transitions:
        names.append("approve")
    if "send_back" in transitions:
        names.append("send_back")
    handler = appeal.state == S.HANDLING and perms.is_assigned_officer_or_lead(appeal, user)
    if (
        appeal.state in (S.HANDLING, S.REVIEW)
        and perms.is_assigned_officer_or_lead(appeal, user)
        and _routing_service("cohandling_invite") is not None
    ):
        names.append("cohandle_invite")
    if open_cohandling(appeal, user) is not None and _routing_service("cohandling_submit") is not None:
        names += ["cohandle_submit", "cohandle_decline"]
    if handler:
        names += ["contact", "info_request"]
        pending = any(e.status == Extension.Status.PENDING for e in appeal.extensions.all())
        if not pending and appeal.extension_count < deadlines.MAX_EXTENSIONS:
            names.append("extension")
    if (
        appeal.state in (S.DISPATCHED, S.HANDLING, S.REVIEW)
        and perms.is_bureau_lead(appeal, user)
        and _reassign_service() is not None
    ):
        names.append("reassign")
    if "return_to_dispatch" in transitions:
        names.append("return")
    if "dispatch" in transitions:
        names.append("dispatch")
    if "redispatch" in transitions:
        names.append("arbitrate")
    if appeal.state == S.DISPATCHED and perms.is_dispatcher(user) and _routing_service("appeal_reroute") is not None:
        names.append("reroute")
    if "merge" in transitions and appeal.state == S.TRIAGE:
        names.append("merge")
    if "reject" in transitions and appeal.state == S.TRIAGE:
        names.append("reject")
    if perms.is_dispatcher(user) and any(e.status == Extension.Status.PENDING for e in appeal.extensions.all()):
        names.append("decide_extension")
    names.append("note")
    return names


FORM_CLASSES: dict[str, type[forms.Form]] = {
    "sign_for": console_forms.VersionedForm,
    "approve": console_forms.VersionedForm,
    "reply": console_forms.ReplyForm,
    "send_back": console_forms.ReasonForm,
    "return": console_forms.ReasonForm,
    "extension": console_forms.ExtensionForm,
    "contact": console_forms.MessageForm,
    "info_request": console_forms.MessageForm,
    "note": console_forms.MessageForm,
    "dispatch": console_forms.BureauChoiceForm,
    "arbitrate": console_forms.ArbitrateForm,
    "reroute": console_forms.RerouteForm,
    "merge": console_forms.MergeForm,
    "reject": console_forms.ReasonForm,
    "decide_extension": console_forms.ExtensionDecisionForm,
    "reassign": console_forms.ReassignForm,
    "cohandle_invite": console_forms.CoHandlingInviteForm,
    "cohandle_submit": console_forms.MessageForm,
    "cohandle_decline": console_forms.ReasonForm,
}


def _narrow_choices(form: forms.Form, name: str, appeal: Appeal) -> None:
    """Limit the choice lists of forms whose options depend on the appeal."""
    field = form.fields.get("officer") or form.fields.get("bureau")
    if not isinstance(field, forms.ModelChoiceField):
        return
    if name == "reassign":
        field.queryset = console_forms.bureau_officers(appeal)
    elif name == "cohandle_invite":
        field.queryset = console_forms.cohandling_bureaus(appeal)
    elif name in ("dispatch", "arbitrate", "reroute") and field.queryset is not None:
        field.queryset = field.queryset.exclude(bureau_type__code="dispatch")
        if name == "reroute":  # somewhere else than where it is now
            field.queryset = field.queryset.exclude(pk=appeal.bureau_id)


def blank_forms(appeal: Appeal, available: list[str]) -> dict[str, forms.Form]:
    """An unbound form for each available action, carrying the version the page shows."""
    initial = {"expected_version": appeal.version}
    result: dict[str, forms.Form] = {}
    for name in available:
        form = FORM_CLASSES[name](initial=initial, prefix=name)
        _narrow_choices(form, name, appeal)
        result[name] = form
    return result


def _stale(appeal: Appeal, expected: int | None) -> None:
    """For services without an ``expected_version`` argument: refuse a form built on an old version."""
    if expected is not None and appeal.version != expected:
        raise services.StateConflict(
            _("这件诉求刚刚被其他人更新过（现在是“%(state)s”）。请刷新页面查看最新情况后再操作。")
            % {"state": appeal.get_state_display()},
            code="stale",
        )


def _merge_master(data: dict[str, Any]) -> int:
    if data.get("master"):
        return int(data["master"])
    number = "".join(ch for ch in data.get("master_number", "") if ch.isdigit())
    master = Appeal.objects.filter(tracking_number=number).only("pk").first()
    if master is None:
        raise services.InvalidInput(_("找不到受理编号为 %(number)s 的诉求，请核对。") % {"number": number})
    return master.pk


def _pending_extension(appeal: Appeal) -> Extension:
    extension = appeal.extensions.filter(status=Extension.Status.PENDING).first()
    if extension is None:
        raise services.StateConflict(_("这份延期申请已经审批过了。请刷新页面。"), code="decided")
    return extension


def _run(action: str, request: HttpRequest, appeal: Appeal, data: dict[str, Any]) -> str:
    """Call the service behind ``action``; return the success message."""
    user = request.user
    version = data.get("expected_version")
    pk = appeal.pk
    if action == "sign_for":
        services.appeal_sign_for(appeal_id=pk, user=user, expected_version=version)
        return _("已签收。请在时限内联系诉求人并办理。")
    if action == "reply":
        result = services.appeal_submit_reply(
            appeal_id=pk, user=user, reply=data["reply"], attachments=data["attachments"], expected_version=version
        )
        return _("答复已提交本单位负责人审核。") if result.state == S.REVIEW else _("答复已发送给诉求人。")
    if action == "approve":
        services.appeal_approve_reply(appeal_id=pk, user=user, expected_version=version)
        return _("已审核通过，答复已发送给诉求人。")
    if action == "send_back":
        services.appeal_send_back(appeal_id=pk, user=user, reason=data["reason"], expected_version=version)
        return _("已退回承办人修改。")
    if action == "return":
        services.appeal_return(appeal_id=pk, user=user, reason=data["reason"], expected_version=version)
        return _("已退单，等待分拨中心审核。")
    if action == "extension":
        _stale(appeal, version)
        services.extension_request(appeal_id=pk, user=user, reason=data["reason"], working_days=data["working_days"])
        return _("延期申请已提交分拨中心审批。")
    if action in ("contact", "info_request", "note"):
        if action != "note" and not (perms.is_bureau_handler(appeal, user) or perms.is_dispatcher(user)):
            raise services.NotAllowed(_("只有承办本诉求的单位可以联系诉求人。"), code="forbidden")
        kind = {
            "contact": AppealMessage.Kind.CONTACT,
            "info_request": AppealMessage.Kind.INFO_REQUEST,
            "note": AppealMessage.Kind.INTERNAL_NOTE,
        }[action]
        services.appeal_add_message(appeal_id=pk, kind=kind, body=data["body"], actor=user)
        return {
            "contact": _("联系记录已保存。"),
            "info_request": _("已请诉求人补充材料，诉求人会收到通知。"),
            "note": _("内部备注已保存（诉求人看不到）。"),
        }[action]
    if action == "dispatch":
        services.appeal_dispatch(
            appeal_id=pk, user=user, bureau_id=data["bureau"].pk, note=data.get("note", ""), expected_version=version
        )
        return _("已派单至%(bureau)s。") % {"bureau": data["bureau"].display_name}
    if action == "arbitrate":
        _stale(appeal, version)
        services.appeal_arbitrate_return(appeal_id=pk, user=user, bureau_id=data["bureau"].pk, ruling=data["note"])
        return _("已改派至%(bureau)s。") % {"bureau": data["bureau"].display_name}
    if action == "reroute":
        reroute = _routing_service("appeal_reroute")
        if reroute is None:
            raise services.NotAllowed(_("改派功能暂不可用。"), code="unavailable")
        _stale(appeal, version)
        reroute(appeal_id=pk, user=user, bureau_id=data["bureau"].pk, reason=data["note"])
        return _("已改派至%(bureau)s。") % {"bureau": data["bureau"].display_name}
    if action == "merge":
        _stale(appeal, version)
        master_id = _merge_master(data)
        services.appeal_merge(appeal_id=pk, user=user, master_id=master_id, note=data.get("note", ""))
        return _("已并单。")
    if action == "reject":
        _stale(appeal, version)
        services.appeal_reject(appeal_id=pk, user=user, reason=data["reason"])
        return _("已作不予受理处理，诉求人会看到理由。")
    if action == "reassign":
        reassign = _reassign_service()
        if reassign is None:
            raise services.NotAllowed(_("改派承办人功能暂不可用。"), code="unavailable")
        _stale(appeal, version)
        reassign(appeal_id=pk, user=user, officer_id=data["officer"].pk, reason=data.get("reason", ""))
        return _("已改派给%(name)s。") % {"name": console_forms.staff_name(data["officer"])}
    if action.startswith("cohandle_"):
        return _run_cohandling(action, appeal, user, data)
    if action == "decide_extension":
        approve = data["decision"] == "approve"
        services.extension_decide(
            extension_id=_pending_extension(appeal).pk, user=user, approve=approve, note=data.get("note", "")
        )
        return _("已批准延期。") if approve else _("已不批准延期。")
    raise AssertionError(action)


def _run_cohandling(action: str, appeal: Appeal, user: Any, data: dict[str, Any]) -> str:
    name = {"cohandle_invite": "cohandling_invite", "cohandle_submit": "cohandling_submit"}.get(
        action, "cohandling_decline"
    )
    service = _routing_service(name)
    if service is None:
        raise services.NotAllowed(_("协办功能暂不可用。"), code="unavailable")
    if action == "cohandle_invite":
        _stale(appeal, data.get("expected_version"))
        service(
            appeal_id=appeal.pk,
            user=user,
            bureau_id=data["bureau"].pk,
            request=data["request"],
            working_days=data["working_days"],
        )
        return _("已邀请%(bureau)s协办。") % {"bureau": data["bureau"].display_name}
    co = open_cohandling(appeal, user)
    if co is None:
        raise services.StateConflict(_("这份协办邀请已经处理过了。请刷新页面。"), code="cohandling_done")
    if action == "cohandle_submit":
        service(cohandling_id=co.pk, user=user, response=data["body"])
        return _("协办意见已提交给主办单位。")
    service(cohandling_id=co.pk, user=user, reason=data["reason"])
    return _("已拒绝协办，主办单位会看到理由。")


ACTION_NAMES: set[str] = set(FORM_CLASSES)


def perform(request: HttpRequest, appeal: Appeal, action: str) -> Outcome:
    """Validate the posted form for ``action`` and run it; never raises for expected failures."""
    if action not in ACTION_NAMES:
        return Outcome(False, _("没有这个操作。"), status=404, code="unknown")
    form_class: Callable[..., forms.Form] = FORM_CLASSES[action]
    form = form_class(request.POST, request.FILES, prefix=action)
    _narrow_choices(form, action, appeal)
    if not form.is_valid():
        if "expected_version" in form.errors:
            return Outcome(False, _("表单缺少版本信息，请刷新页面后再操作。"), status=400, code="version", form=form)
        return Outcome(False, _("请按提示修改后再提交。"), status=400, code="invalid", form=form)
    try:
        message = _run(action, request, appeal, form.cleaned_data)
    except services.AppealError as error:
        if isinstance(error, services.InvalidInput):
            form.add_error(None, error.message)
        return Outcome(False, error.message, status=error.status, code=error.code, form=form)
    redirect_to = ""
    if action in ("dispatch", "arbitrate", "merge", "reject") or (
        action == "decide_extension" and request.POST.get("back") == "dispatch"
    ):
        redirect_to = reverse("console:dispatch") if request.POST.get("back") == "dispatch" else ""
    return Outcome(True, message, redirect_to=redirect_to)
