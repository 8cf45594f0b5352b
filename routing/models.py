"""Regions, bureaus, categories, routing rules and the staff who work in bureaus."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class BilingualNameMixin(models.Model):
    """A Chinese name (shown by default) and an English name for the English interface."""

    name = models.CharField(_("名称"), max_length=100)
    name_en = models.CharField(_("英文名称"), max_length=150, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        language = get_language() or ""
        if language.startswith("en") and self.name_en:
            return self.name_en
        return self.name


class Region(BilingualNameMixin):
    """A city or a district of a city. Bureaus exist per city."""

    class Level(models.TextChoices):
        CITY = "city", _("市")
        DISTRICT = "district", _("区县")

    code = models.SlugField(_("代码"), max_length=50, unique=True)
    level = models.CharField(_("级别"), max_length=10, choices=Level.choices, default=Level.CITY)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    sort_order = models.PositiveIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("地区")
        verbose_name_plural = _("地区")

    @property
    def city(self) -> Region:
        """The city a district belongs to (a city is its own city)."""
        return self.parent if self.level == self.Level.DISTRICT and self.parent else self


class BureauType(BilingualNameMixin):
    """A kind of bureau that exists in every city (人社局, 税务局, …); routing rules target types."""

    code = models.SlugField(_("代码"), max_length=50, unique=True)
    duty = models.CharField(_("职责说明"), max_length=300, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("部门类型")
        verbose_name_plural = _("部门类型")


class Bureau(BilingualNameMixin):
    """A responsible bureau (承办单位) of one city, e.g. 佛山市人力资源和社会保障局."""

    class AssignmentMode(models.TextChoices):
        POOL = "pool", _("抢单（任一承办人签收）")
        ROUND_ROBIN = "round_robin", _("轮流分配")
        LEAST_LOADED = "least_loaded", _("按在办量最少分配")

    region = models.ForeignKey(Region, verbose_name=_("地区"), on_delete=models.PROTECT, related_name="bureaus")
    bureau_type = models.ForeignKey(
        BureauType, verbose_name=_("部门类型"), on_delete=models.PROTECT, related_name="bureaus"
    )
    requires_review = models.BooleanField(
        _("答复需负责人审核"), default=False, help_text=_("开启后，承办人的答复须经本单位负责人审核后才发给诉求人。")
    )
    assignment_mode = models.CharField(
        _("分配方式"), max_length=20, choices=AssignmentMode.choices, default=AssignmentMode.POOL
    )
    use_skills = models.BooleanField(_("按业务专长分配"), default=False)
    max_open_per_officer = models.PositiveIntegerField(
        _("每人在办上限"), null=True, blank=True, help_text=_("留空表示不限。")
    )
    contact_phone = models.CharField(_("对外联系电话"), max_length=40, blank=True)
    contact_address = models.CharField(_("对外联系地址"), max_length=200, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["region__sort_order", "bureau_type__code"]
        verbose_name = _("承办单位")
        verbose_name_plural = _("承办单位")
        constraints = [models.UniqueConstraint(fields=["region", "bureau_type"], name="bureau_one_per_type_per_region")]

    @property
    def is_dispatch_centre(self) -> bool:
        return self.bureau_type.code == "dispatch"


class Category(BilingualNameMixin):
    """An appeal category (诉求类别) maintained by administrators."""

    code = models.SlugField(_("代码"), max_length=50, unique=True)
    example = models.CharField(_("示例"), max_length=200, blank=True, help_text=_("在表单上帮助诉求人选择类别。"))
    example_en = models.CharField(_("英文示例"), max_length=300, blank=True)
    default_bureau_type = models.ForeignKey(
        BureauType, verbose_name=_("默认承办部门类型"), on_delete=models.PROTECT, related_name="categories"
    )
    is_other = models.BooleanField(_("为“其他”类别"), default=False)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("诉求类别")
        verbose_name_plural = _("诉求类别")

    @property
    def display_example(self) -> str:
        language = get_language() or ""
        if language.startswith("en") and self.example_en:
            return self.example_en
        return self.example


class RoutingRule(models.Model):
    """Admin-editable rule: category × region (× keywords, urgency) → a bureau type.

    Rules are tried by ascending priority; the first that matches wins. The target type is
    resolved to the bureau of that type in the appeal's city.
    """

    name = models.CharField(_("规则名称"), max_length=100)
    priority = models.PositiveIntegerField(_("优先级"), default=100, help_text=_("数字越小越先匹配。"))
    category = models.ForeignKey(
        Category, verbose_name=_("类别"), null=True, blank=True, on_delete=models.CASCADE, related_name="rules"
    )
    region = models.ForeignKey(
        Region, verbose_name=_("地区"), null=True, blank=True, on_delete=models.CASCADE, related_name="rules"
    )
    keywords = models.CharField(
        _("关键词"), max_length=300, blank=True, help_text=_("以逗号分隔，任一出现在标题或内容中即匹配；留空不限。")
    )
    urgency = models.CharField(_("紧急程度"), max_length=10, blank=True, help_text=_("留空不限。"))
    target_type = models.ForeignKey(
        BureauType, verbose_name=_("承办部门类型"), on_delete=models.PROTECT, related_name="rules"
    )
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["priority", "id"]
        verbose_name = _("分拨规则")
        verbose_name_plural = _("分拨规则")

    def __str__(self) -> str:
        return self.name


class StaffProfile(models.Model):
    """Which bureau a staff user works in and in which role. Roles are also Django groups."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="staff_profile"
    )
    bureau = models.ForeignKey(
        Bureau, verbose_name=_("所属单位"), null=True, blank=True, on_delete=models.PROTECT, related_name="staff"
    )
    role = models.CharField(_("角色"), max_length=20)
    display_name = models.CharField(_("姓名"), max_length=50, blank=True)
    phone = models.CharField(_("电话"), max_length=40, blank=True)
    is_away = models.BooleanField(_("不在岗"), default=False)
    skills = models.ManyToManyField(Category, verbose_name=_("业务专长"), blank=True, related_name="skilled_staff")

    class Meta:
        verbose_name = _("工作人员")
        verbose_name_plural = _("工作人员")

    def __str__(self) -> str:
        return self.display_name or self.user.get_username()
