"""Sealing secrets that must travel through the outbox (the access code in the confirmation e-mail).

The access code is shown once and stored only as a keyed hash, yet its e-mail must survive a broker
or worker fault like every other notification, so it is written to the outbox row — encrypted, never
in clear. Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) seals it with the newest key of
``OUTBOX_SEALING_KEYS``; older keys still open what they sealed (``MultiFernet``), so keys rotate
without losing deliveries in flight. Tokens carry their creation time: past
``OUTBOX_SEALED_MAX_AGE_SECONDS`` they no longer open, and the delivery code wipes them once the
e-mail is sent (``notifications.delivery``) or when they expire (``notifications.tasks.redispatch``).

Why encrypt rather than derive the code from the tracking number: a derivable code would make every
code computable by whoever holds the key, for ever; a random code sealed for a few days limits what a
stolen key reveals to the mails still waiting.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


def _fernet_key(secret: str) -> bytes:
    # Any string is accepted as a key: it is stretched to Fernet's 32 bytes with a purpose label,
    # so the same secret used elsewhere yields an unrelated key here.
    return base64.urlsafe_b64encode(hashlib.sha256(b"huying.outbox.sealing:" + secret.encode()).digest())


def _fernet() -> MultiFernet:
    keys = [key for key in settings.OUTBOX_SEALING_KEYS if key]
    if not keys:
        raise RuntimeError("OUTBOX_SEALING_KEYS is empty")
    return MultiFernet([Fernet(_fernet_key(key)) for key in keys])


def seal(text: str) -> str:
    """Encrypt ``text`` with the newest key; the token is ASCII, safe in a JSON payload."""
    return _fernet().encrypt(text.encode()).decode("ascii")


def unseal(token: str) -> str | None:
    """The sealed text, or None when the token is missing, expired, altered or under no known key."""
    if not token:
        return None
    try:
        return _fernet().decrypt(token.encode("ascii"), ttl=int(settings.OUTBOX_SEALED_MAX_AGE_SECONDS)).decode()
    except (InvalidToken, ValueError):
        return None
