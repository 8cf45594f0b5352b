"""What happens to each demo appeal: the mix of categories, regions, industries and sizes over
time, the state an appeal of a given age has reached, and the steps that got it there.

The same plan drives both seeding paths: the service path runs each step through
``appeals.services`` under ``time_machine``; the bulk path turns the steps into rows directly.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from appeals.models import AppealState

S = AppealState

# Relative frequency of categories (Guangdong's SME platform: staffing, financing, tax, export first).
CATEGORY_WEIGHTS = {
    "employment": 18.0,
    "financing": 13.0,
    "tax": 11.0,
    "export": 8.0,
    "social_insurance": 8.0,
    "loan_deferral": 6.0,
    "resumption": 5.0,
    "supply_chain": 5.0,
    "logistics": 5.0,
    "rent": 5.0,
    "licensing": 5.0,
    "utilities": 3.0,
    "legal": 3.0,
    "policy": 3.0,
    "other": 2.0,
}
# Appeals of these categories cannot be routed by rule: they wait in triage for a dispatcher.
TRIAGE_CATEGORIES = ("policy", "other")
# Which bureau type a dispatcher sends triaged appeals of these categories to.
TRIAGE_TARGET_TYPE = {"policy": "development", "other": "housing"}
# The category that rises over the final quarter of the period (a "rising problem" for analytics).
RISING_CATEGORY = "logistics"
RISING_DAYS = 90

INDUSTRY_WEIGHTS = {
    "C": 30,
    "F": 22,
    "I": 9,
    "H": 8,
    "L": 7,
    "E": 5,
    "G": 6,
    "M": 4,
    "A": 3,
    "O": 3,
    "R": 2,
    "K": 1,
}
SIZE_WEIGHTS = {"micro": 55, "small": 35, "medium": 10}
# Appeal types the demo appellants choose when their text does not say (roughly 12345's mix:
# mostly requests for help and enquiries, a fifth complaints, few suggestions and reports).
TYPE_WEIGHTS = {"help": 40, "enquiry": 30, "complaint": 18, "suggestion": 7, "report": 5}

# Administrative division codes for credit codes (characters 3–8 of a unified social credit code).
DIVISION_CODES = {
    "guangzhou": "440100",
    "shenzhen": "440300",
    "zhuhai": "440400",
    "shantou": "440500",
    "foshan": "440600",
    "jiangmen": "440700",
    "zhanjiang": "440800",
    "huizhou": "441300",
    "dongguan": "441900",
    "zhongshan": "442000",
}
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code(region_code: str, serial: int, marker: str = "MA") -> str:
    """A valid GB 32100-2015 code: 91 + division + marker + base-31 serial + check character."""
    digits = []
    for _ in range(7):
        serial, rest = divmod(serial, 31)
        digits.append(USCC_CHARSET[rest])
    body = "91" + DIVISION_CODES.get(region_code, "440100") + marker + "".join(reversed(digits))
    total = sum(USCC_CHARSET.index(ch) * w for ch, w in zip(body, USCC_WEIGHTS, strict=True))
    return body + USCC_CHARSET[(31 - total % 31) % 31]


def phone(rng: random.Random) -> str:
    return f"+86{rng.choice(('138', '139', '136', '137', '150', '158', '186', '189'))}{rng.randrange(10**8):08d}"


def weighted(rng: random.Random, weights: Mapping[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def appeal_type(rng: random.Random, title: str, description: str) -> str:
    """The type a demo appellant picks: what the text plainly reads as, else one by ``TYPE_WEIGHTS``."""
    from routing.appeal_types import suggest_type

    suggestion = suggest_type(title, description)
    if suggestion.cues and rng.random() < 0.85:
        return suggestion.appeal_type
    return weighted(rng, TYPE_WEIGHTS)


def intensity(at: datetime, start: datetime, end: datetime) -> float:
    """Relative appeal volume at ``at``: growth over the period, post-Spring-Festival and
    mid-year bumps, quiet weekends and nights."""
    span = max((end - start).total_seconds(), 1.0)
    growth = 0.7 + 0.6 * (at - start).total_seconds() / span
    season = {2: 1.5, 3: 1.4, 6: 1.15, 7: 1.15, 10: 0.8}.get(at.month, 1.0)
    weekday = 0.35 if at.weekday() >= 5 else 1.0
    hour = 1.0 if 8 <= at.hour < 20 else 0.25
    return growth * season * weekday * hour


MAX_INTENSITY = 1.3 * 1.5


def sample_time(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A submission time in [start, end), drawn with ``intensity`` by rejection sampling."""
    span = (end - start).total_seconds()
    while True:
        at = start + timedelta(seconds=rng.random() * span)
        if rng.random() * MAX_INTENSITY <= intensity(at, start, end):
            return at


def category_weights_at(at: datetime, end: datetime) -> dict[str, float]:
    """Category mix at ``at``: staffing peaks after Spring Festival, tax around annual settlement
    (March–June), export before the autumn fair, and ``RISING_CATEGORY`` climbs in the last quarter."""
    weights = dict(CATEGORY_WEIGHTS)
    if at.month in (2, 3):
        weights["employment"] *= 1.8
    if at.month in (3, 4, 5, 6):
        weights["tax"] *= 1.4
    if at.month in (9, 10):
        weights["export"] *= 1.3
    days_left = (end - at).total_seconds() / 86400
    if days_left < RISING_DAYS:
        weights[RISING_CATEGORY] *= 1 + 3.0 * (1 - days_left / RISING_DAYS)
    return weights


# Final-state mix by age. Old appeals are almost all finished; recent ones mostly still open.
STATE_MIX_BY_AGE: list[tuple[float, dict[str, float]]] = [
    (
        1,
        {
            S.SUBMITTED: 3,
            S.TRIAGE: 8,
            S.DISPATCHED: 30,
            S.RETURNED: 3,
            S.HANDLING: 35,
            S.REVIEW: 4,
            S.REPLIED: 8,
            S.CLOSED: 3,
            S.WITHDRAWN: 3,
            S.REJECTED: 2,
            S.MERGED: 1,
        },
    ),
    (
        7,
        {
            S.TRIAGE: 4,
            S.DISPATCHED: 8,
            S.RETURNED: 2,
            S.HANDLING: 36,
            S.REVIEW: 5,
            S.REPLIED: 20,
            S.CLOSED: 17,
            S.WITHDRAWN: 3,
            S.REJECTED: 3,
            S.MERGED: 2,
        },
    ),
    (
        30,
        {
            S.TRIAGE: 1,
            S.DISPATCHED: 2,
            S.RETURNED: 1,
            S.HANDLING: 14,
            S.REVIEW: 2,
            S.REPLIED: 3,
            S.CLOSED: 68,
            S.WITHDRAWN: 3,
            S.REJECTED: 4,
            S.MERGED: 2,
        },
    ),
    (
        math.inf,
        {
            S.TRIAGE: 0.2,
            S.DISPATCHED: 0.3,
            S.RETURNED: 0.2,
            S.HANDLING: 2,
            S.REVIEW: 0.3,
            S.REPLIED: 0.5,
            S.CLOSED: 87,
            S.WITHDRAWN: 3,
            S.REJECTED: 4,
            S.MERGED: 2.5,
        },
    ),
]


def choose_state(rng: random.Random, age: timedelta) -> str:
    days = age.total_seconds() / 86400
    for limit, mix in STATE_MIX_BY_AGE:
        if days < limit:
            return weighted(rng, mix)
    raise AssertionError("unreachable")


@dataclass
class Step:
    """One thing that happens to an appeal, ``delay`` after the previous step."""

    action: str
    delay: timedelta
    option: str = ""


def _hours(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(hours=rng.uniform(low, high))


def plan_steps(rng: random.Random, *, target: str, triage: bool, review: bool, detailed: bool) -> list[Step]:
    """The steps from submission to ``target``.

    ``triage``: the category is not routable (a dispatcher dispatches it by hand).
    ``review``: the bureau needs its lead to approve replies.
    ``detailed``: add the things the service path can show (messages, extensions, co-handling).
    """
    steps = [Step("submit", timedelta(0), "no_routing" if target == S.SUBMITTED else "")]
    if target == S.SUBMITTED:
        return steps
    if target in (S.TRIAGE, S.REJECTED, S.MERGED):
        if target == S.REJECTED:
            steps.append(Step("reject", _hours(rng, 1, 30)))
        elif target == S.MERGED:
            steps.append(Step("merge", _hours(rng, 1, 30)))
        return steps
    if triage:
        steps.append(Step("dispatch", _hours(rng, 1, 20)))
    if target == S.WITHDRAWN and rng.random() < 0.5:
        steps.append(Step("withdraw", _hours(rng, 1, 30)))
        return steps
    if target == S.RETURNED or rng.random() < 0.05:
        steps.append(Step("return", _hours(rng, 0.5, 6)))
        if target == S.RETURNED:
            return steps
        steps.append(Step("arbitrate", _hours(rng, 1, 20), rng.choice(("same", "other"))))
    if target == S.DISPATCHED:
        return steps
    steps.append(Step("sign_for", _hours(rng, 0.3, 20)))
    if rng.random() < 0.9:
        steps.append(Step("contact", _hours(rng, 0.5, 20)))
    if detailed:
        if rng.random() < 0.15:
            steps.append(Step("info_request", _hours(rng, 1, 24)))
            steps.append(Step("supplement", _hours(rng, 2, 48)))
        if rng.random() < 0.12:
            steps.append(Step("note", _hours(rng, 1, 24)))
        if rng.random() < 0.12:
            steps.append(Step("co_handle", _hours(rng, 2, 24)))
            if rng.random() < 0.7:
                steps.append(Step("co_handle_respond", _hours(rng, 4, 48)))
        if rng.random() < 0.15:
            steps.append(Step("extension_request", _hours(rng, 24, 72)))
            if not (target == S.HANDLING and rng.random() < 0.4):  # some stay pending for the dispatcher
                steps.append(Step("extension_decide", _hours(rng, 2, 30), rng.choice(("approve", "approve", "refuse"))))
    if target == S.WITHDRAWN:
        steps.append(Step("withdraw", _hours(rng, 2, 48)))
        return steps
    reopened_handling = target == S.HANDLING and rng.random() < 0.15
    if target == S.HANDLING and not reopened_handling:
        return steps
    steps += _reply_steps(rng, review, stop_in_review=target == S.REVIEW)
    if target == S.REVIEW:
        return steps
    if reopened_handling or (target == S.CLOSED and rng.random() < 0.1):
        steps.append(Step("rate", _hours(rng, 6, 96), "bad"))
        if reopened_handling:
            return steps
        steps.append(Step("contact", _hours(rng, 1, 24)))
        steps += _reply_steps(rng, review, stop_in_review=False, first_delay=(48, 240))
    if target == S.REPLIED:
        return steps
    if rng.random() < 0.15:
        steps.append(Step("default_close", timedelta(days=7, hours=rng.uniform(1, 20))))
    else:
        steps.append(Step("rate", _hours(rng, 2, 120), "good"))
    return steps


def _reply_steps(
    rng: random.Random, review: bool, *, stop_in_review: bool, first_delay: tuple[float, float] = (24, 120)
) -> list[Step]:
    if not review:
        return [Step("reply", _hours(rng, *first_delay))]
    steps = [Step("reply", _hours(rng, *first_delay))]  # goes to review
    if stop_in_review:
        return steps
    if rng.random() < 0.2:
        steps.append(Step("send_back", _hours(rng, 2, 20)))
        steps.append(Step("reply", _hours(rng, 4, 30)))
    steps.append(Step("approve", _hours(rng, 1, 24)))
    return steps


def fit_into(steps: list[Step], start: datetime, now: datetime) -> list[datetime]:
    """Times for each step, compressed when the plan would run past ``now``.

    A default close needs its full seven days after the reply; if the compressed plan cannot
    give it that, the caller should have replaced it (``needs_days``).
    """
    total = sum((s.delay for s in steps), timedelta(0))
    room = now - start - timedelta(minutes=5)
    scale = 1.0 if total <= room or total.total_seconds() == 0 else max(room / total, 0.0)
    times, at = [], start
    for step in steps:
        at = at + step.delay * scale
        times.append(at)
    return times


def room_for_default_close(steps: list[Step], start: datetime, now: datetime) -> list[Step]:
    """Swap a default close for an explicit rating when the plan does not fit before ``now``."""
    total = sum((s.delay for s in steps), timedelta(0))
    if total <= now - start - timedelta(minutes=5):
        return steps
    return [Step("rate", timedelta(hours=2), "good") if s.action == "default_close" else s for s in steps]


def rating_level(rng: random.Random, option: str) -> int:
    if option == "bad":
        return rng.choice((1, 2, 2))
    return rng.choices((5, 4, 3), weights=(50, 33, 17))[0]
