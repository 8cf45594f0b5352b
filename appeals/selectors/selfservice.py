"""Reads for enterprise self-service: what a verified phone or a signed link may open.

A verified contact phone opens the appeals filed with that number (optionally narrowed to one
credit code); a signed link opens the one appeal it names while its access version is current.
See ``appeals.services.selfservice`` for why a phone proves exactly that much.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.crypto import constant_time_compare

from appeals import validators
from appeals.models import Appeal
from appeals.services.selfservice import appeals_for_phone
from notifications import links


@dataclass(frozen=True)
class PhoneAppeal:
    """One row of "my company's appeals": what the list shows, other contacts' details masked."""

    appeal: Appeal
    contact_masked: str


def appeals_for_verified_phone(*, phone: str, credit_code: str = "") -> list[PhoneAppeal]:
    """Every appeal filed with the verified ``phone`` (newest first), contacts' names masked."""
    appeals = appeals_for_phone(phone, credit_code).select_related("category", "bureau")
    return [
        PhoneAppeal(appeal=appeal, contact_masked=validators.mask_person_name(appeal.contact_name))
        for appeal in appeals
    ]


def appeal_for_verified_phone(*, tracking_number: str, phone: str, credit_code: str = "") -> Appeal | None:
    """The appeal if it was filed with the verified ``phone`` (and credit code, if narrowed), else None."""
    number = "".join(ch for ch in (tracking_number or "") if ch.isdigit())
    if not phone:
        return None
    return (
        appeals_for_phone(phone, credit_code)
        .select_related("category", "region", "bureau", "bureau__region", "enterprise")
        .filter(tracking_number=number)
        .first()
    )


def appeal_for_link(*, tracking_number: str | None = None, appeal_id: int | None = None, access_version: str):
    """The appeal a signed link (or a session opened by one) names, while its access code is unchanged."""
    appeals = Appeal.objects.select_related("category", "region", "bureau", "bureau__region", "enterprise")
    if appeal_id is not None:
        appeal = appeals.filter(pk=appeal_id).first()
    else:
        number = "".join(ch for ch in (tracking_number or "") if ch.isdigit())
        appeal = appeals.filter(tracking_number=number).first()
    if appeal is None or not constant_time_compare(links.access_version(appeal.access_code_hash), access_version):
        return None
    return appeal


def masked_phone(phone: str) -> str:
    return validators.mask_phone(phone)
