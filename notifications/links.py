"""Signed, expiring links that open one appeal's tracking page from an SMS or e-mail.

A link carries ``<appeal id in base 36>.<access version>`` signed with ``TimestampSigner`` (HMAC-SHA256
under SECRET_KEY, salt ``huying.portal.link``), e.g. ``/t/2n9c.1f0e3a2b:1t7Kqx:<43 characters>/``,
about 85 characters with the site address: short enough for one SMS beside the message.

The access version is a short digest of the appeal's stored access-code hash: issuing a new access
code (recovery) changes it, so every link sent before stops working. Links expire after
``SELF_SERVICE["LINK_MAX_AGE_DAYS"]`` days. The token proves only that we sent it to the appeal's
contact phone or e-mail address; it never contains the access code or anything personal.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "huying.portal.link"
VERSION_LENGTH = 8


class LinkInvalid(Exception):
    """The token was altered, is malformed, or was signed with a key we no longer hold."""


class LinkExpired(LinkInvalid):
    """The token is genuine but older than ``LINK_MAX_AGE_DAYS``."""


@dataclass(frozen=True)
class LinkTarget:
    appeal_id: int
    access_version: str


def access_version(access_code_hash: str) -> str:
    """A short, one-way label of the current access code (changes whenever the code changes)."""
    return hashlib.sha256(f"huying.access-version:{access_code_hash}".encode()).hexdigest()[:VERSION_LENGTH]


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=SALT)


def max_age_seconds() -> int:
    return int(settings.SELF_SERVICE["LINK_MAX_AGE_DAYS"]) * 24 * 3600


def make_token(appeal_id: int, access_code_hash: str) -> str:
    return _signer().sign(f"{_base36(appeal_id)}.{access_version(access_code_hash)}")


def appeal_link(appeal: Any) -> str:
    """The absolute link that opens ``appeal``'s tracking page (for the appellant's SMS and e-mail)."""
    token = make_token(appeal.pk, appeal.access_code_hash)
    return settings.SITE_URL + reverse("portal:link", kwargs={"token": token})


def read_token(token: str) -> LinkTarget:
    """The appeal and access version a genuine, unexpired token names; ``LinkExpired`` / ``LinkInvalid``."""
    try:
        value = _signer().unsign(token, max_age=max_age_seconds())
    except signing.SignatureExpired as exc:
        raise LinkExpired(str(exc)) from None
    except signing.BadSignature as exc:
        raise LinkInvalid(str(exc)) from None
    number, _sep, version = value.partition(".")
    try:
        appeal_id = int(number, 36)
    except ValueError:
        raise LinkInvalid("malformed payload") from None
    if appeal_id <= 0 or len(version) != VERSION_LENGTH:
        raise LinkInvalid("malformed payload")
    return LinkTarget(appeal_id=appeal_id, access_version=version)


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if number == 0:
            return out
