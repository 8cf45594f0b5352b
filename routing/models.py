"""Regions, bureaus, categories, routing rules and the staff who work in bureaus."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from routing.appeal_types import AppealType
from routing.roles import Role, sync_role_groups


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
    """A prefecture-level city or one of its county-level divisions. Bureaus exist per city.

    ``code`` is the stable slug used by the API, the form and the rules (``foshan``,
    ``foshan-shunde``); ``division_code`` is the national administrative division code
    (GB/T 2260, six digits: 440600 佛山市, 440606 顺德区), accepted wherever a code is.
    """

    class Level(models.TextChoices):
        # The province row stands for "somewhere in the province": an appeal whose region is not
        # known is filed under it and triaged (it has no bureaus).
        PROVINCE = "province", _("省")
        CITY = "city", _("市")
        DISTRICT = "district", _("区县")

    code = models.SlugField(_("代码"), max_length=50, unique=True)
    division_code = models.CharField(
        _("行政区划代码"),
        max_length=6,
        unique=True,
        null=True,
        blank=True,
        validators=[RegexValidator(r"^\d{6}$", _("行政区划代码为6位数字（GB/T 2260），如 440606。"))],
        help_text=_("GB/T 2260 六位代码，如 440100 广州市、440104 越秀区。"),
    )
    level = models.CharField(_("级别"), max_length=10, choices=Level.choices, default=Level.CITY)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    sort_order = models.PositiveIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    # Who changed what, when (admin history page; catalogue imports record their file name).
    history = HistoricalRecords()

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

    # Who changed what, when (admin history page; catalogue imports record their file name).
    history = HistoricalRecords()

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

    # Who changed what, when (admin history page; catalogue imports record their file name).
    history = HistoricalRecords()

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

    # Who changed what, when (admin history page; catalogue imports record their file name).
    history = HistoricalRecords()

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
    """Admin-editable rule: category × region (× keywords, urgency, appeal type) → a bureau type.

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
    appeal_type = models.CharField(
        _("诉求类型"), max_length=20, blank=True, choices=AppealType.choices, help_text=_("留空不限。")
    )
    target_type = models.ForeignKey(
        BureauType, verbose_name=_("承办部门类型"), on_delete=models.PROTECT, related_name="rules"
    )
    is_active = models.BooleanField(_("启用"), default=True)

    # Who changed what, when (admin history page; catalogue imports record their file name).
    history = HistoricalRecords()

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
    role = models.CharField(
        _("角色"),
        max_length=20,
        choices=Role.choices,
        help_text=_("决定这位工作人员能做什么；保存后自动加入对应的权限组，无需另外设置“组”。"),
    )
    display_name = models.CharField(_("姓名"), max_length=50, blank=True)
    phone = models.CharField(_("电话"), max_length=40, blank=True)
    is_away = models.BooleanField(_("不在岗"), default=False)
    skills = models.ManyToManyField(Category, verbose_name=_("业务专长"), blank=True, related_name="skilled_staff")

    class Meta:
        verbose_name = _("工作人员")
        verbose_name_plural = _("工作人员")

    def __str__(self) -> str:
        return self.display_name or self.user.get_username()

    def save(self, *args, **kwargs) -> None:
        """Save, then keep the user's role group in step with ``role`` (the group grants the permissions)."""
        super().save(*args, **kwargs)
        sync_role_groups(self.user, self.role)


# --- Deadlines: policies and the working-day calendar --------------------------------------------


class TimeUnit(models.TextChoices):
    WORKING_DAYS = "working_days", _("工作日")
    NATURAL_DAYS = "natural_days", _("自然日")
    WORKING_HOURS = "working_hours", _("工作小时")
    NATURAL_HOURS = "natural_hours", _("自然小时")


class DeadlinePolicy(models.Model):
    """Time limits for one category × appeal type × urgency (each may be blank = any).

    The most specific active policy wins, compared field by field in this order: **category**, then
    **appeal type**, then **urgency**. So, from most to least specific:

    1. category + type + urgency, 2. category + type, 3. category + urgency, 4. category,
    5. type + urgency, 6. type, 7. urgency, 8. the catch-all.

    A category's own policy therefore overrides the reply limits by type (Guangdong 12345 practice:
    the type sets the default reply limit, 咨询 2 working days, 求助 and 建议 10, 投诉 and 举报 15,
    unless a category has its own), and a type policy overrides the urgency-only defaults. The
    type defaults are seeded for ordinary urgency only, so urgent appeals keep the urgent limits.
    Without any policy the defaults from DOMAIN.md apply (``routing.deadlines.DEFAULT_LIMITS``).
    """

    category = models.ForeignKey(
        Category,
        verbose_name=_("类别"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deadline_policies",
        help_text=_("留空表示适用于所有类别。"),
    )
    urgency = models.CharField(
        _("紧急程度"),
        max_length=10,
        blank=True,
        choices=[("normal", _("一般")), ("urgent", _("紧急"))],
        help_text=_("留空表示两种紧急程度都适用。"),
    )
    appeal_type = models.CharField(
        _("诉求类型"),
        max_length=20,
        blank=True,
        choices=AppealType.choices,
        help_text=_("留空表示适用于所有诉求类型。"),
    )
    sign_for_value = models.PositiveIntegerField(_("签收时限"), default=1)
    sign_for_unit = models.CharField(_("签收时限单位"), max_length=15, choices=TimeUnit.choices, default="working_days")
    return_value = models.PositiveIntegerField(_("退单时限"), default=1)
    return_unit = models.CharField(_("退单时限单位"), max_length=15, choices=TimeUnit.choices, default="working_days")
    first_contact_value = models.PositiveIntegerField(_("首次联系时限"), default=24)
    first_contact_unit = models.CharField(
        _("首次联系时限单位"), max_length=15, choices=TimeUnit.choices, default="natural_hours"
    )
    reply_value = models.PositiveIntegerField(_("答复时限"), default=5)
    reply_unit = models.CharField(_("答复时限单位"), max_length=15, choices=TimeUnit.choices, default="working_days")
    max_extensions = models.PositiveSmallIntegerField(_("最多延期次数"), default=3)
    max_extension_working_days = models.PositiveSmallIntegerField(_("每次最多延期工作日"), default=5)
    rehandle_value = models.PositiveIntegerField(_("差评重办时限"), default=15)
    rehandle_unit = models.CharField(_("重办时限单位"), max_length=15, choices=TimeUnit.choices, default="working_days")
    is_active = models.BooleanField(_("启用"), default=True)
    note = models.CharField(_("依据/说明"), max_length=200, blank=True)

    # Who changed what, when (admin history page; catalogue imports record their file name).
    history = HistoricalRecords()

    class Meta:
        ordering = ["category__sort_order", "appeal_type", "urgency", "id"]
        verbose_name = _("时限规则")
        verbose_name_plural = _("时限规则")
        constraints = [
            models.UniqueConstraint(
                fields=["category", "urgency", "appeal_type"], name="deadline_policy_once_per_category_urgency_type"
            )
        ]

    def __str__(self) -> str:
        category = self.category.name if self.category is not None else str(_("所有类别"))
        appeal_type = self.get_appeal_type_display() or _("任意类型")
        return f"{category} · {appeal_type} · {self.get_urgency_display() or _('任意紧急程度')}"


class HolidayOverride(models.Model):
    """A day whose working/non-working status differs from (or is missing in) chinesecalendar.

    Consulted before the package: e.g. the next year's holidays announced before a package
    release, or a local holiday. Editable in the admin.
    """

    date = models.DateField(_("日期"), unique=True)
    is_working_day = models.BooleanField(
        _("是工作日"), help_text=_("勾选表示这一天上班（如调休补班），不勾选表示放假。")
    )
    note = models.CharField(_("说明"), max_length=100, blank=True)

    # Who changed what, when (admin history page; catalogue imports record their file name).
    history = HistoricalRecords()

    class Meta:
        ordering = ["date"]
        verbose_name = _("节假日调整")
        verbose_name_plural = _("节假日调整")

    def __str__(self) -> str:
        return f"{self.date} {'上班' if self.is_working_day else '放假'}"


# --- Classifier: versions and labelled examples ---------------------------------------------------


class ClassifierModel(models.Model):
    """One trained version of the text classifier (serialised as JSON, never pickled).

    Exactly one row is active; decisions record the version they used.
    """

    version = models.CharField(_("版本"), max_length=40, unique=True)
    algorithm = models.CharField(_("算法"), max_length=60)
    features = models.CharField(_("特征"), max_length=40)
    parameters = models.JSONField(_("模型参数"))
    metrics = models.JSONField(_("评估指标"), default=dict, blank=True)
    example_count = models.PositiveIntegerField(_("训练样本数"), default=0)
    is_active = models.BooleanField(_("当前使用"), default=False)
    created_at = models.DateTimeField(_("训练时间"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("分类模型版本")
        verbose_name_plural = _("分类模型版本")

    def __str__(self) -> str:
        return self.version


class TrainingExample(models.Model):
    """A labelled appeal text the classifier learns from, beyond the seed files in routing/data/training/.

    Created from every manual dispatch or re-route (harvested from the audit trail), or by hand.
    """

    class Source(models.TextChoices):
        DISPATCHER = "dispatcher", _("分拨员改派/派单")
        MANUAL = "manual", _("人工录入")

    title = models.CharField(_("标题"), max_length=200)
    description = models.TextField(_("内容"))
    category = models.ForeignKey(
        Category, verbose_name=_("类别"), on_delete=models.CASCADE, related_name="training_examples"
    )
    source = models.CharField(_("来源"), max_length=12, choices=Source.choices, default=Source.DISPATCHER)
    appeal_id = models.IntegerField(_("诉求ID"), null=True, blank=True, db_index=True)
    # The audit event the example was derived from: harvesting is idempotent on it.
    source_event_id = models.IntegerField(null=True, blank=True, unique=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("训练样本")
        verbose_name_plural = _("训练样本")

    def __str__(self) -> str:
        return f"{self.category.code}: {self.title}"


class AssignmentCursor(models.Model):
    """Round-robin position of a bureau: the officer who was assigned last."""

    bureau = models.OneToOneField(Bureau, on_delete=models.CASCADE, related_name="assignment_cursor")
    last_user_id = models.IntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("轮流分配位置")
        verbose_name_plural = _("轮流分配位置")

    def __str__(self) -> str:
        return f"{self.bureau_id}: {self.last_user_id}"
