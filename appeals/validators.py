"""Normalisation and validation of enterprise identity and contact data.

Unified social credit codes (GB 32100-2015) are checked with python-stdnum's ``cn.uscc``; the
messages here say *what* is wrong so the appellant can fix it. Phone numbers are parsed with
``phonenumbers`` (Google's libphonenumber data) as mainland China mobile or landline numbers.
"""

from __future__ import annotations

import unicodedata

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.cn import uscc

CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def normalise_credit_code(value: str) -> str:
    """Upper-case, strip spaces and hyphens, and fold full-width characters (ＡＢＣ１２３ → ABC123)."""
    folded = unicodedata.normalize("NFKC", value or "")
    return "".join(ch for ch in folded if not ch.isspace() and ch != "-").upper()


def validate_credit_code(value: str) -> str:
    """Return the normalised code or raise ``ValidationError`` saying what is wrong with it."""
    code = normalise_credit_code(value)
    if not code:
        raise ValidationError(_("请填写统一社会信用代码。"), code="required")
    if len(code) != 18:
        raise ValidationError(
            _("统一社会信用代码应为18位，您填写了%(count)d位，请对照营业执照核对。"),
            code="length",
            params={"count": len(code)},
        )
    bad = sorted({ch for ch in code if ch not in CREDIT_CODE_ALPHABET})
    if bad:
        raise ValidationError(
            _("统一社会信用代码中不能出现字符“%(chars)s”（代码不使用 I、O、S、V、Z 等字母），请核对。"),
            code="characters",
            params={"chars": "、".join(bad)},
        )
    expected = uscc.calc_check_digit(code[:-1])
    if expected != code[-1]:
        raise ValidationError(_("统一社会信用代码的最后一位校验码不正确，请逐位对照营业执照核对。"), code="checksum")
    return code


def normalise_phone(value: str) -> str:
    """Return a mainland China phone number in E.164 form (+8613800138000) or raise ValidationError.

    Accepts mobile numbers and landlines with area code (020-12345678, (0755)8888 8888, +86 …).
    """
    raw = unicodedata.normalize("NFKC", value or "").strip()
    if not raw:
        raise ValidationError(_("请填写联系电话。"), code="required")
    try:
        number = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(
            _("无法识别这个电话号码。请填写11位手机号，或带区号的固定电话，如 020-12345678。"), code="invalid"
        ) from exc
    if number.country_code != 86 or not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("这不是有效的中国大陆电话号码。请填写11位手机号，或带区号的固定电话，如 020-12345678。"),
            code="invalid",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_mobile(e164: str) -> bool:
    """Whether a normalised number is a mobile number (only those can receive an SMS code)."""
    try:
        number = phonenumbers.parse(e164, "CN")
    except phonenumbers.NumberParseException:
        return False
    kind = phonenumbers.number_type(number)
    return kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


def format_phone_national(e164: str) -> str:
    """Format a stored E.164 number the way people in China write it (138 0013 8000, 020 1234 5678)."""
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164, "CN"), phonenumbers.PhoneNumberFormat.NATIONAL)
    except phonenumbers.NumberParseException:
        return e164


def mask_email(email: str) -> str:
    """Mask an e-mail address's local part except its first character: ``z***@example.com``."""
    local, at, domain = (email or "").partition("@")
    if not at:
        return "***" if email else ""
    return f"{local[:1]}***@{domain}"


def mask_person_name(name: str) -> str:
    """A person's name as its first character and a fixed mask (王**): the length is not shown either."""
    name = (name or "").strip()
    return f"{name[:1]}**"


def mask_enterprise_name(name: str) -> str:
    """An enterprise name with its distinctive middle hidden: 佛山市顺德区某某电器有限公司 → 佛山***有限公司."""
    name = name or ""
    if len(name) <= 4:
        return name[:1] + "*" * max(len(name) - 1, 0)
    tail = 4 if len(name) > 8 else 1
    return name[:2] + "***" + name[-tail:]


def mask_phone(e164: str) -> str:
    """Mask all but the last four digits of a phone number for staff who do not handle the appeal."""
    digits = format_phone_national(e164)
    visible = 4
    count = sum(ch.isdigit() for ch in digits)
    seen = 0
    out = []
    for ch in digits:
        if ch.isdigit():
            seen += 1
            out.append(ch if seen > count - visible or seen <= 3 else "*")
        else:
            out.append(ch)
    return "".join(out)
