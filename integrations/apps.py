from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = _("系统对接")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Webhooks subscribe to the notification outbox: each event, when it is expanded into
        # deliveries, also becomes one webhook delivery per subscribed bureau endpoint.
        from integrations.bureau_api import schema  # noqa: F401  (OpenAPI auth scheme)
        from integrations.webhooks import fanout

        fanout.subscribe()
