"""Open311 GeoReport v2 endpoints (mounted at /open311/; the API itself under /open311/v2/).

Every response is JSON or XML by the path's suffix; every error is the specification's
``errors/error`` document with the matching HTTP status. No session, no CSRF: the only credential
is the ``api_key`` field of POST requests (an ``appeals.api`` client key).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from appeals import services
from appeals.api.authentication import active_client
from appeals.api.models import ApiClient
from appeals.models import OPEN_STATES
from appeals.portal import limits
from integrations.models import Open311Policy, Open311Request
from integrations.open311 import catalog, formats, intake, jurisdictions, presenters, selectors, tokens
from integrations.open311.formats import Open311Error

logger = logging.getLogger(__name__)

SPEC_URL = "http://wiki.open311.org/GeoReport_v2"
MAX_RESULTS = 1000
MAX_SPAN = timedelta(days=90)


class _AnyFormat(BaseContentNegotiation):
    """The format is the path's suffix; the Accept header never turns a request into a 406."""

    def select_parser(self, request, parsers):
        return None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class Open311View(APIView):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    content_negotiation_class = _AnyFormat

    def handle(self, request: HttpRequest, fmt: str, **kwargs: Any) -> HttpResponse:
        raise NotImplementedError

    def dispatch_open311(self, request: HttpRequest, fmt: str, **kwargs: Any) -> HttpResponse:
        try:
            if request.method == "GET":
                wait = limits.wait_seconds(getattr(request, "_request", request), name="open311_read_ip")
                if wait:
                    raise Open311Error(429, limits.message(wait))
            return self.handle(request, fmt, **kwargs)
        except Open311Error as exc:
            return formats.error(exc, fmt=fmt)
        except Exception:
            # The specification's "general service error": still its format, logged for us to fix.
            logger.exception("Open311 %s %s failed", request.method, request.path)
            return formats.error(
                Open311Error(400, _("服务暂时出错，请稍后再试；如果一直出错，请联系平台管理员。")), fmt=fmt
            )


def _error_doc(description: str) -> OpenApiResponse:
    return OpenApiResponse(
        description=description,
        examples=[
            OpenApiExample(
                "error", value=[{"code": 400, "description": "缺少 service_code（诉求类别代码，见 services 列表）。"}]
            )
        ],
    )


FORMAT_PARAM = OpenApiParameter("fmt", str, OpenApiParameter.PATH, enum=["json", "xml"], description="响应格式")
JURISDICTION_PARAM = OpenApiParameter(
    "jurisdiction_id", str, OpenApiParameter.QUERY, required=False, description="整个平台（huying）或地区代码"
)


class DiscoveryView(Open311View):
    @extend_schema(
        tags=["open311"],
        summary="Open311 服务发现（discovery）",
        parameters=[FORMAT_PARAM],
        responses={200: OpenApiTypes.OBJECT},
        examples=[
            OpenApiExample(
                "discovery",
                value={
                    "changeset": "2026-12-01T00:00:00+08:00",
                    "contact": "…",
                    "key_service": "…",
                    "endpoints": [
                        {
                            "specification": SPEC_URL,
                            "url": "https://huying.example.gov.cn/open311/v2",
                            "changeset": "2026-12-01T00:00:00+08:00",
                            "type": "production",
                            "formats": ["text/xml", "application/json"],
                        }
                    ],
                },
                response_only=True,
            )
        ],
    )
    def get(self, request, fmt):
        return self.dispatch_open311(request, fmt)

    def handle(self, request, fmt, **kwargs):
        base = request.build_absolute_uri(reverse("open311:services", kwargs={"fmt": "json"})).rsplit("/", 1)[0]
        changeset = str(getattr(settings, "OPEN311_CHANGESET", "2026-12-02T00:00:00+08:00"))
        data = {
            "changeset": changeset,
            "contact": str(
                getattr(settings, "OPEN311_CONTACT", "")
                or _("平台运营方：请拨打12345热线或联系当地政务服务数据管理局。")
            ),
            "key_service": str(
                getattr(settings, "OPEN311_KEY_SERVICE", "")
                or _("提交诉求需要接口密钥（api_key），请向平台管理员申请。")
            ),
            "endpoints": [
                {
                    "specification": SPEC_URL,
                    "url": base,
                    "changeset": changeset,
                    "type": "test" if settings.DEBUG else "production",
                    "formats": formats.MIME_TYPES,
                }
            ],
        }
        return formats.render(data, fmt=fmt, root="discovery")


class ServicesView(Open311View):
    @extend_schema(
        tags=["open311"],
        summary="服务列表（诉求类别）",
        parameters=[FORMAT_PARAM, JURISDICTION_PARAM],
        responses={200: OpenApiTypes.OBJECT, 404: _error_doc("jurisdiction_id 不存在")},
        examples=[
            OpenApiExample(
                "services",
                value=[
                    {
                        "service_code": "financing",
                        "service_name": "融资信贷",
                        "description": "贷款到期想延期还本",
                        "metadata": True,
                        "type": "realtime",
                        "keywords": "Financing",
                        "group": "金融工作局",
                    }
                ],
                response_only=True,
            )
        ],
    )
    def get(self, request, fmt):
        return self.dispatch_open311(request, fmt)

    def handle(self, request, fmt, **kwargs):
        jurisdictions.resolve(request.GET.get("jurisdiction_id", "").strip())
        data = [catalog.service(category) for category in catalog.active_categories()]
        return formats.render(data, fmt=fmt, root="services", item="service")


class ServiceDefinitionView(Open311View):
    @extend_schema(
        tags=["open311"],
        summary="服务定义（提交时需要的属性）",
        parameters=[FORMAT_PARAM, JURISDICTION_PARAM],
        responses={200: OpenApiTypes.OBJECT, 404: _error_doc("service_code 或 jurisdiction_id 不存在")},
    )
    def get(self, request, service_code, fmt):
        return self.dispatch_open311(request, fmt, service_code=service_code)

    def handle(self, request, fmt, **kwargs):
        jurisdictions.resolve(request.GET.get("jurisdiction_id", "").strip())
        category = catalog.category_by_code(kwargs["service_code"])
        if category is None:
            raise Open311Error(404, _("service_code “%(code)s” 不存在。") % {"code": kwargs["service_code"]})
        return formats.render(catalog.definition(category), fmt=fmt, root="service_definition")


def _client(api_key: str) -> ApiClient:
    parts = api_key.split("_")
    if not api_key:
        raise Open311Error(403, _("缺少 api_key：提交诉求需要平台发放的接口密钥。"))
    client = active_client(parts[1]) if len(parts) >= 3 and parts[0] == "hy" else None
    if client is None or not client.check_key(api_key):
        raise Open311Error(403, _("api_key 无效或已停用，请联系平台管理员。"))
    return client


def _policy(client: ApiClient | None) -> Open311Policy | None:
    if client is None:
        return None
    return Open311Policy.objects.filter(client=client).first()


class RequestsView(Open311View):
    @extend_schema(
        tags=["open311"],
        summary="查询诉求列表（不含个人信息）",
        parameters=[
            FORMAT_PARAM,
            JURISDICTION_PARAM,
            OpenApiParameter("service_request_id", str, description="逗号分隔的多个受理编号；给出时忽略其他条件"),
            OpenApiParameter("service_code", str, description="逗号分隔的类别代码"),
            OpenApiParameter("start_date", OpenApiTypes.DATETIME, description="W3C 时间，如 2026-11-01T00:00:00Z"),
            OpenApiParameter("end_date", OpenApiTypes.DATETIME, description="与 start_date 相距不超过90天"),
            OpenApiParameter("status", str, description="open、closed，逗号分隔"),
            OpenApiParameter("api_key", str, description="可选；策略为“只列本客户端”时只返回它提交的诉求"),
        ],
        responses={200: OpenApiTypes.OBJECT, 400: _error_doc("参数有误"), 403: _error_doc("api_key 无效或无权列表")},
    )
    def get(self, request, fmt):
        return self.dispatch_open311(request, fmt)

    @extend_schema(
        tags=["open311"],
        summary="提交诉求（application/x-www-form-urlencoded）",
        parameters=[FORMAT_PARAM],
        request={
            "application/x-www-form-urlencoded": {
                "type": "object",
                "required": ["api_key", "service_code", "description", "phone"],
                "properties": {
                    "api_key": {"type": "string"},
                    "jurisdiction_id": {"type": "string"},
                    "service_code": {"type": "string"},
                    "lat": {"type": "number"},
                    "long": {"type": "number"},
                    "address_string": {"type": "string"},
                    "address_id": {"type": "string"},
                    "email": {"type": "string"},
                    "device_id": {"type": "string"},
                    "account_id": {"type": "string"},
                    "first_name": {"type": "string"},
                    "last_name": {"type": "string"},
                    "phone": {"type": "string"},
                    "description": {"type": "string", "maxLength": 4000},
                    "attribute[credit_code]": {"type": "string"},
                    "attribute[enterprise_name]": {"type": "string"},
                    "attribute[industry]": {"type": "string"},
                    "attribute[enterprise_size]": {"type": "string"},
                    "attribute[region]": {"type": "string"},
                    "attribute[public_consent]": {"type": "string", "enum": ["yes", "no"]},
                },
            }
        },
        responses={
            200: OpenApiResponse(
                description="已受理",
                examples=[
                    OpenApiExample(
                        "created",
                        value=[
                            {
                                "service_request_id": "20261202000123",
                                "service_notice": "受理编号 20261202000123，查询码 7KQ2-MX4P……",
                                "account_id": None,
                            }
                        ],
                    )
                ],
            ),
            400: _error_doc("输入有误（缺少属性、信用代码无效、格式错误）"),
            403: _error_doc("api_key 无效"),
            404: _error_doc("service_code 或 jurisdiction_id 不存在"),
            413: _error_doc("请求内容过大"),
        },
    )
    def post(self, request, fmt):
        return self.dispatch_open311(request, fmt)

    def handle(self, request, fmt, **kwargs):
        if request.method == "POST":
            return self._create(request, fmt)
        return self._list(request, fmt)

    def _create(self, request, fmt):
        fields = intake.read_fields(request)
        client = _client(fields.get("api_key", "").strip())
        policy = _policy(client)
        if policy is not None and not policy.may_submit:
            raise Open311Error(403, _("这个 api_key 没有提交诉求的权限。"))
        wait = limits.wait_seconds(getattr(request, "_request", request), name="api_client", value=client.key_prefix)
        if wait:
            raise Open311Error(429, limits.message(wait))
        parsed = intake.parse(fields)
        data = parsed.data
        submission = services.AppealSubmission(
            enterprise_name=data["enterprise_name"],
            credit_code=data["credit_code"],
            region=data["region"],
            industry=data["industry"],
            enterprise_size=data["enterprise_size"],
            contact_name=data["contact_name"],
            contact_phone=data["contact_phone"],
            contact_email=data["contact_email"],
            category=data["category"],
            title=data["title"],
            description=data["description"],
            urgency=data["urgency"],
            urgency_reason=data["urgency_reason"],
            channel=client.channel,
        )
        try:
            with transaction.atomic():
                result = services.appeal_submit(submission=submission)
                Open311Request.objects.create(
                    appeal=result.appeal,
                    client=client,
                    jurisdiction_id=parsed.jurisdiction_id,
                    address_string=parsed.location.address_string,
                    lat=parsed.location.lat,
                    long=parsed.location.long,
                    device_id=parsed.device_id,
                    account_id=parsed.account_id,
                    public_description=parsed.public_description,
                )
        except services.AppealError as exc:
            raise Open311Error(exc.status, exc.message) from None
        appeal = result.appeal
        notice = _("已受理。受理编号 %(number)s，查询码 %(code)s（只显示这一次，请转告诉求人妥善保存）。") % {
            "number": appeal.tracking_number,
            "code": result.access_code,
        }
        entry: dict[str, Any]
        if policy is not None and policy.returns_token:
            entry = {"token": tokens.issue(appeal.tracking_number)}
        else:
            entry = {"service_request_id": appeal.tracking_number}
        entry.update(service_notice=notice, account_id=parsed.account_id or None)
        return formats.render([entry], fmt=fmt, root="service_requests", item="request")

    def _list(self, request, fmt):
        params = request.GET
        api_key = params.get("api_key", "").strip()
        client = _client(api_key) if api_key else None
        policy = _policy(client)
        if client is None and not getattr(settings, "OPEN311_PUBLIC_LISTING", True):
            raise Open311Error(403, _("列表查询需要 api_key。"))
        if policy is not None and policy.listing == Open311Policy.Listing.NONE:
            raise Open311Error(403, _("这个 api_key 不允许列表查询。"))
        scope = jurisdictions.resolve(params.get("jurisdiction_id", "").strip())
        own = policy is not None and policy.listing == Open311Policy.Listing.OWN
        queryset = selectors.public_appeals(scope=scope, filed_by=client if own else None)
        ids = [value.strip() for value in params.get("service_request_id", "").split(",") if value.strip()]
        queryset = queryset.filter(tracking_number__in=ids[:MAX_RESULTS]) if ids else _filtered(queryset, params)
        appeals = list(queryset.order_by("-submitted_at", "-id")[:MAX_RESULTS])
        data = [presenters.request_fields(appeal) for appeal in appeals]
        return formats.render(data, fmt=fmt, root="service_requests", item="request")


def _date(params, name: str) -> datetime | None:
    raw = params.get(name, "").strip()
    if not raw:
        return None
    try:
        value = parse_datetime(raw)
    except ValueError:
        value = None
    if value is None:
        raise Open311Error(400, _("%(name)s 必须是 W3C 格式的时间，例如 2026-11-01T00:00:00Z。") % {"name": name})
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def _filtered(queryset, params):
    codes = [c.strip() for c in params.get("service_code", "").split(",") if c.strip()]
    if codes:
        unknown = [c for c in codes if catalog.category_by_code(c) is None]
        if unknown:
            raise Open311Error(404, _("service_code “%(code)s” 不存在。") % {"code": unknown[0]})
        queryset = queryset.filter(category__code__in=codes)
    statuses = {s.strip() for s in params.get("status", "").split(",") if s.strip()}
    if statuses - {"open", "closed"}:
        raise Open311Error(400, _("status 只能是 open 或 closed（可用逗号分隔）。"))
    if statuses == {"open"}:
        queryset = queryset.filter(state__in=OPEN_STATES)
    elif statuses == {"closed"}:
        queryset = queryset.exclude(state__in=OPEN_STATES)
    start, end = _date(params, "start_date"), _date(params, "end_date")
    if start and end and end < start:
        raise Open311Error(400, _("end_date 不能早于 start_date。"))
    if start and end and end - start > MAX_SPAN:
        raise Open311Error(400, _("start_date 与 end_date 相距不能超过90天。"))
    if end is None:
        end = start + MAX_SPAN if start else timezone.now()
    if start is None:
        start = end - MAX_SPAN
    return queryset.filter(submitted_at__gte=start, submitted_at__lte=end)


class RequestDetailView(Open311View):
    @extend_schema(
        tags=["open311"],
        summary="查询一件诉求的状态",
        parameters=[FORMAT_PARAM, JURISDICTION_PARAM],
        responses={200: OpenApiTypes.OBJECT, 404: _error_doc("service_request_id 不存在")},
    )
    def get(self, request, service_request_id, fmt):
        return self.dispatch_open311(request, fmt, service_request_id=service_request_id)

    def handle(self, request, fmt, **kwargs):
        scope = jurisdictions.resolve(request.GET.get("jurisdiction_id", "").strip())
        appeal = selectors.public_appeal(tracking_number=kwargs["service_request_id"], scope=scope)
        if appeal is None:
            raise Open311Error(404, _("service_request_id “%(id)s” 不存在。") % {"id": kwargs["service_request_id"]})
        return formats.render([presenters.request_fields(appeal)], fmt=fmt, root="service_requests", item="request")


class TokenView(Open311View):
    @extend_schema(
        tags=["open311"],
        summary="用 token 换取 service_request_id",
        parameters=[FORMAT_PARAM, JURISDICTION_PARAM],
        responses={200: OpenApiTypes.OBJECT, 404: _error_doc("token 无效或已过期")},
    )
    def get(self, request, token, fmt):
        return self.dispatch_open311(request, fmt, token=token)

    def handle(self, request, fmt, **kwargs):
        jurisdictions.resolve(request.GET.get("jurisdiction_id", "").strip())
        number = tokens.redeem(kwargs["token"])
        if not selectors.tracking_number_exists(number):
            raise Open311Error(404, _("token 无效。"))
        data = [{"service_request_id": number, "token": kwargs["token"]}]
        return formats.render(data, fmt=fmt, root="service_requests", item="request")
