"""Schema checks for Open311 GeoReport v2 responses, written from the published specification
(GeoReport v2 and Service Discovery pages): required fields, types, value sets, date formats, the
error document — plus Huying's privacy rule (a request carries no field outside the allowed set).
"""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

import jsonschema

# W3C date-time (ISO 8601 subset) with a mandatory offset or Z, as the specification requires.
W3C_DATETIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
DATETIME = {"type": "string", "pattern": W3C_DATETIME}
OPT_DATETIME = {"anyOf": [DATETIME, {"type": "null"}]}
STR = {"type": "string"}

DISCOVERY = {
    "type": "object",
    "required": ["changeset", "contact", "key_service", "endpoints"],
    "properties": {
        "changeset": STR,
        "contact": STR,
        "key_service": STR,
        "endpoints": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["specification", "url", "changeset", "type", "formats"],
                "properties": {
                    "specification": {"const": "http://wiki.open311.org/GeoReport_v2"},
                    "url": {"type": "string", "pattern": "^https?://"},
                    "changeset": STR,
                    "type": {"enum": ["production", "test"]},
                    "formats": {"type": "array", "minItems": 1, "items": STR, "contains": {"const": "text/xml"}},
                },
            },
        },
    },
}

SERVICES = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["service_code", "service_name", "metadata", "type"],
        "properties": {
            "service_code": {"type": "string", "minLength": 1},
            "service_name": {"type": "string", "minLength": 1},
            "description": STR,
            "metadata": {"type": "boolean"},
            "type": {"enum": ["realtime", "batch", "blackbox"]},
            "keywords": STR,
            "group": STR,
        },
    },
}

_LIST_TYPES = ["singlevaluelist", "multivaluelist"]
SERVICE_DEFINITION = {
    "type": "object",
    "required": ["service_code", "attributes"],
    "properties": {
        "service_code": STR,
        "attributes": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["variable", "code", "datatype", "required", "order", "description"],
                "properties": {
                    "variable": {"type": "boolean"},
                    "code": {"type": "string", "minLength": 1},
                    "datatype": {"enum": ["string", "number", "datetime", "text", *_LIST_TYPES]},
                    "required": {"type": "boolean"},
                    "datatype_description": {"type": ["string", "null"]},
                    "order": {"type": "integer", "minimum": 1},
                    "description": STR,
                    "values": {
                        "type": "array",
                        "minItems": 1,
                        "items": {"type": "object", "required": ["key", "name"]},
                    },
                },
                "if": {"properties": {"datatype": {"enum": _LIST_TYPES}}},
                "then": {"required": ["values"]},
            },
        },
    },
}

# Every field the specification defines for a request, minus those Huying withholds (personal or
# identifying): address_id, zipcode, lat, long and media_url are never returned.
REQUEST_FIELDS = {
    "service_request_id": {"type": "string", "minLength": 1},
    "status": {"enum": ["open", "closed"]},
    "status_notes": STR,
    "service_name": STR,
    "service_code": STR,
    "description": {"type": "string", "maxLength": 4000},
    "agency_responsible": STR,
    "service_notice": STR,
    "requested_datetime": DATETIME,
    "updated_datetime": DATETIME,
    "expected_datetime": OPT_DATETIME,
    "address": STR,
}
SERVICE_REQUESTS = {
    "type": "array",
    "items": {
        "type": "object",
        "required": [
            "service_request_id",
            "status",
            "service_name",
            "service_code",
            "requested_datetime",
            "updated_datetime",
        ],
        "properties": REQUEST_FIELDS,
        "additionalProperties": False,
    },
}

POST_RESPONSE = {
    "type": "array",
    "minItems": 1,
    "maxItems": 1,
    "items": {
        "type": "object",
        "properties": {
            "service_request_id": {"type": "string", "minLength": 1},
            "token": {"type": "string", "minLength": 1},
            "service_notice": STR,
            "account_id": {"type": ["string", "null"]},
        },
        "additionalProperties": False,
        # One or the other, never both (the specification's note on each field).
        "oneOf": [{"required": ["service_request_id"]}, {"required": ["token"]}],
    },
}

TOKEN_RESPONSE = {
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "required": ["service_request_id", "token"],
        "properties": {"service_request_id": {"type": "string"}, "token": {"type": "string"}},
    },
}

ERRORS = {
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "required": ["code", "description"],
        "properties": {"code": {"type": "integer"}, "description": {"type": "string", "minLength": 1}},
        "additionalProperties": False,
    },
}


def check(data: Any, schema: dict) -> None:
    jsonschema.validate(data, schema)


# --- XML ------------------------------------------------------------------------------------------

_ITEMS = {"attributes": "attribute", "values": "value", "endpoints": "endpoint", "formats": "format"}


def parse_xml(content: bytes, *, root: str) -> ET.Element:
    """The document's root after checking the declaration (UTF-8) and the root element's name."""
    head = content[:60].lower()
    assert head.startswith(b'<?xml version="1.0" encoding="utf-8"?>'), head
    element = ET.fromstring(content)
    assert element.tag == root, (element.tag, root)
    return element


def xml_to_data(element: ET.Element, *, item: str | None = None) -> Any:
    """Turn XML into JSON-like data (all leaves strings) so the structure checks can be shared."""
    if item is not None:
        children = list(element)
        assert all(child.tag == item for child in children), [c.tag for c in children]
        return [xml_to_data(child) for child in children]
    if len(element) == 0:
        return element.text or ""
    result: dict[str, Any] = {}
    for child in element:
        if child.tag in _ITEMS:
            result[child.tag] = xml_to_data(child, item=_ITEMS[child.tag])
        else:
            result[child.tag] = xml_to_data(child)
    return result


def xml_schema(schema: dict) -> dict:
    """The JSON schema with XML's typing: every leaf is text (booleans 'true'/'false', numbers digits)."""
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "type" and value == "boolean":
            out["enum"] = ["true", "false"]
        elif key == "type" and value == "integer":
            out["type"] = "string"
            out["pattern"] = r"^-?\d+$"
        elif key == "type" and isinstance(value, list):
            out["type"] = "string"
        elif key == "const" and not isinstance(value, str):
            out[key] = str(value)
        elif key == "anyOf":
            out[key] = [xml_schema(v) for v in value] + [{"const": ""}]
        elif key in ("properties",):
            out[key] = {k: xml_schema(v) for k, v in value.items()}
        elif key in ("items", "if", "then", "contains"):
            out[key] = xml_schema(value)
        elif key == "oneOf":
            out[key] = [xml_schema(v) for v in value]
        else:
            out[key] = value
    return out


def check_xml(content: bytes, schema: dict, *, root: str, item: str | None = None) -> Any:
    data = xml_to_data(parse_xml(content, root=root), item=item)
    jsonschema.validate(data, xml_schema(schema))
    return data
