"""factory_boy factories shared by every test package."""

from __future__ import annotations

import itertools

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from appeals.models import Enterprise
from appeals.services import AppealSubmission, appeal_submit
from routing.models import Bureau, BureauType, Category, Region, StaffProfile
from routing.roles import Role

# Valid unified social credit codes: 17 characters then the GB 32100-2015 check character.
_codes = itertools.count(1)


def credit_code() -> str:
    from stdnum.cn import uscc

    body = f"91440101MA{next(_codes):07d}"
    return body + uscc.calc_check_digit(body)


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"city{n}")
    name = factory.Sequence(lambda n: f"测试市{n}")
    name_en = factory.Sequence(lambda n: f"Test City {n}")


def _ensure_taxonomy() -> None:
    """The taxonomy migration's rows, reloaded if a transactional test flushed them on this worker."""
    if not BureauType.objects.exists():
        from routing.taxonomy import load_taxonomy

        load_taxonomy(with_regions=False)


def bureau_type(code: str) -> BureauType:
    """The bureau type loaded by the taxonomy migration (hrss, finance, tax, dispatch, …)."""
    _ensure_taxonomy()
    return BureauType.objects.get(code=code)


def category(code: str) -> Category:
    _ensure_taxonomy()
    return Category.objects.get(code=code)


class BureauFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Bureau
        django_get_or_create = ("region", "bureau_type")

    region = factory.SubFactory(RegionFactory)
    bureau_type = factory.LazyFunction(lambda: bureau_type("hrss"))
    name = factory.LazyAttribute(lambda o: f"{o.region.name}{o.bureau_type.name}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")


def staff_user(role: str, bureau: Bureau | None = None, username: str | None = None, **kwargs):
    """A user in ``role``'s group with a StaffProfile in ``bureau``."""
    user = UserFactory(username=username) if username else UserFactory()
    user.groups.add(Group.objects.get(name=role))
    if role == Role.ADMIN:
        user.is_staff = True
        user.is_superuser = True
        user.save()
    StaffProfile.objects.create(user=user, bureau=bureau, role=role, display_name=kwargs.get("display_name", ""))
    return get_user_model().objects.get(pk=user.pk)  # fresh: permission cache empty


class EnterpriseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enterprise

    credit_code = factory.LazyFunction(credit_code)
    name = factory.Sequence(lambda n: f"测试企业{n}有限公司")
    region = factory.SubFactory(RegionFactory)
    industry = "C"
    size = "small"
    contact_name = "张三"
    phone = "+8613800138000"


def submission(**overrides) -> AppealSubmission:
    """A valid AppealSubmission; override any field."""
    region = overrides.pop("region", None) or RegionFactory()
    values = {
        "enterprise_name": "佛山市测试制造有限公司",
        "credit_code": credit_code(),
        "region": region,
        "industry": "C",
        "enterprise_size": "small",
        "contact_name": "李四",
        "contact_phone": "+8613800138000",
        "category": category("employment"),
        "title": "招工困难",
        "description": "春节后工人返岗率低，订单交付困难，希望协助招聘。",
    }
    values.update(overrides)
    return AppealSubmission(**values)


def submit(*, send_email: bool = False, **overrides):
    """Submit through the real service; returns SubmittedAppeal (appeal + access code).

    No confirmation e-mail unless asked: the tests that want it file through the portal or the API.
    """
    return appeal_submit(submission=submission(**overrides), send_email=send_email)


def switch_off_type_deadline_policies() -> None:
    """Deactivate the deadline policies by appeal type (seeded by migration), leaving the catch-alls."""
    from routing.models import DeadlinePolicy
    from routing.table import clear_routing_table

    DeadlinePolicy.objects.exclude(appeal_type="").update(is_active=False)
    clear_routing_table()  # a bulk update sends no signal
