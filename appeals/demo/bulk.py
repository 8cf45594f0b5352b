"""The bulk path of ``seed_demo`` (and of the analytics benchmark): many appeals, fast.

Appeals, their audit events (valid hash chains built with ``appeals.audit.build_event``) and
ratings are written with ``bulk_create`` in batches, one transaction per batch, so memory stays
flat and a 1,000,000-appeal run is a matter of minutes. Each appeal follows the same plan as the
service path (``appeals.demo.plan``) without going through the services: transitions, deadlines
and timestamps are computed here the way the services compute them. Messages, extensions,
co-handling and outbox rows are not written for these historical appeals (notifications for
years-old appeals would be noise); first contact is recorded on the appeal.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from unittest import mock

from django.db import reset_queries, transaction
from django.db.models.functions import Greatest
from django.utils import timezone
from tqdm import tqdm

from appeals import access_codes, audit
from appeals.demo import plan, texts
from appeals.demo.organisation import DEFAULT_CITIES, DemoOrganisation, setup_organisation
from appeals.models import Appeal, AppealEvent, AppealState, Enterprise, Rating, TrackingSequence
from routing import deadlines
from routing.models import Bureau, Category

S = AppealState
APPELLANT, SYSTEM = audit.APPELLANT, audit.SYSTEM
ACCESS_ALPHABET = access_codes.ACCESS_CODE_ALPHABET


@dataclass
class BulkResult:
    appeals: int
    events: int
    ratings: int
    enterprises: int


class _Deadlines:
    """The services' deadline rules, with each category × type × urgency policy looked up once per run.

    ``routing.deadlines.dispatch_deadlines`` and friends read the policy table on every call, which
    is right for one submission and far too slow for a million.
    """

    def __init__(self) -> None:
        self.cached = hasattr(deadlines, "policy_for") and hasattr(deadlines, "add_duration")
        self.limits: dict[tuple[int, bool, str], object] = {}

    def _limits(self, category_id: int, urgent: bool, appeal_type: str = ""):
        key = (category_id, urgent, appeal_type)
        if key not in self.limits:
            self.limits[key] = deadlines.policy_for(category=category_id, urgent=urgent, appeal_type=appeal_type)
        return self.limits[key]

    def dispatch(self, *, at: datetime, urgent: bool, category_id: int, appeal_type: str = "") -> dict[str, datetime]:
        if not self.cached:
            return deadlines.dispatch_deadlines(at=at, urgent=urgent)
        limits = self._limits(category_id, urgent, appeal_type)
        return {
            "sign_for_due": deadlines.add_duration(at, *limits.sign_for),
            "return_due": deadlines.add_duration(at, *limits.return_window),
        }

    def sign_for(self, *, at: datetime, urgent: bool, category_id: int, appeal_type: str = "") -> dict[str, datetime]:
        if not self.cached:
            return deadlines.sign_for_deadlines(at=at, urgent=urgent)
        limits = self._limits(category_id, urgent, appeal_type)
        return {
            "first_contact_due": deadlines.add_duration(at, *limits.first_contact),
            "reply_due": deadlines.add_duration(at, *limits.reply),
        }

    def rehandle(self, *, at: datetime, urgent: bool, category_id: int, appeal_type: str = "") -> datetime:
        if not self.cached:
            return deadlines.rehandle_deadline(at=at)
        return deadlines.add_duration(at, *self._limits(category_id, urgent, appeal_type).rehandle)


class _Draft:
    """An appeal being simulated: its field values and its events (as build_event kwargs)."""

    __slots__ = ("appeal", "events", "master", "ratings")

    def __init__(self, appeal: Appeal) -> None:
        self.appeal = appeal
        self.events: list[dict] = []
        self.ratings: list[Rating] = []
        self.master: tuple[int, str] | None = None


class _Generator:
    def __init__(self, org: DemoOrganisation, *, seed: int, start: datetime, end: datetime) -> None:
        self.org = org
        self.rng = random.Random(seed)  # noqa: S311 - demo data
        self.seed = seed
        self.start, self.end = start, end
        self.categories = {
            c.code: c for c in Category.objects.filter(is_active=True).select_related("default_bureau_type")
        }
        self.review_types = {
            region.pk: {t for (rid, t), b in org.bureaus.items() if rid == region.pk and b.requires_review}
            for region in org.regions
        }
        self.regions = {region.pk: region for region in org.regions}
        self.sequences = dict(TrackingSequence.objects.values_list("day", "last_value"))
        self.deadlines = _Deadlines()
        self.masters: deque[tuple[int, str, int, int]] = deque(maxlen=500)  # pk, number, region, category

    # --- enterprises -------------------------------------------------------------------------------

    def make_enterprises(self, count: int) -> list[tuple[int, int, str, str, str, str]]:
        """Create (or reuse) ``count`` enterprises; returns (id, region id, industry, size, contact, phone)."""
        rng = random.Random(f"enterprises-{self.seed}")  # noqa: S311
        weights = [1.0 / (1 + 0.4 * i) for i in range(len(self.org.regions))]
        pool: list[tuple[int, int, str, str, str, str]] = []
        for offset in range(0, count, 2000):
            batch = []
            for serial in range(offset, min(offset + 2000, count)):
                region = rng.choices(self.org.regions, weights=weights)[0]
                industry = plan.weighted(rng, plan.INDUSTRY_WEIGHTS)
                batch.append(
                    Enterprise(
                        credit_code=plan.credit_code(region.code, serial + 31**6 * (self.seed % 31), marker="MB"),
                        name=texts.enterprise_name(rng, region.name, industry, serial),
                        region=region,
                        industry=industry,
                        size=plan.weighted(rng, plan.SIZE_WEIGHTS),
                        contact_name=texts.person_name(rng),
                        phone=plan.phone(rng),
                    )
                )
            Enterprise.objects.bulk_create(batch, ignore_conflicts=True, batch_size=500)
            by_code = {e.credit_code: e for e in batch}
            codes = list(by_code)
            for i in range(0, len(codes), 500):
                for pk, code in Enterprise.objects.filter(credit_code__in=codes[i : i + 500]).values_list(
                    "pk", "credit_code"
                ):
                    e = by_code[code]
                    pool.append((pk, e.region_id, e.industry, e.size, e.contact_name, e.phone))
        return pool

    # --- one appeal ---------------------------------------------------------------------------------

    def tracking_number(self, at: datetime) -> str:
        day = timezone.localdate(at)
        value = self.sequences.get(day, 0) + 1
        self.sequences[day] = value
        return f"{day:%Y%m%d}{value:06d}"

    def draft(self, enterprise: tuple[int, int, str, str, str, str], target: str | None = None) -> _Draft:
        rng = self.rng
        ent_id, region_id, industry, size, contact, phone = enterprise
        region = self.regions[region_id]
        if target is None:
            submitted_at = plan.sample_time(rng, self.start, self.end)
            target = plan.choose_state(rng, self.end - submitted_at)
        else:
            # An appeal made to show ``target``: open ones were filed in the last few days.
            recent = target not in (S.CLOSED, S.WITHDRAWN, S.REJECTED, S.MERGED)
            submitted_at = self.end - timedelta(
                hours=rng.uniform(0.2, 1.0) if target == S.SUBMITTED else rng.uniform(24, 96)
            )
            if not recent:
                submitted_at = plan.sample_time(rng, self.start, self.end - timedelta(days=10))
        if target == S.MERGED and not self.masters:
            target = S.REJECTED
        category_code = self._category(target, submitted_at, region_id)
        category = self.categories[category_code]
        triage = category_code in plan.TRIAGE_CATEGORIES
        review = category.default_bureau_type.code in self.review_types[region_id] and not triage
        steps = plan.plan_steps(rng, target=target, triage=triage, review=review, detailed=False)
        steps = plan.room_for_default_close(steps, submitted_at, self.end)
        times = plan.fit_into(steps, submitted_at, self.end)
        title, description = texts.appeal_text(rng, category_code, city_code=region.code, industry=industry)
        urgent = rng.random() < 0.08
        number = self.tracking_number(submitted_at)
        code = "".join(rng.choices(ACCESS_ALPHABET, k=access_codes.ACCESS_CODE_LENGTH))
        appeal = Appeal(
            tracking_number=number,
            access_code_hash=access_codes.hash_access_code(number, code),
            enterprise_id=ent_id,
            contact_name=contact,
            contact_phone=phone,
            region_id=region_id,
            industry=industry,
            enterprise_size=size,
            category=category,
            title=title,
            description=description,
            urgency="urgent" if urgent else "normal",
            channel=rng.choices(("web", "api", "hotline"), weights=(60, 25, 15))[0],
            appeal_type=plan.appeal_type(rng, title, description),
            submitted_at=submitted_at,
            state=target,  # the final state; the field is protected, so it is set once, here
        )
        draft = _Draft(appeal)
        self._simulate(draft, steps, times, category_code, region)
        return draft

    def _category(self, target: str, at: datetime, region_id: int) -> str:
        if target in (S.TRIAGE, S.REJECTED, S.MERGED):
            return self.rng.choice(plan.TRIAGE_CATEGORIES)
        weights = plan.category_weights_at(at, self.end)
        if target == S.REVIEW:
            types = self.review_types[region_id]
            weights = {c: w for c, w in weights.items() if self.categories[c].default_bureau_type.code in types}
        return plan.weighted(self.rng, {c: w for c, w in weights.items() if c in self.categories})

    def _simulate(self, draft: _Draft, steps, times, category_code: str, region) -> None:
        rng, org, a = self.rng, self.org, draft.appeal
        state = S.SUBMITTED
        urgent = a.urgency == "urgent"
        bureau: Bureau | None = None
        officer = None

        def event(kind, actor, to_state=None, reason="", data=None, at=None):
            nonlocal state
            draft.events.append(
                {
                    "kind": kind,
                    "actor": actor,
                    "from_state": state if to_state else "",
                    "to_state": to_state or "",
                    "reason": reason,
                    "data": data or {},
                    "at": at,
                }
            )
            if to_state:
                state = to_state

        def dispatch_to(new_bureau: Bureau, at: datetime) -> None:
            nonlocal bureau
            bureau = new_bureau
            a.bureau = new_bureau
            a.dispatched_at = at
            for name, value in self.deadlines.dispatch(
                at=at, urgent=urgent, category_id=a.category_id, appeal_type=a.appeal_type
            ).items():
                setattr(a, name, value)

        def current_bureau() -> Bureau:
            # The plan has the bureau's steps (return, sign for, reply...) only after a dispatch.
            if bureau is None:
                raise ValueError("a demo step needs a bureau before the appeal was dispatched")
            return bureau

        for step, at in zip(steps, times, strict=True):
            action = step.action
            if action == "submit":
                draft.events.append(  # the first event has no from-state
                    {
                        "kind": "submitted",
                        "actor": APPELLANT,
                        "from_state": "",
                        "to_state": S.SUBMITTED,
                        "reason": "",
                        "data": {"channel": a.channel, "category": category_code},
                        "at": at,
                    }
                )
                if step.option == "no_routing":
                    continue
                if category_code in plan.TRIAGE_CATEGORIES:
                    reason = "category_other" if category_code == "other" else "no_rule"
                    event("triage", SYSTEM, S.TRIAGE, data={"reason": reason}, at=at)
                else:
                    target_bureau = org.bureau(region, self.categories[category_code].default_bureau_type.code)
                    dispatch_to(target_bureau, at)
                    event(
                        "dispatched",
                        SYSTEM,
                        S.DISPATCHED,
                        data={
                            "reason": "category_default",
                            "bureau_id": target_bureau.pk,
                            "bureau": target_bureau.name,
                        },
                        at=at,
                    )
            elif action == "dispatch":
                target_bureau = org.bureau(region, plan.TRIAGE_TARGET_TYPE.get(category_code, "development"))
                dispatch_to(target_bureau, at)
                a.routing_explanation = {"reason": "manual", "by": org.dispatcher.pk}
                data = {"bureau_id": target_bureau.pk, "bureau": target_bureau.name, "manual": True}
                event("dispatched", org.dispatcher, S.DISPATCHED, data=data, at=at)
            elif action == "reject":
                reason = rng.choice(texts.REJECT_REASONS)
                a.rejection_reason, a.closed_at = reason, at
                event("rejected", org.dispatcher, S.REJECTED, reason=reason, at=at)
            elif action == "merge":
                candidates = [m for m in self.masters if m[2] == region.pk] or list(self.masters)
                master_id, master_number, _r, _c = rng.choice(candidates)
                a.merged_into_id, a.closed_at = master_id, at
                note = "与已受理诉求内容重复，并单办理。"
                data = {"master_id": master_id, "master_tracking_number": master_number}
                event("merged", org.dispatcher, S.MERGED, reason=note, data=data, at=at)
            elif action == "withdraw":
                a.closed_at = at
                event("withdrawn", APPELLANT, S.WITHDRAWN, reason="问题已自行解决，申请撤回。", at=at)
            elif action == "return":
                event(
                    "returned",
                    org.officers[current_bureau().pk][0],
                    S.RETURNED,
                    reason=rng.choice(texts.RETURN_REASONS),
                    at=at,
                )
            elif action == "arbitrate":
                returned_by = current_bureau()
                new_bureau, ruling = returned_by, texts.ARBITRATION_RULINGS[1]
                if step.option == "other":
                    others = [
                        b
                        for (rid, t), b in org.bureaus.items()
                        if rid == region.pk
                        and t != "dispatch"
                        and b.pk != returned_by.pk
                        and b.requires_review == returned_by.requires_review
                    ]
                    if others:
                        new_bureau, ruling = rng.choice(others), texts.ARBITRATION_RULINGS[0]
                dispatch_to(new_bureau, at)
                a.officer = officer = None
                data = {"bureau_id": new_bureau.pk, "bureau": new_bureau.name}
                event("redispatched", org.dispatcher, S.DISPATCHED, reason=ruling, data=data, at=at)
            elif action == "sign_for":
                officer = org.officers[current_bureau().pk][0]
                a.officer, a.signed_at = officer, at
                for name, value in self.deadlines.sign_for(
                    at=at, urgent=urgent, category_id=a.category_id, appeal_type=a.appeal_type
                ).items():
                    setattr(a, name, value)
                event("signed_for", officer, S.HANDLING, at=at)
            elif action == "contact":
                if a.first_contact_at is None:
                    a.first_contact_at = at
            elif action == "reply":
                a.reply = texts.reply_text(rng, category_code, city_code=region.code)
                if current_bureau().requires_review:
                    event("review_requested", officer, S.REVIEW, at=at)
                else:
                    a.replied_at, a.rating_level = at, None
                    event("replied", officer, S.REPLIED, data={"reply": a.reply}, at=at)
            elif action == "send_back":
                lead = org.leads[current_bureau().pk][0]
                event("sent_back", lead, S.HANDLING, reason=rng.choice(texts.SEND_BACK_REASONS), at=at)
            elif action == "approve":
                lead = org.leads[current_bureau().pk][0]
                a.replied_at, a.rating_level = at, None
                event("replied", lead, S.REPLIED, data={"reply": a.reply, "approved": True}, at=at)
            elif action in ("rate", "default_close"):
                default = action == "default_close"
                level = 3 if default else plan.rating_level(rng, step.option)
                resolved = None if default else (level >= 4 or (level == 3 and rng.random() < 0.5))
                if default:
                    comment = ""
                elif level <= 2:
                    comment = rng.choice(texts.BAD_COMMENTS)
                else:
                    comment = rng.choice(texts.GOOD_COMMENTS if level >= 4 else texts.BASIC_COMMENTS)
                draft.ratings.append(
                    Rating(
                        level=level,
                        resolved=resolved,
                        comment=comment,
                        is_default=default,
                        round=a.reopen_count,
                        created_at=at,
                    )
                )
                a.rating_level = level
                data = {"level": level, "resolved": resolved, "default": default}
                actor = SYSTEM if default else APPELLANT
                if level <= 2:
                    a.reopen_count += 1
                    a.replied_at = None
                    a.reply_due = self.deadlines.rehandle(
                        at=at, urgent=urgent, category_id=a.category_id, appeal_type=a.appeal_type
                    )
                    event(
                        "reopened",
                        actor,
                        S.HANDLING,
                        reason=comment,
                        data={**data, "reopen_count": a.reopen_count},
                        at=at,
                    )
                else:
                    a.closed_at = at
                    event("closed", actor, S.CLOSED, reason=comment, data=data, at=at)
        a.version = len(draft.events)
        a.updated_at = times[-1]
        assert state == a.state, (state, a.state, [s.action for s in steps])


def generate_bulk(
    count: int,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    seed: int = 0,
    batch_size: int = 2000,
    progress: bool = True,
    org: DemoOrganisation | None = None,
    cities: list[str] | tuple[str, ...] = DEFAULT_CITIES,
) -> BulkResult:
    """Write ``count`` appeals submitted between ``start`` and ``end`` (default: the two years to now).

    The demo organisation (bureaus and staff of ``cities``) is set up first unless ``org`` is given.
    Every state is represented once ``count`` is in the thousands; most old appeals are closed.
    Returns how many appeals, events, ratings and enterprises were written.
    """
    end = end or timezone.now()
    start = start or end - timedelta(days=730)
    org = org or setup_organisation(cities, seed=seed)
    gen = _Generator(org, seed=seed, start=start, end=end)
    # Working-day lookups repeat for the same few hundred dates millions of times: memoise them for
    # this run (holiday overrides edited during a bulk seed are not picked up, which is fine here).
    working_day = mock.patch.object(deadlines, "is_working_day", lru_cache(maxsize=4096)(deadlines.is_working_day))
    working_day.start()
    try:
        return _generate(gen, count, batch_size=batch_size, progress=progress)
    finally:
        working_day.stop()


def _generate(gen: _Generator, count: int, *, batch_size: int, progress: bool) -> BulkResult:
    enterprises = gen.make_enterprises(min(max(count // 4, 20), 100_000))
    result = BulkResult(appeals=0, events=0, ratings=0, enterprises=len(enterprises))
    bar = tqdm(total=count, desc="appeals", unit="appeal", disable=not progress, mininterval=1.0)
    try:
        # The last batch holds one appeal per state, so even a small run shows every state
        # (a merged appeal needs earlier appeals to merge into, hence last).
        coverage = [state.value for state in AppealState] if count >= 100 else []
        remaining = count - len(coverage)
        while remaining > 0 or coverage:
            if remaining > 0:
                size = min(batch_size, remaining)
                drafts = [gen.draft(gen.rng.choice(enterprises)) for _ in range(size)]
            else:
                size = len(coverage)
                drafts = [gen.draft(gen.rng.choice(enterprises), target=state) for state in coverage]
                coverage = []
            with transaction.atomic():
                Appeal.objects.bulk_create([d.appeal for d in drafts], batch_size=500)
                events: list[AppealEvent] = []
                ratings: list[Rating] = []
                for d in drafts:
                    prev = ""
                    for seq, kwargs in enumerate(d.events, start=1):
                        built = audit.build_event(appeal=d.appeal, seq=seq, prev_hash=prev, **kwargs)
                        prev = built.hash
                        events.append(built)
                    for rating in d.ratings:
                        rating.appeal = d.appeal
                        ratings.append(rating)
                AppealEvent.objects.bulk_create(events, batch_size=1000)
                audit.store_heads(events)
                Rating.objects.bulk_create(ratings, batch_size=1000)
            for d in drafts:
                a = d.appeal
                if a.state not in (S.MERGED, S.REJECTED, S.WITHDRAWN):
                    gen.masters.append((a.pk, a.tracking_number, a.region_id, a.category_id))
            result.appeals += size
            result.events += len(events)
            result.ratings += len(ratings)
            # With DEBUG on, Django keeps the last 9,000 queries' SQL; bulk INSERTs are large.
            reset_queries()
            remaining = max(remaining - size, 0) if remaining > 0 else 0
            bar.update(size)
    finally:
        bar.close()
    _save_sequences(gen.sequences)
    return result


def _save_sequences(sequences: dict) -> None:
    """Advance the per-day tracking counters past the numbers used, so new submissions don't collide."""
    existing = set(TrackingSequence.objects.values_list("day", flat=True))
    TrackingSequence.objects.bulk_create(
        [TrackingSequence(day=day, last_value=value) for day, value in sequences.items() if day not in existing],
        batch_size=500,
    )
    for day, value in sequences.items():
        if day in existing:
            TrackingSequence.objects.filter(day=day).update(last_value=Greatest("last_value", value))
