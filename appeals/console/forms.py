"""Forms of the staff consoles: login, the queue filter bar and every action on an appeal."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from appeals.console.common import role_home
from appeals.models import AppealState, Urgency
from appeals.selectors import DEFAULT_SORT, SORTS
from routing import deadlines
from routing.appeal_types import AppealType
from routing.models import Bureau, Category
from routing.roles import staff_display_name


class StaffLoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _("用户名或密码不正确。请检查大小写和输入法后再试；连续多次输错，账号会被暂时锁定。"),
        "inactive": _("这个账号已停用。如需恢复，请联系系统管理员。"),
        "no_role": _("您的账号还没有分配工作角色，暂时不能登录工作台。请联系系统管理员开通。"),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("用户名")
        self.fields["password"].label = _("密码")

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if role_home(user) is None:
            raise forms.ValidationError(self.error_messages["no_role"], code="no_role")


SORT_LABELS = {
    "due": _("时限（最紧的在前）"),
    "-due": _("时限（最宽裕的在前）"),
    "-submitted": _("提交时间（最新在前）"),
    "submitted": _("提交时间（最早在前）"),
    "urgency": _("紧急的在前"),
    "number": _("受理编号（升序）"),
    "-number": _("受理编号（降序）"),
}


class QueueFilterForm(forms.Form):
    q = forms.CharField(label=_("搜索标题或内容"), required=False, max_length=200)
    category = forms.ModelChoiceField(
        label=_("类别"), queryset=Category.objects.filter(is_active=True), required=False, empty_label=_("全部类别")
    )
    urgency = forms.ChoiceField(label=_("紧急程度"), choices=[("", _("全部")), *list(Urgency.choices)], required=False)
    overdue = forms.BooleanField(label=_("只看已超期"), required=False)
    date_from = forms.DateField(
        label=_("提交日期从"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        input_formats=["%Y-%m-%d"],
    )
    date_to = forms.DateField(
        label=_("到"), required=False, widget=forms.DateInput(attrs={"type": "date"}), input_formats=["%Y-%m-%d"]
    )
    sort = forms.ChoiceField(
        label=_("排序"), choices=[(key, SORT_LABELS[key]) for key in SORTS], required=False, initial=DEFAULT_SORT
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("结束日期早于开始日期，请调换两个日期。"))
        return data


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        cleaned = [super(MultipleFileField, self).clean(item, initial) for item in files]
        limit = settings.ATTACHMENT_MAX_FILES
        if len(cleaned) > limit:
            raise forms.ValidationError(_("最多上传%(count)d个文件，请删去多余的文件。") % {"count": limit})
        max_bytes = settings.ATTACHMENT_MAX_BYTES
        for upload in cleaned:
            if upload.size > max_bytes:
                raise forms.ValidationError(
                    _("文件“%(name)s”超过%(size)d MB，请压缩后再上传。")
                    % {"name": upload.name, "size": max_bytes // (1024 * 1024)}
                )
        return cleaned


class VersionedForm(forms.Form):
    """Every action form carries the appeal version the page showed, for conflict detection."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


class ReasonForm(VersionedForm):
    reason = forms.CharField(label=_("理由"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class ReplyForm(VersionedForm):
    reply = forms.CharField(label=_("答复内容"), widget=forms.Textarea(attrs={"rows": 8}), max_length=10000)
    attachments = MultipleFileField(label=_("附件"), required=False)


class ExtensionForm(VersionedForm):
    reason = forms.CharField(label=_("延期理由"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    # The upper limit is the appeal's deadline policy, set per appeal by the console's action table.
    working_days = forms.IntegerField(
        label=_("延期工作日"), min_value=1, max_value=deadlines.MAX_EXTENSION_WORKING_DAYS, initial=3
    )


def note_field(label: Any, *, help_text: Any = "", required: bool = True) -> forms.CharField:
    """A short written note or reason on a console action: two lines, at most 2,000 characters."""
    return forms.CharField(
        label=label,
        required=required,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=help_text,
    )


class MessageForm(VersionedForm):
    body = forms.CharField(label=_("内容"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)


class BureauChoiceForm(VersionedForm):
    bureau = forms.ModelChoiceField(
        label=_("承办单位"),
        queryset=Bureau.objects.filter(is_active=True).select_related("region", "bureau_type"),
        empty_label=_("请选择承办单位"),
    )
    note = note_field(_("说明"), required=False)


class ArbitrateForm(BureauChoiceForm):
    """退单审核: keep the appeal with the bureau that returned it (the return is overruled), or re-route it."""

    note = note_field(
        _("审核意见"), help_text=_("选原承办单位即维持派单（退单不成立）；选其他单位即改派。承办单位会看到审核意见。")
    )


class SupervisorNoteForm(VersionedForm):
    """催办 and 督办: the supervisor's note goes to the officer and the bureau's leads."""

    note = note_field(_("意见"), help_text=_("承办人和本单位负责人会收到这段话。"))


class UnmergeForm(VersionedForm):
    reason = note_field(_("撤销理由"), help_text=_("诉求人会收到通知，诉求回到待分拨队列单独办理。"))


class RerouteForm(BureauChoiceForm):
    note = note_field(_("改派理由"), help_text=_("承办单位和诉求人会看到处理经过。"))


class MergeForm(VersionedForm):
    master = forms.IntegerField(label=_("并入的主诉求"), widget=forms.HiddenInput, required=False)
    master_number = forms.CharField(label=_("主诉求受理编号"), required=False, max_length=20)
    note = forms.CharField(label=_("说明"), required=False, max_length=2000)

    def clean(self):
        data = super().clean()
        if not data.get("master") and not (data.get("master_number") or "").strip():
            raise forms.ValidationError(_("请选择一件建议的重复诉求，或填写主诉求的受理编号。"))
        return data


class ExtensionDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("批准")), ("refuse", _("不批准"))])
    note = forms.CharField(label=_("审批意见"), required=False, max_length=2000)

    def clean(self):
        data = super().clean()
        if data.get("decision") == "refuse" and not (data.get("note") or "").strip():
            self.add_error("note", _("不批准时请写明理由，承办单位会看到这段话。"))
        return data


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return staff_display_name(obj)


class AppealTypeForm(VersionedForm):
    appeal_type = forms.ChoiceField(label=_("诉求类型"), choices=AppealType.choices)
    reason = note_field(_("更正理由"), help_text=_("会记入处理经过。"))


class ReassignForm(VersionedForm):
    officer = StaffChoiceField(label=_("改派给"), queryset=None, empty_label=_("请选择承办人"))
    reason = note_field(_("说明"), required=False)


class CoHandlingInviteForm(VersionedForm):
    bureau = forms.ModelChoiceField(
        label=_("协办单位"), queryset=Bureau.objects.none(), empty_label=_("请选择协办单位")
    )
    request = forms.CharField(
        label=_("协办事项"),
        help_text=_("写明需要对方核实什么、提供什么意见。"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    working_days = forms.IntegerField(label=_("协办时限（工作日）"), min_value=1, max_value=15, initial=3)


class StaffSearchForm(forms.Form):
    """诉求查询: the search box and filters; the bureau filter only for staff who see every bureau."""

    q = forms.CharField(
        label=_("关键词"),
        required=False,
        max_length=200,
        help_text=_("受理编号、标题、内容、企业名称、统一社会信用代码、联系人姓名或电话，多个词用空格分开。"),
    )
    state = forms.ChoiceField(label=_("状态"), required=False)
    bureau = forms.ModelChoiceField(
        label=_("承办单位"),
        queryset=Bureau.objects.none(),
        required=False,
        empty_label=_("全部单位"),
    )
    category = forms.ModelChoiceField(
        label=_("类别"), queryset=Category.objects.filter(is_active=True), required=False, empty_label=_("全部类别")
    )
    date_from = forms.DateField(
        label=_("提交日期从"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        input_formats=["%Y-%m-%d"],
    )
    date_to = forms.DateField(
        label=_("提交日期到"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        input_formats=["%Y-%m-%d"],
    )

    def __init__(self, *args, with_bureau: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        state_field = self.fields["state"]
        assert isinstance(state_field, forms.ChoiceField)
        state_field.choices = [("", _("全部状态")), *AppealState.choices]
        if with_bureau:
            bureau_field = self.fields["bureau"]
            assert isinstance(bureau_field, forms.ModelChoiceField)
            bureau_field.queryset = (
                Bureau.objects.filter(is_active=True)
                .exclude(bureau_type__code="dispatch")
                .select_related("region", "bureau_type")
                .order_by("region__sort_order", "region__code", "bureau_type__code")
            )
        else:
            del self.fields["bureau"]

    def clean(self):
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("结束日期早于开始日期，请调换两个日期。"))
        return data
