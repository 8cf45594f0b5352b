"""Request and response shapes of the channel API. Validation mirrors the portal form."""

from __future__ import annotations

import copy
import uuid

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from appeals import validators
from appeals.models import EnterpriseSize, Industry, RatingLevel, Urgency
from appeals.portal import uploads
from appeals.portal.text import clean_text
from appeals.services import AppealSubmission
from routing.appeal_types import AppealType
from routing.decisions import routing_table
from routing.models import Category, Region
from routing.regions import province_region, resolve_region

# An unknown type code is refused with the list of codes (the API never guesses over a stated value).
INVALID_TYPE_MESSAGE = _(
    "“{input}”不是有效的诉求类型。可选：enquiry（咨询）、help（求助）、suggestion（建议）、"
    "complaint（投诉）、report（举报）；不填时按内容建议类型。"
)


def _django_errors(exc: DjangoValidationError) -> serializers.ValidationError:
    return serializers.ValidationError(exc.messages)


class CleanCharField(serializers.CharField):
    """A CharField cleaned of control characters like the portal's text fields."""

    def __init__(self, *args, multiline: bool = False, **kwargs):
        self.multiline = multiline
        super().__init__(*args, **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        cleaned = clean_text(value, multiline=self.multiline)
        if not cleaned and not self.allow_blank:
            self.fail("blank")
        return cleaned


class CodeLookupField(serializers.SlugRelatedField):
    """An active region or category by its code, looked up in the per-process routing table.

    The queryset still describes the choices (OpenAPI, browsable API); validating a submission
    runs no query. ``table`` names the routing table's dict: ``"regions"`` or ``"categories"``.
    """

    def __init__(self, *, table: str, **kwargs):
        self.table = table
        super().__init__(slug_field="code", **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        found = getattr(routing_table(), self.table).get(data)
        if found is None:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data)
        return found


class RegionLookupField(CodeLookupField):
    """A region by code (``foshan``, ``foshan-shunde``), GB/T 2260 code (``440606``) or name (``顺德区``).

    A region the system does not know, or one switched off, is still accepted: the appeal is filed
    under it (unknown: under the province) and routing triages it with the reason, after trying the
    region the company name or text names.
    """

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        if not data.strip():
            self.fail("required")
        return resolve_region(data) or province_region()


class SubmissionSerializer(serializers.Serializer):
    """A new appeal. Validation mirrors the portal form.

    Fields are shallow copies of the declared ones rather than DRF's deep copies (which re-run
    every field's constructor and copy its choices and querysets): binding sets attributes on the
    copy only, and what the copies share (choices, validators, the attachment list's child) is
    read-only. This is the busiest endpoint; the deep copies were ~0.3 ms of each submission.
    """

    def get_fields(self):
        return {name: copy.copy(field) for name, field in self._declared_fields.items()}

    enterprise_name = CleanCharField(max_length=200, help_text="营业执照上的企业全称")
    credit_code = serializers.CharField(max_length=40, help_text="18位统一社会信用代码（可小写、全角）")
    region = RegionLookupField(
        table="regions",
        queryset=Region.objects.filter(is_active=True),
        help_text="地区代码（或行政区划代码、名称），见 /api/regions/；无法识别的地区照常受理并转分拨员",
    )
    industry = serializers.ChoiceField(choices=Industry.choices, help_text="GB/T 4754-2017 门类 A–T")
    enterprise_size = serializers.ChoiceField(choices=EnterpriseSize.choices)
    contact_name = CleanCharField(max_length=50)
    contact_phone = serializers.CharField(max_length=40, help_text="手机号或带区号的固定电话")
    contact_email = serializers.EmailField(required=False, allow_blank=True, default="")
    category = CodeLookupField(
        table="categories",
        queryset=Category.objects.filter(is_active=True),
        help_text="类别代码，见 /api/categories/",
    )
    appeal_type = serializers.ChoiceField(
        choices=AppealType.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="诉求类型代码：enquiry 咨询、help 求助、suggestion 建议、complaint 投诉、report 举报，"
        "见 /api/appeal-types/；不填时按内容建议类型",
        error_messages={"invalid_choice": INVALID_TYPE_MESSAGE},
    )
    urgency = serializers.ChoiceField(choices=Urgency.choices, default=Urgency.NORMAL)
    urgency_reason = CleanCharField(max_length=200, required=False, allow_blank=True, default="")
    title = CleanCharField(max_length=100)
    description = CleanCharField(max_length=5000, multiline=True)
    attachments = serializers.ListField(
        child=serializers.FileField(), required=False, default=list, help_text="multipart/form-data 上传时使用"
    )
    idempotency_key = serializers.UUIDField(
        required=False,
        allow_null=True,
        default=None,
        help_text="也可用请求头 Idempotency-Key；重复提交不会产生第二件诉求",
    )

    def validate_credit_code(self, value: str) -> str:
        try:
            return validators.validate_credit_code(value)
        except DjangoValidationError as exc:
            raise _django_errors(exc) from None

    def validate_contact_phone(self, value: str) -> str:
        try:
            return validators.normalise_phone(value)
        except DjangoValidationError as exc:
            raise _django_errors(exc) from None

    def validate_attachments(self, value):
        try:
            return uploads.check_uploads(value)
        except DjangoValidationError as exc:
            raise _django_errors(exc) from None

    def validate(self, attrs):
        if attrs.get("urgency") == Urgency.URGENT and not attrs.get("urgency_reason"):
            raise serializers.ValidationError({"urgency_reason": [_("选择了“紧急”，请写一句紧急原因。")]})
        if attrs.get("urgency") != Urgency.URGENT:
            attrs["urgency_reason"] = ""
        attrs["contact_email"] = (attrs.get("contact_email") or "").strip().lower()
        return attrs

    def submission(self, *, channel: str, idempotency_key: uuid.UUID | None) -> AppealSubmission:
        """The validated data as the service's input (call after ``is_valid()``)."""
        return AppealSubmission.from_cleaned(self.validated_data, channel=channel, idempotency_key=idempotency_key)


class SubmittedSerializer(serializers.Serializer):
    tracking_number = serializers.CharField()
    access_code = serializers.CharField(help_text="只在这里返回一次，请转交诉求人保存")
    state = serializers.CharField()
    state_label = serializers.CharField()
    bureau = serializers.CharField(allow_null=True)
    expected_reply_by = serializers.DateTimeField()
    status_url = serializers.URLField()


class AccessSerializer(serializers.Serializer):
    tracking_number = serializers.CharField(max_length=40)
    access_code = serializers.CharField(max_length=40)


class CodeSerializer(serializers.Serializer):
    access_code = serializers.CharField(max_length=40)


class SupplementSerializer(CodeSerializer):
    body = CleanCharField(max_length=5000, multiline=True)
    attachments = serializers.ListField(child=serializers.FileField(), required=False, default=list)

    def validate_attachments(self, value):
        try:
            return uploads.check_uploads(value)
        except DjangoValidationError as exc:
            raise _django_errors(exc) from None


class WithdrawSerializer(CodeSerializer):
    reason = CleanCharField(max_length=500, required=False, allow_blank=True, default="", multiline=True)


class RatingSerializer(CodeSerializer):
    level = serializers.ChoiceField(
        choices=RatingLevel.choices, help_text="5 非常满意 · 4 满意 · 3 基本满意 · 2 不满意 · 1 非常不满意"
    )
    resolved = serializers.BooleanField()
    comment = CleanCharField(max_length=1000, required=False, allow_blank=True, default="", multiline=True)


class FileRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="original_name")
    size = serializers.IntegerField()
    content_type = serializers.CharField()


class TimelineEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    text = serializers.CharField()
    detail = serializers.CharField()


class AppealStatusSerializer(serializers.Serializer):
    tracking_number = serializers.CharField()
    title = serializers.CharField()
    category = serializers.CharField()
    appeal_type = serializers.CharField(allow_blank=True, help_text="诉求类型代码（旧诉求可能为空）")
    appeal_type_label = serializers.CharField(allow_blank=True)
    state = serializers.CharField()
    state_label = serializers.CharField()
    submitted_at = serializers.DateTimeField()
    deadline_label = serializers.CharField(allow_blank=True)
    deadline = serializers.DateTimeField(allow_null=True)
    reopened = serializers.BooleanField()
    reply = serializers.CharField(allow_blank=True)
    rejection_reason = serializers.CharField(allow_blank=True)
    bureau = serializers.DictField(allow_null=True)
    timeline = TimelineEntrySerializer(many=True)
    my_files = FileRefSerializer(many=True)
    reply_files = FileRefSerializer(many=True)
    actions = serializers.DictField(child=serializers.BooleanField())


class ChoiceSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    example = serializers.CharField(required=False)


class AppealTypeSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    hint = serializers.CharField(help_text="给诉求人的简短说明")
    reply_limit = serializers.IntegerField(help_text="一般诉求的默认答复时限（数值）")
    reply_unit = serializers.CharField(help_text="时限单位：working_days 工作日等")


class RegionChoiceSerializer(ChoiceSerializer):
    level = serializers.CharField(help_text="city 市 / district 区县")
    parent = serializers.CharField(allow_null=True, help_text="区县所属市的代码")
    division_code = serializers.CharField(allow_null=True, help_text="GB/T 2260 行政区划代码")
