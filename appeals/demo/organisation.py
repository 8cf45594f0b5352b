"""Demo organisation: cities with their bureaus (from the taxonomy) and one login per role."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction

from appeals.demo.texts import person_name
from routing.models import Bureau, Region, StaffProfile
from routing.roles import Role, ensure_role_groups
from routing.taxonomy import load_taxonomy, read_taxonomy

if TYPE_CHECKING:
    from django.contrib.auth.models import User

DEMO_PASSWORD = "huying-demo"  # noqa: S105 - printed for demo logins on purpose
DEFAULT_CITIES = ("foshan", "guangzhou", "shenzhen")
# Bureau types whose bureaus reply only after the lead's review (one per city, rotating).
REVIEW_TYPES = ("finance", "tax", "hrss")
# A few bureaus assign new appeals automatically instead of leaving them in the pool.
AUTO_ASSIGNMENT = {0: {"hrss": "round_robin"}, 1: {"tax": "least_loaded"}, 2: {"commerce": "round_robin"}}


@dataclass
class DemoOrganisation:
    regions: list[Region]
    dispatcher: User
    supervisor: User
    manager: User
    admin: User
    # bureau id -> officers / leads of that bureau
    officers: dict[int, list[User]] = field(default_factory=dict)
    leads: dict[int, list[User]] = field(default_factory=dict)
    bureaus: dict[tuple[int, str], Bureau] = field(default_factory=dict)  # (region id, type code) -> bureau

    def bureau(self, region: Region, type_code: str) -> Bureau:
        return self.bureaus[(region.pk, type_code)]


def available_cities() -> list[str]:
    return [item["code"] for item in read_taxonomy()["regions"]]


def _user(username: str, role: str, bureau: Bureau | None, display_name: str, password_hash: str):
    """Create (or reuse) a demo user with the role's group and a StaffProfile."""
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(
        username=username,
        defaults={"password": password_hash, "is_staff": role == Role.ADMIN, "is_superuser": role == Role.ADMIN},
    )
    if created:
        user.groups.add(Group.objects.get(name=role))
        StaffProfile.objects.create(user=user, bureau=bureau, role=role, display_name=display_name)
    # Re-read so the permission cache and staff_profile are fresh.
    return user_model.objects.select_related("staff_profile").get(pk=user.pk)


@transaction.atomic
def setup_organisation(cities: list[str] | tuple[str, ...] = DEFAULT_CITIES, *, seed: int = 0) -> DemoOrganisation:
    """Load the taxonomy for ``cities`` and create the demo users. Idempotent.

    One bureau per city needs the lead's review before replies go out; a few bureaus assign
    automatically. Every non-dispatch bureau gets an officer (``officer_<city>_<type>``) and a
    lead (``lead_<city>_<type>``), so appeals of every category can move through the workflow.
    All demo users share ``DEMO_PASSWORD`` (hashed once: hashing 60 passwords would take seconds).
    """
    unknown = sorted(set(cities) - set(available_cities()))
    if unknown:
        raise ValueError(f"Unknown city codes {unknown}; choose from {available_cities()}")
    ensure_role_groups()
    load_taxonomy(region_codes=list(cities))
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    password_hash = make_password(DEMO_PASSWORD)
    regions = sorted(Region.objects.filter(code__in=cities), key=lambda r: list(cities).index(r.code))
    bureaus = {
        (b.region_id, b.bureau_type.code): b
        for b in Bureau.objects.filter(region__in=regions).select_related("bureau_type", "region")
    }
    for index, region in enumerate(regions):
        review_type = REVIEW_TYPES[index % len(REVIEW_TYPES)]
        for (region_id, type_code), bureau in bureaus.items():
            if region_id != region.pk:
                continue
            mode = AUTO_ASSIGNMENT.get(index, {}).get(type_code)
            changed = []
            if type_code == review_type and not bureau.requires_review:
                bureau.requires_review = True
                changed.append("requires_review")
            if mode and bureau.assignment_mode != mode:
                bureau.assignment_mode = mode
                changed.append("assignment_mode")
            if changed:
                bureau.save(update_fields=changed)

    first_city = regions[0]
    centre = bureaus[(first_city.pk, "dispatch")]
    city_short = first_city.name.removesuffix("市")
    org = DemoOrganisation(
        regions=regions,
        dispatcher=_user("dispatcher", Role.DISPATCHER, centre, f"{person_name(rng)}（分拨员）", password_hash),
        supervisor=_user("supervisor", Role.SUPERVISOR, centre, f"{person_name(rng)}（督办员）", password_hash),
        manager=_user("manager", Role.MANAGER, None, f"{person_name(rng)}（{city_short}管理者）", password_hash),
        admin=_user("admin", Role.ADMIN, None, "系统管理员", password_hash),
        bureaus=bureaus,
    )
    for region in regions:
        for (region_id, type_code), bureau in sorted(bureaus.items(), key=lambda item: item[0][1]):
            if region_id != region.pk or type_code == "dispatch":
                continue
            officer = _user(f"officer_{region.code}_{type_code}", Role.OFFICER, bureau, person_name(rng), password_hash)
            lead = _user(f"lead_{region.code}_{type_code}", Role.LEAD, bureau, person_name(rng), password_hash)
            org.officers[bureau.pk] = [officer]
            org.leads[bureau.pk] = [lead]
    return org


def login_rows(org: DemoOrganisation | None = None) -> list[tuple[str, str, str, str]]:
    """(role label, URL path, username, note) for printing the demo logins."""
    first = org.regions[0].code if org else _first_seeded_city()
    return [
        (str(Role.DISPATCHER.label), "/staff/", "dispatcher", "待分拨、退单审核、延期审批"),
        (str(Role.OFFICER.label), "/staff/", f"officer_{first}_hrss", "本单位诉求的签收、办理、答复"),
        (str(Role.LEAD.label), "/staff/", f"lead_{first}_hrss", "审核答复、改派承办人、本单位考核"),
        (str(Role.SUPERVISOR.label), "/staff/", "supervisor", "催办、督办"),
        (str(Role.MANAGER.label), "/analytics/", "manager", "统计分析与周报"),
        (str(Role.ADMIN.label), "/admin/", "admin", "后台管理（全部数据）"),
    ]


def _first_seeded_city() -> str:
    """The city of the first demo officer in the database (cities can be chosen with --cities)."""
    username = (
        get_user_model()
        .objects.filter(username__startswith="officer_", username__endswith="_hrss")
        .order_by("pk")
        .values_list("username", flat=True)
        .first()
    )
    return username.removeprefix("officer_").removesuffix("_hrss") if username else DEFAULT_CITIES[0]
