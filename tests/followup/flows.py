"""Closed appeals in each way the follow-up rule cares about (shared with the problem-ticket tests)."""

from __future__ import annotations

from appeals import services
from appeals.models import RatingLevel
from tests import factories


def replied(hrss, officer, **overrides):
    submitted = factories.submit(region=hrss.region, **overrides)
    services.appeal_sign_for(appeal_id=submitted.appeal.pk, user=officer)
    services.appeal_submit_reply(appeal_id=submitted.appeal.pk, user=officer, reply="已协调招聘会。")
    return submitted


def closed(hrss, officer, *, level=RatingLevel.SATISFIED, default=False, bad_first=False):
    """A closed appeal: rated ``level`` (or by default), after a bad rating and re-handling if asked."""
    submitted = replied(hrss, officer)
    pk, code = submitted.appeal.pk, submitted.access_code
    if bad_first:
        services.appeal_rate(appeal_id=pk, access_code=code, level=RatingLevel.DISSATISFIED, resolved=False)
        services.appeal_submit_reply(appeal_id=pk, user=officer, reply="再次协调，已解决。")
    if default:
        return services.appeal_rate(
            appeal_id=pk, access_code=None, level=RatingLevel.BASICALLY_SATISFIED, resolved=None, is_default=True
        )
    return services.appeal_rate(appeal_id=pk, access_code=code, level=level, resolved=True)
