"""Uploads: OOXML packages with macros are refused whatever they declare; a bad file name gets a message."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from appeals.models import Appeal, Attachment
from appeals.portal import uploads
from tests.appeals.portal.conftest import PDF_BYTES, form_data, upload

pytestmark = pytest.mark.django_db

WORD_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
DOCM_MAIN = "application/vnd.ms-word.document.macroEnabled.main+xml"
XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"


def package(overrides: dict[str, str], parts: list[str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        types = "".join(f'<Override PartName="/{name}" ContentType="{ctype}"/>' for name, ctype in overrides.items())
        archive.writestr(
            "[Content_Types].xml",
            f'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">{types}</Types>',
        )
        for part in parts:
            archive.writestr(part, b"<xml/>" if part.endswith(".xml") else b"\xd0\xcf\x11\xe0binary")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        # A .docm renamed .docx whose content types claim a plain Word document, plus an extra override.
        (
            "report.docx",
            package(
                {"word/document.xml": WORD_MAIN, "word/extra.xml": WORD_MAIN},
                ["word/document.xml", "word/extra.xml", "word/vbaProject.bin"],
            ),
        ),
        ("report.docx", package({"word/document.xml": DOCM_MAIN}, ["word/document.xml"])),
        ("book.xlsx", package({"xl/workbook.xml": XLSX_MAIN}, ["xl/workbook.xml", "xl/VBAPROJECT.BIN"])),
        ("book.xlsx", package({"xl/workbook.xml": XLSX_MAIN}, ["xl/workbook.xml", "xl/activeX/activeX1.bin"])),
    ],
)
def test_macro_packages_are_refused_whatever_they_declare(name, content):
    with pytest.raises(ValidationError) as caught:
        uploads.check_upload(upload(name, content))
    assert caught.value.code == "macro"
    assert "宏" in caught.value.messages[0]


def test_a_plain_docx_is_still_accepted():
    checked = uploads.check_upload(
        upload("plain.docx", package({"word/document.xml": WORD_MAIN}, ["word/document.xml"]))
    )
    assert checked.content_type == uploads.DOCX


@pytest.mark.parametrize("bad_name", ["..", "\x01\x02", "."])
def test_a_file_with_an_unusable_name_gets_a_message_not_a_silent_drop(client, portal_city, bad_name):
    named = io.BytesIO(PDF_BYTES)
    named.name = bad_name  # what a browser sends as the part's filename
    data = form_data(portal_city, attachments=[named, upload("ok.pdf", PDF_BYTES)])
    response = client.post(reverse("portal:submit"), data)
    assert response.status_code == 400
    assert "文件名无法使用" in response.content.decode()
    assert Appeal.objects.count() == 0 and Attachment.objects.count() == 0
