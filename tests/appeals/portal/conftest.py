"""Fixtures for the appellant's side: a city with bureaus, valid form data and sample files."""

from __future__ import annotations

import io
import uuid
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from config.celery import app as celery_app
from tests import factories


@pytest.fixture(autouse=True)
def _own_rate_limit_counters(settings):
    """Each test counts rate limits under its own cache prefix (xdist- and Redis-safe)."""
    settings.RATELIMIT_CACHE_PREFIX = f"rl-test-{uuid.uuid4().hex}:"


@pytest.fixture(autouse=True)
def _eager_celery():
    """Tasks queued by the views run in-process; nothing is written to the filesystem broker."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def portal_city(hrss, finance, dispatch_centre):
    """Foshan with the bureaus the default categories route to."""
    factories.BureauFactory(region=hrss.region, bureau_type=factories.bureau_type("tax"))
    return hrss.region


def form_data(city, **overrides) -> dict:
    data = {
        "enterprise_name": "佛山市禅城区测试五金制品有限公司",
        "credit_code": factories.credit_code(),
        "region": str(city.pk),
        "industry": "C",
        "enterprise_size": "small",
        "contact_name": "王小明",
        "contact_phone": "138 0013 8000",
        "contact_email": "",
        "category": str(factories.category("employment").pk),
        "appeal_type": "help",
        "urgency": "normal",
        "urgency_reason": "",
        "title": "招不到熟练焊工",
        "description": "今年订单增加，需要10名熟练焊工，多次招聘无果，希望人社部门协助对接技工院校。",
        "idempotency_token": str(uuid.uuid4()),
        "homepage_url": "",
    }
    data.update(overrides)
    return data


# --- Sample files (just enough of each format for content sniffing) ------------------------------

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG_BYTES = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
ELF_BYTES = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 200


def ooxml_bytes(kind: str) -> bytes:
    main = {
        "docx": ("word/document.xml", "wordprocessingml.document.main+xml"),
        "xlsx": ("xl/workbook.xml", "spreadsheetml.sheet.main+xml"),
    }[kind]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            f'<Override PartName="/{main[0]}" ContentType="application/vnd.openxmlformats-officedocument.{main[1]}"/>'
            "</Types>",
        )
        archive.writestr(main[0], "<xml/>")
    return buffer.getvalue()


def plain_zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    return buffer.getvalue()


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)
