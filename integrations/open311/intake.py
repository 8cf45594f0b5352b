"""POST requests: from an Open311 body to an ``AppealSubmission``, checked like every other channel.

The body is ``application/x-www-form-urlencoded`` as the specification says; JSON and XML bodies
with the same field names are accepted too (some clients send them). Fields map as follows:

* ``service_code`` → category; ``description`` → the appeal text; ``attribute[...]`` → enterprise
  identity, industry, size, region, title, urgency and the consent to show the text publicly;
* ``first_name``/``last_name`` (or ``attribute[contact_name]``), ``phone``, ``email`` → the contact;
* the location (``lat``/``long``, ``address_string`` or ``address_id``, one required) is kept with
  the request; the region comes from ``attribute[region]``, else a region named in ``address_string``,
  else ``jurisdiction_id`` when it is a region.

The mapped values go through the channel API's ``SubmissionSerializer``: the same validation as the
API and, behind it, ``appeal_submit`` (routing, audit, outbox).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET
from django.conf import settings
from django.http import HttpRequest, QueryDict
from django.utils.translation import gettext as _

from appeals.api.serializers import SubmissionSerializer
from integrations.open311 import catalog, jurisdictions
from integrations.open311.formats import Open311Error
from routing.models import Category, Region

ATTRIBUTE_FIELDS = {
    "credit_code": "credit_code",
    "enterprise_name": "enterprise_name",
    "industry": "industry",
    "enterprise_size": "enterprise_size",
    "title": "title",
    "urgency": "urgency",
    "urgency_reason": "urgency_reason",
}
# Serializer field → how the client names it, for error messages.
_CLIENT_NAMES = {
    **{field: f"attribute[{code}]" for code, field in ATTRIBUTE_FIELDS.items()},
    "region": "attribute[region]",
    "contact_name": "first_name/last_name",
    "contact_phone": "phone",
    "contact_email": "email",
    "category": "service_code",
    "description": "description",
}
MAX_DESCRIPTION = 4000


def max_body_bytes() -> int:
    return int(getattr(settings, "OPEN311_MAX_BODY_BYTES", 64 * 1024))


def read_fields(request: HttpRequest) -> dict[str, str]:
    """The submitted fields as a flat dict (``attribute[code]`` keys), whatever the body's format."""
    request = getattr(request, "_request", request)  # the Django request under DRF's wrapper
    limit = max_body_bytes()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise Open311Error(413, _("请求内容过大（上限 %(limit)d 字节）。") % {"limit": limit})
    body = request.body
    if len(body) > limit:
        raise Open311Error(413, _("请求内容过大（上限 %(limit)d 字节）。") % {"limit": limit})
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Open311Error(400, _("请求内容必须是 UTF-8 编码。")) from None
    content_type = (request.content_type or "").split(";")[0].strip().lower()
    if content_type in ("application/x-www-form-urlencoded", ""):
        query = QueryDict(text, encoding="utf-8")
        return {key: query.get(key, "") for key in query}
    if content_type == "application/json":
        return _from_json(text)
    if content_type in ("text/xml", "application/xml"):
        return _from_xml(body)
    if content_type == "multipart/form-data":
        # Some clients send forms as multipart; the fields are the same (files are not accepted:
        # media travels as media_url in GeoReport v2).
        try:
            return {key: request.POST.get(key, "") for key in request.POST}
        except Exception:  # noqa: BLE001 - Django's MultiPartParserError and friends
            raise Open311Error(400, _("multipart 请求内容无法解析。")) from None
    raise Open311Error(
        400, _("不支持的请求格式 %(type)s，请用 application/x-www-form-urlencoded。") % {"type": content_type}
    )


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    raise Open311Error(400, _("JSON 字段的值必须是字符串或数字。"))


def _from_json(text: str) -> dict[str, str]:
    try:
        data = json.loads(text)
    except ValueError:
        raise Open311Error(400, _("请求内容不是有效的 JSON。")) from None
    if not isinstance(data, dict):
        raise Open311Error(400, _("JSON 请求内容必须是一个对象。"))
    fields: dict[str, str] = {}
    for key, value in data.items():
        if key == "attribute" and isinstance(value, dict):
            for code, item in value.items():
                fields[f"attribute[{code}]"] = _scalar(item)
        elif value is not None:
            fields[str(key)] = _scalar(value)
    return fields


def _from_xml(body: bytes) -> dict[str, str]:
    try:
        root = SafeET.fromstring(body, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError):
        raise Open311Error(400, _("请求内容不是有效的 XML。")) from None
    fields: dict[str, str] = {}
    for child in root:
        if child.tag == "attribute":
            for item in child:
                fields[f"attribute[{item.tag}]"] = (item.text or "").strip()
        else:
            fields[child.tag] = (child.text or "").strip()
    return fields


@dataclass
class Location:
    lat: Decimal | None
    long: Decimal | None
    address_string: str
    address_id: str


def _location(fields: dict[str, str]) -> Location:
    lat_raw, long_raw = fields.get("lat", "").strip(), fields.get("long", "").strip()
    address = fields.get("address_string", "").strip()[:250]
    address_id = fields.get("address_id", "").strip()[:100]
    lat = long = None
    if lat_raw or long_raw:
        if not (lat_raw and long_raw):
            raise Open311Error(400, _("lat 和 long 必须同时提供。"))
        try:
            lat, long = Decimal(lat_raw), Decimal(long_raw)
        except InvalidOperation:
            raise Open311Error(400, _("lat 和 long 必须是数字（WGS84 经纬度）。")) from None
        if not (-90 <= lat <= 90 and -180 <= long <= 180):
            raise Open311Error(400, _("lat 应在 -90 到 90 之间，long 应在 -180 到 180 之间。"))
        lat, long = lat.quantize(Decimal("0.000001")), long.quantize(Decimal("0.000001"))
    if lat is None and not address and not address_id:
        raise Open311Error(400, _("缺少位置：请提供 lat 和 long、address_string 或 address_id 之一。"))
    return Location(lat=lat, long=long, address_string=address, address_id=address_id)


def _region(fields: dict[str, str], location: Location, scope: Region | None) -> str:
    """The region code: the attribute, else a region named in the address, else the jurisdiction."""
    code = fields.get("attribute[region]", "").strip()
    if code:
        region = jurisdictions.region_by_code(code)
        if region is None:
            raise Open311Error(400, _("attribute[region] 不是有效的地区代码：%(code)s") % {"code": code})
        if scope is not None and not jurisdictions.within(region, scope):
            raise Open311Error(400, _("attribute[region] 不在 jurisdiction_id 所指的地区内。"))
        return code
    found = jurisdictions.region_in_address(location.address_string, scope=scope)
    if found is not None:
        return found.code
    if scope is not None:
        return scope.code
    raise Open311Error(
        400,
        _(
            "无法确定企业所在地区：请提供 attribute[region]，"
            "或在 address_string 中写明区县，或用 jurisdiction_id 指定地区。"
        ),
    )


@dataclass
class Intake:
    data: dict[str, Any]  # validated SubmissionSerializer data
    category: Category
    location: Location
    jurisdiction_id: str
    public_description: bool
    device_id: str
    account_id: str


def parse(fields: dict[str, str]) -> Intake:
    """Check the fields and map them; raises ``Open311Error`` with every problem found."""
    service_code = fields.get("service_code", "").strip()
    if not service_code:
        raise Open311Error(400, _("缺少 service_code（诉求类别代码，见 services 列表）。"))
    category = catalog.category_by_code(service_code)
    if category is None:
        raise Open311Error(
            404, _("service_code “%(code)s” 不存在，请从 services 列表中选择。") % {"code": service_code}
        )
    jurisdiction_id = fields.get("jurisdiction_id", "").strip()
    scope = jurisdictions.resolve(jurisdiction_id)
    location = _location(fields)
    description = fields.get("description", "")
    if len(description) > MAX_DESCRIPTION:
        raise Open311Error(400, _("description 不能超过4000字。"))
    missing = [
        f"attribute[{a.code}]: {a.description}"
        for a in catalog.attributes()
        if a.required and not fields.get(f"attribute[{a.code}]", "").strip()
    ]
    if missing:
        raise Open311Error(
            400, _("缺少必填属性。"), errors=[_("缺少必填属性 %(attr)s") % {"attr": item} for item in missing]
        )
    contact = fields.get("attribute[contact_name]", "").strip() or (
        fields.get("last_name", "").strip() + fields.get("first_name", "").strip()
    )
    data: dict[str, Any] = {
        field: fields.get(f"attribute[{code}]", "").strip() for code, field in ATTRIBUTE_FIELDS.items()
    }
    data.update(
        region=_region(fields, location, scope),
        category=service_code,
        contact_name=contact,
        contact_phone=fields.get("phone", "").strip(),
        contact_email=fields.get("email", "").strip(),
        description=description,
    )
    if not data["title"]:
        data["title"] = " ".join(description.split())[:30]
    if not data["urgency"]:
        data.pop("urgency")
    serializer = SubmissionSerializer(data=data)
    if not serializer.is_valid():
        problems = []
        for field, messages in serializer.errors.items():
            name = _CLIENT_NAMES.get(field, field)
            for message in messages if isinstance(messages, list) else [messages]:
                problems.append(f"{name}: {message}")
        raise Open311Error(400, problems[0], errors=problems)
    consent = fields.get("attribute[public_consent]", "").strip().lower()
    if consent not in ("", "yes", "no"):
        raise Open311Error(400, _("attribute[public_consent] 只能是 yes 或 no。"))
    return Intake(
        data=serializer.validated_data,
        category=category,
        location=location,
        jurisdiction_id=jurisdiction_id,
        public_description=consent == "yes",
        device_id=fields.get("device_id", "").strip()[:100],
        account_id=fields.get("account_id", "").strip()[:100],
    )
