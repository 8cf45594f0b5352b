"""DRF's multipart parser, keeping files whose names are unusable so they are reported, not dropped.

Django's parser silently drops a file whose name sanitises to nothing (``..``, only control
characters). The portal's forms keep such files under a placeholder name
(``appeals.portal.uploads.NameKeepingMultiPartParser``) and the upload checks refuse them with a
message; DRF parses request bodies itself, so the API needs the same parser here.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http.multipartparser import MultiPartParserError
from rest_framework.exceptions import ParseError
from rest_framework.parsers import DataAndFiles, MultiPartParser

from appeals.portal.uploads import NameKeepingMultiPartParser


class NameKeepingMultiPartFormParser(MultiPartParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> DataAndFiles:
        parser_context = parser_context or {}
        request = parser_context["request"]
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        meta = request.META.copy()
        meta["CONTENT_TYPE"] = media_type
        try:
            data, files = NameKeepingMultiPartParser(meta, stream, request.upload_handlers, encoding).parse()
        except MultiPartParserError as exc:
            raise ParseError(f"Multipart form parse error - {exc}") from exc
        return DataAndFiles(data, files)
