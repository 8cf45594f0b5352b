"""Enterprise self-service: prove control of an appeal's contact phone with a one-time SMS code.

What a verified phone proves (docs/portal.md): that the person can read SMS sent to that number,
which is exactly what the platform already relies on when it texts the appellant. It therefore
opens every appeal **filed with that number as its contact phone** — and nothing else: an appeal
of the same enterprise filed with another number stays closed (anyone can type a credit code, and
one company may have several contacts who should not read each other's appeals). The optional
credit code only narrows the list to one enterprise (an accountant filing for several firms).

Codes: 6 random digits, stored as a keyed hash (``salted_hmac`` under SECRET_KEY) and compared in
constant time; valid ``SELF_SERVICE["CODE_TTL_SECONDS"]``, once, for ``CODE_MAX_ATTEMPTS`` tries.
The SMS goes through the outbox with the code sealed (``notifications.sealing``) and is wiped from
the row once sent. A number that is nobody's contact phone gets a challenge row too (never sent, never
verifiable), so the answer does not tell whether the number is known (the only extra work for a known
number is one outbox insert; the SMS itself is sent later by the worker). The per-phone and
per-address send limits and the lockouts are checked by the views (``appeals.portal.limits``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from appeals.models import Appeal, PhoneChallenge
from notifications import outbox, sealing

CODE_LENGTH = 6
OTP_EVENT = "selfservice.code"


def phone_digest(phone: str) -> str:
    """The keyed hash of a normalised (E.164) phone number: what rows and rate-limit keys hold."""
    return salted_hmac("huying.selfservice.phone", phone, algorithm="sha256").hexdigest()


def _code_hash(challenge_salt: str, code: str) -> str:
    return salted_hmac("huying.selfservice.code", f"{challenge_salt}:{code}", algorithm="sha256").hexdigest()


def new_code() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(CODE_LENGTH))


def appeals_for_phone(phone: str, credit_code: str = ""):
    """Appeals filed with ``phone`` as contact phone (optionally of one enterprise), newest first."""
    appeals = Appeal.objects.filter(contact_phone=phone, merged_into__isnull=True)
    if credit_code:
        appeals = appeals.filter(enterprise_credit_code=credit_code)
    return appeals.order_by("-submitted_at", "-id")


def phone_challenge_start(*, phone: str, credit_code: str = "", ip: str | None = None, language: str) -> PhoneChallenge:
    """Create a challenge for ``phone`` and, if it is the contact phone of an appeal, text it a code.

    ``phone`` is already normalised (E.164). Side effects: a ``PhoneChallenge`` row and, when the
    number is known, an outbox row ``selfservice.code`` attached to the newest matching appeal (so
    it is sent to that appeal's contact phone, the same number) with the code sealed. Never raises
    for an unknown number; the caller shows the same page either way.
    """
    now = timezone.now()
    code = new_code()
    newest = appeals_for_phone(phone, credit_code).only("id", "contact_phone", "bureau_id").first()
    with transaction.atomic():
        challenge = PhoneChallenge.objects.create(
            phone_digest=phone_digest(phone),
            code_hash="",
            credit_code=credit_code,
            sent=newest is not None,
            ip=ip or None,
            created_at=now,
            expires_at=now + timedelta(seconds=int(settings.SELF_SERVICE["CODE_TTL_SECONDS"])),
        )
        challenge.code_hash = _code_hash(str(challenge.pk), code)
        challenge.save(update_fields=["code_hash"])
        if newest is not None:
            payload = {
                "sealed_code": sealing.seal(code),
                "language": language,
                "minutes": max(1, int(settings.SELF_SERVICE["CODE_TTL_SECONDS"]) // 60),
            }
            outbox.emit(OTP_EVENT, appeal=newest, payload=payload, broadcast=False)
    return challenge


@dataclass(frozen=True)
class Verification:
    """The outcome of one try: ``ok``, or why not: ``wrong`` (this try counted; ``attempts_left`` more),
    ``expired``, ``used`` or ``exhausted`` (already dead; nothing was compared)."""

    outcome: str
    attempts_left: int = 0

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


def phone_challenge_verify(*, challenge_id: int, phone: str, code: str) -> Verification:
    """Check ``code`` against the challenge (row locked); a right code uses the challenge up.

    Every try of a live challenge counts, right or wrong; past ``CODE_MAX_ATTEMPTS`` the challenge
    is dead and a new code must be requested. ``phone`` must be the number the challenge was made
    for (the session's copy), so a challenge id cannot be replayed for another number.
    """
    max_attempts = int(settings.SELF_SERVICE["CODE_MAX_ATTEMPTS"])
    code = "".join(ch for ch in (code or "") if ch.isdigit())
    with transaction.atomic():
        challenge = PhoneChallenge.objects.select_for_update().filter(pk=challenge_id).first()
        if challenge is None or not constant_time_compare(challenge.phone_digest, phone_digest(phone)):
            return Verification("expired")
        if challenge.used_at is not None:
            return Verification("used")
        if challenge.is_expired():
            return Verification("expired")
        if challenge.attempts >= max_attempts:
            return Verification("exhausted")
        challenge.attempts += 1
        matched = constant_time_compare(_code_hash(str(challenge.pk), code), challenge.code_hash)
        if matched and challenge.sent:
            challenge.used_at = timezone.now()
            challenge.save(update_fields=["attempts", "used_at"])
            return Verification("ok")
        challenge.save(update_fields=["attempts"])
        left = max_attempts - challenge.attempts
        return Verification("wrong", attempts_left=left)


def purge_phone_challenges(*, older_than: timedelta = timedelta(days=1)) -> int:
    """Delete challenges that expired more than ``older_than`` ago; return how many."""
    deleted, _detail = PhoneChallenge.objects.filter(expires_at__lt=timezone.now() - older_than).delete()
    return deleted
