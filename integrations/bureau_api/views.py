"""The bureau API: a bureau's own case system lists, reads and works its appeals (mounted at /api/bureau/v1/).

Reads go through the console's selectors; writes through the console's services with the
credential's staff user, so the same permissions, state rules, audit trail and notifications
apply. Every call leaves a ``CredentialUse`` row; every read of personal data a ``PiiAccessLog``
row. Errors: 400 invalid input, 401/403 credential, 404 not this bureau's appeal (never 403, so
other bureaus' appeals stay invisible), 409 state conflict — each with a ``detail`` a person can act on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from appeals import permissions as perms
from appeals import services
from appeals.models import Appeal, AppealMessage, AppealState, PiiAccessLog
from appeals.services import appeal_request_information
from appeals.validators import mask_phone
from integrations.bureau_api import serializers as s
from integrations.bureau_api.authentication import BureauCredentialAuthentication, IsBureauSystem
from integrations.bureau_api.selectors import Cursor, bureau_appeal, bureau_appeals, bureau_events, changed_since
from integrations.models import BureauCredential, CredentialUse

MAX_LIMIT = 500


def _error(exc: services.AppealError) -> Response:
    return Response({"detail": exc.message, "code": exc.code}, status=exc.status)


def _not_found() -> Response:
    return Response({"detail": _("找不到这件诉求，或者它不属于本单位。"), "code": "not_found"}, status=404)


class BureauView(APIView):
    authentication_classes = [BureauCredentialAuthentication]
    permission_classes = [IsBureauSystem]
    parser_classes = [JSONParser, FormParser]
    action_name = ""

    def finalize_response(self, request, response, *args, **kwargs):
        """Audit every call made with a credential, answered or refused."""
        response = super().finalize_response(request, response, *args, **kwargs)
        credential = getattr(request, "auth", None)
        if isinstance(credential, BureauCredential):
            appeal_id = kwargs.get("appeal_id")
            CredentialUse.objects.create(
                credential=credential,
                method=request.method or "",
                path=request.path[:300],
                action=self.action_name,
                appeal_id=appeal_id if appeal_id and response.status_code != 404 else None,
                status_code=response.status_code,
                remote_addr=(request.META.get("REMOTE_ADDR") or "")[:45],
            )
        return response

    @property
    def credential(self) -> BureauCredential:
        auth = self.request.auth
        assert isinstance(auth, BureauCredential)
        return auth


STATE_PARAM = OpenApiParameter(
    "state", str, description="按状态过滤，逗号分隔，如 dispatched,handling", enum=None, required=False
)


class AppealListView(BureauView):
    action_name = "list"

    @extend_schema(
        tags=["bureau"],
        summary="列出本单位的诉求（按更新时间，游标分页）",
        operation_id="bureau_appeals_list",
        parameters=[
            STATE_PARAM,
            OpenApiParameter("since", str, description="上次返回的 next_cursor；不填从头开始"),
            OpenApiParameter("limit", int, description="每页条数，默认100，最多500"),
        ],
        responses={200: s.AppealListSerializer, 400: s.ErrorSerializer},
        examples=[
            OpenApiExample(
                "page",
                value={
                    "results": [
                        {
                            "id": 812,
                            "tracking_number": "20261202000123",
                            "state": "dispatched",
                            "version": 1,
                            "category": "financing",
                            "region": "nanhai",
                            "urgency": "normal",
                            "title": "贷款到期想延期",
                            "officer_id": None,
                            "submitted_at": "2026-12-02T09:12:00+08:00",
                            "dispatched_at": "2026-12-02T09:12:00+08:00",
                            "sign_for_due": "2026-12-03T09:12:00+08:00",
                            "return_due": "2026-12-03T09:12:00+08:00",
                            "reply_due": None,
                            "updated_at": "2026-12-02T09:12:00+08:00",
                        }
                    ],
                    "next_cursor": "MjAyNi0xMi0wMlQwMToxMjowMCswMDowMHw4MTI",
                    "has_more": False,
                },
                response_only=True,
            )
        ],
    )
    def get(self, request: Request) -> Response:
        queryset = bureau_appeals(credential=self.credential).select_related("category", "region")
        states = [value.strip() for value in request.query_params.get("state", "").split(",") if value.strip()]
        unknown = [value for value in states if value not in AppealState.values]
        if unknown:
            return Response({"detail": _("未知的状态：%(state)s") % {"state": unknown[0]}, "code": "state"}, status=400)
        if states:
            queryset = queryset.filter(state__in=states)
        since = request.query_params.get("since", "").strip()
        cursor = Cursor.decode(since) if since else None
        if since and cursor is None:
            return Response(
                {"detail": _("since 游标无效，请使用接口返回的 next_cursor。"), "code": "cursor"}, status=400
            )
        try:
            limit = min(MAX_LIMIT, max(1, int(request.query_params.get("limit", 100))))
        except ValueError:
            return Response({"detail": _("limit 必须是整数。"), "code": "limit"}, status=400)
        page = list(changed_since(queryset, cursor)[: limit + 1])
        has_more = len(page) > limit
        page = page[:limit]
        next_cursor = Cursor(page[-1].updated_at, page[-1].pk).encode() if page else since
        data = {
            "results": s.AppealSummarySerializer(page, many=True).data,
            "next_cursor": next_cursor,
            "has_more": has_more,
        }
        return Response(data)


class EventListView(BureauView):
    action_name = "events"

    @extend_schema(
        tags=["bureau"],
        summary="本单位的事件（与推送内容相同），用于断线后对账",
        description="按 sequence 递增返回派单、改派、催办、督办、评价、重办事件；"
        "以上次收到的最大 sequence 作为 since 继续。即使没有配置推送地址或推送失败，也能从这里补齐。",
        parameters=[
            OpenApiParameter("since", int, description="上次收到的最大 sequence；不填从头开始"),
            OpenApiParameter("limit", int, description="每页条数，默认100，最多500"),
        ],
        responses={200: s.EventListSerializer, 400: s.ErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        try:
            since = int(request.query_params.get("since", 0) or 0)
            limit = min(MAX_LIMIT, max(1, int(request.query_params.get("limit", 100))))
        except ValueError:
            return Response({"detail": _("since 和 limit 必须是整数。"), "code": "integer"}, status=400)
        events = bureau_events(credential=self.credential, after=since, limit=limit + 1)
        has_more = len(events) > limit
        events = events[:limit]
        next_since = events[-1]["sequence"] if events else since
        return Response({"results": events, "next_since": next_since, "has_more": has_more})


def _may_see_contact(appeal: Appeal, user: Any) -> bool:
    """The console's rule for unmasking: the officer who signed for it, or the bureau lead, once signed for."""
    return appeal.officer_id is not None and perms.is_assigned_officer_or_lead(appeal, user)


class AppealDetailView(BureauView):
    action_name = "read"

    @extend_schema(
        tags=["bureau"],
        summary="读取一件诉求（个人信息按工作台规则打码，每次读取都有记录）",
        responses={200: s.AppealDetailSerializer, 404: s.ErrorSerializer},
    )
    def get(self, request: Request, appeal_id: int) -> Response:
        appeal = bureau_appeal(credential=self.credential, appeal_id=appeal_id)
        if appeal is None:
            return _not_found()
        reveal = _may_see_contact(appeal, request.user)
        PiiAccessLog.objects.create(
            user=request.user,
            appeal=appeal,
            action="integration_view_contact" if reveal else "integration_view",
            detail=_("接口凭证 %(prefix)s 读取诉求") % {"prefix": self.credential.key_prefix},
        )
        data = dict(s.AppealDetailSerializer(_detail(appeal, reveal=reveal)).data)
        return Response(data)


def _detail(appeal: Appeal, *, reveal: bool) -> dict[str, Any]:
    messages = [
        {"kind": m.kind, "body": m.body, "created_at": m.created_at}
        for m in appeal.messages.exclude(kind=AppealMessage.Kind.INTERNAL_NOTE).order_by("created_at", "pk")
    ]
    data = {field: getattr(appeal, field) for field in s.AppealDetailSerializer().fields if hasattr(appeal, field)}
    data.update(
        category=appeal.category,
        region=appeal.region,
        enterprise=appeal.enterprise,
        contact_phone=appeal.contact_phone if reveal else mask_phone(appeal.contact_phone),
        contact_email=appeal.contact_email if reveal else ("***" if appeal.contact_email else ""),
        phone_masked=not reveal,
        messages=messages,
    )
    return data


class ActionView(BureauView):
    """POST one action on one appeal; subclasses say which serializer and which service."""

    serializer_class: type[s.VersionedSerializer] = s.VersionedSerializer
    success: str = ""

    def run(self, appeal: Appeal, user: Any, data: dict[str, Any]) -> None:
        raise NotImplementedError

    def post(self, request: Request, appeal_id: int) -> Response:
        appeal = bureau_appeal(credential=self.credential, appeal_id=appeal_id)
        if appeal is None:
            return _not_found()
        serializer = self.serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            self.run(appeal, request.user, serializer.validated_data)
        except services.AppealError as exc:
            return _error(exc)
        # A fresh row, not refresh_from_db() (django-fsm-2 toggles `protected` on the shared field).
        appeal = Appeal.objects.get(pk=appeal.pk)
        return Response({"id": appeal.pk, "state": appeal.state, "version": appeal.version, "detail": self.success})


def _action_schema(summary: str, request: type, description: str) -> Callable:
    return extend_schema(
        tags=["bureau"],
        summary=summary,
        description=description,
        request=request,
        responses={
            200: s.ActionResultSerializer,
            400: OpenApiResponse(s.ErrorSerializer, description="输入有误"),
            403: OpenApiResponse(s.ErrorSerializer, description="凭证代表的工作人员没有这项权限"),
            404: OpenApiResponse(s.ErrorSerializer, description="不是本单位的诉求"),
            409: OpenApiResponse(
                s.ErrorSerializer,
                description="状态冲突：诉求已被处理或不在可操作的状态",
                examples=[
                    OpenApiExample(
                        "conflict",
                        value={
                            "detail": "这件诉求现在是“办理中”，不能签收。可能已被其他人处理，请刷新页面。",
                            "code": "wrong_state",
                        },
                    )
                ],
            ),
        },
    )


class SignForView(ActionView):
    action_name = "sign_for"

    @_action_schema("签收", s.VersionedSerializer, "已派单的诉求由凭证代表的工作人员签收，答复时限开始计算。")
    def post(self, request, appeal_id):
        return super().post(request, appeal_id)

    def run(self, appeal, user, data):
        services.appeal_sign_for(appeal_id=appeal.pk, user=user, expected_version=data["expected_version"])
        self.success = _("已签收。请在时限内联系诉求人并办理。")


class ReturnView(ActionView):
    action_name = "return"
    serializer_class = s.ReasonSerializer

    @_action_schema("退单", s.ReasonSerializer, "退单时限内，认为不属本单位职责的诉求退回分拨中心。")
    def post(self, request, appeal_id):
        return super().post(request, appeal_id)

    def run(self, appeal, user, data):
        services.appeal_return(
            appeal_id=appeal.pk, user=user, reason=data["reason"], expected_version=data["expected_version"]
        )
        self.success = _("已退单，等待分拨中心审核。")


class ContactView(ActionView):
    action_name = "contact"
    serializer_class = s.BodySerializer

    @_action_schema("记录联系诉求人", s.BodySerializer, "记录与诉求人的联系；第一次记录即为首次联系时间。")
    def post(self, request, appeal_id):
        return super().post(request, appeal_id)

    def run(self, appeal, user, data):
        if not perms.is_bureau_handler(appeal, user):
            raise services.NotAllowed(_("只有承办本诉求的单位可以联系诉求人。"), code="forbidden")
        services.appeal_add_message(
            appeal_id=appeal.pk,
            kind=AppealMessage.Kind.CONTACT,
            body=data["body"],
            actor=user,
            expected_version=data["expected_version"],
        )
        self.success = _("联系记录已保存。")


class InformationRequestView(ActionView):
    action_name = "info_request"
    serializer_class = s.BodySerializer

    @_action_schema("请诉求人补充材料", s.BodySerializer, "诉求人会收到通知；答复计时暂停，补充后恢复。")
    def post(self, request, appeal_id):
        return super().post(request, appeal_id)

    def run(self, appeal, user, data):
        appeal_request_information(
            appeal_id=appeal.pk, user=user, question=data["body"], expected_version=data["expected_version"]
        )
        self.success = _("已请诉求人补充材料，诉求人会收到通知。")


class ReplyView(ActionView):
    action_name = "reply"
    serializer_class = s.ReplySerializer

    @_action_schema("答复", s.ReplySerializer, "答复诉求人；单位要求审核时先提交负责人审核（状态变为 review）。")
    def post(self, request, appeal_id):
        return super().post(request, appeal_id)

    def run(self, appeal, user, data):
        result = services.appeal_submit_reply(
            appeal_id=appeal.pk, user=user, reply=data["reply"], expected_version=data["expected_version"]
        )
        self.success = (
            _("答复已提交本单位负责人审核。") if result.state == AppealState.REVIEW else _("答复已发送给诉求人。")
        )


class ExtensionView(ActionView):
    action_name = "extension"
    serializer_class = s.ExtensionSerializer

    @_action_schema("申请延期", s.ExtensionSerializer, "办理中的诉求申请延期，由分拨中心审批。")
    def post(self, request, appeal_id):
        return super().post(request, appeal_id)

    def run(self, appeal, user, data):
        services.extension_request(
            appeal_id=appeal.pk,
            user=user,
            reason=data["reason"],
            working_days=data["working_days"],
            expected_version=data["expected_version"],
        )
        self.success = _("延期申请已提交分拨中心审批。")
