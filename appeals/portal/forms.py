"""Forms of the public portal: filing an appeal, looking one up, and the actions on its page.

Every message says how to fix the problem. Validation of identity and contact data comes from
``appeals.validators``; attachments are checked by content in ``appeals.portal.uploads``.
"""

from __future__ import annotations

import unicodedata
import uuid

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.choices import BaseChoiceIterator, normalize_choices
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from appeals import validators
from appeals.models import EnterpriseSize, Industry, RatingLevel, Urgency
from appeals.portal import uploads
from appeals.portal.text import clean_text
from appeals.services import AppealSubmission
from routing.appeal_types import TYPE_HINTS, AppealType
from routing.decisions import routing_table
from routing.models import Category, Region
from routing.regions import grouped_region_choices

HONEYPOT_FIELD = "homepage_url"


class PortalForm(forms.Form):
    """Server-side validation only (the browser's own bubbles are not announced consistently), and
    fields with errors point screen readers at their message."""

    use_required_attribute = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if isinstance(field.widget, forms.HiddenInput) or name == HONEYPOT_FIELD:
                continue
            if field.required and not isinstance(field.widget, forms.RadioSelect):
                field.widget.attrs.setdefault("aria-required", "true")
            if field.help_text and not isinstance(field.widget, forms.RadioSelect):
                field.widget.attrs["aria-describedby"] = f"{self.add_prefix(name)}-help"

    def full_clean(self):
        super().full_clean()
        for name in self.errors:
            # A hidden field's error is shown in the summary only: no message element to point at.
            if name in self.fields and not isinstance(self.fields[name].widget, (forms.RadioSelect, forms.HiddenInput)):
                attrs = self.fields[name].widget.attrs
                html_name = self.add_prefix(name)
                attrs["aria-invalid"] = "true"
                help_id = f" {html_name}-help" if self.fields[name].help_text else ""
                attrs["aria-describedby"] = f"{html_name}-error{help_id}"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A file input that accepts several files; returns a list of checked uploads."""

    widget = MultipleFileInput

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        return uploads.check_uploads(files)


class TextField(forms.CharField):
    """A CharField whose value is cleaned of control characters (see ``appeals.portal.text``)."""

    def __init__(self, *args, multiline: bool = False, **kwargs):
        self.multiline = multiline
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        return clean_text(value, multiline=self.multiline)


class TableChoiceField(forms.ModelChoiceField):
    """A choice of an active region or category: the queryset draws the list, while a submitted id
    is checked against the per-process routing table (the same rows, no query).

    ``table`` names the routing table's index by id: ``"regions_by_id"`` or ``"categories_by_id"``.
    """

    table = ""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            key = int(str(value))
        except ValueError:
            key = None
        found = getattr(routing_table(), self.table).get(key) if key is not None else None
        if found is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value})
        return found


class RegionChoiceField(TableChoiceField):
    """City or district, offered as one <optgroup> per city (``grouped_region_choices``). Only the
    active regions the page offered are accepted: a person re-chooses from the current list."""

    table = "regions_by_id"

    def label_from_instance(self, obj: Region) -> str:
        if obj.level == Region.Level.DISTRICT and obj.parent is not None:
            return f"{obj.parent.display_name} · {obj.display_name}"
        return obj.display_name


class CategoryChoiceField(TableChoiceField):
    table = "categories_by_id"

    def label_from_instance(self, obj: Category) -> str:
        return obj.display_name


def _attrs(autocomplete: str = "", **extra) -> dict:
    attrs = dict(extra)
    if autocomplete:
        attrs["autocomplete"] = autocomplete
    return attrs


class FrozenChoices(BaseChoiceIterator):
    """Choices normalised once and shared by every form instance.

    Django normalises a field's choices whenever they are assigned and deep-copies them for every
    form instance; for the public form (150 regions, five choice fields, every GET and POST) that
    was about a tenth of the request's CPU. These choices never change once built, so copying
    returns the same object. Lazy labels stay lazy: they are translated when rendered.
    """

    def __init__(self, choices):
        self._choices = normalize_choices(list(choices))

    def __iter__(self):
        return iter(self._choices)

    def __len__(self) -> int:
        return len(self._choices)

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self


# Per language: the region <select>'s choices with its empty option (with the grouped list they
# were built from: rebuilt when ``grouped_region_choices`` gives a new one, after a routing change),
# and the industry list.
_choices_memo: dict = {}


def region_choices(empty_label: str) -> FrozenChoices:
    """The grouped region choices behind an empty option, built once per routing table and language."""
    groups = grouped_region_choices()
    key = ("region", get_language() or "", str(empty_label))
    built = _choices_memo.get(key)
    if built is None or built[0] is not groups:
        built = _choices_memo[key] = (groups, FrozenChoices([("", empty_label), *groups]))
    return built[1]


def industry_choices() -> FrozenChoices:
    """The GB/T 4754 sections with their letter, in the request's language (built once per language)."""
    key = ("industry", get_language() or "")
    if key not in _choices_memo:
        _choices_memo[key] = FrozenChoices(
            [("", str(_("请选择"))), *((c.value, f"{c.value} {c.label}") for c in Industry)]
        )
    return _choices_memo[key]


class AppealForm(PortalForm):
    """The public appeal form. Field order is the order on the page."""

    enterprise_name = TextField(
        label=_("企业名称"),
        max_length=200,
        help_text=_("填写营业执照上的全称，例如“佛山市某某制造有限公司”。个体工商户填写字号名称。"),
        widget=forms.TextInput(attrs=_attrs("organization")),
    )
    credit_code = forms.CharField(
        label=_("统一社会信用代码"),
        max_length=40,
        help_text=_("营业执照上的18位代码，由数字和大写字母组成。可以输入小写或全角字符，系统会自动转换。"),
        widget=forms.TextInput(attrs=_attrs("off", spellcheck="false", autocapitalize="characters")),
    )
    region = RegionChoiceField(
        label=_("所在地区"),
        queryset=Region.objects.none(),
        empty_label=_("请选择"),
        help_text=_("企业经营所在的市或区县，我们据此把诉求交给当地的主管部门。"),
    )
    industry = forms.ChoiceField(
        label=_("所属行业"),
        choices=industry_choices,  # a callable: the language is the request's, not the import's
        help_text=_("按国民经济行业分类选择主营业务所属的大类，拿不准时选最接近的一项。"),
    )
    enterprise_size = forms.ChoiceField(
        label=_("企业规模"),
        choices=FrozenChoices(EnterpriseSize.choices),
        widget=forms.RadioSelect,
        help_text=_("大致判断即可：微型企业一般不到10人，小型企业一般不到100人。"),
    )
    contact_name = TextField(
        label=_("联系人"),
        max_length=50,
        help_text=_("办理人员会联系这位联系人，请填写真实姓名。"),
        widget=forms.TextInput(attrs=_attrs("name")),
    )
    contact_phone = forms.CharField(
        label=_("联系电话"),
        max_length=40,
        help_text=_("11位手机号，或带区号的固定电话，如 020-12345678。"),
        widget=forms.TextInput(attrs=_attrs("tel", type="tel", inputmode="tel")),
    )
    contact_email = forms.EmailField(
        label=_("电子邮箱（选填）"),
        required=False,
        max_length=254,
        help_text=_("填写后，受理编号和查询码、办理进展会同时发到这个邮箱。"),
        widget=forms.EmailInput(attrs=_attrs("email")),
    )
    category = CategoryChoiceField(
        label=_("诉求类别"),
        queryset=Category.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        help_text=_("选择最接近的一类，每类下面有例子。都不合适时选“其他”，工作人员会帮您分派。"),
    )
    appeal_type = forms.ChoiceField(
        label=_("诉求类型"),
        choices=FrozenChoices(AppealType.choices),
        widget=forms.RadioSelect,
        help_text=_("您是想咨询、求助、提建议，还是投诉或举报？不同类型的答复时限不同。"),
    )
    urgency = forms.ChoiceField(
        label=_("紧急程度"),
        choices=FrozenChoices(Urgency.choices),
        initial=Urgency.NORMAL,
        widget=forms.RadioSelect,
        help_text=_("紧急诉求会优先处理（2小时内签收），请只在确有急迫情况时选择。"),
    )
    urgency_reason = TextField(
        label=_("紧急原因"),
        max_length=200,
        required=False,
        help_text=_("选择“紧急”时必填，用一句话说明为什么急，例如“明天工资发放不了”。"),
    )
    title = TextField(
        label=_("诉求标题"),
        max_length=100,
        help_text=_("一句话概括您的问题，100字以内，例如“招不到熟练焊工”。"),
    )
    description = TextField(
        label=_("诉求内容"),
        max_length=5000,
        multiline=True,
        help_text=_("说清楚遇到了什么问题、已经做过哪些尝试、希望政府帮什么忙。5000字以内。"),
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    attachments = MultipleFileField(
        label=_("附件（选填）"),
        help_text=_("最多%(count)d个文件，每个不超过%(size)dMB，支持PDF、JPG、PNG、Word（.docx）、Excel（.xlsx）。"),
        widget=MultipleFileInput(
            attrs={"accept": ".pdf,.jpg,.jpeg,.png,.docx,.xlsx,application/pdf,image/jpeg,image/png"}
        ),
    )
    idempotency_token = forms.UUIDField(widget=forms.HiddenInput)
    # Honeypot: hidden from people (CSS and aria-hidden), filled in only by naive bots.
    homepage_url = forms.CharField(required=False, label=_("请不要填写此项"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = Region.objects.filter(is_active=True).select_related("parent")
        self.fields["region"].choices = region_choices(self.fields["region"].empty_label)
        self.fields["category"].queryset = Category.objects.filter(is_active=True)
        self.fields["attachments"].help_text = self.fields["attachments"].help_text % {
            "count": settings.ATTACHMENT_MAX_FILES,
            "size": settings.ATTACHMENT_MAX_BYTES // (1024 * 1024),
        }
        if not self.is_bound:
            self.initial.setdefault("idempotency_token", uuid.uuid4())
        self.fields[HONEYPOT_FIELD].widget.attrs.update({"tabindex": "-1", "autocomplete": "off"})

    def appeal_type_choices(self) -> list:
        """(radio, plain-language hint) for each appeal type, for the form's type fieldset."""
        return [(radio, TYPE_HINTS.get(radio.data["value"], "")) for radio in self["appeal_type"]]

    @property
    def honeypot_filled(self) -> bool:
        return bool((self.data.get(HONEYPOT_FIELD) or "").strip())

    def clean_credit_code(self) -> str:
        return validators.validate_credit_code(self.cleaned_data["credit_code"])

    def clean_contact_phone(self) -> str:
        return validators.normalise_phone(self.cleaned_data["contact_phone"])

    def clean_contact_email(self) -> str:
        return (self.cleaned_data.get("contact_email") or "").strip().lower()

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("urgency") == Urgency.URGENT and not cleaned.get("urgency_reason"):
            self.add_error(
                "urgency_reason",
                ValidationError(_("选择了“紧急”，请写一句紧急原因；不急的话请把紧急程度改为“一般”。"), code="required"),
            )
        if cleaned.get("urgency") != Urgency.URGENT:
            cleaned["urgency_reason"] = ""
        return cleaned

    def submission(self) -> AppealSubmission:
        """The validated form as the service's input (call after ``is_valid()``)."""
        data = self.cleaned_data
        return AppealSubmission.from_cleaned(data, channel="web", idempotency_key=data["idempotency_token"])


# Friendlier "required" messages, per field: what to type rather than "this field is required".
REQUIRED_MESSAGES = {
    "enterprise_name": _("请填写企业名称（营业执照上的全称）。"),
    "credit_code": _("请填写18位统一社会信用代码，可在营业执照上找到。"),
    "region": _("请选择企业所在地区。"),
    "industry": _("请选择所属行业。"),
    "enterprise_size": _("请选择企业规模。"),
    "contact_name": _("请填写联系人姓名。"),
    "contact_phone": _("请填写联系电话，办理人员需要和您联系。"),
    "category": _("请选择一个诉求类别，拿不准时选“其他”。"),
    "appeal_type": _("请选择诉求类型：咨询、求助、建议、投诉或举报。拿不准时选“求助”。"),
    "urgency": _("请选择紧急程度。"),
    "title": _("请用一句话写出诉求标题。"),
    "description": _("请写明诉求内容：遇到了什么问题，希望得到什么帮助。"),
    "idempotency_token": _("页面已过期，请刷新页面后重新提交。"),
}
for _name, _message in REQUIRED_MESSAGES.items():
    AppealForm.base_fields[_name].error_messages["required"] = _message
    AppealForm.base_fields[_name].error_messages["invalid_choice"] = _message
for _name in ("enterprise_name", "contact_name", "urgency_reason", "title", "description"):
    AppealForm.base_fields[_name].error_messages["max_length"] = _(
        "这里最多%(limit_value)d个字，您写了%(show_value)d个字，请精简后再提交。"
    )
AppealForm.base_fields["contact_email"].error_messages["invalid"] = _(
    "邮箱地址格式不对，应类似 name@example.com；没有邮箱可以不填。"
)


class LookupForm(PortalForm):
    tracking_number = forms.CharField(
        label=_("受理编号"),
        max_length=40,
        help_text=_("提交成功后页面上显示的14位数字，例如 20261123000042。"),
        error_messages={"required": _("请填写受理编号。")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    access_code = forms.CharField(
        label=_("查询码"),
        max_length=40,
        help_text=_("8位字母和数字，和受理编号一起显示给您，不区分大小写。"),
        error_messages={"required": _("请填写查询码。")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}),
    )


class SupplementForm(PortalForm):
    body = TextField(
        label=_("补充说明"),
        max_length=5000,
        multiline=True,
        help_text=_("补充新的情况或材料说明，承办单位会看到。5000字以内。"),
        error_messages={"required": _("请写几句补充说明，再提交。")},
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    attachments = MultipleFileField(
        label=_("补充文件（选填）"),
        help_text=_("可以不传。PDF、JPG、PNG、Word（.docx）或Excel（.xlsx），每个不超过10MB。"),
        widget=MultipleFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,.docx,.xlsx"}),
    )


class WithdrawForm(PortalForm):
    reason = TextField(
        label=_("撤回原因（选填）"),
        max_length=500,
        required=False,
        multiline=True,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    confirm = forms.BooleanField(
        label=_("我确认撤回这件诉求，撤回后不能恢复"),
        error_messages={"required": _("请勾选确认后再撤回。")},
    )


class RatingForm(PortalForm):
    level = forms.TypedChoiceField(
        label=_("您对答复的评价"),
        coerce=int,
        choices=RatingLevel.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择一个评价等级。")},
    )
    resolved = forms.TypedChoiceField(
        label=_("您的问题解决了吗？"),
        coerce=lambda value: value == "yes",
        choices=[("yes", _("已解决")), ("no", _("未解决"))],
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择问题是否已解决。")},
    )
    comment = TextField(
        label=_("评价意见（选填）"),
        max_length=1000,
        required=False,
        multiline=True,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


# --- Enterprise self-service (appeals.portal.selfservice) -----------------------------------------


class PhoneForm(PortalForm):
    """The contact phone to verify, and optionally the credit code to narrow the list to one enterprise."""

    contact_phone = forms.CharField(
        label=_("联系电话（手机号）"),
        max_length=40,
        help_text=_("提交诉求时填写的联系电话。我们会向这个号码发送6位数字验证码。"),
        error_messages={"required": _("请填写提交诉求时留的手机号。")},
        widget=forms.TextInput(attrs=_attrs("tel", type="tel", inputmode="tel")),
    )
    credit_code = forms.CharField(
        label=_("统一社会信用代码（选填）"),
        max_length=40,
        required=False,
        help_text=_("填写后只显示这家企业的诉求；不填则显示用这个号码提交的全部诉求。"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}),
    )

    def clean_contact_phone(self) -> str:
        phone = validators.normalise_phone(self.cleaned_data["contact_phone"])
        if not validators.is_mobile(phone):
            raise ValidationError(
                _("验证码只能发送到手机。提交时留的是固定电话的，请用受理编号和查询码查询，或拨打12345热线。"),
                code="not_mobile",
            )
        return phone

    def clean_credit_code(self) -> str:
        value = self.cleaned_data["credit_code"]
        if not validators.normalise_credit_code(value):
            return ""
        return validators.validate_credit_code(value)


class CodeForm(PortalForm):
    code = forms.CharField(
        label=_("短信验证码"),
        max_length=20,
        help_text=_("短信里的6位数字。"),
        error_messages={"required": _("请填写短信里的6位数字验证码。")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "spellcheck": "false"}),
    )

    def clean_code(self) -> str:
        code = "".join(ch for ch in unicodedata.normalize("NFKC", self.cleaned_data["code"]) if not ch.isspace())
        if len(code) != 6 or not code.isdigit():
            raise ValidationError(_("验证码是6位数字，请对照短信重新填写。"), code="format")
        return code
