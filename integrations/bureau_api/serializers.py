"""Shapes of the bureau API. Personal data follows the console's rules (see ``views.AppealDetailView``)."""

from __future__ import annotations

from rest_framework import serializers

from appeals.api.serializers import CleanCharField
from appeals.models import AppealState


class AppealSummarySerializer(serializers.Serializer):
    """A row of the list: no personal data."""

    id = serializers.IntegerField()
    tracking_number = serializers.CharField()
    state = serializers.ChoiceField(choices=AppealState.choices)
    version = serializers.IntegerField(help_text="操作时作为 expected_version 传回，防止覆盖他人的更新")
    category = serializers.CharField(source="category.code")
    region = serializers.CharField(source="region.code")
    urgency = serializers.CharField()
    title = serializers.CharField()
    officer_id = serializers.IntegerField(allow_null=True)
    submitted_at = serializers.DateTimeField()
    dispatched_at = serializers.DateTimeField(allow_null=True)
    sign_for_due = serializers.DateTimeField(allow_null=True)
    return_due = serializers.DateTimeField(allow_null=True)
    reply_due = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField()


class AppealListSerializer(serializers.Serializer):
    results = AppealSummarySerializer(many=True)
    next_cursor = serializers.CharField(help_text="下次以 since=<next_cursor> 继续；对账时从上次保存的游标开始")
    has_more = serializers.BooleanField()


class MessageSerializer(serializers.Serializer):
    kind = serializers.CharField()
    body = serializers.CharField()
    created_at = serializers.DateTimeField()


class AppealDetailSerializer(AppealSummarySerializer):
    description = serializers.CharField()
    urgency_reason = serializers.CharField()
    enterprise_name = serializers.CharField(source="enterprise.name")
    credit_code = serializers.CharField(source="enterprise.credit_code")
    industry = serializers.CharField()
    enterprise_size = serializers.CharField()
    contact_name = serializers.CharField()
    contact_phone = serializers.CharField(help_text="签收后（承办人或本单位负责人）显示完整号码并记录查看；否则打码")
    phone_masked = serializers.BooleanField()
    contact_email = serializers.CharField(help_text="同电话号码的规则")
    first_contact_at = serializers.DateTimeField(allow_null=True)
    first_contact_due = serializers.DateTimeField(allow_null=True)
    replied_at = serializers.DateTimeField(allow_null=True)
    reply = serializers.CharField()
    extension_count = serializers.IntegerField()
    reopen_count = serializers.IntegerField()
    rating_level = serializers.IntegerField(allow_null=True)
    messages = MessageSerializer(many=True)


class VersionedSerializer(serializers.Serializer):
    expected_version = serializers.IntegerField(required=False, allow_null=True, default=None)


class ReasonSerializer(VersionedSerializer):
    reason = CleanCharField(max_length=2000, multiline=True)


class BodySerializer(VersionedSerializer):
    body = CleanCharField(max_length=5000, multiline=True)


class ReplySerializer(VersionedSerializer):
    reply = CleanCharField(max_length=10000, multiline=True)


class ExtensionSerializer(VersionedSerializer):
    reason = CleanCharField(max_length=2000, multiline=True)
    working_days = serializers.IntegerField(min_value=1, max_value=60)


class ActionResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    state = serializers.CharField()
    version = serializers.IntegerField()
    detail = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()


class EventSerializer(serializers.Serializer):
    """The same body a webhook delivers."""

    id = serializers.CharField()
    type = serializers.CharField()
    created_at = serializers.DateTimeField()
    sequence = serializers.IntegerField()
    bureau_id = serializers.IntegerField()
    appeal = serializers.DictField()
    data = serializers.DictField()


class EventListSerializer(serializers.Serializer):
    results = EventSerializer(many=True)
    next_since = serializers.IntegerField()
    has_more = serializers.BooleanField()
