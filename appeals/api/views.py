"""The channel API: other channels (mobile app, mini-program, hotline agents) file and follow appeals.

Every endpoint needs a partner API key (``Authorization: ApiKey …``, see ``authentication``).
Appellant actions also need the appeal's access code in the request body (never in the URL, so it
stays out of access logs). Errors: 400 invalid input, 403 wrong tracking number/code or key,
409 state conflict, 429 rate limited (``Retry-After`` header), each with a ``detail`` people can act on.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status as http
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from appeals import presenters, selectors, services
from appeals.api import serializers as s
from appeals.api.authentication import ApiKeyAuthentication, IsChannelPartner
from appeals.api.parsers import NameKeepingMultiPartFormParser
from appeals.models import OPEN_STATES, Appeal, AppealState, Attachment
from appeals.portal import limits
from appeals.portal.views import file_response
from routing import deadlines
from routing.appeal_types import TYPE_HINTS, AppealType
from routing.models import Category, Region


class PartnerView(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [IsChannelPartner]
    parser_classes = [JSONParser, NameKeepingMultiPartFormParser, FormParser]
    rate_limit = "api_client"

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        wait = limits.wait_seconds(request, name=self.rate_limit, value=request.auth.key_prefix)
        if wait:
            raise RateLimited(wait)


class RateLimited(Exception):
    def __init__(self, wait: int) -> None:
        self.wait = wait


def _error(exc: services.AppealError) -> Response:
    return Response({"detail": exc.message, "code": exc.code}, status=exc.status)


def _wrong_pair() -> Response:
    return Response({"detail": _("受理编号或查询码不正确。"), "code": "access_code"}, status=http.HTTP_403_FORBIDDEN)


class RateLimitAware(PartnerView):
    def handle_exception(self, exc):
        if isinstance(exc, RateLimited):
            response = Response({"detail": limits.message(exc.wait), "code": "rate_limited"}, status=429)
            response["Retry-After"] = str(exc.wait)
            return response
        return super().handle_exception(exc)


class SubmitView(RateLimitAware):
    @extend_schema(
        summary="提交诉求",
        request=s.SubmissionSerializer,
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False)],
        responses={
            201: s.SubmittedSerializer,
            400: OpenApiResponse(description="输入有误，按字段给出修改说明"),
            409: OpenApiResponse(description="同一个 Idempotency-Key 已提交过（返回原受理编号，不再返回查询码）"),
        },
    )
    def post(self, request):
        serializer = s.SubmissionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        key = data.get("idempotency_key")
        header = request.headers.get("Idempotency-Key")
        if key is None and header:
            try:
                key = uuid.UUID(header)
            except ValueError:
                return Response(
                    {"detail": _("Idempotency-Key 请求头必须是UUID。"), "code": "idempotency_key"}, status=400
                )
        submission = serializer.submission(channel=request.auth.channel, idempotency_key=key)
        try:
            result = services.appeal_submit(submission=submission)
        except services.DuplicateSubmission as exc:
            return Response(
                {"detail": exc.message, "code": "duplicate", "tracking_number": exc.appeal.tracking_number},
                status=http.HTTP_409_CONFLICT,
            )
        except services.AppealError as exc:
            return _error(exc)
        appeal = result.appeal
        body = {
            "tracking_number": appeal.tracking_number,
            "access_code": result.access_code,
            "state": appeal.state,
            "state_label": appeal.get_state_display(),
            "bureau": appeal.bureau.display_name if appeal.bureau else None,
            "expected_reply_by": presenters.expected_reply_by(appeal),
            "status_url": settings.SITE_URL + reverse("portal:lookup"),
        }
        return Response(s.SubmittedSerializer(body).data, status=http.HTTP_201_CREATED)


def status_payload(appeal: Appeal) -> dict:
    label, due = presenters.current_deadline(appeal)
    files = presenters.visible_attachments(appeal)
    bureau = appeal.bureau
    return {
        "tracking_number": appeal.tracking_number,
        "title": appeal.title,
        "category": appeal.category.display_name,
        "appeal_type": appeal.appeal_type,
        "appeal_type_label": appeal.get_appeal_type_display() if appeal.appeal_type else "",
        "state": appeal.state,
        "state_label": appeal.get_state_display(),
        "submitted_at": appeal.submitted_at,
        "deadline_label": str(label),
        "deadline": due,
        "reopened": appeal.reopen_count > 0 and appeal.state in OPEN_STATES,
        "reply": appeal.reply if appeal.state in (AppealState.REPLIED, AppealState.CLOSED) else "",
        "rejection_reason": appeal.rejection_reason if appeal.state == AppealState.REJECTED else "",
        "bureau": (
            {"name": bureau.display_name, "phone": bureau.contact_phone, "address": bureau.contact_address}
            if bureau
            else None
        ),
        "timeline": [e.__dict__ for e in presenters.timeline(appeal, selectors.appeal_events(appeal=appeal))],
        "my_files": files["mine"],
        "reply_files": files["replies"],
        "actions": {
            "supplement": appeal.state in OPEN_STATES,
            "withdraw": appeal.state in OPEN_STATES,
            "rate": appeal.state == AppealState.REPLIED,
            "follow_up": selectors.followup_allowed(appeal),
        },
    }


class LookupView(RateLimitAware):
    rate_limit = "api_lookup"

    @extend_schema(
        summary="凭受理编号和查询码查询诉求",
        request=s.AccessSerializer,
        responses={200: s.AppealStatusSerializer, 403: OpenApiResponse(description="受理编号或查询码不正确")},
    )
    def post(self, request):
        serializer = s.AccessSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        appeal = selectors.appeal_get_for_appellant(**serializer.validated_data)
        if appeal is None:
            return _wrong_pair()
        return Response(s.AppealStatusSerializer(status_payload(appeal)).data)


class AppellantActionView(RateLimitAware):
    serializer_class = s.CodeSerializer

    def appeal_for(self, tracking_number: str, access_code: str) -> Appeal | None:
        return selectors.appeal_get_for_appellant(tracking_number=tracking_number, access_code=access_code)

    def post(self, request, tracking_number: str):
        serializer = self.serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        appeal = self.appeal_for(tracking_number, data["access_code"])
        if appeal is None:
            return _wrong_pair()
        try:
            self.act(appeal, data)
        except services.AppealError as exc:
            return _error(exc)
        # A fresh instance, not refresh_from_db(): django-fsm-2's refresh_from_db toggles `protected` on the
        # state field shared by every instance, so concurrent requests failed after their write committed.
        appeal = Appeal.objects.select_related("category", "bureau").get(pk=appeal.pk)
        return Response(s.AppealStatusSerializer(status_payload(appeal)).data, status=self.success_status)

    success_status = http.HTTP_200_OK

    def act(self, appeal: Appeal, data: dict) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


class SupplementView(AppellantActionView):
    serializer_class = s.SupplementSerializer
    success_status = http.HTTP_201_CREATED

    @extend_schema(
        summary="补充说明或材料（办理中）", request=s.SupplementSerializer, responses={201: s.AppealStatusSerializer}
    )
    def post(self, request, tracking_number: str):
        return super().post(request, tracking_number)

    def act(self, appeal, data):
        services.appeal_add_message(
            appeal_id=appeal.pk,
            kind="appellant",
            body=data["body"],
            actor=services.APPELLANT,
            attachments=data["attachments"],
        )


class WithdrawView(AppellantActionView):
    serializer_class = s.WithdrawSerializer

    @extend_schema(
        summary="撤回诉求（答复前）", request=s.WithdrawSerializer, responses={200: s.AppealStatusSerializer}
    )
    def post(self, request, tracking_number: str):
        return super().post(request, tracking_number)

    def act(self, appeal, data):
        services.appeal_withdraw(appeal_id=appeal.pk, access_code=data["access_code"], reason=data["reason"])


class RateView(AppellantActionView):
    serializer_class = s.RatingSerializer

    @extend_schema(
        summary="评价答复（不满意、非常不满意会重办）",
        request=s.RatingSerializer,
        responses={200: s.AppealStatusSerializer},
    )
    def post(self, request, tracking_number: str):
        return super().post(request, tracking_number)

    def act(self, appeal, data):
        services.appeal_rate(
            appeal_id=appeal.pk,
            access_code=data["access_code"],
            level=int(data["level"]),
            resolved=data["resolved"],
            comment=data["comment"],
        )


class FollowUpView(AppellantActionView):
    serializer_class = s.RatingSerializer
    success_status = http.HTTP_201_CREATED

    @extend_schema(
        summary="追加评价（办结后一次）", request=s.RatingSerializer, responses={201: s.AppealStatusSerializer}
    )
    def post(self, request, tracking_number: str):
        return super().post(request, tracking_number)

    def act(self, appeal, data):
        services.appeal_followup_rate(
            appeal_id=appeal.pk,
            access_code=data["access_code"],
            level=int(data["level"]),
            resolved=data["resolved"],
            comment=data["comment"],
        )


class FileView(RateLimitAware):
    @extend_schema(
        summary="下载诉求人自己的文件或答复附件",
        request=s.CodeSerializer,
        responses={(200, "application/octet-stream"): OpenApiResponse(description="文件内容")},
    )
    def post(self, request, tracking_number: str, attachment_id: int):
        serializer = s.CodeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        appeal = selectors.appeal_get_for_appellant(
            tracking_number=tracking_number, access_code=serializer.validated_data["access_code"]
        )
        if appeal is None:
            return _wrong_pair()
        attachment = Attachment.objects.select_related("message").filter(pk=attachment_id, appeal_id=appeal.pk).first()
        if attachment is None or not presenters.appellant_may_see(attachment):
            raise Http404
        return file_response(attachment)


class CategoriesView(RateLimitAware):
    @extend_schema(summary="诉求类别（含示例）", responses={200: s.ChoiceSerializer(many=True)})
    def get(self, request):
        rows = [
            {"code": c.code, "name": c.display_name, "example": c.display_example}
            for c in Category.objects.filter(is_active=True)
        ]
        return Response(s.ChoiceSerializer(rows, many=True).data)


class AppealTypesView(RateLimitAware):
    @extend_schema(
        summary="诉求类型（含说明和一般诉求的默认答复时限）", responses={200: s.AppealTypeSerializer(many=True)}
    )
    def get(self, request):
        rows = []
        for code, label in AppealType.choices:
            limit, unit = deadlines.policy_for(appeal_type=code).reply
            rows.append(
                {
                    "code": code,
                    "name": str(label),
                    "hint": str(TYPE_HINTS[code]),
                    "reply_limit": limit,
                    "reply_unit": unit,
                }
            )
        return Response(s.AppealTypeSerializer(rows, many=True).data)


class RegionsView(RateLimitAware):
    @extend_schema(summary="地区（市及其区县，市在前、区县随后）", responses={200: s.RegionChoiceSerializer(many=True)})
    def get(self, request):
        regions = Region.objects.filter(is_active=True).exclude(level=Region.Level.PROVINCE).select_related("parent")
        rows = [
            {
                "code": r.code,
                "name": r.display_name,
                "level": r.level,
                "parent": r.parent.code if r.parent is not None else None,
                "division_code": r.division_code,
            }
            for r in sorted(regions, key=lambda r: (r.city.sort_order, r.city.code, r.level != "city", r.sort_order))
        ]
        return Response(s.RegionChoiceSerializer(rows, many=True).data)
