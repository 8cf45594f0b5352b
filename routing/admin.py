"""Admin for regions, bureaus, categories, routing rules and staff (with the profile inline on users).

Models of this app without a hand-written admin below (deadline policies, holiday overrides and
whatever the routing work adds) are registered by ``register_remaining_models`` with sensible
list columns, filters and search, so nothing in the schema is missing from the admin.
"""

from __future__ import annotations

from django import forms
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import models
from django.urls import path
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin
from simple_history.models import HistoricalChanges

from routing.catalogue import admin_views as catalogue_views
from routing.models import Bureau, BureauType, Category, Region, RoutingRule, StaffProfile
from routing.roles import ROLE_DESCRIPTIONS, Role, sync_role_groups


class CatalogueAdmin(SimpleHistoryAdmin):
    """The routing configuration's admins: change history (who, when, what) and the catalogue buttons."""

    change_list_template = "admin/routing/catalogue_change_list.html"


@admin.register(Region)
class RegionAdmin(CatalogueAdmin):
    list_display = ["name", "name_en", "code", "division_code", "level", "parent", "sort_order", "is_active"]
    list_filter = ["level", "is_active", "parent"]
    list_editable = ["sort_order", "is_active"]
    list_select_related = ["parent"]
    search_fields = ["name", "name_en", "code", "division_code"]
    autocomplete_fields = ["parent"]
    ordering = ["sort_order", "code"]


@admin.register(BureauType)
class BureauTypeAdmin(CatalogueAdmin):
    list_display = ["name", "name_en", "code", "duty"]
    search_fields = ["name", "name_en", "code"]
    ordering = ["code"]


@admin.register(Bureau)
class BureauAdmin(CatalogueAdmin):
    list_display = [
        "name",
        "region",
        "bureau_type",
        "requires_review",
        "assignment_mode",
        "use_skills",
        "max_open_per_officer",
        "is_active",
    ]
    list_filter = ["region", "bureau_type", "requires_review", "assignment_mode", "is_active"]
    list_select_related = ["region", "bureau_type"]
    search_fields = ["name", "name_en", "region__name", "bureau_type__name"]
    autocomplete_fields = ["region", "bureau_type"]
    ordering = ["region__sort_order", "bureau_type__code"]
    fieldsets = [
        (None, {"fields": ["name", "name_en", "region", "bureau_type", "is_active"]}),
        (_("办理方式"), {"fields": ["requires_review", "assignment_mode", "use_skills", "max_open_per_officer"]}),
        (_("对外联系"), {"fields": ["contact_phone", "contact_address"]}),
    ]


@admin.register(Category)
class CategoryAdmin(CatalogueAdmin):
    list_display = ["name", "name_en", "code", "default_bureau_type", "is_other", "sort_order", "is_active"]
    list_filter = ["default_bureau_type", "is_other", "is_active"]
    list_editable = ["sort_order", "is_active"]
    list_select_related = ["default_bureau_type"]
    search_fields = ["name", "name_en", "code", "example"]
    autocomplete_fields = ["default_bureau_type"]
    ordering = ["sort_order", "code"]


@admin.register(RoutingRule)
class RoutingRuleAdmin(CatalogueAdmin):
    def get_urls(self):
        # The dispatch catalogue's pages live under the rules (the admin has no app-level views).
        view = self.admin_site.admin_view
        return [
            path("catalogue/", view(catalogue_views.catalogue_view), name="routing_catalogue"),
            path("catalogue/apply/", view(catalogue_views.catalogue_apply_view), name="routing_catalogue_apply"),
            path("catalogue/export/", view(catalogue_views.export_view), name="routing_catalogue_export"),
            *super().get_urls(),
        ]

    list_display = [
        "name",
        "priority",
        "category",
        "region",
        "keywords",
        "urgency",
        "appeal_type",
        "target_type",
        "is_active",
    ]
    list_filter = ["is_active", "target_type", "category", "appeal_type", "region"]
    list_editable = ["priority", "is_active"]
    list_select_related = ["category", "region", "target_type"]
    search_fields = ["name", "keywords", "category__name", "target_type__name"]
    autocomplete_fields = ["category", "region", "target_type"]
    ordering = ["priority", "id"]


class StaffProfileForm(forms.ModelForm):
    """The role is picked from the list of roles, each with what it means (no free text)."""

    role = forms.ChoiceField(
        label=_("角色"),
        widget=forms.RadioSelect,
        choices=[(role.value, format_lazy("{}：{}", role.label, ROLE_DESCRIPTIONS[role])) for role in Role],
        help_text=_("保存后这位工作人员会自动加入所选角色的权限组，可以立即登录工作台。"),
    )

    class Meta:
        model = StaffProfile
        fields = ["user", "display_name", "bureau", "role", "phone", "is_away", "skills"]


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    form = StaffProfileForm
    list_display = ["display_name", "user", "role", "bureau", "phone", "is_away"]
    list_filter = ["role", "is_away", "bureau__region", "bureau__bureau_type"]
    list_select_related = ["user", "bureau"]
    search_fields = ["display_name", "user__username", "bureau__name", "phone"]
    autocomplete_fields = ["user", "bureau"]
    filter_horizontal = ["skills"]
    ordering = ["bureau__region__sort_order", "bureau__bureau_type__code", "role", "display_name"]


class StaffProfileInline(admin.StackedInline):
    model = StaffProfile
    form = StaffProfileForm
    can_delete = False
    fk_name = "user"
    autocomplete_fields = ["bureau"]
    filter_horizontal = ["skills"]
    verbose_name_plural = _("工作人员信息（所属单位和角色）")
    fields = ["display_name", "bureau", "role", "phone", "is_away", "skills"]


User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    inlines = [StaffProfileInline]
    actions = ["unlock_logins"]

    def save_related(self, request, form, formsets, change) -> None:
        """The user form resets the groups; put the user back in their role's group afterwards."""
        super().save_related(request, form, formsets, change)
        profile = StaffProfile.objects.filter(user=form.instance).first()
        if profile is not None:
            sync_role_groups(form.instance, profile.role)

    @admin.action(description=_("解除所选账号的登录锁定"), permissions=["change"])
    def unlock_logins(self, request, queryset):
        """The way back for a locked-out staff member (also: the e-mail link on the lockout page)."""
        from axes.utils import reset

        users = list(queryset)
        for user in users:
            reset(username=user.get_username())
        self.message_user(request, _("已解除 %(count)d 个账号的登录锁定。") % {"count": len(users)})

    list_display = ["username", "display_name", "role", "bureau", "is_active", "is_staff", "last_login"]
    list_filter = ["is_active", "is_staff", "is_superuser", "groups", "staff_profile__bureau__region"]
    list_select_related = ["staff_profile", "staff_profile__bureau"]
    search_fields = ["username", "first_name", "last_name", "email", "staff_profile__display_name"]

    @admin.display(description=_("姓名"), ordering="staff_profile__display_name")
    def display_name(self, user):
        profile = getattr(user, "staff_profile", None)
        return profile.display_name if profile else ""

    @admin.display(description=_("角色"), ordering="staff_profile__role")
    def role(self, user):
        profile = getattr(user, "staff_profile", None)
        return profile.role if profile else ""

    @admin.display(description=_("所属单位"), ordering="staff_profile__bureau__name")
    def bureau(self, user):
        profile = getattr(user, "staff_profile", None)
        return profile.bureau if profile and profile.bureau_id else ""


_SKIPPED_LIST_TYPES = (models.TextField, models.JSONField, models.ManyToManyField)


def generic_admin_for(model: type[models.Model]) -> type[admin.ModelAdmin]:
    """A ModelAdmin with columns, filters, search and raw-id foreign keys derived from the fields."""
    fields = [f for f in model._meta.get_fields() if getattr(f, "concrete", False) and not f.auto_created]
    columns = [f.name for f in fields if not isinstance(f, _SKIPPED_LIST_TYPES)][:7]
    filters = [
        f.name
        for f in fields
        if isinstance(f, models.BooleanField) or (getattr(f, "choices", None) and not f.is_relation)
    ][:5]
    search = [f.name for f in fields if isinstance(f, models.CharField) and not f.choices][:4]
    foreign = [f.name for f in fields if isinstance(f, models.ForeignKey | models.OneToOneField)]
    dates = [f.name for f in fields if isinstance(f, models.DateTimeField)]
    attrs = {
        "list_display": ["__str__", *[c for c in columns if c not in foreign]][:7] or ["__str__"],
        "list_filter": filters,
        "search_fields": search,
        "raw_id_fields": foreign,
        "list_select_related": foreign,
        "date_hierarchy": dates[0] if dates else None,
        "__module__": __name__,
    }
    return type(f"{model.__name__}Admin", (admin.ModelAdmin,), attrs)


def register_remaining_models(app_label: str, site: admin.AdminSite = admin.site) -> None:
    """Register every model of ``app_label`` that has no admin yet with ``generic_admin_for``.

    History tables (django-simple-history) are left out: they are read on each row's history page.
    """
    for model in apps.get_app_config(app_label).get_models():
        if issubclass(model, HistoricalChanges):
            continue
        if not site.is_registered(model):
            site.register(model, generic_admin_for(model))


register_remaining_models("routing")


# --- Routing area (issue 4): deadline policies, holiday overrides, classifier versions, examples -------
# Registered by hand after the generic registration above, so these replace the generic admins.

from routing.models import ClassifierModel, DeadlinePolicy, HolidayOverride, TimeUnit, TrainingExample  # noqa: E402

for _model in (DeadlinePolicy, HolidayOverride, ClassifierModel, TrainingExample):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


@admin.register(DeadlinePolicy)
class DeadlinePolicyAdmin(CatalogueAdmin):
    list_display = ["__str__", "sign_for", "reply", "first_contact", "max_extensions", "rehandle", "is_active"]
    list_filter = ["is_active", "appeal_type", "urgency", "category"]
    list_select_related = ["category"]
    autocomplete_fields = ["category"]
    fieldsets = [
        (None, {"fields": ["category", "appeal_type", "urgency", "is_active", "note"]}),
        (
            _("时限"),
            {
                "fields": [
                    ("sign_for_value", "sign_for_unit"),
                    ("return_value", "return_unit"),
                    ("first_contact_value", "first_contact_unit"),
                    ("reply_value", "reply_unit"),
                    ("rehandle_value", "rehandle_unit"),
                ],
                "description": _(
                    "同一类别和紧急程度只能有一条规则；最具体的规则优先（类别+紧急程度 > 类别 > 紧急程度 > 全部）。"
                ),
            },
        ),
        (_("延期"), {"fields": ["max_extensions", "max_extension_working_days"]}),
    ]

    @staticmethod
    def _limit(value, unit) -> str:
        return f"{value} {dict(TimeUnit.choices).get(unit, unit)}"

    @admin.display(description=_("签收时限"))
    def sign_for(self, policy):
        return self._limit(policy.sign_for_value, policy.sign_for_unit)

    @admin.display(description=_("答复时限"))
    def reply(self, policy):
        return self._limit(policy.reply_value, policy.reply_unit)

    @admin.display(description=_("首次联系时限"))
    def first_contact(self, policy):
        return self._limit(policy.first_contact_value, policy.first_contact_unit)

    @admin.display(description=_("差评重办时限"))
    def rehandle(self, policy):
        return self._limit(policy.rehandle_value, policy.rehandle_unit)


@admin.register(HolidayOverride)
class HolidayOverrideAdmin(SimpleHistoryAdmin):
    list_display = ["date", "is_working_day", "note"]
    list_editable = ["is_working_day", "note"]
    list_filter = ["is_working_day"]
    search_fields = ["note"]
    date_hierarchy = "date"
    ordering = ["-date"]


@admin.register(ClassifierModel)
class ClassifierModelAdmin(admin.ModelAdmin):
    list_display = ["version", "features", "example_count", "cv_accuracy", "is_active", "created_at"]
    list_filter = ["is_active", "features"]
    readonly_fields = ["version", "algorithm", "features", "metrics", "example_count", "is_active", "created_at"]
    exclude = ["parameters"]
    actions = ["activate"]

    @admin.display(description=_("交叉验证准确率"))
    def cv_accuracy(self, row):
        value = (row.metrics or {}).get("cv_accuracy")
        return f"{value:.1%}" if isinstance(value, int | float) else "—"

    @admin.action(description=_("启用所选版本（回退或切换模型）"))
    def activate(self, request, queryset):
        from django.db import transaction

        from routing.classifier import reset_cache

        if queryset.count() != 1:
            self.message_user(request, _("请只选择一个版本。"), level="error")
            return
        with transaction.atomic():
            ClassifierModel.objects.filter(is_active=True).update(is_active=False)
            queryset.update(is_active=True)
        reset_cache()
        self.message_user(request, _("已启用所选版本；各进程将在一分钟内切换。"))

    def has_add_permission(self, request):
        return False  # versions come from training (routing.retrain_classifier), not from a form


@admin.register(TrainingExample)
class TrainingExampleAdmin(admin.ModelAdmin):
    list_display = ["title", "category", "source", "appeal_id", "created_at"]
    list_filter = ["source", "category"]
    list_select_related = ["category"]
    search_fields = ["title", "description"]
    autocomplete_fields = ["category"]
    readonly_fields = ["source_event_id", "created_at"]
