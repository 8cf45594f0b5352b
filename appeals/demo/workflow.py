"""The service path of ``seed_demo``: demo appeals made through ``appeals.services``.

Each appeal's planned steps run under ``time_machine.travel`` at their planned times, so the audit
chains, deadlines, outbox rows and timestamps are exactly what the real services write, spread
over the past weeks, with some appeals overdue.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from unittest import mock

import time_machine
from django.utils import timezone

from appeals import services
from appeals.demo import plan, texts
from appeals.demo.organisation import DemoOrganisation
from appeals.models import Appeal, AppealMessage, AppealState, CoHandling
from appeals.services import submission as submission_service
from routing.models import Bureau, Category

S = AppealState
logger = logging.getLogger(__name__)
ALL_STATES = [state.value for state in AppealState]


def _bureau_id(appeal: Appeal) -> int:
    """The bureau an appeal is at; the plan only asks for a bureau's staff after a dispatch."""
    if appeal.bureau_id is None:
        raise ValueError(f"demo appeal {appeal.tracking_number} has no bureau yet")
    return appeal.bureau_id


class _Runner:
    """Carries one appeal through its steps."""

    def __init__(self, org: DemoOrganisation, rng: random.Random, made: list[Appeal]) -> None:
        self.org = org
        self.rng = rng
        self.made = made

    def officer(self, appeal: Appeal):
        if appeal.officer_id is not None:
            return appeal.officer
        return self.org.officers[_bureau_id(appeal)][0]

    def lead(self, appeal: Appeal):
        return self.org.leads[_bureau_id(appeal)][0]

    def triage_bureau(self, appeal: Appeal) -> Bureau:
        """Where a dispatcher sends an appeal from triage: the category's bureau, else a sensible one."""
        type_code = appeal.category.default_bureau_type.code
        if type_code == "dispatch":
            type_code = plan.TRIAGE_TARGET_TYPE.get(appeal.category.code, "development")
        return self.org.bureau(appeal.region, type_code)

    def run(self, *, target: str, submitted_at: datetime, now: datetime, submission, region_code: str) -> Appeal:
        """Submit at ``submitted_at``, then plan the rest from where routing actually put the appeal."""
        with time_machine.travel(submitted_at, tick=False):
            if target == S.SUBMITTED:
                # The services route synchronously, so "submitted" lasts an instant; a few demo appeals
                # skip routing so the state has rows to look at (as if routing were still pending).
                with mock.patch.object(submission_service, "_route_unsaved", lambda *args, **kwargs: None):
                    result = services.appeal_submit(submission=submission, send_email=False)
            else:
                result = services.appeal_submit(submission=submission, send_email=False)
        appeal, code = result.appeal, result.access_code
        if target == S.SUBMITTED:
            return appeal
        triage = appeal.state == S.TRIAGE
        if not triage and target in (S.TRIAGE, S.REJECTED, S.MERGED):
            target = S.DISPATCHED  # routing found a bureau after all; a dispatched appeal can't be rejected
        bureau = self.triage_bureau(appeal) if triage else appeal.bureau
        review = bool(bureau is not None and bureau.requires_review)
        steps = plan.plan_steps(self.rng, target=target, triage=triage, review=review, detailed=True)[1:]
        steps = plan.room_for_default_close(steps, submitted_at, now)
        for step, at in zip(steps, plan.fit_into(steps, submitted_at, now), strict=True):
            if step.action == "sign_for" and appeal.state == S.HANDLING:
                continue  # the bureau's automatic assignment already signed for it
            try:
                with time_machine.travel(at, tick=False):
                    appeal = self.apply(step, appeal, code, region_code)
            except services.AppealError as exc:
                # Keep going with the next appeal: the demo must not stop because one plan met a rule.
                logger.warning("Demo appeal %s stopped at %s: %s", appeal.tracking_number, step.action, exc.message)
                break
        return appeal

    def apply(self, step: plan.Step, appeal: Appeal, code: str, region_code: str) -> Appeal:
        rng, org, pk = self.rng, self.org, appeal.pk
        action = step.action
        category = appeal.category.code
        if action == "dispatch":
            bureau = self.triage_bureau(appeal)
            return services.appeal_dispatch(appeal_id=pk, user=org.dispatcher, bureau_id=bureau.pk)
        if action == "reject":
            return services.appeal_reject(appeal_id=pk, user=org.dispatcher, reason=rng.choice(texts.REJECT_REASONS))
        if action == "merge":
            master = self._merge_master(appeal)
            if master is None:
                return services.appeal_reject(
                    appeal_id=pk, user=org.dispatcher, reason=rng.choice(texts.REJECT_REASONS)
                )
            return services.appeal_merge(
                appeal_id=pk, user=org.dispatcher, master_id=master.pk, note="与已受理诉求内容重复，并单办理。"
            )
        if action == "withdraw":
            return services.appeal_withdraw(appeal_id=pk, access_code=code, reason="问题已自行解决，申请撤回。")
        if action == "return":
            return services.appeal_return(
                appeal_id=pk, user=self.officer(appeal), reason=rng.choice(texts.RETURN_REASONS)
            )
        if action == "arbitrate":
            returned_by = appeal.bureau
            if returned_by is None:
                raise ValueError(f"demo appeal {appeal.tracking_number} was returned without a bureau")
            bureau = returned_by
            ruling = texts.ARBITRATION_RULINGS[1]
            if step.option == "other":
                others = [
                    b
                    for (region_id, type_code), b in org.bureaus.items()
                    if region_id == appeal.region_id
                    and type_code != "dispatch"
                    and b.pk != appeal.bureau_id
                    # the rest of the plan assumes the bureau's review setting: keep it
                    and b.requires_review == returned_by.requires_review
                ]
                if others:
                    bureau, ruling = rng.choice(others), texts.ARBITRATION_RULINGS[0]
            return services.appeal_arbitrate_return(
                appeal_id=pk, user=org.dispatcher, bureau_id=bureau.pk, ruling=ruling
            )
        if action == "sign_for":
            return services.appeal_sign_for(appeal_id=pk, user=self.officer(appeal))
        if action == "info_request":
            # Asking the appellant pauses the deadline clock; the supplement resumes it.
            services.appeal_request_information(
                appeal_id=pk, user=self.officer(appeal), question=rng.choice(texts.INFO_REQUESTS)
            )
            return Appeal.objects.get(pk=pk)
        if action == "supplement":
            services.appeal_provide_information(appeal_id=pk, access_code=code, body=rng.choice(texts.SUPPLEMENTS))
            return Appeal.objects.get(pk=pk)
        if action in ("contact", "note"):
            kind = AppealMessage.Kind.CONTACT if action == "contact" else AppealMessage.Kind.INTERNAL_NOTE
            body = rng.choice(texts.CONTACT_NOTES if action == "contact" else texts.INTERNAL_NOTES)
            services.appeal_add_message(appeal_id=pk, kind=kind, body=body, actor=self.officer(appeal))
            return Appeal.objects.get(pk=pk)
        if action == "co_handle":
            bureau = self._co_bureau(appeal)
            request = rng.choice(texts.CO_HANDLING_REQUESTS)
            services.cohandling_invite(appeal_id=pk, user=self.officer(appeal), bureau_id=bureau.pk, request=request)
            return Appeal.objects.get(pk=pk)
        if action == "co_handle_respond":
            invite = appeal.co_handlings.filter(status=CoHandling.Status.INVITED).first()
            if invite is not None:
                responder = org.officers[invite.bureau_id][0]
                response = rng.choice(texts.CO_HANDLING_RESPONSES)
                services.cohandling_submit(cohandling_id=invite.pk, user=responder, response=response)
            return Appeal.objects.get(pk=pk)
        if action == "extension_request":
            services.extension_request(
                appeal_id=pk,
                user=self.officer(appeal),
                reason=rng.choice(texts.EXTENSION_REASONS),
                working_days=rng.choice((3, 5)),
            )
            return Appeal.objects.get(pk=pk)
        if action == "extension_decide":
            pending = appeal.extensions.filter(status="pending").first()
            if pending is not None:
                approve = step.option == "approve"
                services.extension_decide(
                    extension_id=pending.pk,
                    user=org.dispatcher,
                    approve=approve,
                    note="同意延期，请在新时限内答复。" if approve else "理由不充分，请按原时限答复。",
                )
            return Appeal.objects.get(pk=pk)
        if action == "reply":
            reply = texts.reply_text(rng, category, city_code=region_code)
            return services.appeal_submit_reply(appeal_id=pk, user=self.officer(appeal), reply=reply)
        if action == "send_back":
            return services.appeal_send_back(
                appeal_id=pk, user=self.lead(appeal), reason=rng.choice(texts.SEND_BACK_REASONS)
            )
        if action == "approve":
            return services.appeal_approve_reply(appeal_id=pk, user=self.lead(appeal))
        if action == "rate":
            level = plan.rating_level(rng, step.option)
            comments = texts.BAD_COMMENTS if level <= 2 else texts.GOOD_COMMENTS if level >= 4 else texts.BASIC_COMMENTS
            return services.appeal_rate(
                appeal_id=pk,
                access_code=code,
                level=level,
                resolved=level >= 4 or (level == 3 and rng.random() < 0.5),
                comment=rng.choice(comments),
            )
        if action == "default_close":
            return services.appeal_close_unrated(appeal_id=pk) or Appeal.objects.get(pk=pk)
        raise ValueError(f"unknown demo step {action}")

    def _merge_master(self, appeal: Appeal) -> Appeal | None:
        excluded = (S.MERGED, S.REJECTED, S.WITHDRAWN)
        candidates = [a for a in self.made if a.state not in excluded and a.region_id == appeal.region_id]
        same = [a for a in candidates if a.category_id == appeal.category_id]
        pool = same or candidates
        return self.rng.choice(pool[-20:]) if pool else None

    def _co_bureau(self, appeal: Appeal) -> Bureau:
        options = [
            b
            for (region_id, type_code), b in self.org.bureaus.items()
            if region_id == appeal.region_id and type_code not in ("dispatch",) and b.pk != appeal.bureau_id
        ]
        return self.rng.choice(options)


def seed_appeals(
    org: DemoOrganisation,
    count: int,
    *,
    seed: int = 0,
    weeks: int = 10,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[Appeal]:
    """Make ``count`` appeals through the services, spread over the past ``weeks`` weeks.

    Every state gets at least one appeal when ``count`` >= 11. Returns the appeals (final state).
    """
    rng = random.Random(seed)  # noqa: S311 - demo data
    now = now or timezone.now()
    start = now - timedelta(weeks=weeks)
    categories = {c.code: c for c in Category.objects.filter(is_active=True).select_related("default_bureau_type")}
    review_types = {
        region.pk: {type_code for (rid, type_code), b in org.bureaus.items() if rid == region.pk and b.requires_review}
        for region in org.regions
    }
    times = sorted(plan.sample_time(rng, start, now) for _ in range(count))
    targets = [plan.choose_state(rng, now - at) for at in times]
    missing = [state for state in ALL_STATES if state not in targets]
    # Make sure each state is present: overwrite the most common target in random places (not the first,
    # so a merged appeal has an earlier one to merge into).
    for state in missing:
        choices = [i for i in range(1, count) if targets[i] in (S.CLOSED, S.HANDLING, S.DISPATCHED)]
        if choices:
            targets[rng.choice(choices)] = state
    enterprises = max(count // 3, 5)
    made: list[Appeal] = []
    runner = _Runner(org, rng, made)
    weights = [1.0 / (1 + 0.4 * i) for i in range(len(org.regions))]

    def make(target: str, submitted_at: datetime) -> Appeal:
        region = rng.choices(org.regions, weights=weights)[0]
        category_code = _category_for(rng, target, submitted_at, now, region, review_types, categories)
        industry = plan.weighted(rng, plan.INDUSTRY_WEIGHTS)
        serial = rng.randrange(enterprises)
        ent_rng = random.Random(f"{seed}-{region.code}-{serial}")  # noqa: S311 - same enterprise, same details
        title, description = texts.appeal_text(rng, category_code, city_code=region.code, industry=industry)
        urgent = rng.random() < 0.08
        submission = services.AppealSubmission(
            enterprise_name=texts.enterprise_name(ent_rng, region.name, industry, serial),
            credit_code=plan.credit_code(region.code, serial + 31**5 * (seed % 31)),
            region=region,
            industry=industry,
            enterprise_size=plan.weighted(ent_rng, plan.SIZE_WEIGHTS),
            contact_name=texts.person_name(ent_rng),
            contact_phone=plan.phone(ent_rng),
            category=categories[category_code],
            title=title,
            description=description,
            urgency="urgent" if urgent else "normal",
            urgency_reason="涉及员工工资按时发放，情况紧急。" if urgent else "",
            channel=rng.choices(("web", "api", "hotline"), weights=(60, 25, 15))[0],
            appeal_type=plan.appeal_type(rng, title, description),
        )
        appeal = runner.run(
            target=target, submitted_at=submitted_at, now=now, submission=submission, region_code=region.code
        )
        made.append(appeal)
        return appeal

    for index, (submitted_at, target) in enumerate(zip(times, targets, strict=True)):
        make(target, submitted_at)
        if progress is not None:
            progress(index + 1)
    # If routing or a rule kept some state empty, add a few recent appeals aimed at it.
    if count >= len(ALL_STATES):
        for state in ALL_STATES:
            for _attempt in range(3):
                if any(a.state == state for a in made):
                    break
                make(state, now - timedelta(days=rng.uniform(2, 20)))
    return made


def _category_for(rng, target, at, now, region, review_types, categories) -> str:
    if target in (S.TRIAGE, S.REJECTED, S.MERGED):
        # "policy" has no bureau of its own, so it reliably waits for a dispatcher; "other" may be
        # routed by the classifier when the text is clear enough.
        return rng.choices(plan.TRIAGE_CATEGORIES, weights=(3, 1))[0]
    weights = plan.category_weights_at(at, now)
    if target == S.REVIEW:
        # Only bureaus that review replies have appeals waiting for review.
        weights = {
            code: w
            for code, w in weights.items()
            if code in categories and categories[code].default_bureau_type.code in review_types[region.pk]
        }
    return plan.weighted(rng, {code: w for code, w in weights.items() if code in categories})
