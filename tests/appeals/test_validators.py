"""Unified social credit codes (GB 32100-2015) and mainland phone numbers."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from appeals.validators import mask_phone, normalise_credit_code, normalise_phone, validate_credit_code

VALID_CODES = ["91350200776049653A", "91440101MA5CJQ4N59", "9135021359498494XQ", "92440101MA5C000151"]


@pytest.mark.parametrize("code", VALID_CODES)
def test_published_valid_codes_pass(code):
    assert validate_credit_code(code) == code


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("91440101ma5cjq4n59", "91440101MA5CJQ4N59"),  # lower case
        (" 9144 0101 MA5C JQ4N 59 ", "91440101MA5CJQ4N59"),  # spaces
        ("９１４４０１０１ＭＡ５ＣＪＱ４Ｎ５９", "91440101MA5CJQ4N59"),  # full-width
        ("91440101-MA5CJQ4N59", "91440101MA5CJQ4N59"),  # hyphen
        ("91440101MA5CJQ4N59\u3000", "91440101MA5CJQ4N59"),  # ideographic space
    ],
)
def test_typed_variants_are_normalised(typed, expected):
    assert normalise_credit_code(typed) == expected
    assert validate_credit_code(typed) == expected


@pytest.mark.parametrize(
    ("code", "error_code", "fragment"),
    [
        ("91350203M0001QAY9B", "checksum", "校验码"),  # the published invalid example
        ("91350200776049653B", "checksum", "校验码"),
        ("9135020077604965", "length", "18位"),
        ("91350200776049653AA", "length", "18位"),
        ("9135020077604965IA", "characters", "I"),
        ("91350200776O49653A", "characters", "O"),
        ("", "required", "请填写"),
        ("   ", "required", "请填写"),
    ],
)
def test_invalid_codes_say_what_is_wrong(code, error_code, fragment):
    with pytest.raises(ValidationError) as excinfo:
        validate_credit_code(code)
    error = excinfo.value
    assert error.code == error_code
    assert fragment in str(error.message % (error.params or {}))


def test_every_single_character_change_of_a_valid_code_is_caught():
    """The check character catches any one-character substitution."""
    from appeals.validators import CREDIT_CODE_ALPHABET

    code = "91440101MA5CJQ4N59"
    for position in range(17):
        for replacement in CREDIT_CODE_ALPHABET:
            if replacement == code[position]:
                continue
            mutated = code[:position] + replacement + code[position + 1 :]
            with pytest.raises(ValidationError):
                validate_credit_code(mutated)


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("13800138000", "+8613800138000"),
        ("138 0013 8000", "+8613800138000"),
        ("+86 138-0013-8000", "+8613800138000"),
        ("１３８００１３８０００", "+8613800138000"),
        ("020-12345678", "+862012345678"),
        ("(0755)8888 8888", "+8675588888888"),
        ("010 6512 3456", "+861065123456"),
    ],
)
def test_mobile_and_landline_numbers_are_accepted(typed, e164):
    assert normalise_phone(typed) == e164


@pytest.mark.parametrize("typed", ["", "12345", "1380013800", "138001380001", "+1 415 555 2671", "abc", "020-123"])
def test_bad_phone_numbers_are_refused_with_advice(typed):
    with pytest.raises(ValidationError) as excinfo:
        normalise_phone(typed)
    assert "电话" in str(excinfo.value.message)


def test_masking_keeps_only_the_prefix_and_last_four_digits():
    assert mask_phone("+8613800138000") == "138 **** 8000"
    assert mask_phone("+862012345678").endswith("5678")
    assert "1234" not in mask_phone("+862012345678")
