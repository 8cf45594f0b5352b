from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class RoutingConfig(AppConfig):
    name = "routing"
    verbose_name = _("分拨与时限")

    def ready(self) -> None:
        from routing.roles import ensure_role_groups

        # Groups need the permissions Django creates after migrating each app; syncing after every
        # app's post_migrate means the last run sees them all.
        post_migrate.connect(ensure_role_groups, dispatch_uid="routing.ensure_role_groups")
        # Connect the cache-invalidation signals of the routing table and the holiday overrides in
        # every process (the admin's too), not only in those that happened to route an appeal.
        from routing import deadlines, decisions  # noqa: F401
