"""The actions staff take on an appeal from the console: one table, one row per action.

Each ``Action`` names its form, who may see its button (``offered``: from the state machine's
available transitions and the same permission predicates the services use), the service it
runs and the message shown on success. The service remains the authority: an action the page
should not have offered still fails there with ``NotAllowed`` or ``StateConflict``, and a form
built on an old version of the appeal gets the service's ``StateConflict(code="stale")``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import get_available_user_FIELD_transitions

from appeals import permissions as perms
from appeals import selectors, services
from appeals.console import forms as console_forms
from appeals.models import Appeal, AppealMessage, AppealState, Extension
from appeals.services.cohandling import open_cohandling_for
from routing.roles import staff_display_name

S = AppealState


@dataclass
class Outcome:
    ok: bool
    message: str
    status: int = 200
    code: str = ""
    form: forms.Form | None = None
    redirect_to: str = ""


@dataclass(frozen=True)
class Call:
    """What a row's ``run`` gets: the appeal as the page loaded it, the user and the form's data."""

    appeal: Appeal
    user: Any
    data: dict[str, Any]

    @property
    def version(self) -> int | None:
        return self.data.get("expected_version")


@dataclass(frozen=True)
class Action:
    name: str
    form: type[forms.Form]
    # Whether the button shows: (appeal, user, names of the FSM transitions the user may run now).
    offered: Callable[[Appeal, Any, set[str]], bool]
    # Runs the service; returns the success message.
    run: Callable[[Call], str]
    # Narrows the form's choices (or limits) to this appeal.
    prepare: Callable[[forms.Form, Appeal], None] | None = None
    # Actions of the dispatcher's board go back there when posted from it (``back=dispatch``).
    from_board: bool = False


# --- who sees the button ----------------------------------------------------------------------------


def _transition(*names: str) -> Callable[[Appeal, Any, set[str]], bool]:
    return lambda appeal, user, transitions: any(name in transitions for name in names)


def _handler(appeal: Appeal, user: Any, transitions: set[str]) -> bool:
    return appeal.state == S.HANDLING and perms.is_assigned_officer_or_lead(appeal, user)


def _pending_extension_of(appeal: Appeal) -> Extension | None:
    return next((e for e in appeal.extensions.all() if e.status == Extension.Status.PENDING), None)


# --- choices ----------------------------------------------------------------------------------------


def _bureaus(*, exclude_current: bool = False) -> Callable[[forms.Form, Appeal], None]:
    def prepare(form: forms.Form, appeal: Appeal) -> None:
        field = form.fields["bureau"]
        assert isinstance(field, forms.ModelChoiceField) and field.queryset is not None
        field.queryset = field.queryset.exclude(bureau_type__code="dispatch")
        if exclude_current:  # somewhere else than where it is now
            field.queryset = field.queryset.exclude(pk=appeal.bureau_id)

    return prepare


class _ArbitrationBureauField(forms.ModelChoiceField):
    """The bureau that returned the appeal is named as such: choosing it keeps the appeal there."""

    returning_bureau_id: int | None = None

    def label_from_instance(self, obj: Any) -> str:
        if obj.pk == self.returning_bureau_id:
            return _("%(bureau)s（原承办单位：维持派单，退单不成立）") % {"bureau": obj.display_name}
        return str(obj.display_name)


def _arbitration_bureaus(form: forms.Form, appeal: Appeal) -> None:
    _bureaus()(form, appeal)
    field = form.fields["bureau"]
    assert isinstance(field, forms.ModelChoiceField)
    keeper = _ArbitrationBureauField(
        queryset=field.queryset, label=field.label, empty_label=field.empty_label, initial=appeal.bureau_id
    )
    keeper.returning_bureau_id = appeal.bureau_id
    form.fields["bureau"] = keeper


def _officers(form: forms.Form, appeal: Appeal) -> None:
    field = form.fields["officer"]
    assert isinstance(field, forms.ModelChoiceField)
    field.queryset = selectors.assignable_officers(appeal=appeal)


def _cohandling_bureaus(form: forms.Form, appeal: Appeal) -> None:
    field = form.fields["bureau"]
    assert isinstance(field, forms.ModelChoiceField)
    field.queryset = selectors.cohandling_candidates(appeal=appeal)


def _extension_days(form: forms.Form, appeal: Appeal) -> None:
    """The same per-policy limit the service applies (category × urgency)."""
    _count, max_days = services.extension_limits(appeal)
    field = form.fields["working_days"]
    assert isinstance(field, forms.IntegerField)
    field.max_value = max_days
    field.validators = [v for v in field.validators if not isinstance(v, MaxValueValidator)]
    field.validators.append(MaxValueValidator(max_days))
    field.widget.attrs["max"] = max_days


# --- what each row runs -----------------------------------------------------------------------------


def _reply(c: Call) -> str:
    result = services.appeal_submit_reply(
        appeal_id=c.appeal.pk,
        user=c.user,
        reply=c.data["reply"],
        attachments=c.data["attachments"],
        expected_version=c.version,
    )
    return _("答复已提交本单位负责人审核。") if result.state == S.REVIEW else _("答复已发送给诉求人。")


def _message(kind: str, text: Any) -> Callable[[Call], str]:
    """``text`` is lazy: the table is built at import, the message is translated per request."""

    # Messages add to the appeal and overwrite nothing, so a page opened before a change may still
    # add one: no version check.
    def run(c: Call) -> str:
        services.appeal_add_message(appeal_id=c.appeal.pk, kind=kind, body=c.data["body"], actor=c.user)
        return str(text)

    return run


def _merge_master(data: dict[str, Any]) -> int:
    if data.get("master"):
        return int(data["master"])
    number = "".join(ch for ch in data.get("master_number", "") if ch.isdigit())
    master = Appeal.objects.filter(tracking_number=number).only("pk").first()
    if master is None:
        raise services.InvalidInput(_("找不到受理编号为 %(number)s 的诉求，请核对。") % {"number": number})
    return master.pk


def _open_cohandling(c: Call) -> int:
    co = open_cohandling_for(c.appeal, c.user)
    if co is None:
        raise services.StateConflict(_("这份协办邀请已经处理过了。请刷新页面。"), code="cohandling_done")
    return co.pk


def _decide_extension(c: Call) -> str:
    extension = c.appeal.extensions.filter(status=Extension.Status.PENDING).first()
    if extension is None:
        raise services.StateConflict(_("这份延期申请已经审批过了。请刷新页面。"), code="decided")
    approve = c.data["decision"] == "approve"
    services.extension_decide(extension_id=extension.pk, user=c.user, approve=approve, note=c.data.get("note", ""))
    return _("已批准延期。") if approve else _("已不批准延期。")


def _sign_for(c: Call) -> str:
    services.appeal_sign_for(appeal_id=c.appeal.pk, user=c.user, expected_version=c.version)
    return _("已签收。请在时限内联系诉求人并办理。")


def _approve(c: Call) -> str:
    services.appeal_approve_reply(appeal_id=c.appeal.pk, user=c.user, expected_version=c.version)
    return _("已审核通过，答复已发送给诉求人。")


def _send_back(c: Call) -> str:
    services.appeal_send_back(appeal_id=c.appeal.pk, user=c.user, reason=c.data["reason"], expected_version=c.version)
    return _("已退回承办人修改。")


def _cohandle_invite(c: Call) -> str:
    services.cohandling_invite(
        appeal_id=c.appeal.pk,
        user=c.user,
        bureau_id=c.data["bureau"].pk,
        request=c.data["request"],
        working_days=c.data["working_days"],
        expected_version=c.version,
    )
    return _("已邀请%(bureau)s协办。") % {"bureau": c.data["bureau"].display_name}


def _cohandle_submit(c: Call) -> str:
    services.cohandling_submit(cohandling_id=_open_cohandling(c), user=c.user, response=c.data["body"])
    return _("协办意见已提交给主办单位。")


def _cohandle_decline(c: Call) -> str:
    services.cohandling_decline(cohandling_id=_open_cohandling(c), user=c.user, reason=c.data["reason"])
    return _("已拒绝协办，主办单位会看到理由。")


def _extension(c: Call) -> str:
    services.extension_request(
        appeal_id=c.appeal.pk,
        user=c.user,
        reason=c.data["reason"],
        working_days=c.data["working_days"],
        expected_version=c.version,
    )
    return _("延期申请已提交分拨中心审批。")


def _reassign(c: Call) -> str:
    officer = c.data["officer"]
    services.appeal_reassign(
        appeal_id=c.appeal.pk,
        user=c.user,
        officer_id=officer.pk,
        reason=c.data.get("reason", ""),
        expected_version=c.version,
    )
    return _("已改派给%(name)s。") % {"name": staff_display_name(officer)}


def _return(c: Call) -> str:
    services.appeal_return(appeal_id=c.appeal.pk, user=c.user, reason=c.data["reason"], expected_version=c.version)
    return _("已退单，等待分拨中心审核。")


def _dispatch(c: Call) -> str:
    bureau = c.data["bureau"]
    services.appeal_dispatch(
        appeal_id=c.appeal.pk, user=c.user, bureau_id=bureau.pk, note=c.data.get("note", ""), expected_version=c.version
    )
    return _("已派单至%(bureau)s。") % {"bureau": bureau.display_name}


def _arbitrate(c: Call) -> str:
    bureau = c.data["bureau"]
    services.appeal_arbitrate_return(
        appeal_id=c.appeal.pk, user=c.user, bureau_id=bureau.pk, ruling=c.data["note"], expected_version=c.version
    )
    if bureau.pk == c.appeal.bureau_id:
        return _("已维持原承办单位%(bureau)s：退单不成立，诉求已退回该单位签收办理。") % {"bureau": bureau.display_name}
    return _("已改派至%(bureau)s。") % {"bureau": bureau.display_name}


def _reroute(c: Call) -> str:
    bureau = c.data["bureau"]
    services.appeal_reroute(
        appeal_id=c.appeal.pk, user=c.user, bureau_id=bureau.pk, reason=c.data["note"], expected_version=c.version
    )
    return _("已改派至%(bureau)s。") % {"bureau": bureau.display_name}


def _merge(c: Call) -> str:
    services.appeal_merge(
        appeal_id=c.appeal.pk,
        user=c.user,
        master_id=_merge_master(c.data),
        note=c.data.get("note", ""),
        expected_version=c.version,
    )
    return _("已并单。")


def _correct_type(c: Call) -> str:
    appeal = services.appeal_correct_type(
        appeal_id=c.appeal.pk,
        user=c.user,
        appeal_type=c.data["appeal_type"],
        reason=c.data["reason"],
        expected_version=c.version,
    )
    return _("诉求类型已更正为“%(type)s”。") % {"type": appeal.get_appeal_type_display()}


def _unmerge(c: Call) -> str:
    services.appeal_unmerge(appeal_id=c.appeal.pk, user=c.user, reason=c.data["reason"], expected_version=c.version)
    return _("已撤销并单，诉求回到待分拨队列，诉求人会收到通知。")


def _urge(c: Call) -> str:
    services.appeal_supervisor_urge(appeal_id=c.appeal.pk, user=c.user, note=c.data["note"], expected_version=c.version)
    return _("已催办，承办人和本单位负责人会收到通知。")


def _supervise(c: Call) -> str:
    services.appeal_supervisor_supervise(
        appeal_id=c.appeal.pk, user=c.user, note=c.data["note"], expected_version=c.version
    )
    return _("已列入督办，承办人和本单位负责人会收到通知。")


def _supervisable(appeal: Appeal, user: Any, transitions: set[str]) -> bool:
    return perms.is_supervisor(user) and appeal.state in services.SUPERVISED_STATES


def _reject(c: Call) -> str:
    services.appeal_reject(appeal_id=c.appeal.pk, user=c.user, reason=c.data["reason"], expected_version=c.version)
    return _("已作不予受理处理，诉求人会看到理由。")


F = console_forms
Kind = AppealMessage.Kind

# In the order the page lists the buttons.
ACTIONS: list[Action] = [
    Action("sign_for", F.VersionedForm, _transition("sign_for"), _sign_for),
    Action("reply", F.ReplyForm, _transition("submit_for_review", "send_reply"), _reply),
    Action("approve", F.VersionedForm, _transition("approve_reply"), _approve),
    Action("send_back", F.ReasonForm, _transition("send_back"), _send_back),
    Action(
        "cohandle_invite",
        F.CoHandlingInviteForm,
        lambda a, u, t: a.state in (S.HANDLING, S.REVIEW) and perms.is_assigned_officer_or_lead(a, u),
        _cohandle_invite,
        prepare=_cohandling_bureaus,
    ),
    Action("cohandle_submit", F.MessageForm, lambda a, u, t: open_cohandling_for(a, u) is not None, _cohandle_submit),
    Action("cohandle_decline", F.ReasonForm, lambda a, u, t: open_cohandling_for(a, u) is not None, _cohandle_decline),
    Action("contact", F.MessageForm, _handler, _message(Kind.CONTACT, gettext_lazy("联系记录已保存。"))),
    Action(
        "info_request",
        F.MessageForm,
        _handler,
        _message(Kind.INFO_REQUEST, gettext_lazy("已请诉求人补充材料，诉求人会收到通知。")),
    ),
    Action(
        "extension",
        F.ExtensionForm,
        lambda a, u, t: services.may_request_extension(a, u),
        _extension,
        prepare=_extension_days,
    ),
    Action(
        "reassign",
        F.ReassignForm,
        lambda a, u, t: a.state in (S.DISPATCHED, S.HANDLING, S.REVIEW) and perms.is_bureau_lead(a, u),
        _reassign,
        prepare=_officers,
    ),
    Action("return", F.ReasonForm, _transition("return_to_dispatch"), _return),
    Action("dispatch", F.BureauChoiceForm, _transition("dispatch"), _dispatch, prepare=_bureaus(), from_board=True),
    Action(
        "arbitrate",
        F.ArbitrateForm,
        _transition("redispatch"),
        _arbitrate,
        prepare=_arbitration_bureaus,
        from_board=True,
    ),
    Action(
        "reroute",
        F.RerouteForm,
        lambda a, u, t: a.state == S.DISPATCHED and perms.is_dispatcher(u),
        _reroute,
        prepare=_bureaus(exclude_current=True),
    ),
    Action("merge", F.MergeForm, lambda a, u, t: "merge" in t and a.state == S.TRIAGE, _merge, from_board=True),
    Action(
        "unmerge",
        F.UnmergeForm,
        lambda a, u, t: perms.is_dispatcher(u) and services.can_unmerge(a),
        _unmerge,
    ),
    Action("urge", F.SupervisorNoteForm, _supervisable, _urge),
    Action(
        "supervise",
        F.SupervisorNoteForm,
        lambda a, u, t: _supervisable(a, u, t) and not services.is_supervised(a),
        _supervise,
    ),
    Action("reject", F.ReasonForm, lambda a, u, t: "reject" in t and a.state == S.TRIAGE, _reject, from_board=True),
    Action(
        "decide_extension",
        F.ExtensionDecisionForm,
        lambda a, u, t: perms.is_dispatcher(u) and _pending_extension_of(a) is not None,
        _decide_extension,
        from_board=True,
    ),
    Action("correct_type", F.AppealTypeForm, lambda a, u, t: services.can_correct_type(a, u), _correct_type),
    Action(
        "note", F.MessageForm, lambda a, u, t: True, _message(Kind.INTERNAL_NOTE, _("内部备注已保存（诉求人看不到）。"))
    ),
]
BY_NAME: dict[str, Action] = {action.name: action for action in ACTIONS}


def available_actions(appeal: Appeal, user: Any) -> list[str]:
    """Names of the actions ``user`` may take on ``appeal`` now, in the order the page lists them."""
    state_field = appeal._meta.get_field("state")
    transitions = {t.name for t in get_available_user_FIELD_transitions(appeal, user, state_field)}
    return [action.name for action in ACTIONS if action.offered(appeal, user, transitions)]


def _form(action: Action, appeal: Appeal, data: Any = None, files: Any = None, **kwargs: Any) -> forms.Form:
    form = action.form(data, files, prefix=action.name, **kwargs)
    if action.prepare is not None:
        action.prepare(form, appeal)
    return form


def blank_forms(appeal: Appeal, available: list[str]) -> dict[str, forms.Form]:
    """An unbound form for each available action, carrying the version the page shows."""
    initial = {"expected_version": appeal.version}
    return {name: _form(BY_NAME[name], appeal, initial=initial) for name in available}


def perform(request: HttpRequest, appeal: Appeal, name: str) -> Outcome:
    """Validate the posted form for action ``name`` and run it; never raises for expected failures."""
    action = BY_NAME.get(name)
    if action is None:
        return Outcome(False, _("没有这个操作。"), status=404, code="unknown")
    form = _form(action, appeal, request.POST, request.FILES)
    if not form.is_valid():
        if "expected_version" in form.errors:
            return Outcome(False, _("表单缺少版本信息，请刷新页面后再操作。"), status=400, code="version", form=form)
        labels = [str(form.fields[name].label) for name in form.errors if name in form.fields]
        message = (
            _("请修改以下内容后再提交：%(fields)s。") % {"fields": _("、").join(labels)}
            if labels
            else "；".join(str(e) for e in form.non_field_errors()) or _("请按提示修改后再提交。")
        )
        return Outcome(False, message, status=400, code="invalid", form=form)
    try:
        message = action.run(Call(appeal=appeal, user=request.user, data=form.cleaned_data))
    except services.AppealError as error:
        if isinstance(error, services.InvalidInput):
            form.add_error(None, error.message)
        return Outcome(False, error.message, status=error.status, code=error.code, form=form)
    back_to_board = action.from_board and request.POST.get("back") == "dispatch"
    return Outcome(True, message, redirect_to=reverse("console:dispatch") if back_to_board else "")
