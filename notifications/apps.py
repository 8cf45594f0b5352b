from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("通知")

    def ready(self) -> None:
        # Delivery/inbox/preference admin lives in its own module (admin.py holds the OutboxEvent admin).
        from notifications import admin_deliveries  # noqa: F401
        from notifications.access import connect_signals

        # Logout, deactivation and bureau changes reach open websockets (notifications.access).
        connect_signals()
