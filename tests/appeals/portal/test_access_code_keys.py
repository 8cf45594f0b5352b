"""Access codes are keyed on their own rotatable keys, not SECRET_KEY."""

from __future__ import annotations

import pytest

from appeals import selectors
from tests import factories

pytestmark = pytest.mark.django_db


def test_rotating_secret_key_locks_nobody_out(portal_city, settings):
    settings.ACCESS_CODE_KEYS = ["access-key-2026"]
    submitted = factories.submit(region=portal_city)
    number = submitted.appeal.tracking_number
    settings.SECRET_KEY = "a-completely-different-secret-key-after-rotation-0123456789"
    assert selectors.appeal_get_for_appellant(tracking_number=number, access_code=submitted.access_code)


def test_old_keys_still_verify_and_new_codes_use_the_newest(portal_city, settings):
    settings.ACCESS_CODE_KEYS = ["old"]
    old = factories.submit(region=portal_city)
    settings.ACCESS_CODE_KEYS = ["new", "old"]
    new = factories.submit(region=portal_city)
    for submitted in (old, new):
        found = selectors.appeal_get_for_appellant(
            tracking_number=submitted.appeal.tracking_number, access_code=submitted.access_code
        )
        assert found is not None
    assert not selectors.appeal_get_for_appellant(tracking_number=new.appeal.tracking_number, access_code="ZZZZ2222")
    # Dropping the old key retires the codes hashed with it (and only those).
    settings.ACCESS_CODE_KEYS = ["new"]
    assert (
        selectors.appeal_get_for_appellant(tracking_number=old.appeal.tracking_number, access_code=old.access_code)
        is None
    )
    assert selectors.appeal_get_for_appellant(tracking_number=new.appeal.tracking_number, access_code=new.access_code)
