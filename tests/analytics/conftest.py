"""A small world (two cities, four bureaus, staff) and a seeded simulator that drives appeals
through the real services at chosen times, so analytics are tested on realistic audit trails."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from analytics import rollups
from appeals import services
from appeals.models import Appeal, AppealMessage, AppealState, Rating
from routing.models import Bureau, Region
from tests import factories

SHANGHAI = ZoneInfo("Asia/Shanghai")
CATEGORIES = ["employment", "social_insurance", "financing", "loan_deferral"]
TEXTS = {
    "employment": [
        ("招工困难", "春节后工人返岗率低，招工难，希望协助招聘技术工人。"),
        ("用工补贴", "用工补贴申领材料复杂。"),
    ],
    "social_insurance": [("社保缴费", "社保缴费基数调整，社保费用负担重。"), ("社保转移", "员工社保转移接续困难。")],
    "financing": [("贷款难", "银行贷款审批慢，抵押物不足，融资成本高。"), ("融资担保", "担保费率高，融资难。")],
    "loan_deferral": [("贷款延期", "申请贷款延期还本付息，银行未答复。"), ("续贷", "续贷手续繁琐，资金周转紧张。")],
}


@dataclass
class World:
    cities: list[Region]
    regions: list[Region]
    bureaus: list[Bureau]
    officers: dict[int, object]
    dispatcher: object
    appeals: list[Appeal] = field(default_factory=list)


@pytest.fixture
def world(city, dispatch_centre) -> World:
    return build_world(city, dispatch_centre)


def build_world(city: Region, dispatch_centre: Bureau) -> World:
    """Two cities (one with a district), hrss and finance bureaus in each, an officer per bureau."""
    second = factories.RegionFactory(code="zhongshan", name="中山市", name_en="Zhongshan")
    district = Region.objects.create(
        code="chancheng", name="禅城区", name_en="Chancheng", level=Region.Level.DISTRICT, parent=city
    )
    bureaus = []
    for region in (city, second):
        for type_code in ("hrss", "finance"):
            bureaus.append(factories.BureauFactory(region=region, bureau_type=factories.bureau_type(type_code)))
    officers = {b.pk: factories.staff_user("officer", b) for b in bureaus}
    return World(
        cities=[city, second],
        regions=[city, district, second],
        bureaus=bureaus,
        officers=officers,
        dispatcher=factories.staff_user("dispatcher", dispatch_centre),
    )


def at(day: datetime, hours: float) -> datetime:
    return day + timedelta(hours=hours)


def simulate(
    world: World, *, seed: int, count: int, start: datetime, days: int, categories: list[str] | None = None
) -> list[Appeal]:
    """Submit ``count`` appeals spread over ``days`` from ``start`` and drive each one randomly."""
    rng = random.Random(seed)
    made = []
    for _ in range(count):
        t0 = start + timedelta(minutes=rng.randrange(days * 24 * 60))
        code = rng.choice(categories or CATEGORIES)
        title, body = rng.choice(TEXTS[code])
        with time_machine.travel(t0, tick=False):
            submitted = factories.submit(
                region=rng.choice(world.regions),
                category=factories.category(code),
                title=title,
                description=body,
                channel=rng.choice(["web", "api", "hotline"]),
                industry=rng.choice("CFI"),
                enterprise_size=rng.choice(["micro", "small", "medium"]),
            )
        appeal, code_ = submitted.appeal, submitted.access_code
        made.append(appeal)
        if appeal.state == AppealState.TRIAGE and rng.random() < 0.95:
            # Whatever the router decided, the dispatcher routes by hand after a while.
            with time_machine.travel(t0 + timedelta(hours=rng.uniform(0.2, 3)), tick=False):
                services.appeal_dispatch(
                    appeal_id=appeal.pk, user=world.dispatcher, bureau_id=_bureau_for(world, appeal)
                )
            appeal.refresh_from_db()
            t0 = appeal.dispatched_at
        if appeal.state != AppealState.DISPATCHED:
            continue
        _drive(world, rng, appeal.pk, code_, t0)
    world.appeals.extend(made)
    return made


def _bureau_for(world: World, appeal: Appeal) -> int:
    city = appeal.region.city
    type_code = "hrss" if appeal.category.code in ("employment", "social_insurance") else "finance"
    return next(b.pk for b in world.bureaus if b.region_id == city.pk and b.bureau_type.code == type_code)


def _drive(world: World, rng: random.Random, appeal_id: int, access_code: str, t0: datetime) -> None:
    appeal = Appeal.objects.get(pk=appeal_id)
    roll = rng.random()
    if roll < 0.1:
        return  # never signed for
    t = t0
    if roll < 0.25:
        t = at(t, rng.uniform(0.5, 6))
        with time_machine.travel(t, tick=False):
            services.appeal_return(
                appeal_id=appeal_id, user=world.officers[appeal.bureau_id], reason="不属于本单位职责"
            )
        others = [b for b in world.bureaus if b.pk != appeal.bureau_id]
        t = at(t, rng.uniform(0.5, 4))
        with time_machine.travel(t, tick=False):
            services.appeal_arbitrate_return(
                appeal_id=appeal_id, user=world.dispatcher, bureau_id=rng.choice(others).pk, ruling="改派"
            )
        appeal.refresh_from_db()
    officer = world.officers[appeal.bureau_id]
    t = at(t, rng.choice([0.5, 3, 20, 60]))
    with time_machine.travel(t, tick=False):
        services.appeal_sign_for(appeal_id=appeal_id, user=officer)
    if rng.random() < 0.8:
        with time_machine.travel(at(t, rng.choice([1, 5, 30])), tick=False):
            services.appeal_add_message(
                appeal_id=appeal_id, kind=AppealMessage.Kind.CONTACT, body="已电话联系", actor=officer
            )
    if rng.random() < 0.15:
        return  # still being handled (some of these run past the reply deadline)
    t = at(t, rng.choice([10, 48, 100, 200, 400]))
    with time_machine.travel(t, tick=False):
        services.appeal_submit_reply(appeal_id=appeal_id, user=officer, reply="已协调解决。")
    roll = rng.random()
    t = at(t, rng.uniform(1, 48))
    if roll < 0.15:
        with time_machine.travel(t + timedelta(days=8), tick=False):
            services.appeal_close_unrated(appeal_id=appeal_id)
        return
    if roll < 0.2:
        return  # replied, not yet rated
    level = rng.choice([5, 5, 4, 4, 3, 2, 1])
    with time_machine.travel(t, tick=False):
        services.appeal_rate(
            appeal_id=appeal_id, access_code=access_code, level=level, resolved=rng.choice([True, True, False, None])
        )
    if rng.random() < 0.2:
        # A contested rating upheld on review no longer counts.
        Rating.objects.filter(appeal_id=appeal_id).update(contest=Rating.Contest.UPHELD)
    if level <= 2:
        t = at(t, rng.uniform(24, 100))
        with time_machine.travel(t, tick=False):
            services.appeal_submit_reply(appeal_id=appeal_id, user=officer, reply="重办后已解决。")


@pytest.fixture
def populated(world):
    """~70 appeals over ten weeks, rollups brought up to date."""
    start = datetime(2026, 9, 14, 9, 0, tzinfo=SHANGHAI)
    simulate(world, seed=7, count=70, start=start, days=70)
    with time_machine.travel(datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI), tick=False):
        rollups.update_rollups()
    return world
