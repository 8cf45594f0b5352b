"""Request tokens (``tokens/{token}``): a signed, expiring reference to a filed request.

Keys whose policy asks for tokens get one instead of the ``service_request_id`` (the specification's
"batch" style). A token is the tracking number signed with ``SECRET_KEY`` and a timestamp, so it
needs no storage, cannot be forged and expires after ``OPEN311_TOKEN_MAX_AGE_DAYS`` (default 30).
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.utils.translation import gettext as _

from integrations.open311.formats import Open311Error

_SALT = "huying.open311.token"


def issue(tracking_number: str) -> str:
    return signing.TimestampSigner(salt=_SALT).sign(tracking_number)


def redeem(token: str) -> str:
    """The tracking number behind ``token``; 404 in the specification's format if forged or expired."""
    max_age = int(getattr(settings, "OPEN311_TOKEN_MAX_AGE_DAYS", 30)) * 86400
    try:
        return signing.TimestampSigner(salt=_SALT).unsign(token, max_age=max_age)
    except signing.SignatureExpired:
        raise Open311Error(404, _("token 已过期，请用 service_request_id 查询。")) from None
    except signing.BadSignature:
        raise Open311Error(404, _("token 无效。")) from None
