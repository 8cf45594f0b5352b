"""Open311 GeoReport v2 response formats: JSON and XML, and the specification's error document.

XML is the format the specification requires; JSON is offered as well (announced in discovery).
Lists become a root element with one child per item (``services/service``, ``service_requests/request``);
nested lists use the element names the specification gives (``attributes/attribute``,
``values/value``, ``endpoints/endpoint``, ``formats/format``). Every XML document starts with the
declaration ``<?xml version="1.0" encoding="utf-8"?>`` and everything is UTF-8.
"""

from __future__ import annotations

import json
from typing import Any
from xml.etree import ElementTree as ET

from django.http import HttpResponse

CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
MIME_TYPES = ["text/xml", "application/json"]
# Child element of each list-valued field in XML.
_LIST_ITEMS = {"attributes": "attribute", "values": "value", "endpoints": "endpoint", "formats": "format"}


class Open311Error(Exception):
    """An error answered in the specification's format: HTTP ``status`` and ``[{code, description}]``."""

    def __init__(self, status: int, description: str, *, errors: list[str] | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.descriptions = errors or [description]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _append(parent: ET.Element, name: str, value: Any) -> None:
    element = ET.SubElement(parent, name)
    if isinstance(value, dict):
        for key, child in value.items():
            _append(element, key, child)
    elif isinstance(value, list):
        item_name = _LIST_ITEMS.get(name, "item")
        for child in value:
            _append(element, item_name, child)
    else:
        element.text = _text(value)


def to_xml(data: Any, *, root: str, item: str | None = None) -> bytes:
    """An XML document: a list under ``root`` with one ``item`` per entry, or a dict's fields under ``root``."""
    element = ET.Element(root)
    if isinstance(data, list):
        for entry in data:
            _append(element, item or "item", entry)
    else:
        for key, value in data.items():
            _append(element, key, value)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(element, encoding="utf-8", xml_declaration=False)


def render(data: Any, *, fmt: str, root: str, item: str | None = None, status: int = 200) -> HttpResponse:
    """``data`` as a response in ``fmt`` (``json`` or ``xml``)."""
    body = to_xml(data, root=root, item=item) if fmt == "xml" else json.dumps(data, ensure_ascii=False).encode()
    response = HttpResponse(body, status=status, content_type=CONTENT_TYPES.get(fmt, CONTENT_TYPES["json"]))
    response["Cache-Control"] = "no-store"
    return response


def error(exc: Open311Error, *, fmt: str) -> HttpResponse:
    """The specification's error document (``errors/error`` with ``code`` and ``description``)."""
    data = [{"code": exc.status, "description": description} for description in exc.descriptions]
    return render(data, fmt=fmt, root="errors", item="error", status=exc.status)
