from django.apps import AppConfig
from django.db.models.signals import post_delete, post_migrate, post_save
from django.utils.translation import gettext_lazy as _


class RoutingConfig(AppConfig):
    name = "routing"
    verbose_name = _("分拨与时限")

    def ready(self) -> None:
        from routing import deadlines, table
        from routing.roles import ensure_role_groups

        # Groups need the permissions Django creates after migrating each app; syncing after every
        # app's post_migrate means the last run sees them all.
        post_migrate.connect(ensure_role_groups, dispatch_uid="routing.ensure_role_groups")
        # The per-process caches (routing table, holiday overrides) are cleared in every process
        # (the admin's too), not only in those that happened to import the module that reads them.
        table.connect_signals()
        holiday = self.get_model("HolidayOverride")
        post_save.connect(deadlines.clear_override_cache, sender=holiday, dispatch_uid="routing.holiday_cache_save")
        post_delete.connect(deadlines.clear_override_cache, sender=holiday, dispatch_uid="routing.holiday_cache_del")
